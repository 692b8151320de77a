//! A rule's forecast fell below its minimum: what was seen and what to order.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// The state of a reorder alert.
    pub enum Status {
        /// Raised, nobody looked yet.
        Open = "open",
        /// Seen by someone.
        Acknowledged = "acknowledged",
        /// Dealt with (ordered, or no longer below the minimum).
        Resolved = "resolved",
    }
}

/// A row of `reorder_alerts`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reorder_alerts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub rule_id: Uuid,
    pub item_id: Uuid,
    pub warehouse_id: Uuid,
    pub on_hand: i64,
    /// Open purchase-order units.
    pub on_order: i64,
    /// Units shipped to this warehouse by transfers, not yet received.
    pub inbound: i64,
    /// Units held for customers' special orders.
    pub reserved: i64,
    pub forecast: i64,
    pub min_qty: i64,
    pub max_qty: i64,
    pub suggested_qty: i64,
    pub supplier_id: Option<Uuid>,
    pub status: Status,
    /// The rule while the alert is not resolved: one live alert per rule.
    pub live_rule_id: Option<Uuid>,
    pub acknowledged_by: Option<Uuid>,
    pub acknowledged_at: Option<DateTimeUtc>,
    pub resolved_by: Option<Uuid>,
    pub resolved_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of `reorder_alerts` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
