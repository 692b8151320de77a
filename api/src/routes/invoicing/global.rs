//! The global invoice to the general public: `POST /pos/api/invoices/global` runs it now (the
//! `cfdi.global_invoice` job, which the `global-invoice` schedule also enqueues every morning),
//! and `GET /pos/api/invoices` lists invoices. Invoicing a sale that stands in a global invoice
//! takes it out and cancels the global with motive 04 ([`super::follow_up::leave_global`]).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use entities::PageRequest;
use entities::invoicing::global::{self, InvoiceFilter, Scope};
use jobs::invoicing::GlobalInvoice;
use sea_orm::EntityTrait;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::views::InvoiceView;
use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppQuery};
use crate::state::AppState;

/// The global invoice routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(run_global))
        .routes(routes!(list_invoices))
}

/// What to run now.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GlobalRunRequest {
    /// One branch (every branch you can see when absent).
    pub branch_id: Option<Uuid>,
    /// First local date (Mexico City) of the range; without it the range ends today.
    pub from: Option<chrono::NaiveDate>,
    /// Days the range covers, 1 to 366 (7 by default); only closed periods are invoiced.
    #[schema(minimum = 1, maximum = 366)]
    pub days: Option<i64>,
}

/// The first and last local dates of a run: `days` from `from`, or the last `days` up to
/// today; `None` for the job's own default (the last week).
fn run_range(
    req: &GlobalRunRequest,
) -> ApiResult<(Option<chrono::NaiveDate>, Option<chrono::NaiveDate>)> {
    let days = req.days.unwrap_or(global::LOOKBACK_DAYS);
    if !(1..=global::MAX_RANGE_DAYS).contains(&days) {
        return Err(ApiError::invalid(
            "days",
            format!("a run covers 1 to {} days", global::MAX_RANGE_DAYS),
        ));
    }
    let span = chrono::Duration::days(days - 1);
    let out_of_range = || ApiError::invalid("from", "the range ends past the last date there is");
    Ok(match (req.from, req.days) {
        (Some(from), _) => (
            Some(from),
            Some(from.checked_add_signed(span).ok_or_else(out_of_range)?),
        ),
        (None, Some(_)) => {
            let today = global::local_date(chrono::Utc::now());
            (
                Some(today.checked_sub_signed(span).ok_or_else(out_of_range)?),
                None,
            )
        }
        (None, None) => (None, None),
    })
}

/// What was queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct GlobalRunQueued {
    /// The branches a `cfdi.global_invoice` run was queued for (`null`: every branch).
    pub branches: Option<Vec<Uuid>>,
    /// First local date.
    pub from: Option<chrono::NaiveDate>,
    /// Last local date.
    pub to: Option<chrono::NaiveDate>,
}

/// Runs the global invoice now (manager and up): every closed period of the business's
/// periodicity in the range whose sales to the general public are not invoiced yet gets its
/// global invoice per branch, stamped by its own `cfdi.stamp` job. Running it again creates
/// nothing new. The new invoices show in `GET /pos/api/invoices?kind=global`.
#[utoipa::path(
    post,
    path = "/pos/api/invoices/global",
    tag = "invoicing",
    request_body = GlobalRunRequest,
    responses(
        (status = 202, description = "The run is queued", body = GlobalRunQueued),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such branch", body = ErrorBody),
        (status = 409, description = "`fiscal_settings_missing`", body = ErrorBody),
        (status = 422, description = "`days` outside 1 to 366", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn run_global(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppJson(req): AppJson<GlobalRunRequest>,
) -> ApiResult<(StatusCode, Json<GlobalRunQueued>)> {
    super::follow_up::require_stamping(&state)?;
    if let Some(b) = req.branch_id
        && !ctx.principal.can_see_branch(b)
    {
        return Err(ApiError::NotFound("branch"));
    }
    let (from, to) = run_range(&req)?;
    let scope = Scope {
        branch_id: req.branch_id,
        from,
        to,
    };
    global::check_scope(&ctx.db, &scope).await?;
    entities::invoicing::fiscal::issuing_settings(&ctx.db).await?;
    // A manager limited to some branches runs those only.
    let branches: Option<Vec<Uuid>> = match (req.branch_id, &ctx.principal.branch_scope) {
        (Some(b), _) => Some(vec![b]),
        (None, Some(scope)) => Some(scope.clone()),
        (None, None) => None,
    };
    let tenant_id = ctx.principal.tenant.id;
    let txn = entities::db::begin_write(&ctx.db).await?;
    let job = |branch_id| GlobalInvoice {
        tenant_id,
        branch_id,
        from,
        to,
        requested_by: Some(ctx.principal.user_id),
    };
    match &branches {
        Some(list) => {
            for b in list {
                jobs::outbox::enqueue(&txn, &job(Some(*b))).await?;
            }
        }
        None => {
            jobs::outbox::enqueue(&txn, &job(None)).await?;
        }
    }
    txn.commit().await?;
    state.waker.wake(tenant_id);
    Ok((
        StatusCode::ACCEPTED,
        Json(GlobalRunQueued { branches, from, to }),
    ))
}

/// Filters of the invoice list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InvoiceQuery {
    /// Page from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size (≤ 200).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    /// `I`, `E`, `P`, or `global` (the global invoices to the general public).
    #[param(pattern = "^(I|E|P|global)$")]
    pub kind: Option<String>,
    /// `pending`, `valid` or `failed`.
    #[param(pattern = "^(pending|valid|failed)$")]
    pub status: Option<String>,
    /// Created at or after (RFC 3339).
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Created before (RFC 3339).
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

/// A page of invoices.
pub type InvoicePage = crate::page::Page<InvoiceView>;

impl crate::page::Listed for InvoiceView {
    const PAGE: &'static str = "InvoicePage";
    const PAGE_DOC: &'static str = "A page of invoices.";
    const ITEMS_DOC: &'static str = "Invoices, newest first.";
}

/// Lists invoices, newest first.
#[utoipa::path(
    get,
    path = "/pos/api/invoices",
    tag = "invoicing",
    params(InvoiceQuery),
    responses((status = 200, body = InvoicePage), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list_invoices(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<InvoiceQuery>,
) -> ApiResult<Json<InvoicePage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let p = global::list_invoices(
        &ctx.db,
        &InvoiceFilter {
            kind: q.kind,
            status: q.status,
            from: q.from,
            to: q.to,
            branch_ids: ctx.principal.branch_scope.clone(),
        },
        page,
    )
    .await?;
    Ok(Json(InvoicePage::from_rows(p, |row| {
        InvoiceView::from(&row)
    })))
}

/// After a verified Facturapi event was applied (once per event), in the event's own
/// transaction: when it accepted a global invoice's cancellation, a run for its branch is queued
/// to issue the replacement ([`jobs::follow_up::queue_replacement`]); when it rejected a
/// motive-04 one, the owners and admins are alerted, as when the `cfdi.cancel` job learns it.
/// Answers whether it queued anything (the caller wakes the relay after its commit).
///
/// # Errors
/// Database and outbox errors: the caller's transaction, and with it the event, rolls back.
pub async fn after_webhook(
    state: &AppState,
    txn: &impl sea_orm::ConnectionTrait,
    tenant_id: Uuid,
    kind: &str,
    object: &serde_json::Value,
) -> ApiResult<bool> {
    let status = object["cancellation_status"].as_str();
    if kind != "invoice.cancellation_status_updated"
        || !matches!(status, Some("accepted" | "rejected"))
    {
        return Ok(false);
    }
    let Some(id) = object["external_id"]
        .as_str()
        .and_then(|e| Uuid::parse_str(e).ok())
    else {
        return Ok(false);
    };
    if status == Some("rejected") {
        return alert_rejected(state, txn, tenant_id, id).await;
    }
    Ok(jobs::follow_up::queue_replacement(txn, tenant_id, id).await?)
}

/// Alerts the owners and admins when a webhook rejected the motive-04 cancellation of global
/// invoice `id`.
async fn alert_rejected(
    state: &AppState,
    txn: &impl sea_orm::ConnectionTrait,
    tenant_id: Uuid,
    id: Uuid,
) -> ApiResult<bool> {
    let Some(inv) = entities::invoicing::tables::invoice::Entity::find_by_id(id)
        .one(txn)
        .await?
    else {
        return Ok(false);
    };
    let Some(refused) = global::refused_motive_04(txn, &inv, None).await? else {
        return Ok(false);
    };
    // The platform is another database: this read is outside the tenant transaction.
    let recipients = entities::org::accounts::admin_emails(&state.platform, tenant_id).await?;
    jobs::follow_up::alert_refused_motive_04(txn, tenant_id, &refused, &recipients).await?;
    Ok(true)
}
