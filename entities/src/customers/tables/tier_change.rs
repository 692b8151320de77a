//! A customer's loyalty tier changed (recorded with a `loyalty_tier_changed` event).

use sea_orm::entity::prelude::*;

/// A row of `loyalty_tier_changes`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "loyalty_tier_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub customer_id: Uuid,
    pub from_tier: String,
    pub to_tier: String,
    /// The 12-month spend that moved it, MXN centavos.
    pub spend_cents: i64,
    pub created_at: DateTimeUtc,
}

/// Relations of `loyalty_tier_changes`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
