//! A one-time link to set a password: sent to an invited user, or after a reset.

use sea_orm::entity::prelude::*;

/// A row of `setup_tokens` (platform database).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "setup_tokens")]
pub struct Model {
    /// Hex SHA-256 of the token; the token itself is shown once and never stored.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    /// `invite` or `reset`.
    pub purpose: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
}

/// Relations of `setup_tokens` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
