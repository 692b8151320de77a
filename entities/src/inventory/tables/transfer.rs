//! A transfer of stock between two warehouses: requested → shipped → received, or cancelled.

use sea_orm::entity::prelude::*;

/// A row of `transfers`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "transfers")]
pub struct Model {
    /// Transfer id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Human folio, e.g. `TR-000042`.
    pub folio: String,
    /// Origin.
    pub from_warehouse_id: Uuid,
    /// Destination.
    pub to_warehouse_id: Uuid,
    /// `requested`, `shipped`, `partially_received`, `received` or `cancelled`.
    pub status: String,
    /// Note.
    pub note: Option<String>,
    /// Who asked.
    pub requested_by: Option<Uuid>,
    /// Who shipped.
    pub shipped_by: Option<Uuid>,
    /// Who received last.
    pub received_by: Option<Uuid>,
    /// When it left the origin.
    pub shipped_at: Option<DateTimeUtc>,
    /// Last receipt.
    pub received_at: Option<DateTimeUtc>,
    /// When it was cancelled.
    pub cancelled_at: Option<DateTimeUtc>,
    /// How many receipts so far (partial receipts number their ledger rows).
    pub receipts: i32,
    /// Requested.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// Relations of `transfers` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
