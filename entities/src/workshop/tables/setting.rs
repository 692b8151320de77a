//! The owner's workshop settings: one row, key `workshop`.

use sea_orm::entity::prelude::*;

/// A row of `workshop_settings`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workshop_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// JSON object: state → the label the kanban shows for it.
    pub column_labels: String,
    /// Days after a sale its core deposit is refunded in money; after them, as store credit.
    pub core_window_days: i32,
    pub updated_at: DateTimeUtc,
}

/// Relations of `workshop_settings`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
