//! Platform audit trail: logins, user and tenant changes.

use sea_orm::entity::prelude::*;

/// A platform audit row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    /// Who did it (none for the CLI or anonymous attempts).
    pub actor_user_id: Option<Uuid>,
    /// Tenant concerned, if any.
    pub tenant_id: Option<Uuid>,
    /// What happened, e.g. `auth.login_failed`.
    pub action: String,
    /// Kind of object acted on.
    pub target_type: Option<String>,
    /// Id of the object acted on.
    pub target_id: Option<String>,
    pub ip: Option<String>,
    /// Request id, to join with logs.
    pub request_id: Option<String>,
    /// Anything else worth keeping.
    pub details: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
