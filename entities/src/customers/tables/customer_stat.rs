//! A customer's analytics, computed nightly (`customers::analytics`) so that reading them is one
//! indexed query.

use sea_orm::entity::prelude::*;

/// A row of `customer_stats`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_stats")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: Uuid,
    /// Sales less refunds since the first purchase, MXN centavos.
    pub lifetime_cents: i64,
    pub spend_12m_cents: i64,
    /// Completed or partly returned sales (cancelled ones do not count).
    pub orders: i32,
    pub avg_ticket_cents: i64,
    pub first_purchase_at: Option<DateTimeUtc>,
    pub last_purchase_at: Option<DateTimeUtc>,
    pub days_since_last: Option<i32>,
    /// Mean days between purchases; none before a second purchase.
    pub avg_interval_days: Option<i32>,
    /// `new`, `active`, `at_risk`, `churning` or `lost`.
    pub churn_risk: String,
    /// Up to five `{name, spent}` by spend.
    pub top_categories: Json,
    pub top_brands: Json,
    pub computed_at: DateTimeUtc,
}

/// Relations of `customer_stats`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
