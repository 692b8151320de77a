//! How much of a payment or return credit went to which charge.

use sea_orm::entity::prelude::*;

/// A row of `account_allocations`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_allocations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The payment or return credit.
    pub entry_id: Uuid,
    /// The charge it paid (part of).
    pub charge_id: Uuid,
    pub amount_cents: i64,
}

/// Relations of `account_allocations` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
