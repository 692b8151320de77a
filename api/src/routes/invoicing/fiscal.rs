//! CFDI: `/pos/api/settings/fiscal` (the business's settings; owners and admins write them; the
//! Facturapi key and webhook secret are write-only), `POST /pos/api/sales/{id}/invoice` and
//! `GET /pos/api/invoices/{id}`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use entities::invoicing::fiscal::{self, FiscalInput, Secret};
use entities::invoicing::invoices;
use entities::invoicing::invoices::InvoiceSale;
use entities::invoicing::tables::fiscal_setting;
use sea_orm::EntityTrait;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::views::InvoiceView;
use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, double_option};
use crate::state::AppState;

/// The fiscal settings routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_fiscal, put_fiscal))
        .routes(routes!(invoice_sale))
        .routes(routes!(get_invoice))
        .routes(routes!(cancel_invoice))
}

/// A cancellation request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceCancelRequest {
    /// SAT motive: `01` errors with relation (needs `substitution`), `02` errors without
    /// relation, `03` the operation did not happen, `04` nominative operation in a global invoice.
    pub motive: String,
    /// The substitute invoice's fiscal UUID (motive 01 only).
    pub substitution: Option<String>,
}

/// Asks for a stamped invoice's cancellation (manager and up); a `cfdi.cancel` job asks
/// Facturapi, and the status follows Facturapi's answer and webhooks (`pending` while the
/// receiver decides, then `accepted` or `rejected`).
#[utoipa::path(
    post,
    path = "/pos/api/invoices/{id}/cancel",
    tag = "invoicing",
    params(("id" = Uuid, Path, description = "Invoice id")),
    request_body = InvoiceCancelRequest,
    responses(
        (status = 202, body = InvoiceView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invoice_not_valid`, `cancellation_in_progress`, `has_related_documents` (a credit note or payment complement still stands)", body = ErrorBody),
        (status = 422, description = "Bad motive, or motive 01 without its substitute", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn cancel_invoice(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<InvoiceCancelRequest>,
) -> ApiResult<(StatusCode, Json<InvoiceView>)> {
    super::follow_up::require_stamping(&state)?;
    super::access::visible_invoice(&ctx, id).await?;
    let txn = entities::db::begin_write(&ctx.db).await?;
    let inv = invoices::request_cancellation(
        &txn,
        Some(ctx.principal.user_id),
        id,
        &req.motive,
        req.substitution.as_deref(),
    )
    .await?;
    let tenant_id = ctx.principal.tenant.id;
    jobs::outbox::enqueue(
        &txn,
        &jobs::invoicing::CancelInvoice {
            tenant_id,
            invoice_id: inv.id,
        },
    )
    .await?;
    txn.commit().await?;
    state.waker.wake(tenant_id);
    Ok((StatusCode::ACCEPTED, Json(InvoiceView::from(&inv))))
}

/// Invoicing a sale.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceSaleRequest {
    /// c_UsoCFDI (`G03` by default), compatible with the customer's regime.
    pub cfdi_use: Option<String>,
    /// c_FormaPago; by default from the sale's largest payment (`99` for credit sales).
    pub payment_form: Option<String>,
    /// Where Facturapi e-mails it (the customer's e-mail by default).
    pub email: Option<String>,
}

/// Invoices a sale to its customer (nominative CFDI type I). Everything is checked here first
/// (the customer's RFC, regime, fiscal zip and use; the payment form; SAT keys; totals to the
/// cent): a bad request is a 422 naming the field and nothing is queued. Then a `cfdi.stamp` job
/// stamps it through Facturapi, at most once. A sale already invoiced answers its invoice (200).
/// Honours `Idempotency-Key`: a retry answers the first answer, with its status.
#[utoipa::path(
    post,
    path = "/pos/api/sales/{id}/invoice",
    tag = "invoicing",
    params(
        ("id" = Uuid, Path, description = "Sale id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer"),
    ),
    request_body = InvoiceSaleRequest,
    responses(
        (status = 202, description = "Queued for stamping", body = InvoiceView),
        (status = 200, description = "The sale's standing invoice", body = InvoiceView),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`fiscal_settings_missing`, `sale_not_invoiceable`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn invoice_sale(
    State(state): State<AppState>,
    ctx: TenantCtx,
    headers: axum::http::HeaderMap,
    AppPath(id): AppPath<Uuid>,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<axum::response::Response> {
    let req: InvoiceSaleRequest = crate::extract::body_as(&raw)?;
    let sale = entities::counter::tables::sale::Entity::find_by_id(id)
        .one(&ctx.db)
        .await?
        .filter(|s| ctx.principal.can_see_branch(s.branch_id))
        .ok_or(ApiError::NotFound("sale"))?;
    let ask = InvoiceSale {
        cfdi_use: req.cfdi_use,
        payment_form: req.payment_form,
        email: req.email,
    };
    let written = crate::idempotency::write_once_with(
        &ctx.db,
        &headers,
        &format!("sales.invoice:{id}"),
        &raw,
        async |txn| {
            let (code, inv, fresh) = issue_sale_invoice_in(&state, &ctx, txn, &sale, ask).await?;
            let body = serde_json::to_value(InvoiceView::from(&inv))
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok((code, body, fresh))
        },
    )
    .await?;
    Ok(written.response_then(|| state.waker.wake(ctx.principal.tenant.id)))
}

/// Invoices a sale the caller may see: the invoice and its `cfdi.stamp` job in one transaction,
/// and a sale in a global invoice leaves it (the global is cancelled with motive 04). 202 with a
/// new invoice, 200 with the sale's standing one.
pub(crate) async fn issue_sale_invoice(
    state: &AppState,
    ctx: &TenantCtx,
    sale: &entities::counter::tables::sale::Model,
    ask: InvoiceSale,
) -> ApiResult<(StatusCode, Json<InvoiceView>)> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    let (code, inv, fresh) = issue_sale_invoice_in(state, ctx, &txn, sale, ask).await?;
    txn.commit().await?;
    if fresh {
        state.waker.wake(ctx.principal.tenant.id);
    }
    Ok((code, Json(InvoiceView::from(&inv))))
}

/// [`issue_sale_invoice`] in the caller's transaction: the invoice, its stamping job and the
/// sale leaving its global; answers the status (202 new, 200 standing), the invoice and
/// whether it is new (the caller wakes the relay after its commit).
async fn issue_sale_invoice_in(
    state: &AppState,
    ctx: &TenantCtx,
    txn: &sea_orm::DatabaseTransaction,
    sale: &entities::counter::tables::sale::Model,
    ask: InvoiceSale,
) -> ApiResult<(
    StatusCode,
    entities::invoicing::tables::invoice::Model,
    bool,
)> {
    let (inv, fresh) = invoices::request_invoice(
        txn,
        &state.platform,
        Some(ctx.principal.user_id),
        sale.id,
        ask,
    )
    .await?;
    if fresh {
        super::follow_up::enqueue_stamp(state, txn, ctx.principal.tenant.id, inv.id).await?;
        super::follow_up::leave_global(txn, ctx, sale.id).await?;
    }
    let code = if fresh {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((code, inv, fresh))
}

/// An invoice with its lines.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceDetail {
    /// The invoice.
    #[serde(flatten)]
    pub invoice: InvoiceView,
    /// Its concepts as Nexus computed them: `description`, `sku`, `quantity`, `unit_value`,
    /// `amount` and `discount` (without IVA), `tax` (`base`, `factor`, `rate`, `amount`) and
    /// `total` (what the ticket charged). Empty for a payment complement.
    #[schema(value_type = Vec<Object>)]
    pub lines: Vec<serde_json::Value>,
}

/// An invoice, where its stamping stands, and its lines with their taxes.
#[utoipa::path(
    get,
    path = "/pos/api/invoices/{id}",
    tag = "invoicing",
    params(("id" = Uuid, Path, description = "Invoice id")),
    responses((status = 200, body = InvoiceDetail), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_invoice(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<InvoiceDetail>> {
    let inv = super::access::visible_invoice(&ctx, id).await?;
    let lines = match &inv.lines {
        Some(serde_json::Value::Array(l)) => l.clone(),
        _ => Vec::new(),
    };
    Ok(Json(InvoiceDetail {
        invoice: InvoiceView::from(&inv),
        lines,
    }))
}

/// The fiscal settings as shown (no secrets).
#[derive(Debug, Serialize, ToSchema)]
pub struct FiscalView {
    /// Issuer RFC.
    pub issuer_rfc: String,
    /// Legal name.
    pub legal_name: String,
    /// c_RegimenFiscal.
    pub tax_regime: String,
    /// Series of invoices.
    pub invoice_series: String,
    /// Series of credit notes.
    pub credit_note_series: String,
    /// Series of payment complements.
    pub payment_series: String,
    /// `test` or `live` when a Facturapi key is set; `null` when not.
    pub facturapi_key: Option<String>,
    /// Whether a webhook secret is set.
    pub webhook_secret_set: bool,
    /// Default ClaveProdServ.
    pub default_product_key: String,
    /// Default ClaveUnidad.
    pub default_unit_key: String,
    /// Periodicity of the global invoice: `day`, `week`, `fortnight`, `month` or `two_months`.
    pub global_periodicity: String,
    /// Last change.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<&fiscal_setting::Model> for FiscalView {
    fn from(s: &fiscal_setting::Model) -> Self {
        Self {
            issuer_rfc: s.issuer_rfc.clone(),
            legal_name: s.legal_name.clone(),
            tax_regime: s.tax_regime.clone(),
            invoice_series: s.invoice_series.clone(),
            credit_note_series: s.credit_note_series.clone(),
            payment_series: s.payment_series.clone(),
            facturapi_key: fiscal::key_mode(s).map(str::to_owned),
            webhook_secret_set: s.webhook_secret.is_some(),
            default_product_key: s.default_product_key.clone(),
            default_unit_key: s.default_unit_key.clone(),
            global_periodicity: s.global_periodicity.clone(),
            updated_at: s.updated_at,
        }
    }
}

/// The fiscal settings to store.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FiscalRequest {
    /// Issuer RFC (12 characters for a company, 13 for a person).
    pub issuer_rfc: String,
    /// Legal name, as on the Constancia de Situación Fiscal.
    #[schema(min_length = 1, max_length = 300)]
    pub legal_name: String,
    /// c_RegimenFiscal that applies to the issuer (e.g. `601`, `626`).
    pub tax_regime: String,
    /// Series of invoices (default `A`).
    #[schema(pattern = "^[A-Za-z0-9]{1,25}$")]
    pub invoice_series: Option<String>,
    /// Series of credit notes (default `NC`).
    #[schema(pattern = "^[A-Za-z0-9]{1,25}$")]
    pub credit_note_series: Option<String>,
    /// Series of payment complements (default `P`).
    #[schema(pattern = "^[A-Za-z0-9]{1,25}$")]
    pub payment_series: Option<String>,
    /// Facturapi secret key (`sk_test_…` or `sk_live_…`); absent keeps it, `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(pattern = "^sk_(test|live)_[!-~]{8,192}$", value_type = Option<String>)]
    pub facturapi_key: Option<Option<String>>,
    /// Facturapi's webhook signing secret; absent keeps it, `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(pattern = "^[!-~]{16,200}$", value_type = Option<String>)]
    pub webhook_secret: Option<Option<String>>,
    /// ClaveProdServ for items without one (default `25174800`).
    #[schema(pattern = "^[0-9]{8}$")]
    pub default_product_key: Option<String>,
    /// ClaveUnidad for items without one (default `H87`).
    #[schema(pattern = "^[A-Z0-9]{1,3}$")]
    pub default_unit_key: Option<String>,
    /// Periodicity of the global invoice to the general public: `day` (default), `week`,
    /// `fortnight`, `month` or `two_months`; absent keeps it.
    #[schema(pattern = "^(day|week|fortnight|month|two_months)$")]
    pub global_periodicity: Option<String>,
}

fn secret(v: Option<Option<String>>) -> Secret {
    match v {
        None => Secret::Keep,
        Some(None) => Secret::Clear,
        Some(Some(s)) => Secret::Set(s),
    }
}

/// The fiscal settings (owner and admin).
#[utoipa::path(
    get,
    path = "/pos/api/settings/fiscal",
    tag = "invoicing",
    responses((status = 200, body = FiscalView), (status = 403, body = ErrorBody), (status = 404, description = "Not set yet", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_fiscal(ctx: TenantCtx) -> ApiResult<Json<FiscalView>> {
    let s = fiscal::fiscal(&ctx.db)
        .await?
        .ok_or(ApiError::NotFound("fiscal settings"))?;
    Ok(Json(FiscalView::from(&s)))
}

/// Sets the fiscal settings (owner and admin). The issuer's RFC, name and regime are checked
/// against SAT's rules; the key and the webhook secret are stored and never shown again.
#[utoipa::path(
    put,
    path = "/pos/api/settings/fiscal",
    tag = "invoicing",
    request_body = FiscalRequest,
    responses((status = 200, body = FiscalView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn put_fiscal(
    ctx: TenantCtx,
    AppJson(req): AppJson<FiscalRequest>,
) -> ApiResult<Json<FiscalView>> {
    let s = fiscal::set_fiscal(
        &ctx.db,
        Some(ctx.principal.user_id),
        crate::request_id::current(),
        FiscalInput {
            issuer_rfc: req.issuer_rfc,
            legal_name: req.legal_name,
            tax_regime: req.tax_regime,
            invoice_series: req.invoice_series,
            credit_note_series: req.credit_note_series,
            payment_series: req.payment_series,
            facturapi_key: secret(req.facturapi_key),
            webhook_secret: secret(req.webhook_secret),
            default_product_key: req.default_product_key,
            default_unit_key: req.default_unit_key,
            global_periodicity: req.global_periodicity,
        },
    )
    .await?;
    Ok(Json(FiscalView::from(&s)))
}
