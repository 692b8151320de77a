//! A credit suggestion from a customer's payment behaviour, and what a manager decided. The
//! customer's limit changes only when a manager accepts (or edits) it.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// Where a suggestion stands.
    pub enum Status {
        /// Waiting for a manager.
        Pending = "pending",
        /// Applied as suggested.
        Accepted = "accepted",
        /// Applied with another limit or terms.
        Edited = "edited",
        /// Left alone.
        Dismissed = "dismissed",
    }
}

/// A row of `credit_reviews`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credit_reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_id: Uuid,
    pub current_limit_cents: i64,
    pub suggested_limit_cents: i64,
    pub suggested_terms_days: i32,
    /// Charges paid within terms, basis points of the charges due; none without any.
    pub on_time_bp: Option<i32>,
    /// Mean days past terms of the charges due.
    pub avg_days_late: Option<i32>,
    /// Bought in the last 12 months (credit and cash), MXN centavos.
    pub volume_12m_cents: i64,
    /// Days since the first purchase.
    pub tenure_days: i32,
    /// Why, one sentence each.
    pub reasons: Json,
    pub status: Status,
    pub applied_limit_cents: Option<i64>,
    pub decided_by: Option<Uuid>,
    pub decided_at: Option<DateTimeUtc>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

/// Relations of `credit_reviews` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
