//! CFDIs related to an invoice: `POST /pos/api/sales/{id}/returns/{return_id}/credit-note`
//! (the credit note, type E, of a return of an invoiced sale) and
//! `POST|GET /pos/api/invoices/{id}/payments` (payments a PPD invoice receives, each reported
//! by a payment complement, type P). Both are stamped by the `cfdi.stamp` job, queued in the
//! transaction that records them.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use entities::invoicing::related::{self, CreditNoteAsk, PaymentAsk};
use entities::rules::money::Money;
use entities::{
    counter::tables::sale, invoicing::tables::invoice, invoicing::tables::invoice_payment,
};
use rust_decimal::Decimal;
use sea_orm::EntityTrait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::access::visible_invoice;
use super::views::InvoiceView;
use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, body_as};
use crate::state::AppState;

/// The routes of credit notes and payment complements.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(credit_note))
        .routes(routes!(record_payment, list_payments))
}

/// A credit note asked for.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditNoteRequest {
    /// c_FormaPago of the refund. By default the invoice's form, or `15` (condonación: it lowers
    /// what is owed) for a PPD invoice; name the form the money went back by when a credit
    /// customer had already paid. Never `99`.
    pub payment_form: Option<String>,
}

/// A credit note (an invoice of kind `E`) and what it credits.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreditNoteView {
    /// The credit note's CFDI.
    #[serde(flatten)]
    pub note: InvoiceView,
    /// The invoice credited (type I).
    pub invoice_id: Uuid,
    /// The return it covers.
    pub return_id: Uuid,
}

/// Issues the credit note (CFDI type E) of a return of an invoiced sale: related to the
/// invoice's UUID (relationship `01`), use `G02`, the invoice's receiver, the returned lines at
/// the invoice's unit values, its total the return's refund to the centavo. A `cfdi.stamp` job
/// stamps it. One standing credit note per return: asking again answers it (200). The credit
/// notes of an invoice never add up beyond its total. Honours `Idempotency-Key`.
#[utoipa::path(
    post,
    path = "/pos/api/sales/{id}/returns/{return_id}/credit-note",
    tag = "invoicing",
    params(
        ("id" = Uuid, Path, description = "Sale id"),
        ("return_id" = Uuid, Path, description = "Return id (from POST /pos/api/sales/{id}/returns)"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer"),
    ),
    request_body = CreditNoteRequest,
    responses(
        (status = 201, description = "Queued for stamping", body = CreditNoteView),
        (status = 200, description = "The return's standing credit note", body = CreditNoteView),
        (status = 404, description = "Sale or return not found", body = ErrorBody),
        (status = 409, description = "`sale_not_invoiced`, `invoice_not_valid`, `invoice_cancelled`, `cancellation_in_progress`, `credit_exceeds_invoice`, `credit_exceeds_balance`, `nothing_to_credit`, `fiscal_settings_missing`", body = ErrorBody),
        (status = 422, description = "`payment_form`, or the receiver or branch data the CFDI needs", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn credit_note(
    State(state): State<AppState>,
    ctx: TenantCtx,
    headers: HeaderMap,
    AppPath((id, return_id)): AppPath<(Uuid, Uuid)>,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: CreditNoteRequest = body_as(&raw)?;
    let s = sale::Entity::find_by_id(id)
        .one(&ctx.db)
        .await?
        .filter(|s| ctx.principal.can_see_branch(s.branch_id))
        .ok_or(ApiError::NotFound("sale"))?;
    let tenant_id = ctx.principal.tenant.id;
    let written = crate::idempotency::write_once_with(
        &ctx.db,
        &headers,
        &format!("sales.credit_note:{return_id}"),
        &raw,
        async |txn| {
            let (note, fresh) = related::request_credit_note(
                txn,
                Some(ctx.principal.user_id),
                s.id,
                return_id,
                CreditNoteAsk {
                    payment_form: req.payment_form.map(|f| f.trim().to_owned()),
                },
            )
            .await?;
            let link = entities::invoicing::tables::credit_note::Entity::find_by_id(note.id)
                .one(txn)
                .await?
                .ok_or_else(|| {
                    ApiError::Internal(format!("credit note {} has no link", note.id))
                })?;
            if fresh {
                super::follow_up::enqueue_stamp(&state, txn, tenant_id, note.id).await?;
            }
            let code = if fresh {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            let body = serde_json::to_value(CreditNoteView {
                note: InvoiceView::from(&note),
                invoice_id: link.invoice_id,
                return_id: link.return_id,
            })
            .map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok((code, body, fresh))
        },
    )
    .await?;
    Ok(written.response_then(|| state.waker.wake(tenant_id)))
}

/// A payment received against a PPD invoice.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoicePaymentRequest {
    /// Amount received, MXN (`"500.00"`): above zero, at most the balance.
    #[schema(value_type = crate::formats::PositiveAmount, example = "500.00")]
    #[serde(with = "crate::extract::decimal_text")]
    pub amount: Decimal,
    /// c_FormaPago by which it was paid (`01` cash, `03` transfer, `28` debit card…; never `99`).
    pub payment_form: String,
    /// When it was received (RFC 3339; now by default, never in the future).
    pub paid_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Bank or card reference.
    pub reference: Option<String>,
}

/// The payment complement of a payment, and where its stamping stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplementView {
    /// The complement's invoice id (`GET /pos/api/invoices/{id}`).
    pub id: Uuid,
    /// `pending`, `valid` or `failed`.
    pub status: String,
    /// Fiscal UUID once stamped.
    pub uuid: Option<String>,
    /// Why it failed, for the operator.
    pub failure_reason: Option<String>,
    /// `none`, `requested`, `pending`, `accepted`…
    pub cancellation_status: String,
}

impl From<&invoice::Model> for ComplementView {
    fn from(i: &invoice::Model) -> Self {
        Self {
            id: i.id,
            status: i.status.to_string(),
            uuid: i.uuid.clone(),
            failure_reason: i.failure_reason.clone(),
            cancellation_status: i.cancellation_status.to_string(),
        }
    }
}

/// A payment (parcialidad) of a PPD invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoicePaymentView {
    /// Id.
    pub id: Uuid,
    /// The invoice paid.
    pub invoice_id: Uuid,
    /// Installment number: 1, 2, 3…
    pub installment: i32,
    /// Balance before it.
    #[schema(value_type = String)]
    pub last_balance: Money,
    /// Amount paid.
    #[schema(value_type = String)]
    pub amount: Money,
    /// Balance after it.
    #[schema(value_type = String)]
    pub balance: Money,
    /// c_FormaPago.
    pub payment_form: String,
    /// When it was received.
    pub paid_at: chrono::DateTime<chrono::Utc>,
    /// Reference.
    pub reference: Option<String>,
    /// Its payment complement (absent only if its row was removed).
    pub complement: Option<ComplementView>,
    /// Recorded.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl InvoicePaymentView {
    fn new(p: &invoice_payment::Model, complement: Option<&invoice::Model>) -> Self {
        Self {
            id: p.id,
            invoice_id: p.invoice_id,
            installment: p.installment,
            last_balance: Money(p.last_balance_cents),
            amount: Money(p.amount_cents),
            balance: Money(p.balance_cents),
            payment_form: p.payment_form.clone(),
            paid_at: p.paid_at,
            reference: p.reference.clone(),
            complement: complement.map(ComplementView::from),
            created_at: p.created_at,
        }
    }
}

/// Records a payment received against a stamped PPD invoice (a credit sale's) and queues its
/// payment complement (CFDI type P: use `CP01`, the invoice's receiver, installment, balance
/// before, amount and the IVA bases prorated to it). Installments are numbered 1, 2, 3…
/// without gaps, even under concurrent requests; the balance never goes below zero. Honours
/// `Idempotency-Key`.
#[utoipa::path(
    post,
    path = "/pos/api/invoices/{id}/payments",
    tag = "invoicing",
    params(
        ("id" = Uuid, Path, description = "Invoice id (the PPD invoice)"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer"),
    ),
    request_body = InvoicePaymentRequest,
    responses(
        (status = 201, description = "Recorded; its complement is queued for stamping", body = InvoicePaymentView),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invoice_not_ppd`, `invoice_not_valid`, `invoice_cancelled`, `cancellation_in_progress`, `payment_in_progress`, `idempotency_key_in_use`", body = ErrorBody),
        (status = 422, description = "`amount` (not above zero, or above the balance), `payment_form` (99 or not in c_FormaPago), `paid_at` (in the future)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn record_payment(
    State(state): State<AppState>,
    ctx: TenantCtx,
    headers: HeaderMap,
    AppPath(id): AppPath<Uuid>,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: InvoicePaymentRequest = body_as(&raw)?;
    let inv = visible_invoice(&ctx, id).await?;
    let amount = Money::from_decimal("amount", req.amount)?;
    let tenant_id = ctx.principal.tenant.id;
    let written = crate::idempotency::write_once_with(
        &ctx.db,
        &headers,
        &format!("invoices.payment:{id}"),
        &raw,
        async |txn| {
            let rec = related::record_payment(
                txn,
                Some(ctx.principal.user_id),
                inv.id,
                PaymentAsk {
                    amount,
                    payment_form: req.payment_form,
                    paid_at: req.paid_at,
                    reference: req.reference,
                },
            )
            .await?;
            super::follow_up::enqueue_stamp(&state, txn, tenant_id, rec.complement.id).await?;
            let body =
                serde_json::to_value(InvoicePaymentView::new(&rec.payment, Some(&rec.complement)))
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok((StatusCode::CREATED, body, true))
        },
    )
    .await?;
    Ok(written.response_then(|| state.waker.wake(tenant_id)))
}

/// A credit note in an invoice's account.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreditNoteLine {
    /// The credit note's invoice id.
    pub id: Uuid,
    /// The return it covers.
    pub return_id: Uuid,
    /// Total credited.
    #[schema(value_type = String)]
    pub total: Money,
    /// c_FormaPago (`15` lowers what a PPD invoice owes).
    pub payment_form: String,
    /// `pending`, `valid` or `failed`.
    pub status: String,
    /// Fiscal UUID once stamped.
    pub uuid: Option<String>,
    /// `none`, `requested`, `pending`, `accepted`…
    pub cancellation_status: String,
}

/// What an invoice was paid and credited, and what it still owes.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceAccount {
    /// The invoice.
    pub invoice_id: Uuid,
    /// Its fiscal UUID.
    pub uuid: Option<String>,
    /// `PUE` (paid when issued) or `PPD` (paid later, with payment complements).
    pub payment_method: String,
    /// Its total.
    #[schema(value_type = String)]
    pub total: Money,
    /// Sum of the payments.
    #[schema(value_type = String)]
    pub paid: Money,
    /// Sum of the standing credit notes.
    #[schema(value_type = String)]
    pub credited: Money,
    /// Still owed (PPD; zero for PUE).
    #[schema(value_type = String)]
    pub balance: Money,
    /// Payments by installment, each with its complement's status.
    pub payments: Vec<InvoicePaymentView>,
    /// Credit notes, standing or not (a failed or cancelled one does not count).
    pub credit_notes: Vec<CreditNoteLine>,
}

/// An invoice's account: balance, payments with their complements' status, credit notes.
#[utoipa::path(
    get,
    path = "/pos/api/invoices/{id}/payments",
    tag = "invoicing",
    params(("id" = Uuid, Path, description = "Invoice id")),
    responses((status = 200, body = InvoiceAccount), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list_payments(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<InvoiceAccount>> {
    let inv = visible_invoice(&ctx, id).await?;
    let bal = related::balance_of(&ctx.db, &inv).await?;
    let payments = related::payments_of(&ctx.db, inv.id)
        .await?
        .iter()
        .map(|(p, c)| InvoicePaymentView::new(p, c.as_ref()))
        .collect();
    let credit_notes = related::credit_notes_of(&ctx.db, inv.id)
        .await?
        .iter()
        .map(|(l, n)| CreditNoteLine {
            id: n.id,
            return_id: l.return_id,
            total: Money(n.total_cents),
            payment_form: n.payment_form.clone(),
            status: n.status.to_string(),
            uuid: n.uuid.clone(),
            cancellation_status: n.cancellation_status.to_string(),
        })
        .collect();
    Ok(Json(InvoiceAccount {
        invoice_id: inv.id,
        uuid: inv.uuid.clone(),
        payment_method: inv.payment_method.clone(),
        total: bal.total,
        paid: bal.paid,
        credited: bal.credited,
        balance: bal.balance,
        payments,
        credit_notes,
    }))
}
