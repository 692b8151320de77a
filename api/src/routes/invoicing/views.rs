//! The views of invoicing documents that several of the area's endpoints answer.

use entities::invoicing::tables::invoice;
use entities::rules::money::Money;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// An invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceView {
    /// Id (Facturapi's `external_id`).
    pub id: Uuid,
    /// `I`, `E` or `P`.
    pub kind: String,
    /// The sale.
    pub sale_id: Option<Uuid>,
    /// `pending` (being stamped), `valid` or `failed`.
    pub status: String,
    /// Why it failed, for the operator.
    pub failure_reason: Option<String>,
    /// Fiscal UUID once stamped.
    pub uuid: Option<String>,
    /// Series.
    pub series: Option<String>,
    /// Folio.
    pub folio_number: Option<i64>,
    /// Receiver RFC.
    pub receiver_rfc: String,
    /// Receiver name.
    pub receiver_name: String,
    /// c_UsoCFDI.
    pub cfdi_use: String,
    /// c_FormaPago.
    pub payment_form: String,
    /// PUE or PPD.
    pub payment_method: String,
    /// Total.
    #[schema(value_type = String)]
    pub total: Money,
    /// IVA.
    #[schema(value_type = String)]
    pub tax: Money,
    /// Calls made to Facturapi for it.
    pub calls: i32,
    /// `none`, `requested`, `pending`, `accepted`, `rejected` or `expired`.
    pub cancellation_status: String,
    /// The cancellation's SAT motive.
    pub cancellation_motive: Option<String>,
    /// When it was stamped.
    pub stamped_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Asked.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<&invoice::Model> for InvoiceView {
    fn from(i: &invoice::Model) -> Self {
        Self {
            id: i.id,
            kind: i.kind.clone(),
            sale_id: i.sale_id,
            status: i.status.to_string(),
            failure_reason: i.failure_reason.clone(),
            uuid: i.uuid.clone(),
            series: i.series.clone(),
            folio_number: i.folio_number,
            receiver_rfc: i.receiver_rfc.clone(),
            receiver_name: i.receiver_name.clone(),
            cfdi_use: i.cfdi_use.clone(),
            payment_form: i.payment_form.clone(),
            payment_method: i.payment_method.clone(),
            total: Money(i.total_cents),
            tax: Money(i.tax_cents),
            calls: i.calls,
            cancellation_status: i.cancellation_status.to_string(),
            cancellation_motive: i.cancellation_motive.clone(),
            stamped_at: i.stamped_at,
            created_at: i.created_at,
        }
    }
}
