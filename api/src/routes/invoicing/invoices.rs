//! A stamped invoice's files (`GET /pos/api/invoices/{id}/xml|pdf`, from the tenant's files,
//! fetched by the `cfdi.stamp` job once the invoice is valid) and the operator's retry of a
//! failed invoice (`POST /pos/api/invoices/{id}/retry`).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use entities::invoicing::documents;
use entities::invoicing::invoices::{self, InvoiceSale};
use entities::{
    invoicing::tables::invoice, invoicing::tables::invoice_file, invoicing::tables::invoice_payment,
};
use sea_orm::EntityTrait;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::views::InvoiceView;
use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::AppPath;
use crate::state::AppState;

/// The invoice file and retry routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(invoice_xml))
        .routes(routes!(invoice_pdf))
        .routes(routes!(retry_invoice))
}

/// The stamped CFDI (XML), as Facturapi returned it.
#[utoipa::path(
    get,
    path = "/pos/api/invoices/{id}/xml",
    tag = "invoicing",
    params(("id" = Uuid, Path, description = "Invoice id")),
    responses(
        (status = 200, description = "The CFDI", content_type = "application/xml"),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invoice_not_stamped`, `files_not_ready`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn invoice_xml(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Response> {
    file(&state, &ctx, id, "xml").await
}

/// The invoice's printed representation (PDF), as Facturapi returned it.
#[utoipa::path(
    get,
    path = "/pos/api/invoices/{id}/pdf",
    tag = "invoicing",
    params(("id" = Uuid, Path, description = "Invoice id")),
    responses(
        (status = 200, description = "The PDF", content_type = "application/pdf"),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invoice_not_stamped`, `files_not_ready`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn invoice_pdf(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Response> {
    file(&state, &ctx, id, "pdf").await
}

async fn file(state: &AppState, ctx: &TenantCtx, id: Uuid, format: &str) -> ApiResult<Response> {
    let inv = super::access::visible_invoice(ctx, id).await?;
    if inv.uuid.is_none() {
        return Err(ApiError::Conflict {
            code: "invoice_not_stamped",
            message: format!("the invoice is {}: it has no CFDI yet", inv.status),
        });
    }
    let not_ready = || ApiError::Conflict {
        code: "files_not_ready",
        message: "the invoice is stamped and its files are being downloaded; try again shortly"
            .into(),
    };
    let row = invoice_file::Entity::find_by_id((id, format.to_owned()))
        .one(&ctx.db)
        .await?
        .ok_or_else(not_ready)?;
    let bytes = state
        .config
        .files
        .get(&row.path)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or_else(|| ApiError::Internal(format!("the {format} of invoice {id} is missing")))?;
    if entities::files::sha256_hex(&bytes) != row.sha256 {
        // Served as-is it could be someone else's document or a damaged one: refuse loudly.
        return Err(ApiError::Internal(format!(
            "the {format} of invoice {id} does not match its checksum"
        )));
    }
    let name = match (&inv.series, inv.folio_number, &inv.uuid) {
        (Some(s), Some(f), _) => format!("{s}{f}.{format}"),
        (_, _, Some(u)) => format!("{u}.{format}"),
        _ => format!("{id}.{format}"),
    };
    let ctype = if format == "xml" {
        "application/xml"
    } else {
        "application/pdf"
    };
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// Asks again for a `failed` nominative invoice (recorder and up), after its cause was fixed
/// (the customer's fiscal data, a SAT key): the sale is invoiced anew from its current data with
/// the failed request's use, payment form and e-mail, as a new invoice with a new idempotency
/// key. A sale invoiced since answers that invoice (200). Credit notes and payment complements
/// are asked again through their own endpoints.
#[utoipa::path(
    post,
    path = "/pos/api/invoices/{id}/retry",
    tag = "invoicing",
    params(("id" = Uuid, Path, description = "The failed invoice's id")),
    responses(
        (status = 202, description = "The new invoice, queued for stamping", body = InvoiceView),
        (status = 200, description = "The sale's standing invoice", body = InvoiceView),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invoice_not_failed`, `retry_not_supported`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn retry_invoice(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<(StatusCode, Json<InvoiceView>)> {
    let failed = super::access::visible_invoice(&ctx, id).await?;
    let sale_id = match (failed.kind.as_str(), failed.sale_id) {
        ("I", Some(sale)) if !is_global(&failed) => sale,
        ("P", _) => return retry_complement(&state, &ctx, &failed).await,
        _ => {
            return Err(ApiError::Conflict {
                code: "retry_not_supported",
                message: "a credit note is asked again through its return's credit-note \
                          endpoint; a failed global invoice's sales go in the next global run"
                    .into(),
            });
        }
    };
    let sale = entities::counter::tables::sale::Entity::find_by_id(sale_id)
        .one(&ctx.db)
        .await?
        .filter(|s| ctx.principal.can_see_branch(s.branch_id))
        .ok_or(ApiError::NotFound("invoice"))?;
    if failed.status != documents::Status::Failed {
        return Err(ApiError::Conflict {
            code: "invoice_not_failed",
            message: format!(
                "only a failed invoice is retried; this one is {}",
                failed.status
            ),
        });
    }
    crate::routes::invoicing::fiscal::issue_sale_invoice(
        &state,
        &ctx,
        &sale,
        InvoiceSale {
            cfdi_use: Some(failed.cfdi_use.clone()),
            payment_form: Some(failed.payment_form.clone()),
            email: failed
                .request
                .get("customer")
                .and_then(|c| c.get("email"))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
        },
    )
    .await
}

/// A global invoice is a type I without a nominative receiver.
fn is_global(inv: &invoice::Model) -> bool {
    inv.receiver_rfc == entities::rules::cfdi::RFC_GENERAL_PUBLIC
}

/// Retries a failed payment complement on its own row (new key), for the payment it documents.
async fn retry_complement(
    state: &AppState,
    ctx: &TenantCtx,
    failed: &invoice::Model,
) -> ApiResult<(StatusCode, Json<InvoiceView>)> {
    use sea_orm::{ColumnTrait, QueryFilter};
    if let Some(sale_id) = failed.sale_id {
        entities::counter::tables::sale::Entity::find_by_id(sale_id)
            .one(&ctx.db)
            .await?
            .filter(|s| ctx.principal.can_see_branch(s.branch_id))
            .ok_or(ApiError::NotFound("invoice"))?;
    }
    let payment = invoice_payment::Entity::find()
        .filter(invoice_payment::Column::ComplementId.eq(failed.id))
        .one(&ctx.db)
        .await?
        .ok_or(ApiError::NotFound("invoice"))?;
    let txn = entities::db::begin_write(&ctx.db).await?;
    let inv = invoices::retry_in_place(
        &txn,
        Some(ctx.principal.user_id),
        failed.id,
        Some(format!("{}:P", payment.id)),
    )
    .await?;
    let tenant_id = ctx.principal.tenant.id;
    super::follow_up::enqueue_stamp(state, &txn, tenant_id, inv.id).await?;
    txn.commit().await?;
    state.waker.wake(tenant_id);
    Ok((StatusCode::ACCEPTED, Json(InvoiceView::from(&inv))))
}
