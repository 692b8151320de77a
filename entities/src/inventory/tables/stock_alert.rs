//! A low-stock alert: a balance fell below the item's minimum.

use sea_orm::entity::prelude::*;

/// A row of `stock_alerts`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stock_alerts")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Item.
    pub item_id: Uuid,
    /// Warehouse.
    pub warehouse_id: Uuid,
    /// Balance when raised.
    pub qty: i64,
    /// The minimum.
    pub min_qty: i64,
    /// `open` or `resolved`.
    pub status: String,
    /// The movement that raised it (outbox job).
    pub source: String,
    /// When resolved.
    pub resolved_at: Option<DateTimeUtc>,
    /// Raised.
    pub created_at: DateTimeUtc,
}

/// Relations of `stock_alerts` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
