//! A customer's warranty claim.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// The state of a warranty claim.
    pub enum Status {
        /// Received at the counter.
        Open = "open",
        /// The part is being looked at.
        Inspecting = "inspecting",
        /// Covered: to be resolved.
        Approved = "approved",
        /// Not covered.
        Rejected = "rejected",
        /// Replaced, refunded or repaired.
        Resolved = "resolved",
        /// Nothing more to do.
        Closed = "closed",
    }
}

crate::text_enum! {
    /// How an approved claim was resolved.
    pub enum Resolution {
        /// A new unit at no charge; the failed one into quarantine.
        Replace = "replace",
        /// The money back; the failed unit into quarantine.
        Refund = "refund",
        /// Repaired: no stock moves.
        Repair = "repair",
    }
}

/// A row of `warranty_claims`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "warranty_claims")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `GA-000042`.
    pub folio: String,
    pub warranty_id: Uuid,
    pub sale_id: Uuid,
    pub item_id: Uuid,
    pub customer_id: Option<Uuid>,
    pub qty: i64,
    pub status: Status,
    pub complaint: String,
    pub odometer_km: Option<i64>,
    /// Eligibility on `checked_on`.
    pub eligible: bool,
    /// `expired` or `km_exceeded`.
    pub ineligible_reason: Option<String>,
    pub checked_on: Date,
    pub decision_reason: Option<String>,
    pub decided_by: Option<Uuid>,
    pub resolution: Option<Resolution>,
    pub resolution_notes: Option<String>,
    pub replacement_warehouse_id: Option<Uuid>,
    pub quarantine_warehouse_id: Option<Uuid>,
    /// The counter's return that paid a refund back.
    pub sale_return_id: Option<Uuid>,
    /// The credit note (CFDI type E) of a refund of an invoiced sale.
    pub credit_note_id: Option<Uuid>,
    /// MXN centavos per unit, what the supplier should credit.
    pub unit_cost_cents: i64,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of `warranty_claims` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
