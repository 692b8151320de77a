//! A low-stock alert: a balance fell below the item's minimum.

use sea_orm::entity::prelude::*;

/// A row of `stock_alerts`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stock_alerts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub item_id: Uuid,
    pub warehouse_id: Uuid,
    pub qty: i64,
    pub min_qty: i64,
    /// `open` or `resolved`.
    pub status: String,
    /// The movement that raised it (outbox job).
    pub source: String,
    pub resolved_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

/// Relations of `stock_alerts` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
