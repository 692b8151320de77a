//! A referral: an ambassador's code given by a new customer, rewarded once, on the new
//! customer's first qualifying paid sale.

use sea_orm::entity::prelude::*;

/// A row of `referrals`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "referrals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub ambassador_id: Uuid,
    /// Unique: a customer is referred once.
    pub referred_id: Uuid,
    pub code: String,
    /// `pending` or `rewarded`.
    pub status: String,
    /// `points` or `store_credit`, once rewarded.
    pub reward_kind: Option<String>,
    pub reward_cents: i64,
    /// The referred customer's sale that earned the reward.
    pub sale_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub rewarded_at: Option<DateTimeUtc>,
}

/// Relations of `referrals` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
