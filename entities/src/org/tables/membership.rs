//! A user's role in a tenant, optionally limited to some branches.

use sea_orm::entity::prelude::*;

/// A membership row of the platform database.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "memberships")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    /// One of [`crate::Role`]'s names.
    pub role: String,
    /// Branch ids the user is limited to (a JSON array); `None` means every branch.
    pub branch_ids: Option<Json>,
    /// Set while the user may not act in this tenant (their other tenants are untouched).
    pub disabled_at: Option<DateTimeUtc>,
    /// Argon2 hash of the PIN a manager authorises a cashier's action with, in this tenant.
    pub pin_hash: Option<String>,
    /// When the membership was created.
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
