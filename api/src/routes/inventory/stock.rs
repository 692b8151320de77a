//! `/pos/api/inventory`: stock by branch (through the stock cache), manager adjustments and
//! physical counts, the stock ledger and low-stock alerts.
//!
//! Everyone reads stock by branch (a cashier checks whether another branch has a part); the
//! ledger and alerts are limited to the caller's branches. Adjustments and counts need the
//! owner, admin or manager role and a warehouse in the caller's branches.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use entities::PageRequest;
use entities::inventory::adjustments::{
    self, AdjustmentLine, CountLine, NewAdjustment, NewCount, StockChange,
};
use entities::inventory::stock_views::{self, LedgerFilter, StockByBranch};
use entities::{inventory::items, inventory::tables::stock_alert, inventory::tables::stock_ledger};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::idempotency::{Written, write_once};
use crate::state::AppState;

/// The inventory routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(item_stock))
        .routes(routes!(part_stock))
        .routes(routes!(adjust))
        .routes(routes!(count))
        .routes(routes!(ledger))
        .routes(routes!(alerts))
        .routes(routes!(reconciliation))
}

/// A balance that disagrees with its ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct DriftView {
    /// Item.
    pub item_id: Uuid,
    /// Warehouse.
    pub warehouse_id: Uuid,
    /// Cached balance.
    pub balance: i64,
    /// Sum of the ledger.
    pub ledger: i64,
}

/// The reconciliation of balances against the ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct Reconciliation {
    /// Whether every balance equals the sum of its ledger.
    pub ok: bool,
    /// The balances that do not.
    pub drift: Vec<DriftView>,
}

/// Compares every balance with the sum of its ledger (manager and up). The nightly clean-up runs
/// the same check and logs any drift.
#[utoipa::path(
    get,
    path = "/pos/api/inventory/reconciliation",
    tag = "inventory",
    responses((status = 200, body = Reconciliation), (status = 403, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn reconciliation(ctx: TenantCtx) -> ApiResult<Json<Reconciliation>> {
    let drift = entities::inventory::movements::reconcile(&ctx.db).await?;
    Ok(Json(Reconciliation {
        ok: drift.is_empty(),
        drift: drift
            .into_iter()
            .map(|d| DriftView {
                item_id: d.item_id,
                warehouse_id: d.warehouse_id,
                balance: d.balance,
                ledger: d.ledger,
            })
            .collect(),
    }))
}

/// An item's balance in a warehouse.
#[derive(Debug, Serialize, ToSchema)]
pub struct WarehouseStockView {
    /// Warehouse id.
    pub warehouse_id: Uuid,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Units on hand.
    pub qty: i64,
    /// Units shipped to it and not received yet.
    pub in_transit: i64,
}

/// An item's balances in a branch.
#[derive(Debug, Serialize, ToSchema)]
pub struct BranchStockView {
    /// Branch id.
    pub branch_id: Uuid,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Units on hand in all its warehouses.
    pub on_hand: i64,
    /// Units on their way to it (shipped transfers not yet received).
    pub in_transit: i64,
    /// The item's reorder point.
    pub min_qty: i64,
    /// Its warehouses.
    pub warehouses: Vec<WarehouseStockView>,
}

/// An item's stock in every branch.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockByBranchView {
    /// Item id.
    pub item_id: Uuid,
    /// SKU.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Shared-catalog part.
    pub catalog_part_id: Option<i64>,
    /// Reorder point.
    pub min_qty: i64,
    /// Units on hand everywhere.
    pub on_hand: i64,
    /// Units in transit everywhere.
    pub in_transit: i64,
    /// Branches by code.
    pub branches: Vec<BranchStockView>,
}

impl From<StockByBranch> for StockByBranchView {
    fn from(s: StockByBranch) -> Self {
        Self {
            item_id: s.item_id,
            sku: s.sku,
            name: s.name,
            catalog_part_id: s.catalog_part_id,
            min_qty: s.min_qty,
            on_hand: s.on_hand,
            in_transit: s.in_transit,
            branches: s
                .branches
                .into_iter()
                .map(|b| BranchStockView {
                    branch_id: b.branch_id,
                    code: b.code,
                    name: b.name,
                    on_hand: b.on_hand,
                    in_transit: b.in_transit,
                    min_qty: b.min_qty,
                    warehouses: b
                        .warehouses
                        .into_iter()
                        .map(|w| WarehouseStockView {
                            warehouse_id: w.warehouse_id,
                            code: w.code,
                            name: w.name,
                            qty: w.qty,
                            in_transit: w.in_transit,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

static X_CACHE: HeaderName = HeaderName::from_static("x-cache");

/// An item's stock in every branch and warehouse, with what is in transit to each. Served from
/// the stock cache when it can (`X-Cache: hit`), else from the database (`X-Cache: miss`).
#[utoipa::path(
    get, path = "/pos/api/items/{id}/stock", tag = "inventory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Item id")),
    responses(
        (status = 200, body = StockByBranchView, headers(("X-Cache" = String, description = "`hit` or `miss`"))),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn item_stock(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Response> {
    stock_answer(&ctx, &state, id).await
}

/// The stock of the business's item linked to a catalog part, as `GET /pos/api/items/{id}/stock`
/// answers it: what a counter asks of a search hit.
#[utoipa::path(
    get, path = "/pos/api/catalog/parts/{id}/stock", tag = "inventory", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "Catalog part id")),
    responses(
        (status = 200, body = StockByBranchView, headers(("X-Cache" = String, description = "`hit` or `miss`"))),
        (status = 404, description = "The business has no item linked to the part", body = ErrorBody),
    )
)]
pub async fn part_stock(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppPath(part): AppPath<i64>,
) -> ApiResult<Response> {
    let item = items::item_by_catalog_part(&ctx.db, part).await?.id;
    stock_answer(&ctx, &state, item).await
}

async fn stock_answer(ctx: &TenantCtx, state: &AppState, item_id: Uuid) -> ApiResult<Response> {
    let tenant = ctx.principal.tenant.id;
    let cache = state.stock_cache();
    let (view, hit) = match cache.get(tenant, item_id).await {
        crate::stock_cache::Lookup::Hit(v) => (v, "hit"),
        crate::stock_cache::Lookup::Miss(seen) => {
            let v = stock_views::stock_by_branch(&ctx.db, item_id).await?;
            cache.put(tenant, item_id, seen, &v).await;
            (v, "miss")
        }
    };
    if view.on_hand <= 0 {
        // The counter looked for it and the business has none: a lost sale, once a day.
        let branch = match ctx.principal.branch_scope.as_deref() {
            Some([one]) => Some(*one),
            _ => None,
        };
        crate::routes::purchasing::reorder::note_lost_sale(
            ctx,
            item_id,
            branch,
            1,
            entities::purchasing::lost_sales::source::STOCK_LOOKUP,
        )
        .await;
    }
    let mut resp = Json(StockByBranchView::from(view)).into_response();
    resp.headers_mut()
        .insert(X_CACHE.clone(), HeaderValue::from_static(hit));
    Ok(resp)
}

/// A warehouse in the caller's branches, or 404.
pub(crate) async fn own_warehouse(ctx: &TenantCtx, id: Uuid) -> ApiResult<()> {
    let w = stock_views::warehouse(&ctx.db, id).await?;
    if !ctx.principal.can_see_branch(w.branch_id) {
        return Err(ApiError::NotFound("warehouse"));
    }
    Ok(())
}

/// A line of an adjustment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentLineRequest {
    /// Item.
    pub item_id: Uuid,
    /// Units in (positive) or out (negative), never zero.
    #[schema(minimum = -1_000_000, maximum = 1_000_000)]
    pub delta: i64,
}

/// An adjustment of one warehouse.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentRequest {
    /// Warehouse.
    pub warehouse_id: Uuid,
    /// 1 to 500 lines.
    pub lines: Vec<AdjustmentLineRequest>,
    /// `damage`, `loss`, `found`, `correction` or `initial`.
    pub reason: String,
    /// Why, for people.
    pub note: Option<String>,
}

/// A line of a count.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CountLineRequest {
    /// Item.
    pub item_id: Uuid,
    /// Units on the shelf, ≥ 0.
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub counted: i64,
}

/// A physical count of some items in one warehouse.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CountRequest {
    /// Warehouse.
    pub warehouse_id: Uuid,
    /// 1 to 500 lines, an item once.
    pub lines: Vec<CountLineRequest>,
    /// Note.
    pub note: Option<String>,
}

/// A balance that changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct MovedView {
    /// Item.
    pub item_id: Uuid,
    /// Warehouse.
    pub warehouse_id: Uuid,
    /// Change.
    pub delta: i64,
    /// Balance after it.
    pub balance_after: i64,
}

/// What an adjustment or count did.
#[derive(Debug, Serialize, ToSchema)]
pub struct StockChangeView {
    /// The document id (the ledger rows' `ref_id`).
    pub id: Uuid,
    /// Balances that changed (a counted line that was right moves nothing).
    pub lines: Vec<MovedView>,
}

impl From<StockChange> for StockChangeView {
    fn from(c: StockChange) -> Self {
        Self {
            id: c.id,
            lines: c
                .moved
                .into_iter()
                .map(|m| MovedView {
                    item_id: m.item_id,
                    warehouse_id: m.warehouse_id,
                    delta: m.delta,
                    balance_after: m.after,
                })
                .collect(),
        }
    }
}

/// Adjusts stock of one warehouse (owner, admin, manager): ledger reason `adjustment`. Taking
/// a balance below zero is 409 `insufficient_stock` and changes nothing.
#[utoipa::path(
    post, path = "/pos/api/inventory/adjustments", tag = "inventory", security(("bearer" = [])),
    request_body = AdjustmentRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer instead of moving stock again")),
    responses(
        (status = 201, body = StockChangeView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`insufficient_stock`, `idempotency_key_in_use`", body = ErrorBody),
        (status = 422, description = "Invalid field, or the key was used with another body", body = ErrorBody),
    )
)]
pub async fn adjust(
    ctx: TenantCtx,
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: AdjustmentRequest = crate::extract::body_as(&raw)?;
    own_warehouse(&ctx, req.warehouse_id).await?;
    let new = NewAdjustment {
        warehouse_id: req.warehouse_id,
        lines: req
            .lines
            .iter()
            .map(|l| AdjustmentLine {
                item_id: l.item_id,
                delta: l.delta,
            })
            .collect(),
        kind: req.reason,
        note: req.note,
    };
    let actor = ctx.actor();
    let written = write_once(
        &ctx.db,
        &headers,
        "inventory.adjust",
        &raw,
        StatusCode::CREATED,
        async |txn| {
            let change = adjustments::adjust(txn, &actor, new).await?;
            let items = change.items();
            Ok((json_body(&StockChangeView::from(change))?, items))
        },
    )
    .await?;
    Ok(stock_written(&state, &ctx, written).await)
}

/// Sets balances of one warehouse to what was counted (owner, admin, manager): ledger reason
/// `count`, each line moving by the difference.
#[utoipa::path(
    post, path = "/pos/api/inventory/counts", tag = "inventory", security(("bearer" = [])),
    request_body = CountRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    responses(
        (status = 201, body = StockChangeView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn count(
    ctx: TenantCtx,
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: CountRequest = crate::extract::body_as(&raw)?;
    own_warehouse(&ctx, req.warehouse_id).await?;
    let new = NewCount {
        warehouse_id: req.warehouse_id,
        lines: req
            .lines
            .iter()
            .map(|l| CountLine {
                item_id: l.item_id,
                counted: l.counted,
            })
            .collect(),
        note: req.note,
    };
    let actor = ctx.actor();
    let written = write_once(
        &ctx.db,
        &headers,
        "inventory.count",
        &raw,
        StatusCode::CREATED,
        async |txn| {
            let change = adjustments::count(txn, &actor, new).await?;
            let items = change.items();
            Ok((json_body(&StockChangeView::from(change))?, items))
        },
    )
    .await?;
    Ok(stock_written(&state, &ctx, written).await)
}

/// A view as the JSON body an idempotent write stores and answers.
fn json_body<T: Serialize>(view: &T) -> ApiResult<serde_json::Value> {
    serde_json::to_value(view).map_err(|e| ApiError::Internal(e.to_string()))
}

/// The answer of an adjustment or a count: the replayed first answer, or this one after the
/// touched items left the stock cache.
async fn stock_written(state: &AppState, ctx: &TenantCtx, w: Written<Vec<Uuid>>) -> Response {
    match w {
        Written::Replayed(resp) => resp,
        Written::Done(status, body, items) => {
            state
                .stock_cache()
                .invalidate(ctx.principal.tenant.id, &items)
                .await;
            (status, Json(body)).into_response()
        }
    }
}

/// Filters and page of the ledger.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LedgerQuery {
    /// One item.
    pub item_id: Option<Uuid>,
    /// One warehouse.
    pub warehouse_id: Option<Uuid>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A stock movement.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerView {
    /// Sequence.
    pub id: i64,
    /// Item.
    pub item_id: Uuid,
    /// Warehouse.
    pub warehouse_id: Uuid,
    /// Branch.
    pub branch_id: Uuid,
    /// Change.
    pub delta: i64,
    /// Balance after it.
    pub balance_after: i64,
    /// Why (`adjustment`, `count`, `sale`, `transfer_out`…).
    pub reason: String,
    /// Document kind.
    pub ref_type: String,
    /// Document id.
    pub ref_id: String,
    /// Note.
    pub note: Option<String>,
    /// Who.
    pub actor_user_id: Option<Uuid>,
    /// When.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<stock_ledger::Model> for LedgerView {
    fn from(l: stock_ledger::Model) -> Self {
        Self {
            id: l.id,
            item_id: l.item_id,
            warehouse_id: l.warehouse_id,
            branch_id: l.branch_id,
            delta: l.delta,
            balance_after: l.balance_after,
            reason: l.reason,
            ref_type: l.ref_type,
            ref_id: l.ref_id,
            note: l.note,
            actor_user_id: l.actor_user_id,
            created_at: l.created_at,
        }
    }
}

/// A page of stock movements.
pub type LedgerPage = crate::page::Page<LedgerView>;

impl crate::page::Listed for LedgerView {
    const PAGE: &'static str = "LedgerPage";
    const PAGE_DOC: &'static str = "A page of stock movements.";
    const ITEMS_DOC: &'static str = "Movements, newest first.";
}

/// Stock movements in the caller's branches, newest first.
#[utoipa::path(
    get, path = "/pos/api/inventory/ledger", tag = "inventory", security(("bearer" = [])),
    params(LedgerQuery),
    responses((status = 200, body = LedgerPage), (status = 422, body = ErrorBody))
)]
pub async fn ledger(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<LedgerQuery>,
) -> ApiResult<Json<LedgerPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = stock_views::ledger(
        &ctx.db,
        page,
        LedgerFilter {
            item_id: q.item_id,
            warehouse_id: q.warehouse_id,
            branches: ctx.principal.branch_scope.clone(),
        },
    )
    .await?;
    Ok(Json(LedgerPage::from_rows(rows, Into::into)))
}

/// Filters and page of the alerts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    /// `open` or `resolved`.
    #[param(pattern = "^(open|resolved)$")]
    pub status: Option<String>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A low-stock alert.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertView {
    /// Id.
    pub id: i64,
    /// Item.
    pub item_id: Uuid,
    /// Warehouse.
    pub warehouse_id: Uuid,
    /// Balance when raised.
    pub qty: i64,
    /// The minimum it fell below.
    pub min_qty: i64,
    /// `open` or `resolved`.
    pub status: String,
    /// What raised it.
    pub source: String,
    /// When resolved.
    pub resolved_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Raised.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<stock_alert::Model> for AlertView {
    fn from(a: stock_alert::Model) -> Self {
        Self {
            id: a.id,
            item_id: a.item_id,
            warehouse_id: a.warehouse_id,
            qty: a.qty,
            min_qty: a.min_qty,
            status: a.status,
            source: a.source,
            resolved_at: a.resolved_at,
            created_at: a.created_at,
        }
    }
}

/// A page of alerts.
pub type AlertPage = crate::page::Page<AlertView>;

impl crate::page::Listed for AlertView {
    const PAGE: &'static str = "AlertPage";
    const PAGE_DOC: &'static str = "A page of alerts.";
    const ITEMS_DOC: &'static str = "Alerts, newest first.";
}

/// Low-stock alerts of the caller's branches, newest first.
#[utoipa::path(
    get, path = "/pos/api/inventory/alerts", tag = "inventory", security(("bearer" = [])),
    params(AlertQuery),
    responses((status = 200, body = AlertPage), (status = 422, body = ErrorBody))
)]
pub async fn alerts(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<AlertQuery>,
) -> ApiResult<Json<AlertPage>> {
    if let Some(s) = q.status.as_deref()
        && s != "open"
        && s != "resolved"
    {
        return Err(ApiError::invalid("status", "status: open or resolved"));
    }
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = stock_views::alerts(
        &ctx.db,
        page,
        q.status.as_deref(),
        ctx.principal.branch_scope.as_deref(),
    )
    .await?;
    Ok(Json(AlertPage::from_rows(rows, Into::into)))
}
