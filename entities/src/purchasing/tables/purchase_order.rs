//! A purchase order: draft → sent → confirmed → partially received → received → closed, or
//! cancelled before anything was received.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// The state of a purchase order.
    pub enum Status {
        /// Being written; nothing sent.
        Draft = "draft",
        /// E-mailed (or handed) to the supplier.
        Sent = "sent",
        /// The supplier accepted it.
        Confirmed = "confirmed",
        /// Some units arrived; the rest is on back order.
        PartiallyReceived = "partially_received",
        /// Every ordered unit arrived.
        Received = "received",
        /// Done: fully received, or closed short with units never coming.
        Closed = "closed",
        /// Called off before anything arrived.
        Cancelled = "cancelled",
    }
}

impl Status {
    /// Whether units may still arrive against the order.
    #[must_use]
    pub const fn receivable(self) -> bool {
        matches!(self, Self::Sent | Self::Confirmed | Self::PartiallyReceived)
    }

    /// Whether its open quantities count as on order for reorder.
    #[must_use]
    pub const fn open(self) -> bool {
        matches!(
            self,
            Self::Draft | Self::Sent | Self::Confirmed | Self::PartiallyReceived
        )
    }
}

/// A row of `purchase_orders`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "purchase_orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `OC-000042`, one series per business.
    pub folio: String,
    pub supplier_id: Uuid,
    /// Where it is received by default.
    pub warehouse_id: Uuid,
    pub status: Status,
    pub currency: String,
    /// MXN per unit of `currency`, micros, fixed at creation.
    pub exchange_rate_micros: i64,
    /// Sum of the lines' amounts before IVA, in `currency`.
    pub subtotal_cents: i64,
    pub tax_cents: i64,
    pub total_cents: i64,
    /// The total was at or above the owner's threshold when it was last changed.
    pub needs_approval: bool,
    pub approved_by: Option<Uuid>,
    pub approved_at: Option<DateTimeUtc>,
    pub expected_on: Option<Date>,
    pub notes: Option<String>,
    /// `manual` or `reorder`.
    pub origin: String,
    /// What makes a reorder suggestion create the order once a day.
    pub origin_key: Option<String>,
    pub receipts: i32,
    /// Bumped by every change (the condition of every conditional update).
    pub version: i32,
    pub created_by: Option<Uuid>,
    pub sent_at: Option<DateTimeUtc>,
    pub confirmed_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub cancelled_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of `purchase_orders` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
