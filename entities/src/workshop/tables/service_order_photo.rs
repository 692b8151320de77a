//! A photo taken at reception or during the repair, kept in the tenant's file store.

use sea_orm::entity::prelude::*;

/// A row of `service_order_photos`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_order_photos")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub order_id: Uuid,
    /// The key in the file store.
    pub file_key: String,
    pub content_type: String,
    pub bytes: i64,
    pub sha256: String,
    pub caption: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
}

/// Relations of `service_order_photos` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
