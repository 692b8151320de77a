//! The Facturapi client (CFDI 4.0 stamping through the PAC), `https://www.facturapi.io/v2`.
//!
//! Facts from `reference/domain.md` §1: Bearer secret key; idempotency is the **body field**
//! `idempotency_key` (no header); `external_id` is searchable but not unique; `POST /invoices`
//! answers 200 when stamped and **202** when the PAC failed intermittently (the invoice stays
//! `pending` and Facturapi retries); errors come as `{ok, message, status, code, location?,
//! path?, errors[]}` and `code` is the stable thing to branch on; 429 carries `Retry-After`.
//!
//! What the caller does with a failure (reliability.md §3): [`FacturapiError::outcome_unknown`]
//! means "Facturapi may have stamped": retry with the **same** key and body, or look the invoice
//! up with [`FacturapiClient::find_by_external_id`]; a known failure that is not transient
//! ([`FacturapiError::is_transient`] false) is the only case where a new key may be used.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use entities::rules::cfdi::{CancellationMotive, Periodicity};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::runtime::JobError;

/// Facturapi's API, version 2.
pub const DEFAULT_BASE_URL: &str = "https://www.facturapi.io/v2";

/// How long one call may take. Stamping goes to the PAC and SAT, so it is generous.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Amounts go out as JSON numbers, as Facturapi's SDKs send them. Six decimals of amounts
/// below 10^9 round-trip exactly through the shortest f64 representation serde_json prints.
mod number {
    use super::*;

    pub(super) fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.to_f64().unwrap_or(0.0))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        parse(&v).ok_or_else(|| serde::de::Error::custom(format!("not an amount: {v}")))
    }

    pub(super) fn parse(v: &serde_json::Value) -> Option<Decimal> {
        let s = match v {
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) => s.clone(),
            _ => return None,
        };
        Decimal::from_str(&s)
            .or_else(|_| Decimal::from_scientific(&s))
            .ok()
    }

    pub(super) mod option {
        use super::*;

        pub(in super::super) fn serialize<S: Serializer>(
            d: &Option<Decimal>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match d {
                Some(d) => super::serialize(d, s),
                None => s.serialize_none(),
            }
        }

        pub(in super::super) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<Decimal>, D::Error> {
            let v = serde_json::Value::deserialize(d)?;
            Ok(super::parse(&v))
        }
    }
}

// ------------------------------------------------------------------------------------------
// Request types
// ------------------------------------------------------------------------------------------

/// CFDI type (TipoDeComprobante).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvoiceType {
    /// Ingreso: a sale.
    #[serde(rename = "I")]
    Income,
    /// Egreso: a credit note (returns, discounts).
    #[serde(rename = "E")]
    Expense,
    /// Pago: a payment complement (REP) for PPD invoices.
    #[serde(rename = "P")]
    Payment,
}

/// The receiver's fiscal address; CFDI 4.0 needs only the zip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// Fiscal postal code.
    pub zip: String,
    /// ISO 3166 alpha-3; `MEX` when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// The receiver, inline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// Name as in the Constancia de Situación Fiscal, without "S.A. de C.V.".
    pub legal_name: String,
    /// RFC.
    pub tax_id: String,
    /// c_RegimenFiscal key.
    pub tax_system: String,
    /// Where Facturapi e-mails the invoice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Fiscal address.
    pub address: Address,
}

/// A tax of a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tax {
    /// `IVA`, `ISR` or `IEPS`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Rate as a fraction (`0.16`).
    #[serde(with = "number")]
    pub rate: Decimal,
    /// `Tasa` (default), `Cuota` or `Exento`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<String>,
    /// A withholding rather than a transfer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub withholding: bool,
}

impl Tax {
    /// IVA transferred at `rate` (e.g. `0.16`, `0.08`).
    #[must_use]
    pub fn iva(rate: Decimal) -> Self {
        Self {
            kind: "IVA".into(),
            rate,
            factor: None,
            withholding: false,
        }
    }

    /// IVA-exempt.
    #[must_use]
    pub fn iva_exempt() -> Self {
        Self {
            kind: "IVA".into(),
            rate: Decimal::ZERO,
            factor: Some("Exento".into()),
            withholding: false,
        }
    }
}

/// A product, inline in an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// Description printed on the CFDI.
    pub description: String,
    /// c_ClaveProdServ (8 digits).
    pub product_key: String,
    /// c_ClaveUnidad (`H87` piece).
    pub unit_key: String,
    /// Unit name printed (`Pieza`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_name: Option<String>,
    /// Unit price; with or without taxes per `tax_included`.
    #[serde(with = "number")]
    pub price: Decimal,
    /// Whether `price` includes the taxes (Facturapi's default is true).
    pub tax_included: bool,
    /// c_ObjetoImp (`02` subject to tax).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxability: Option<String>,
    /// Taxes; Facturapi applies IVA 16 % when empty and taxability is 02.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taxes: Vec<Tax>,
    /// Our SKU, printed as NoIdentificacion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
}

/// A line of the invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Units.
    #[serde(with = "number")]
    pub quantity: Decimal,
    /// Discount on the line, in the same terms as the price.
    #[serde(
        default,
        with = "number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub discount: Option<Decimal>,
    /// The product.
    pub product: Product,
}

/// Documents this CFDI relates to (CfdiRelacionados).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelatedDocuments {
    /// c_TipoRelacion (`01` credit note, `04` substitution, `07` advance…).
    pub relationship: String,
    /// UUIDs.
    pub documents: Vec<String>,
}

/// The `global` block of a global invoice (InformacionGlobal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlobalInfo {
    /// day, week, fortnight, month or two_months.
    pub periodicity: Periodicity,
    /// `01`–`12`, or `13`–`18` for two months.
    pub months: String,
    /// Year of the period.
    pub year: i32,
}

/// A tax of a paid document, prorated to the payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaidTax {
    /// The base paid.
    #[serde(with = "number")]
    pub base: Decimal,
    /// `IVA`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Rate as a fraction.
    #[serde(with = "number")]
    pub rate: Decimal,
}

/// One PPD invoice a payment settles (DoctoRelacionado).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaidDocument {
    /// UUID of the PPD invoice.
    pub uuid: String,
    /// Amount paid now.
    #[serde(with = "number")]
    pub amount: Decimal,
    /// Parcialidad number, from 1.
    pub installment: u32,
    /// Balance before this payment.
    #[serde(with = "number")]
    pub last_balance: Decimal,
    /// Taxes of the part paid.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taxes: Vec<PaidTax>,
}

/// One payment of a payment complement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentData {
    /// c_FormaPago of the payment (never 99).
    pub payment_form: String,
    /// When the money was received (ISO-8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// ISO 4217.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// MXN per unit of `currency`.
    #[serde(
        default,
        with = "number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub exchange: Option<Decimal>,
    /// The invoices settled.
    pub related_documents: Vec<PaidDocument>,
}

/// A complement; only `pago` is modelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complement {
    /// `pago`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The payments.
    pub data: Vec<PaymentData>,
}

/// `POST /invoices` body for types I, E and P.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRequest {
    /// I, E or P.
    #[serde(rename = "type")]
    pub kind: InvoiceType,
    /// The receiver.
    pub customer: Customer,
    /// Lines (empty for type P).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
    /// c_FormaPago (99 with PPD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_form: Option<String>,
    /// PUE or PPD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
    /// c_UsoCFDI.
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub cfdi_use: Option<String>,
    /// ISO 4217; MXN when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// MXN per unit of `currency`.
    #[serde(
        default,
        with = "number::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub exchange: Option<Decimal>,
    /// Series (per branch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    /// Folio within the series.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folio_number: Option<i64>,
    /// Related CFDIs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related_documents: Vec<RelatedDocuments>,
    /// InformacionGlobal, for the global invoice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global: Option<GlobalInfo>,
    /// Payment complements (type P).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub complements: Vec<Complement>,
    /// Nexus's id of the document: how an unknown outcome is looked up.
    pub external_id: String,
    /// Same key for every retry of the same attempt (reliability.md §3).
    pub idempotency_key: String,
}

// ------------------------------------------------------------------------------------------
// Response types
// ------------------------------------------------------------------------------------------

/// Status of an invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    /// Accepted, not stamped yet (202, or `async`): poll or wait for the webhook.
    Pending,
    /// Stamped: it has a UUID.
    Valid,
    /// Cancelled before SAT.
    Canceled,
    /// Saved without stamping.
    Draft,
    /// Stamping failed for good.
    Failed,
    /// A status this client does not know yet.
    #[serde(other)]
    Unknown,
}

/// Status of a cancellation request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancellationStatus {
    /// Never asked.
    None,
    /// SAT is validating.
    Verifying,
    /// Waiting for the receiver (3 business days).
    Pending,
    /// Cancelled.
    Accepted,
    /// The receiver refused.
    Rejected,
    /// The receiver did not answer in time (silence means accepted for SAT; Facturapi reports
    /// it separately).
    Expired,
    /// A status this client does not know yet.
    #[serde(other)]
    Unknown,
}

/// The stamp (TimbreFiscalDigital).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// Stamping date.
    #[serde(default)]
    pub date: Option<String>,
    /// Seal of the CFDI.
    #[serde(default)]
    pub signature: Option<String>,
    /// SAT certificate number.
    #[serde(default)]
    pub sat_cert_number: Option<String>,
    /// SAT seal.
    #[serde(default)]
    pub sat_signature: Option<String>,
}

/// An invoice as Facturapi returns it (the fields Nexus reads).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    /// Facturapi's id.
    pub id: String,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Whether stamped for real (live key).
    #[serde(default)]
    pub livemode: bool,
    /// Status.
    pub status: InvoiceStatus,
    /// Cancellation status.
    #[serde(default)]
    pub cancellation_status: Option<CancellationStatus>,
    /// SAT's verification URL.
    #[serde(default)]
    pub verification_url: Option<String>,
    /// I, E, P…
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// Total.
    #[serde(default, with = "number::option")]
    pub total: Option<Decimal>,
    /// Fiscal UUID; `None` while pending.
    #[serde(default)]
    pub uuid: Option<String>,
    /// Folio.
    #[serde(default)]
    pub folio_number: Option<i64>,
    /// Series.
    #[serde(default)]
    pub series: Option<String>,
    /// Our id.
    #[serde(default)]
    pub external_id: Option<String>,
    /// The key the invoice was created with.
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// The stamp; `None` while pending.
    #[serde(default)]
    pub stamp: Option<Stamp>,
}

/// A page of a listing.
#[derive(Debug, Clone, Deserialize)]
pub struct SearchResult<T> {
    /// Page number.
    #[serde(default)]
    pub page: u32,
    /// Pages.
    #[serde(default)]
    pub total_pages: u32,
    /// Matches in all pages.
    #[serde(default)]
    pub total_results: u64,
    /// This page.
    pub data: Vec<T>,
}

/// One detail of an error (`errors[]`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
pub struct ErrorDetail {
    /// Human message (Spanish).
    #[serde(default)]
    pub message: String,
    /// Subcode; for `source` sat/pac the original SAT or PAC code (`CFDI40145`, `402`).
    #[serde(default)]
    pub code: Option<String>,
    /// `facturapi`, `sat` or `pac`.
    #[serde(default)]
    pub source: Option<String>,
    /// `body`, `query`…
    #[serde(default)]
    pub location: Option<String>,
    /// Field path.
    #[serde(default)]
    pub path: Option<String>,
}

/// Facturapi's error envelope (errors.mdx).
#[derive(Debug, Clone, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    errors: Vec<ErrorDetail>,
}

// ------------------------------------------------------------------------------------------
// Errors
// ------------------------------------------------------------------------------------------

/// Root codes that describe a temporary state of Facturapi or the PAC, whatever their HTTP
/// status: retried with the same key.
const TRANSIENT_CODES: [&str; 5] = [
    "invoice_stamping_service_unavailable",
    "stamping_in_progress",
    "invoice_cancellation_service_unavailable",
    "internal_error",
    "rate_limit_exceeded",
];

/// Why a call to Facturapi failed.
#[derive(Debug, thiserror::Error)]
pub enum FacturapiError {
    /// The client could not be built (a bad URL or key).
    #[error("Facturapi client: {0}")]
    Setup(String),
    /// No connection could be opened: the request never left, nothing was stamped.
    #[error("Facturapi is unreachable: {0}")]
    Unreachable(String),
    /// The request was sent and no answer came in time: it may have been stamped.
    #[error("Facturapi did not answer in time; the invoice may have been stamped")]
    Timeout,
    /// The connection broke after the request was sent: it may have been stamped.
    #[error("the connection to Facturapi dropped; the invoice may have been stamped: {0}")]
    ConnectionLost(String),
    /// A 5xx: Facturapi failed, possibly after stamping.
    #[error("Facturapi failed with {status}: {message}")]
    Server {
        /// HTTP status.
        status: u16,
        /// Its message, when it sent the envelope.
        message: String,
        /// `X-Facturapi-Log-Id`.
        log_id: Option<String>,
    },
    /// 429 `rate_limit_exceeded`: come back after `retry_after`.
    #[error("Facturapi rate limit: retry after {}s", retry_after.as_secs())]
    RateLimited {
        /// Its `Retry-After` (1 s when it sent none).
        retry_after: Duration,
        /// `X-Facturapi-Log-Id`.
        log_id: Option<String>,
    },
    /// `idempotency_key_in_use`: another request with the same key is running; retry later
    /// with the same key and it answers with that request's invoice.
    #[error("another request with the same idempotency key is in progress")]
    KeyInUse {
        /// `X-Facturapi-Log-Id`.
        log_id: Option<String>,
    },
    /// 401/403: the secret key is wrong, revoked or not allowed. Retrying will not help.
    #[error("Facturapi refused the key ({code}): {message}")]
    Unauthorized {
        /// Root code (`unauthorized`, `api_key_invalid`…).
        code: String,
        /// Its message.
        message: String,
    },
    /// Another 4xx: the request is wrong (validation, SAT or PAC rejection, not found).
    #[error("{}", .0.reason)]
    Rejected(Box<Rejection>),
    /// A 2xx whose body is not what the API documents.
    #[error("Facturapi answered something unreadable: {0}")]
    Malformed(String),
}

/// A 4xx other than 401/403/429, as Facturapi explained it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// HTTP status.
    pub status: u16,
    /// Root code (`invalid_request`, `invoice_stamping_validation_error`…).
    pub code: String,
    /// The field at fault, when Facturapi names one.
    pub path: Option<String>,
    /// What to tell the operator (English lead-in, then Facturapi's own Spanish message).
    pub reason: String,
    /// Facturapi's message, verbatim.
    pub message: String,
    /// `errors[]`, with SAT/PAC codes when `source` says so.
    pub details: Vec<ErrorDetail>,
    /// `X-Facturapi-Log-Id`.
    pub log_id: Option<String>,
}

impl FacturapiError {
    /// Whether trying again later (with the same key and body) may succeed.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable(_)
            | Self::Timeout
            | Self::ConnectionLost(_)
            | Self::Server { .. }
            | Self::RateLimited { .. }
            | Self::KeyInUse { .. }
            | Self::Malformed(_) => true,
            Self::Rejected(r) => TRANSIENT_CODES.contains(&r.code.as_str()),
            Self::Setup(_) | Self::Unauthorized { .. } => false,
        }
    }

    /// Whether Facturapi may have acted on the request without our knowing: the caller must
    /// retry with the same key and body, or look the invoice up by `external_id`, and never
    /// create it under a new key. A 5xx counts, since it may come after the PAC stamped.
    #[must_use]
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            Self::Timeout | Self::ConnectionLost(_) | Self::Server { .. } | Self::Malformed(_)
        )
    }

    /// How long Facturapi asked to wait, for a 429.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// The root code of a rejection.
    #[must_use]
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Rejected(r) => Some(&r.code),
            Self::Unauthorized { code, .. } => Some(code),
            Self::RateLimited { .. } => Some("rate_limit_exceeded"),
            Self::KeyInUse { .. } => Some("idempotency_key_in_use"),
            _ => None,
        }
    }

    /// A 404 (the invoice does not exist in this organisation).
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Rejected(r) if r.status == 404)
    }

    /// The job error this failure makes: transient ones carry `Retry-After`.
    #[must_use]
    pub fn to_job_error(&self) -> JobError {
        if self.is_transient() {
            JobError::Transient {
                reason: self.to_string(),
                retry_after: self.retry_after(),
            }
        } else {
            JobError::permanent(self.to_string())
        }
    }
}

/// An operator-readable explanation of a Facturapi code (root or detail), in the words a
/// store's back office understands. `None` for codes with nothing to add to the message.
#[must_use]
pub fn explain_code(code: &str) -> Option<&'static str> {
    Some(match code {
        "legal_name_mismatch" => {
            "The customer's name does not match SAT's records for this RFC: copy it exactly from \
             the Constancia de Situación Fiscal, without \"S.A. de C.V.\""
        }
        "tax_address_zip_mismatch" => {
            "The customer's fiscal zip does not match SAT's records: use the one on the \
             Constancia de Situación Fiscal"
        }
        "tax_id_not_found" => "SAT does not list this RFC as registered and active",
        "tax_system_not_allowed_for_tax_id" => {
            "SAT does not register this tax regime for the customer's RFC"
        }
        "tax_system_not_in_catalog" => "The tax regime is not in SAT's catalog",
        "product_key_not_found" => "A product key (ClaveProdServ) is not in SAT's catalog",
        "unit_key_not_found" => "A unit key (ClaveUnidad) is not in SAT's catalog",
        "invoice_stamping_validation_error" => "SAT or the PAC rejected the invoice",
        "invoice_stamping_failed" => "The invoice could not be stamped",
        "organization_incomplete" => {
            "The Facturapi organisation is not fully configured (CSD certificate, fiscal data)"
        }
        "live_api_key_required" => "This operation needs the live key",
        "substitution_invoice_required" => {
            "Cancellation motive 01 needs the substitute invoice, issued first"
        }
        "substitution_invoice_not_found" => "The substitute invoice does not exist",
        "invoice_not_cancelable" => "This invoice cannot be cancelled in its current state",
        "invoice_not_cancelable_by_sat" => {
            "SAT does not allow cancelling this invoice (deadline passed or related documents \
             still valid)"
        }
        "invoice_cancellation_in_progress" => "A cancellation is already in progress",
        "invoice_not_stamped" => "The invoice has not been stamped yet",
        "not_found" | "invoice_not_found" => "Facturapi does not know this invoice",
        "invalid_request" => "Facturapi refused a field of the request",
        "conflict" => "The request conflicts with the invoice's current state",
        _ => return None,
    })
}

fn reason_for(code: &str, path: Option<&str>, message: &str, details: &[ErrorDetail]) -> String {
    // A tax-information subcode is more telling than the root `invalid_request`.
    let lead = details
        .iter()
        .filter_map(|d| d.code.as_deref())
        .find_map(explain_code)
        .filter(|_| code == "invalid_request")
        .or_else(|| explain_code(code));
    let mut reason = match (lead, path) {
        (Some(l), Some(p)) => format!("{l} ({p})"),
        (Some(l), None) => l.to_owned(),
        (None, Some(p)) => format!("Facturapi error {code} ({p})"),
        (None, None) => format!("Facturapi error {code}"),
    };
    if !message.is_empty() {
        reason.push_str(": ");
        reason.push_str(message);
    }
    for d in details
        .iter()
        .filter(|d| matches!(d.source.as_deref(), Some("sat" | "pac")) && d.message != message)
    {
        reason.push_str(&format!(
            " [{} {}: {}]",
            d.source.as_deref().unwrap_or_default().to_uppercase(),
            d.code.as_deref().unwrap_or("?"),
            d.message
        ));
    }
    reason
}

// ------------------------------------------------------------------------------------------
// Client
// ------------------------------------------------------------------------------------------

/// A Facturapi secret key; never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(String);

impl SecretKey {
    /// Wraps a key: `sk_test_…` or `sk_live_…` (organisation keys).
    ///
    /// # Errors
    /// [`FacturapiError::Setup`] for anything else, without echoing it.
    pub fn new(key: &str) -> Result<Self, FacturapiError> {
        let key = key.trim();
        let ok = (key.starts_with("sk_test_") || key.starts_with("sk_live_"))
            && key.len() > 8
            && key.bytes().all(|b| b.is_ascii_graphic());
        if !ok {
            return Err(FacturapiError::Setup(
                "the secret key must be an organisation key, sk_test_… or sk_live_…".into(),
            ));
        }
        Ok(Self(key.to_owned()))
    }

    /// Whether it stamps for real.
    #[must_use]
    pub fn is_live(&self) -> bool {
        self.0.starts_with("sk_live_")
    }

    /// The key itself, for the Authorization header and the encrypted store only.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.is_live() { "sk_live" } else { "sk_test" };
        write!(f, "SecretKey({kind}_***)")
    }
}

/// A Facturapi client for one organisation (one secret key); cheap to clone.
#[derive(Clone)]
pub struct FacturapiClient {
    http: reqwest::Client,
    base_url: String,
    key: SecretKey,
}

impl fmt::Debug for FacturapiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FacturapiClient")
            .field("base_url", &self.base_url)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

fn log_id(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get("x-facturapi-log-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The largest JSON answer read from Facturapi (an invoice with thousands of concepts is well
/// under it).
pub const JSON_CAP: usize = 8 * 1024 * 1024;
/// The largest XML or PDF downloaded.
pub const FILE_CAP: usize = 32 * 1024 * 1024;

/// A body read up to its cap; a larger one is a malformed answer, never read whole.
async fn read(resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, FacturapiError> {
    super::read_capped(resp, cap).await.map_err(|e| match e {
        super::BodyError::Transport(e) => transport(&e),
        too_large @ super::BodyError::TooLarge { .. } => {
            FacturapiError::Malformed(too_large.to_string())
        }
    })
}

fn transport(e: &reqwest::Error) -> FacturapiError {
    if e.is_timeout() {
        FacturapiError::Timeout
    } else if e.is_connect() {
        FacturapiError::Unreachable(e.to_string())
    } else {
        // Sent, then the connection broke (reset, closed before the answer, body cut short).
        FacturapiError::ConnectionLost(e.to_string())
    }
}

impl FacturapiClient {
    /// A client of the API at `base_url` (e.g. [`DEFAULT_BASE_URL`]) with an organisation key.
    ///
    /// # Errors
    /// [`FacturapiError::Setup`] for a URL that is not http(s), a key that is not `sk_test_…`
    /// or `sk_live_…`, or a client that cannot be built.
    pub fn new(
        base_url: &str,
        secret_key: &str,
        timeout: Duration,
    ) -> Result<Self, FacturapiError> {
        let base = base_url.trim().trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(FacturapiError::Setup(format!(
                "expected an http(s) URL, got `{base_url}`"
            )));
        }
        let key = SecretKey::new(secret_key)?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("nexus/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FacturapiError::Setup(e.to_string()))?;
        Ok(Self {
            http,
            base_url: base.to_owned(),
            key,
        })
    }

    /// The base URL, without a trailing slash.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Whether the key is a live one.
    #[must_use]
    pub fn is_live(&self) -> bool {
        self.key.is_live()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, FacturapiError> {
        let resp = req
            .bearer_auth(self.key.expose())
            .send()
            .await
            .map_err(|e| transport(&e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let log_id = log_id(&resp);
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = read(resp, JSON_CAP).await?;
        let body: ErrorBody = serde_json::from_slice(&bytes).unwrap_or_else(|_| ErrorBody {
            message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            ..ErrorBody::default()
        });
        let code = body.code.clone().unwrap_or_default();
        tracing::debug!(status = status.as_u16(), %code, log_id = ?log_id, "Facturapi error");
        if status == StatusCode::TOO_MANY_REQUESTS || code == "rate_limit_exceeded" {
            return Err(FacturapiError::RateLimited {
                retry_after: retry_after.unwrap_or(Duration::from_secs(1)),
                log_id,
            });
        }
        if code == "idempotency_key_in_use" {
            return Err(FacturapiError::KeyInUse { log_id });
        }
        if status.is_server_error() {
            return Err(FacturapiError::Server {
                status: status.as_u16(),
                message: body.message,
                log_id,
            });
        }
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(FacturapiError::Unauthorized {
                code: if code.is_empty() {
                    "unauthorized".into()
                } else {
                    code
                },
                message: body.message,
            });
        }
        let code = if code.is_empty() {
            format!("http_{}", status.as_u16())
        } else {
            code
        };
        let path = body
            .path
            .clone()
            .or_else(|| body.errors.iter().find_map(|d| d.path.clone()));
        Err(FacturapiError::Rejected(Box::new(Rejection {
            status: status.as_u16(),
            reason: reason_for(&code, path.as_deref(), &body.message, &body.errors),
            code,
            path,
            message: body.message,
            details: body.errors,
            log_id,
        })))
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<T, FacturapiError> {
        let resp = self.send(req).await?;
        let bytes = read(resp, JSON_CAP).await?;
        serde_json::from_slice(&bytes).map_err(|e| FacturapiError::Malformed(e.to_string()))
    }

    /// `POST /invoices`: stamps a CFDI. A 200 comes back `valid`; a 202 comes back `pending`
    /// (the PAC failed intermittently; Facturapi retries and the status moves to `valid` or
    /// `failed`: poll [`FacturapiClient::get_invoice`] or wait for the webhook).
    ///
    /// # Errors
    /// [`FacturapiError`]; check [`FacturapiError::outcome_unknown`] before anything else.
    pub async fn create_invoice(&self, req: &InvoiceRequest) -> Result<Invoice, FacturapiError> {
        self.json(self.http.post(self.url("/invoices")).json(req))
            .await
    }

    /// `GET /invoices/{id}`.
    ///
    /// # Errors
    /// [`FacturapiError`]; a 404 is [`FacturapiError::is_not_found`].
    pub async fn get_invoice(&self, id: &str) -> Result<Invoice, FacturapiError> {
        self.json(
            self.http
                .get(self.url(&format!("/invoices/{}", path_segment(id)))),
        )
        .await
    }

    /// `GET /invoices?external_id=`: every invoice with that external id (Facturapi does not
    /// enforce its uniqueness, so there may be several, or none).
    ///
    /// # Errors
    /// [`FacturapiError`].
    pub async fn find_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Vec<Invoice>, FacturapiError> {
        let page: SearchResult<Invoice> = self
            .json(
                self.http
                    .get(self.url("/invoices"))
                    .query(&[("external_id", external_id)]),
            )
            .await?;
        Ok(page.data)
    }

    /// `DELETE /invoices/{id}?motive=&substitution=`: asks SAT to cancel. The answer is either
    /// `canceled` at once or `valid` with `cancellation_status` pending/verifying.
    ///
    /// # Errors
    /// [`FacturapiError`]; motive 01 without a substitute is refused before any call.
    pub async fn cancel_invoice(
        &self,
        id: &str,
        motive: CancellationMotive,
        substitution: Option<&str>,
    ) -> Result<Invoice, FacturapiError> {
        if motive.requires_substitution() && substitution.is_none_or(|s| s.trim().is_empty()) {
            return Err(FacturapiError::Rejected(Box::new(Rejection {
                status: 400,
                code: "substitution_invoice_required".into(),
                path: Some("substitution".into()),
                reason: explain_code("substitution_invoice_required")
                    .unwrap_or_default()
                    .to_owned(),
                message: String::new(),
                details: Vec::new(),
                log_id: None,
            })));
        }
        let mut query = vec![("motive", motive.key().to_owned())];
        if let Some(s) = substitution {
            query.push(("substitution", s.to_owned()));
        }
        self.json(
            self.http
                .delete(self.url(&format!("/invoices/{}", path_segment(id))))
                .query(&query),
        )
        .await
    }

    async fn download(&self, id: &str, format: &str) -> Result<Vec<u8>, FacturapiError> {
        let resp = self
            .send(
                self.http
                    .get(self.url(&format!("/invoices/{}/{format}", path_segment(id)))),
            )
            .await?;
        read(resp, FILE_CAP).await
    }

    /// `GET /invoices/{id}/xml`: the stamped CFDI.
    ///
    /// # Errors
    /// [`FacturapiError`].
    pub async fn download_xml(&self, id: &str) -> Result<Vec<u8>, FacturapiError> {
        self.download(id, "xml").await
    }

    /// `GET /invoices/{id}/pdf`: its printed representation.
    ///
    /// # Errors
    /// [`FacturapiError`].
    pub async fn download_pdf(&self, id: &str) -> Result<Vec<u8>, FacturapiError> {
        self.download(id, "pdf").await
    }
}

/// Facturapi ids are hex; anything else is escaped rather than trusted into the path.
fn path_segment(id: &str) -> String {
    id.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_key_never_shows_in_debug() {
        let c = FacturapiClient::new(
            "http://127.0.0.1:1/v2",
            "sk_test_supersecret123",
            Duration::from_secs(1),
        )
        .unwrap();
        let printed = format!("{c:?}");
        assert!(!printed.contains("supersecret"), "{printed}");
        assert!(printed.contains("sk_test_***"));
    }

    #[test]
    fn keys_that_are_not_organisation_keys_are_refused_without_echo() {
        let e = SecretKey::new("sk_user_abcdef").unwrap_err();
        assert!(!e.to_string().contains("abcdef"));
        assert!(SecretKey::new("sk_live_x1").unwrap().is_live());
    }

    #[test]
    fn amounts_go_out_as_json_numbers() {
        let item = Item {
            quantity: Decimal::from(2),
            discount: None,
            product: Product {
                description: "Balata".into(),
                product_key: "25171700".into(),
                unit_key: "H87".into(),
                unit_name: None,
                price: Decimal::new(732_758_621, 6),
                tax_included: false,
                taxability: Some("02".into()),
                taxes: vec![Tax::iva(Decimal::new(16, 2))],
                sku: None,
            },
        };
        let v = serde_json::to_value(&item).unwrap();
        assert_eq!(v["product"]["price"], serde_json::json!(732.758621));
        assert_eq!(v["product"]["taxes"][0]["rate"], serde_json::json!(0.16));
        assert!(v.get("discount").is_none());
    }

    #[test]
    fn a_tax_information_subcode_gives_the_reason() {
        let details = vec![ErrorDetail {
            message: "El nombre no coincide".into(),
            code: Some("legal_name_mismatch".into()),
            source: Some("facturapi".into()),
            location: Some("body".into()),
            path: Some("customer.legal_name".into()),
        }];
        let r = reason_for(
            "invalid_request",
            Some("customer.legal_name"),
            "El nombre no coincide",
            &details,
        );
        assert!(r.starts_with("The customer's name does not match"), "{r}");
        assert!(r.contains("customer.legal_name"));
    }
}

/// Where and how to reach Facturapi (the key is the tenant's, read per job).
#[derive(Debug, Clone)]
pub struct FacturapiConfig {
    /// Base URL, e.g. `https://www.facturapi.io/v2`.
    pub base_url: String,
    /// Per-call timeout.
    pub timeout: Duration,
    /// Retries of the `cfdi` jobs ([`crate::handlers::invoicing::RETRY`] in production; tests shorten it). A `Retry-After`
    /// always wins over a shorter backoff.
    pub retry: crate::runtime::RetryPolicy,
}
