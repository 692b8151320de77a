//! A transfer of stock between two warehouses: requested → shipped → received, or cancelled.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// The state of a transfer.
    pub enum Status {
        /// Asked for; no stock moved yet.
        Requested = "requested",
        /// Left the origin; in transit.
        Shipped = "shipped",
        /// Some of what was shipped has arrived.
        PartiallyReceived = "partially_received",
        /// Everything shipped has arrived.
        Received = "received",
        /// Called off (a shipped one returned its stock to the origin).
        Cancelled = "cancelled",
        /// Closed short: part of what was shipped never arrived, and was returned to the origin or
        /// written off.
        Closed = "closed",
    }
}

/// A row of `transfers`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "transfers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Human folio, e.g. `TR-000042`.
    pub folio: String,
    pub from_warehouse_id: Uuid,
    pub to_warehouse_id: Uuid,
    /// `requested`, `shipped`, `partially_received`, `received` or `cancelled`.
    pub status: Status,
    pub note: Option<String>,
    pub requested_by: Option<Uuid>,
    pub shipped_by: Option<Uuid>,
    pub received_by: Option<Uuid>,
    /// When it left the origin.
    pub shipped_at: Option<DateTimeUtc>,
    pub received_at: Option<DateTimeUtc>,
    /// When it was cancelled.
    pub cancelled_at: Option<DateTimeUtc>,
    /// How many receipts so far (partial receipts number their ledger rows).
    pub receipts: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of `transfers` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
