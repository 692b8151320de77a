//! The balance of an item in a warehouse: a cache of the ledger, changed in the same transaction.

use sea_orm::entity::prelude::*;

/// A row of `stock`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stock")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub item_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub warehouse_id: Uuid,
    /// The warehouse's branch (denormalised for per-branch sums).
    pub branch_id: Uuid,
    /// Units on hand, never below zero.
    pub qty: i64,
    /// Of those, units held for customers' special orders: what leaves takes only the rest.
    pub reserved: i64,
    pub updated_at: DateTimeUtc,
}

/// Relations of `stock` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
