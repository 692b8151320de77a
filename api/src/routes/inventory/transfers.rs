//! `/pos/api/inventory/transfers`: stock moving between warehouses.
//!
//! Roles: cashiers, mechanics and above **request** (a counter asks another branch for a part);
//! owners, admins and managers **ship**, **receive** and **cancel**, since those move stock.
//! Branch scope: a user limited to some branches sees and requests transfers that leave from or
//! arrive at one of them, ships only from them and receives only into them; anything else is 404.
//!
//! States: `requested` → `shipped` (stock left the origin, in transit) → `partially_received` →
//! `received`; `requested` or `shipped` → `cancelled` (a shipped one returns its stock to the
//! origin). A step from the wrong state is 409 `invalid_transfer_state`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use entities::PageRequest;
use entities::inventory::items;
use entities::inventory::transfers::{
    self, NewTransfer, TransferDetail, TransferFilter, TransferLine,
};
use entities::{inventory::tables::transfer, inventory::tables::transfer_line};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::state::AppState;

/// The transfer routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_transfers, request_transfer))
        .routes(routes!(get_transfer))
        .routes(routes!(ship_transfer))
        .routes(routes!(receive_transfer))
        .routes(routes!(cancel_transfer))
        .routes(routes!(close_transfer_short))
}

/// A line of a transfer: the core every line of the POS API carries (item, SKU, name,
/// quantity) and where the units are.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferLineView {
    /// Item.
    pub item_id: Uuid,
    /// Its SKU.
    pub sku: String,
    /// Its name.
    pub name: String,
    /// Asked for.
    pub qty_requested: i64,
    /// Left the origin.
    pub qty_shipped: i64,
    /// Arrived so far.
    pub qty_received: i64,
}

impl TransferLineView {
    fn new(l: transfer_line::Model, labels: &HashMap<Uuid, (String, String)>) -> Self {
        let (sku, name) = labels.get(&l.item_id).cloned().unwrap_or_default();
        Self {
            item_id: l.item_id,
            sku,
            name,
            qty_requested: l.qty_requested,
            qty_shipped: l.qty_shipped,
            qty_received: l.qty_received,
        }
    }
}

/// A transfer (with its lines in the detail, without them in lists).
#[derive(Debug, Serialize, ToSchema)]
pub struct TransferView {
    /// Id.
    pub id: Uuid,
    /// Folio, e.g. `TR-000042`.
    pub folio: String,
    /// Origin warehouse.
    pub from_warehouse_id: Uuid,
    /// Destination warehouse.
    pub to_warehouse_id: Uuid,
    /// `requested`, `shipped`, `partially_received`, `received` or `cancelled`.
    pub status: String,
    /// Note.
    pub note: Option<String>,
    /// Who asked.
    pub requested_by: Option<Uuid>,
    /// Who shipped.
    pub shipped_by: Option<Uuid>,
    /// Who received last.
    pub received_by: Option<Uuid>,
    /// When it left.
    pub shipped_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Last receipt.
    pub received_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When cancelled.
    pub cancelled_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Receipts so far.
    pub receipts: i32,
    /// Requested.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Last change.
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// Lines (in the detail).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<TransferLineView>>,
}

impl From<transfer::Model> for TransferView {
    fn from(t: transfer::Model) -> Self {
        Self {
            id: t.id,
            folio: t.folio,
            from_warehouse_id: t.from_warehouse_id,
            to_warehouse_id: t.to_warehouse_id,
            status: t.status.to_string(),
            note: t.note,
            requested_by: t.requested_by,
            shipped_by: t.shipped_by,
            received_by: t.received_by,
            shipped_at: t.shipped_at,
            received_at: t.received_at,
            cancelled_at: t.cancelled_at,
            receipts: t.receipts,
            created_at: t.created_at,
            updated_at: t.updated_at,
            lines: None,
        }
    }
}

/// A transfer with its lines, each named by its item's SKU and name.
async fn detail_view(db: &impl ConnectionTrait, d: TransferDetail) -> ApiResult<TransferView> {
    let labels = items::labels(db, &d.items()).await?;
    let mut v = TransferView::from(d.transfer);
    v.lines = Some(
        d.lines
            .into_iter()
            .map(|l| TransferLineView::new(l, &labels))
            .collect(),
    );
    Ok(v)
}

/// A page of transfers.
pub type TransferPage = crate::page::Page<TransferView>;

impl crate::page::Listed for TransferView {
    const PAGE: &'static str = "TransferPage";
    const PAGE_DOC: &'static str = "A page of transfers.";
    const ITEMS_DOC: &'static str = "Transfers, newest first.";
}

/// Filters and page of the transfer list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TransferQuery {
    /// One state.
    #[param(pattern = "^(requested|shipped|partially_received|received|cancelled|closed)$")]
    pub status: Option<String>,
    /// Leaving from or arriving at this warehouse.
    pub warehouse_id: Option<Uuid>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A line of a transfer request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferLineRequest {
    /// Item.
    pub item_id: Uuid,
    /// Units, > 0.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub qty: i64,
}

/// A transfer to request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTransferRequest {
    /// Origin warehouse.
    pub from_warehouse_id: Uuid,
    /// Destination warehouse (another one).
    pub to_warehouse_id: Uuid,
    /// 1 to 500 lines, an item once.
    #[schema(min_items = 1, max_items = 500)]
    pub lines: Vec<TransferLineRequest>,
    /// Note.
    pub note: Option<String>,
}

/// A line's shipped quantity.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipLineRequest {
    /// Item.
    pub item_id: Uuid,
    /// Units leaving, 0 to what was requested.
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub qty_shipped: i64,
}

/// What to ship; without lines (or for lines not named) everything requested ships.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipRequest {
    /// Per-line quantities.
    #[serde(default)]
    pub lines: Vec<ShipLineRequest>,
}

/// A receipt.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveRequest {
    /// What arrived: per item, 1 to what is still in transit.
    #[schema(min_items = 1, max_items = 500)]
    pub lines: Vec<TransferLineRequest>,
}

fn lines(req: &[TransferLineRequest]) -> Vec<TransferLine> {
    req.iter()
        .map(|l| TransferLine {
            item_id: l.item_id,
            qty: l.qty,
        })
        .collect()
}

/// Transfers the caller may see, newest first.
#[utoipa::path(
    get, path = "/pos/api/inventory/transfers", tag = "inventory", security(("bearer" = [])),
    params(TransferQuery),
    responses((status = 200, body = TransferPage), (status = 422, body = ErrorBody))
)]
pub async fn list_transfers(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<TransferQuery>,
) -> ApiResult<Json<TransferPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = transfers::list_transfers(
        &ctx.db,
        page,
        TransferFilter {
            status: q.status,
            warehouse_id: q.warehouse_id,
        },
        ctx.principal.branch_scope.as_deref(),
    )
    .await?;
    Ok(Json(TransferPage::from_rows(rows, Into::into)))
}

/// Requests a transfer (cashier and above; not viewers). No stock moves yet.
#[utoipa::path(
    post, path = "/pos/api/inventory/transfers", tag = "inventory", security(("bearer" = [])),
    request_body = CreateTransferRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer instead of a second transfer")),
    responses(
        (status = 201, body = TransferView),
        (status = 403, body = ErrorBody),
        (status = 404, description = "A warehouse unknown or outside the caller's branches", body = ErrorBody),
        (status = 422, description = "Same warehouse, bad line (named)", body = ErrorBody),
    )
)]
pub async fn request_transfer(
    ctx: TenantCtx,
    headers: axum::http::HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<axum::response::Response> {
    let req: CreateTransferRequest = crate::extract::body_as(&raw)?;
    let new = NewTransfer {
        from_warehouse_id: req.from_warehouse_id,
        to_warehouse_id: req.to_warehouse_id,
        lines: lines(&req.lines),
        note: req.note,
    };
    let (actor, scope) = (ctx.actor(), ctx.principal.branch_scope.clone());
    let written = crate::idempotency::write_once(
        &ctx.db,
        &headers,
        "inventory.transfer",
        &raw,
        StatusCode::CREATED,
        async |txn| {
            let d = transfers::request_transfer(txn, &actor, scope.as_deref(), new).await?;
            let view = serde_json::to_value(detail_view(txn, d).await?)
                .map_err(|e| crate::error::ApiError::Internal(e.to_string()))?;
            Ok((view, ()))
        },
    )
    .await?;
    Ok(written.response())
}

/// One transfer with its lines.
#[utoipa::path(
    get, path = "/pos/api/inventory/transfers/{id}", tag = "inventory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Transfer id")),
    responses((status = 200, body = TransferView), (status = 404, body = ErrorBody))
)]
pub async fn get_transfer(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<TransferView>> {
    let d = transfers::get_transfer(&ctx.db, id, ctx.principal.branch_scope.as_deref()).await?;
    Ok(Json(detail_view(&ctx.db, d).await?))
}

/// Ships a requested transfer (owner, admin, manager): stock leaves the origin
/// (`transfer_out`) and is in transit.
#[utoipa::path(
    post, path = "/pos/api/inventory/transfers/{id}/ship", tag = "inventory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Transfer id")),
    request_body = ShipRequest,
    responses(
        (status = 200, body = TransferView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transfer_state` or `insufficient_stock`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn ship_transfer(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    body: axum::body::Bytes,
) -> ApiResult<Json<TransferView>> {
    let req = crate::extract::optional_body::<ShipRequest>(&body)?;
    let quantities: Vec<TransferLine> = req
        .lines
        .iter()
        .map(|l| TransferLine {
            item_id: l.item_id,
            qty: l.qty_shipped,
        })
        .collect();
    let d = transfers::ship_transfer(
        &ctx.db,
        &ctx.actor(),
        ctx.principal.branch_scope.as_deref(),
        id,
        &quantities,
    )
    .await?;
    moved(&state, &ctx, d).await
}

/// Receives some or all of a shipped transfer (owner, admin, manager): stock enters the
/// destination (`transfer_in`). More than what is in transit is 422 naming the line.
#[utoipa::path(
    post, path = "/pos/api/inventory/transfers/{id}/receive", tag = "inventory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Transfer id")),
    request_body = ReceiveRequest,
    responses(
        (status = 200, body = TransferView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transfer_state`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn receive_transfer(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<ReceiveRequest>,
) -> ApiResult<Json<TransferView>> {
    let d = transfers::receive_transfer(
        &ctx.db,
        &ctx.actor(),
        ctx.principal.branch_scope.as_deref(),
        id,
        &lines(&req.lines),
    )
    .await?;
    moved(&state, &ctx, d).await
}

/// Cancels a requested or shipped transfer (owner, admin, manager); a shipped one returns its
/// stock to the origin (`transfer_cancel`).
#[utoipa::path(
    post, path = "/pos/api/inventory/transfers/{id}/cancel", tag = "inventory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Transfer id")),
    responses(
        (status = 200, body = TransferView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transfer_state`", body = ErrorBody),
    )
)]
pub async fn cancel_transfer(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<TransferView>> {
    let d = transfers::cancel_transfer(
        &ctx.db,
        &ctx.actor(),
        ctx.principal.branch_scope.as_deref(),
        id,
    )
    .await?;
    moved(&state, &ctx, d).await
}

/// Closing a partially received transfer short.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseShortRequest {
    /// `return`: the missing units are back at the origin; `write_off`: they are lost.
    #[schema(pattern = "^(return|write_off)$", value_type = String, example = "return")]
    pub disposition: transfers::ShortDisposition,
    /// Why (1 to 500 characters), kept in the ledger and the audit trail.
    #[schema(min_length = 1, max_length = 500, pattern = "\\S")]
    pub reason: String,
}

/// Closes a partially received transfer short (owner, admin, manager): the units shipped but not
/// received leave transit, back to the origin or written off there, each step in the ledger.
#[utoipa::path(
    post, path = "/pos/api/inventory/transfers/{id}/close", tag = "inventory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Transfer id")),
    request_body = CloseShortRequest,
    responses(
        (status = 200, body = TransferView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transfer_state`: only a partially received transfer closes short", body = ErrorBody),
        (status = 422, description = "Bad disposition or reason", body = ErrorBody),
    )
)]
pub async fn close_transfer_short(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<CloseShortRequest>,
) -> ApiResult<Json<TransferView>> {
    let d = transfers::close_short(
        &ctx.db,
        &ctx.actor(),
        ctx.principal.branch_scope.as_deref(),
        id,
        req.disposition,
        &req.reason,
    )
    .await?;
    moved(&state, &ctx, d).await
}

/// The answer of a step that moved stock: the touched items leave the stock cache first.
async fn moved(
    state: &AppState,
    ctx: &TenantCtx,
    d: TransferDetail,
) -> ApiResult<Json<TransferView>> {
    state
        .stock_cache()
        .invalidate(ctx.principal.tenant.id, &d.items())
        .await;
    Ok(Json(detail_view(&ctx.db, d).await?))
}
