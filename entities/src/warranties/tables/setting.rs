//! The owner's warranty settings (one row, id 1).

use sea_orm::entity::prelude::*;

/// A row of `warranty_settings`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "warranty_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// Days before the end a `warranty_expiring` event is recorded.
    pub expiring_notice_days: i32,
    pub updated_at: DateTimeUtc,
}

/// Relations of `warranty_settings`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
