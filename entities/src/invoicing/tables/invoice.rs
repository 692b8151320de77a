//! A CFDI: its receiver, amounts, the exact request of its current attempt and the idempotency key of that attempt.

use sea_orm::entity::prelude::*;

/// A row of `invoices`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoices")]
pub struct Model {
    /// Id; also Facturapi's `external_id`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `I`, `E` or `P`.
    pub kind: String,
    /// The sale invoiced.
    pub sale_id: Option<Uuid>,
    /// `<sale>:<kind>` while the invoice stands (unique).
    pub active_key: Option<String>,
    /// The customer.
    pub customer_id: Option<Uuid>,
    /// `pending` (being stamped), `valid` or `failed`.
    pub status: String,
    /// `none`, `pending`, `accepted`, `rejected` or `expired`.
    pub cancellation_status: String,
    /// SAT motive 01–04.
    pub cancellation_motive: Option<String>,
    /// The substitute's UUID (motive 01).
    pub substitution_uuid: Option<String>,
    /// Facturapi's id once known.
    pub facturapi_id: Option<String>,
    /// Fiscal UUID (folio fiscal) once stamped.
    pub uuid: Option<String>,
    /// Series.
    pub series: Option<String>,
    /// Folio.
    pub folio_number: Option<i64>,
    /// Receiver RFC.
    pub receiver_rfc: String,
    /// Receiver legal name.
    pub receiver_name: String,
    /// c_UsoCFDI.
    pub cfdi_use: String,
    /// c_FormaPago.
    pub payment_form: String,
    /// `PUE` or `PPD`.
    pub payment_method: String,
    /// Total, MXN centavos.
    pub total_cents: i64,
    /// IVA, MXN centavos.
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
    /// Facturapi's code.
    pub failure_code: Option<String>,
    /// When it was stamped.
    pub stamped_at: Option<DateTimeUtc>,
    /// Who asked.
    pub created_by: Option<Uuid>,
    /// Asked.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// Relations of `invoices` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
