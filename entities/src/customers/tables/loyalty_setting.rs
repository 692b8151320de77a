//! The business's loyalty programme: tier thresholds, earning rates and expiry (one row, id 1;
//! the defaults until an owner writes it).

use sea_orm::entity::prelude::*;

/// A row of `loyalty_settings`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "loyalty_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// Off: nothing is earned (points held can still be spent).
    pub enabled: bool,
    /// Spend over the last 12 months (MXN centavos) from which silver starts.
    pub silver_from_cents: i64,
    pub gold_from_cents: i64,
    pub platinum_from_cents: i64,
    /// Points earned per tier, in basis points of the amount paid (100 = 1 %).
    pub bronze_bp: i32,
    pub silver_bp: i32,
    pub gold_bp: i32,
    pub platinum_bp: i32,
    /// Months after which an earning expires.
    pub expiry_months: i32,
    pub updated_at: DateTimeUtc,
}

/// Relations of `loyalty_settings`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
