//! A business using Nexus, and where its database lives.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A tenant row of the platform database.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    /// Tenant id; goes into tokens.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Short unique name used at login, e.g. `acme`.
    #[sea_orm(unique)]
    pub slug: String,
    /// Legal or trade name.
    pub name: String,
    pub rfc: String,
    /// Database name: the SQLite file stem or the PostgreSQL database.
    #[sea_orm(unique)]
    pub db_name: String,
    /// Full connection URL when the tenant lives on its own server; overrides the template.
    #[serde(skip)]
    pub db_url: Option<String>,
    pub plan: String,
    /// `active` or `suspended`.
    pub status: String,
    /// When the tenant was created.
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Status of a tenant allowed to sign in.
pub const STATUS_ACTIVE: &str = "active";
/// Status of a tenant whose users are refused.
pub const STATUS_SUSPENDED: &str = "suspended";
