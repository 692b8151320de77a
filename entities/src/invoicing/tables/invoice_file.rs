//! A stamped invoice's file (XML or PDF) kept in the tenant's files.

use sea_orm::entity::prelude::*;

/// A row of `invoice_files`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoice_files")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub invoice_id: Uuid,
    /// `xml` or `pdf`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub format: String,
    /// Its key in the file store.
    pub path: String,
    pub bytes: i64,
    /// Hex SHA-256 of the contents, checked when it is served.
    pub sha256: String,
    /// When it was stored.
    pub stored_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
