//! A chain of refresh tokens that descend from one login.

use sea_orm::entity::prelude::*;

/// A refresh-token family row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_token_families")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Owner of the session.
    pub user_id: Uuid,
    /// Tenant the session is for.
    pub tenant_id: Uuid,
    pub created_at: DateTimeUtc,
    /// Set on logout or on reuse of a rotated token; no token of the family works after it.
    pub revoked_at: Option<DateTimeUtc>,
    /// `logout`, `reuse_detected`, `password_changed`, `user_disabled`.
    pub revoked_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
