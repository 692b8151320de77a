//! `/pos/api/warranty-claims`: a customer's claim on a warranty, from `open` through
//! inspection and the decision to its resolution (replace, refund, repair) and close, with its
//! history. A refund of an invoiced sale issues its credit note (CFDI type E), stamped by the
//! `cfdi.stamp` job queued in the same transaction.
//!
//! Opening and the steps: every role but viewer; resolving: the roles that sell (a refund,
//! like any return, needs a manager).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use entities::PageRequest;
use entities::rules::money::{Currency, Money};
use entities::warranties::claims::{
    self, ClaimFilter, NewClaim, Resolution, Resolve, Status, Step,
};
use entities::warranties::tables::{claim, claim_event};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::parse_text;
use crate::auth::TenantCtx;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::idempotency::Written;
use crate::routes::counter::sales::RefundMethod;
use crate::state::AppState;

/// The claim routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_warranty_claims, open_warranty_claim))
        .routes(routes!(get_warranty_claim))
        .routes(routes!(inspect_warranty_claim))
        .routes(routes!(approve_warranty_claim))
        .routes(routes!(reject_warranty_claim))
        .routes(routes!(resolve_warranty_claim))
        .routes(routes!(close_warranty_claim))
}

/// A customer's warranty claim.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimView {
    /// Id.
    pub id: Uuid,
    /// Folio, e.g. `GA-000012`.
    pub folio: String,
    /// The warranty.
    pub warranty_id: Uuid,
    /// The sale.
    pub sale_id: Uuid,
    /// The item.
    pub item_id: Uuid,
    /// The customer.
    pub customer_id: Option<Uuid>,
    /// Units claimed.
    pub qty: i64,
    /// `open`, `inspecting`, `approved`, `rejected`, `resolved` or `closed`.
    pub status: String,
    /// What the customer says is wrong.
    pub complaint: String,
    /// The odometer when claimed, km.
    pub odometer: Option<i64>,
    /// Covered on the day it was opened.
    pub eligible: bool,
    /// The limits that failed: `expired`, `km_exceeded`.
    pub failed: Vec<String>,
    /// The day eligibility was checked.
    pub checked_on: NaiveDate,
    /// Why it was rejected, or approved though not covered.
    pub decision_reason: Option<String>,
    /// `replace`, `refund` or `repair`.
    pub resolution: Option<String>,
    /// Resolution notes.
    pub resolution_notes: Option<String>,
    /// Where the replacement unit left from.
    pub replacement_warehouse_id: Option<Uuid>,
    /// The quarantine warehouse the failed unit went to.
    pub quarantine_warehouse_id: Option<Uuid>,
    /// The counter's return that paid a refund.
    pub sale_return_id: Option<Uuid>,
    /// The credit note (CFDI type E) of a refund of an invoiced sale.
    pub credit_note_id: Option<Uuid>,
    /// What a unit cost the store, MXN.
    #[schema(value_type = String, example = "225.00")]
    pub unit_cost: Money,
    /// Opened.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<claim::Model> for ClaimView {
    fn from(c: claim::Model) -> Self {
        Self {
            id: c.id,
            folio: c.folio,
            warranty_id: c.warranty_id,
            sale_id: c.sale_id,
            item_id: c.item_id,
            customer_id: c.customer_id,
            qty: c.qty,
            status: c.status.to_string(),
            complaint: c.complaint,
            odometer: c.odometer_km,
            eligible: c.eligible,
            failed: c
                .ineligible_reason
                .map(|r| r.split(',').map(str::to_owned).collect())
                .unwrap_or_default(),
            checked_on: c.checked_on,
            decision_reason: c.decision_reason,
            resolution: c.resolution.map(|r| r.to_string()),
            resolution_notes: c.resolution_notes,
            replacement_warehouse_id: c.replacement_warehouse_id,
            quarantine_warehouse_id: c.quarantine_warehouse_id,
            sale_return_id: c.sale_return_id,
            credit_note_id: c.credit_note_id,
            unit_cost: Money(c.unit_cost_cents),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// One step of a claim's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimEventView {
    /// The state before (none for the opening).
    pub from: Option<String>,
    /// The state after.
    pub to: String,
    /// The reason or note.
    pub note: Option<String>,
    /// Who.
    pub actor: Option<Uuid>,
    /// When.
    pub at: DateTime<Utc>,
}

impl From<claim_event::Model> for ClaimEventView {
    fn from(e: claim_event::Model) -> Self {
        Self {
            from: e.from_status,
            to: e.to_status,
            note: e.note,
            actor: e.actor,
            at: e.created_at,
        }
    }
}

/// A claim with its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimDetailView {
    /// The claim.
    #[serde(flatten)]
    pub claim: ClaimView,
    /// Its history, oldest first.
    pub events: Vec<ClaimEventView>,
}

/// A page of claims.
pub type ClaimPage = crate::page::Page<ClaimView>;

impl crate::page::Listed for ClaimView {
    const PAGE: &'static str = "ClaimPage";
    const PAGE_DOC: &'static str = "A page of warranty claims.";
    const ITEMS_DOC: &'static str = "Claims, newest first.";
}

/// Filters and page of the claim list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ClaimQuery {
    /// One state.
    #[param(pattern = "^(open|inspecting|approved|rejected|resolved|closed)$")]
    pub status: Option<String>,
    /// One customer's.
    pub customer_id: Option<Uuid>,
    /// One item's.
    pub item_id: Option<Uuid>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A claim to open.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenClaimRequest {
    /// The warranty.
    pub warranty_id: Uuid,
    /// What the customer says is wrong.
    #[schema(min_length = 1, max_length = 2000, pattern = "\\S")]
    pub complaint: String,
    /// The odometer now, km (needed when the warranty has a distance limit and an odometer at
    /// installation).
    #[schema(minimum = 0, maximum = 10_000_000)]
    pub odometer: Option<i64>,
    /// Units claimed (1 by default).
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub qty: Option<i64>,
}

/// A step's reason or note.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimStepRequest {
    /// Why (needed to reject, and to approve a claim that is not covered).
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

/// How an approved claim is resolved.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveClaimRequest {
    /// `replace`, `refund` or `repair`.
    #[schema(pattern = "^(replace|refund|repair)$")]
    pub resolution: String,
    /// Replace: the stock warehouse of the sale's branch the new unit leaves from (the sale
    /// line's by default).
    pub warehouse_id: Option<Uuid>,
    /// Notes (needed for a repair).
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
    /// Refund: how the money goes back (the way the sale was mostly paid by default).
    pub refund_method: Option<RefundMethod>,
    /// Refund: `MXN` (default), or `USD` for cash.
    #[schema(pattern = "^(MXN|USD)$", value_type = Option<String>, example = "MXN")]
    pub refund_currency: Option<String>,
    /// Refund: the drawer session the money leaves from.
    pub drawer_session_id: Option<Uuid>,
}

/// Claims, newest first.
#[utoipa::path(
    get, path = "/pos/api/warranty-claims", tag = "warranties", security(("bearer" = [])),
    params(ClaimQuery),
    responses((status = 200, body = ClaimPage), (status = 422, body = ErrorBody))
)]
pub async fn list_warranty_claims(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<ClaimQuery>,
) -> ApiResult<Json<ClaimPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let status = q
        .status
        .map(|s| {
            parse_text::<Status>(
                "status",
                &s,
                "open, inspecting, approved, rejected, resolved or closed",
            )
        })
        .transpose()?;
    let rows = claims::list(
        &ctx.db,
        ClaimFilter {
            status,
            customer_id: q.customer_id,
            item_id: q.item_id,
        },
        page,
    )
    .await?;
    Ok(Json(ClaimPage::from_rows(rows, Into::into)))
}

async fn detail(db: &impl sea_orm::ConnectionTrait, c: claim::Model) -> ApiResult<ClaimDetailView> {
    let events = entities::warranties::events_of(db, c.id).await?;
    Ok(ClaimDetailView {
        claim: c.into(),
        events: events.into_iter().map(Into::into).collect(),
    })
}

/// Opens a claim on a warranty (every role but viewer), with its eligibility today (the months,
/// and the km at the odometer given). Honours `Idempotency-Key`.
#[utoipa::path(
    post, path = "/pos/api/warranty-claims", tag = "warranties", security(("bearer" = [])),
    request_body = OpenClaimRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    responses(
        (status = 201, body = ClaimDetailView),
        (status = 403, body = ErrorBody),
        (status = 404, description = "`warranty_not_found`", body = ErrorBody),
        (status = 422, description = "`complaint`, `qty`, `odometer` (missing, or below the one at installation)", body = ErrorBody),
    )
)]
pub async fn open_warranty_claim(
    ctx: TenantCtx,
    headers: HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: OpenClaimRequest = crate::extract::body_as(&raw)?;
    let seller = ctx.seller();
    let new = NewClaim {
        warranty_id: req.warranty_id,
        complaint: req.complaint,
        odometer_km: req.odometer,
        qty: req.qty,
    };
    let written = crate::idempotency::write_once(
        &ctx.db,
        &headers,
        "warranties.claim",
        &raw,
        StatusCode::CREATED,
        async |txn| {
            let c = claims::open(txn, &seller, new).await?;
            Ok((crate::extract::to_value(&detail(txn, c).await?)?, ()))
        },
    )
    .await?;
    Ok(written.response())
}

/// One claim with its history.
#[utoipa::path(
    get, path = "/pos/api/warranty-claims/{id}", tag = "warranties", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Claim id")),
    responses((status = 200, body = ClaimDetailView), (status = 404, body = ErrorBody))
)]
pub async fn get_warranty_claim(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<ClaimDetailView>> {
    let c = claims::get(&ctx.db, id).await?;
    Ok(Json(detail(&ctx.db, c).await?))
}

async fn take(
    ctx: &TenantCtx,
    id: Uuid,
    step: Step,
    req: Option<ClaimStepRequest>,
) -> ApiResult<Json<ClaimDetailView>> {
    let reason = req.and_then(|r| r.reason);
    let txn = entities::db::begin_write(&ctx.db).await?;
    let c = claims::step(&txn, &ctx.seller(), id, step, reason).await?;
    let d = detail(&txn, c).await?;
    txn.commit().await?;
    Ok(Json(d))
}

/// Starts inspecting an open claim (every role but viewer).
#[utoipa::path(
    put, path = "/pos/api/warranty-claims/{id}/inspect", tag = "warranties", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Claim id")),
    request_body = ClaimStepRequest,
    responses(
        (status = 200, body = ClaimDetailView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transition`", body = ErrorBody),
    )
)]
pub async fn inspect_warranty_claim(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<ClaimStepRequest>,
) -> ApiResult<Json<ClaimDetailView>> {
    take(&ctx, id, Step::Inspect, Some(req)).await
}

/// Approves a claim under inspection (every role but viewer); one that is not covered needs a
/// manager and a reason.
#[utoipa::path(
    put, path = "/pos/api/warranty-claims/{id}/approve", tag = "warranties", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Claim id")),
    request_body = ClaimStepRequest,
    responses(
        (status = 200, body = ClaimDetailView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transition`", body = ErrorBody),
        (status = 422, description = "`reason`", body = ErrorBody),
    )
)]
pub async fn approve_warranty_claim(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<ClaimStepRequest>,
) -> ApiResult<Json<ClaimDetailView>> {
    take(&ctx, id, Step::Approve, Some(req)).await
}

/// Rejects a claim under inspection, with the reason (every role but viewer).
#[utoipa::path(
    put, path = "/pos/api/warranty-claims/{id}/reject", tag = "warranties", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Claim id")),
    request_body = ClaimStepRequest,
    responses(
        (status = 200, body = ClaimDetailView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transition`", body = ErrorBody),
        (status = 422, description = "`reason`", body = ErrorBody),
    )
)]
pub async fn reject_warranty_claim(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<ClaimStepRequest>,
) -> ApiResult<Json<ClaimDetailView>> {
    take(&ctx, id, Step::Reject, Some(req)).await
}

/// Closes a resolved or rejected claim (every role but viewer).
#[utoipa::path(
    put, path = "/pos/api/warranty-claims/{id}/close", tag = "warranties", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Claim id")),
    request_body = ClaimStepRequest,
    responses(
        (status = 200, body = ClaimDetailView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transition`", body = ErrorBody),
    )
)]
pub async fn close_warranty_claim(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<ClaimStepRequest>,
) -> ApiResult<Json<ClaimDetailView>> {
    take(&ctx, id, Step::Close, Some(req)).await
}

/// Resolves an approved claim (owner, admin, manager, cashier): `replace` (a unit leaves a
/// stock warehouse of the sale's branch at no charge through the ledger, the failed one enters
/// the branch's quarantine warehouse), `refund` (managers: the counter's return pays the money
/// back, a credit note is issued when the sale was invoiced, the failed unit goes to
/// quarantine) or `repair` (notes, no stock moves). Honours `Idempotency-Key`.
#[utoipa::path(
    put, path = "/pos/api/warranty-claims/{id}/resolve", tag = "warranties", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Claim id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer instead of a second stock move or refund"),
    ),
    request_body = ResolveClaimRequest,
    responses(
        (status = 200, body = ClaimDetailView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transition`, `insufficient_stock`, `warehouse_not_for_sale`, `drawer_not_open`, and the credit note's refusals (`fiscal_settings_missing`…)", body = ErrorBody),
        (status = 422, description = "`resolution`, `warehouse_id`, `notes`, `refund_currency`", body = ErrorBody),
    )
)]
pub async fn resolve_warranty_claim(
    State(state): State<AppState>,
    ctx: TenantCtx,
    headers: HeaderMap,
    AppPath(id): AppPath<Uuid>,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: ResolveClaimRequest = crate::extract::body_as(&raw)?;
    let resolution: Resolution =
        parse_text("resolution", &req.resolution, "replace, refund or repair")?;
    let ask = Resolve {
        resolution: Some(resolution),
        warehouse_id: req.warehouse_id,
        notes: req.notes,
        refund: entities::counter::sales::RefundAsk {
            method: req.refund_method.map(Into::into),
            currency: req
                .refund_currency
                .as_deref()
                .map(|c| Currency::parse("refund_currency", c))
                .transpose()?,
            drawer_session_id: req.drawer_session_id,
        },
    };
    let tenant_id = ctx.principal.tenant.id;
    let seller = ctx.seller();
    let written = crate::idempotency::write_once(
        &ctx.db,
        &headers,
        &format!("warranties.resolve:{id}"),
        &raw,
        StatusCode::OK,
        async |txn| {
            let (c, done) = claims::resolve(txn, &seller, id, ask).await?;
            if let Some(note) = done.credit_note_id {
                crate::routes::invoicing::follow_up::enqueue_stamp(&state, txn, tenant_id, note)
                    .await?;
            }
            Ok((
                crate::extract::to_value(&detail(txn, c).await?)?,
                (done.touched_items, done.credit_note_id.is_some()),
            ))
        },
    )
    .await?;
    Ok(match written {
        Written::Replayed(resp) => resp,
        Written::Done(status, body, (touched, stamped)) => {
            if stamped {
                state.waker.wake(tenant_id);
            }
            state.stock_changed(tenant_id, &touched).await;
            (status, Json(body)).into_response()
        }
    })
}
