//! The business's referral rules (one row, id 1; the defaults until written).

use sea_orm::entity::prelude::*;

/// A row of `referral_settings`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "referral_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub enabled: bool,
    /// `points` or `store_credit`.
    pub reward_kind: String,
    /// MXN centavos (points are centavos of value too).
    pub reward_cents: i64,
    /// What the referred customer's first sale must pay, MXN centavos.
    pub min_sale_cents: i64,
    pub updated_at: DateTimeUtc,
}

/// Relations of `referral_settings`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
