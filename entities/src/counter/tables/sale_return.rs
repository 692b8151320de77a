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
    /// How the rest of the refund was paid back: `cash`, `card`, `transfer` or `store_credit`;
    /// none when all of it went to the account.
    pub refund_method: Option<String>,
    /// `MXN`, or `USD` for cash paid back in dollars.
    pub refund_currency: Option<String>,
    /// What was paid back, in minor units of `refund_currency`.
    pub refund_minor: i64,
    /// The drawer session the money left from.
    pub drawer_session_id: Option<Uuid>,
    pub savings_cents: i64,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

/// Relations of `sale_returns` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
