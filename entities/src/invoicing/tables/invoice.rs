//! A CFDI: its receiver, amounts, the exact request of its current attempt and the idempotency key of that attempt.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// The state of an invoice's stamping.
    pub enum Status {
        /// Being stamped (the `cfdi.stamp` job owns it).
        Pending = "pending",
        /// Stamped: it has a UUID.
        Valid = "valid",
        /// Facturapi or the SAT refused it; `failure_reason` says why.
        Failed = "failed",
    }
}

crate::text_enum! {
    /// Where an invoice's cancellation stands. Nexus writes `none` and `requested`; the rest are
    /// Facturapi's (and the SAT's) answers.
    pub enum CancellationStatus {
        /// Never asked.
        None = "none",
        /// Asked of Facturapi; no answer yet.
        Requested = "requested",
        /// The SAT is validating the request.
        Verifying = "verifying",
        /// Waiting for the receiver (3 business days).
        Pending = "pending",
        /// Cancelled.
        Accepted = "accepted",
        /// The receiver refused.
        Rejected = "rejected",
        /// The receiver did not answer in time; ask again.
        Expired = "expired",
    }
}

/// A row of `invoices`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoices")]
pub struct Model {
    /// Id; also Facturapi's `external_id`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `I`, `E` or `P`.
    pub kind: String,
    pub sale_id: Option<Uuid>,
    /// `<sale>:<kind>` while the invoice stands (unique).
    pub active_key: Option<String>,
    pub customer_id: Option<Uuid>,
    /// `pending` (being stamped), `valid` or `failed`.
    pub status: Status,
    /// `none`, `pending`, `accepted`, `rejected` or `expired`.
    pub cancellation_status: CancellationStatus,
    pub cancellation_motive: Option<String>,
    /// The substitute's UUID (motive 01).
    pub substitution_uuid: Option<String>,
    /// Facturapi's id once known.
    pub facturapi_id: Option<String>,
    /// Fiscal UUID (folio fiscal) once stamped.
    pub uuid: Option<String>,
    pub series: Option<String>,
    pub folio_number: Option<i64>,
    pub receiver_rfc: String,
    pub receiver_name: String,
    pub cfdi_use: String,
    pub payment_form: String,
    /// `PUE` or `PPD`.
    pub payment_method: String,
    pub total_cents: i64,
    pub tax_cents: i64,
    /// The body of the current attempt.
    pub request: Json,
    /// The concepts as Nexus computed them ([`crate::invoicing::documents::lines_json`]); `None` for a
    /// payment complement.
    pub lines: Option<Json>,
    /// Attempt generation: a new key only after a known failure.
    pub generation: i32,
    /// The key of the current attempt (`inv-<id>-g<generation>`).
    pub idempotency_key: String,
    /// Calls made to Facturapi.
    pub calls: i32,
    /// Why it failed, for an operator.
    pub failure_reason: Option<String>,
    pub failure_code: Option<String>,
    /// When it was stamped.
    pub stamped_at: Option<DateTimeUtc>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of `invoices` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
