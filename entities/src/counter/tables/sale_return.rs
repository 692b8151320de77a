//! A return (some lines back) or a cancellation (the whole sale) with its refund.

use sea_orm::entity::prelude::*;

/// A row of `sale_returns`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sale_returns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub sale_id: Uuid,
    /// `return` or `cancellation`.
    pub kind: String,
    pub reason: String,
    pub refund_cents: i64,
    /// The part of the refund that went to the customer's account (a credit sale's unpaid
    /// charge) instead of back in cash.
    pub account_credit_cents: i64,
    pub savings_cents: i64,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

/// Relations of `sale_returns` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
