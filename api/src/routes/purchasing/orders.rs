//! `/pos/api/purchase-orders`: purchase orders and their lines.
//!
//! States: `draft → sent → confirmed → partially_received → received → closed`, plus
//! `cancelled` (never after a receipt). A draft at or above the owner's threshold is approved
//! (owner, admin) before it is sent; sending queues the PDF by e-mail to the supplier. Lines may
//! change until the order is received; a change after sending is audited with what it was.
//! A step from the wrong state is 409 `invalid_purchase_order_state`; two changes of one order
//! at once, 409 `purchase_order_changed` for the second.
//!
//! Everyone reads; managers and above write; owners and admins approve.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use entities::PageRequest;
use entities::purchasing::orders::{
    self, LinePatch, NewLine, NewOrder, OrderDetail, OrderFilter, OrderPatch,
};
use entities::purchasing::tables::{purchase_order, purchase_order_line};
use entities::rules::money::{Money, Rate};
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

/// The order routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_purchase_orders, create_purchase_order))
        .routes(routes!(get_purchase_order, update_purchase_order))
        .routes(routes!(add_purchase_order_lines))
        .routes(routes!(
            update_purchase_order_line,
            remove_purchase_order_line
        ))
        .routes(routes!(approve_purchase_order))
        .routes(routes!(send_purchase_order))
        .routes(routes!(confirm_purchase_order))
        .routes(routes!(cancel_purchase_order))
        .routes(routes!(close_purchase_order))
}

/// A line of a purchase order.
#[derive(Debug, Serialize, ToSchema)]
pub struct PurchaseOrderLineView {
    /// Line id.
    pub id: Uuid,
    /// Item.
    pub item_id: Uuid,
    /// Its SKU.
    pub sku: String,
    /// Its name.
    pub name: String,
    /// The supplier's code.
    pub supplier_sku: Option<String>,
    /// Units ordered.
    pub qty: i64,
    /// Units received so far.
    pub received_qty: i64,
    /// Units still to arrive (back order).
    pub open_qty: i64,
    /// Units returned to the supplier.
    pub returned_qty: i64,
    /// Unit cost before IVA, in the order's currency.
    #[schema(value_type = String, example = "210.00")]
    pub unit_cost: Money,
    /// IVA rate, basis points.
    pub iva_rate_bp: i32,
    /// Units × cost.
    #[schema(value_type = String, example = "420.00")]
    pub subtotal: Money,
    /// IVA.
    #[schema(value_type = String, example = "67.20")]
    pub tax: Money,
    /// Subtotal + IVA.
    #[schema(value_type = String, example = "487.20")]
    pub total: Money,
    /// Expected day of this line.
    pub expected_on: Option<NaiveDate>,
    /// The customer's special order it buys for.
    pub special_order_id: Option<Uuid>,
}

/// A purchase order (its lines in the detail and answers of writes, not in lists).
#[derive(Debug, Serialize, ToSchema)]
pub struct PurchaseOrderView {
    /// Id.
    pub id: Uuid,
    /// Folio, e.g. `OC-000042`.
    pub folio: String,
    /// Supplier.
    pub supplier_id: Uuid,
    /// Default receiving warehouse.
    pub warehouse_id: Uuid,
    /// `draft`, `sent`, `confirmed`, `partially_received`, `received`, `closed`, `cancelled`.
    pub status: String,
    /// `MXN` or `USD`.
    pub currency: String,
    /// MXN per unit of the currency, fixed at creation.
    #[schema(value_type = String, example = "1")]
    pub exchange_rate: Rate,
    /// Sum of lines before IVA.
    #[schema(value_type = String, example = "420.00")]
    pub subtotal: Money,
    /// IVA.
    #[schema(value_type = String, example = "67.20")]
    pub tax: Money,
    /// Total.
    #[schema(value_type = String, example = "487.20")]
    pub total: Money,
    /// At or above the approval threshold.
    pub needs_approval: bool,
    /// Who approved.
    pub approved_by: Option<Uuid>,
    /// When approved.
    pub approved_at: Option<DateTime<Utc>>,
    /// Expected day.
    pub expected_on: Option<NaiveDate>,
    /// Notes.
    pub notes: Option<String>,
    /// `manual` or `reorder`.
    pub origin: String,
    /// Receipts so far.
    pub receipts: i32,
    /// Changes so far.
    pub version: i32,
    /// Who created it.
    pub created_by: Option<Uuid>,
    /// Sent.
    pub sent_at: Option<DateTime<Utc>>,
    /// Confirmed.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// Closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Lines (in the detail).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<PurchaseOrderLineView>>,
}

impl From<purchase_order::Model> for PurchaseOrderView {
    fn from(p: purchase_order::Model) -> Self {
        Self {
            id: p.id,
            folio: p.folio,
            supplier_id: p.supplier_id,
            warehouse_id: p.warehouse_id,
            status: p.status.to_string(),
            currency: p.currency,
            exchange_rate: Rate(p.exchange_rate_micros),
            subtotal: Money(p.subtotal_cents),
            tax: Money(p.tax_cents),
            total: Money(p.total_cents),
            needs_approval: p.needs_approval,
            approved_by: p.approved_by,
            approved_at: p.approved_at,
            expected_on: p.expected_on,
            notes: p.notes,
            origin: p.origin,
            receipts: p.receipts,
            version: p.version,
            created_by: p.created_by,
            sent_at: p.sent_at,
            confirmed_at: p.confirmed_at,
            closed_at: p.closed_at,
            cancelled_at: p.cancelled_at,
            created_at: p.created_at,
            updated_at: p.updated_at,
            lines: None,
        }
    }
}

fn line_view(
    l: purchase_order_line::Model,
    labels: &HashMap<Uuid, (String, String)>,
) -> PurchaseOrderLineView {
    let (sku, name) = labels.get(&l.item_id).cloned().unwrap_or_default();
    PurchaseOrderLineView {
        open_qty: l.open_qty(),
        id: l.id,
        item_id: l.item_id,
        sku,
        name,
        supplier_sku: l.supplier_sku,
        qty: l.qty,
        received_qty: l.received_qty,
        returned_qty: l.returned_qty,
        unit_cost: Money(l.unit_cost_cents),
        iva_rate_bp: l.iva_rate_bp,
        subtotal: Money(l.subtotal_cents),
        tax: Money(l.tax_cents),
        total: Money(l.total_cents),
        expected_on: l.expected_on,
        special_order_id: l.special_order_id,
    }
}

/// An order with its lines named by SKU and name.
pub(crate) async fn detail_view(
    db: &impl ConnectionTrait,
    d: OrderDetail,
) -> ApiResult<PurchaseOrderView> {
    let labels = entities::inventory::items::labels(db, &d.items()).await?;
    let mut v = PurchaseOrderView::from(d.order);
    v.lines = Some(d.lines.into_iter().map(|l| line_view(l, &labels)).collect());
    Ok(v)
}

/// A page of purchase orders.
pub type PurchaseOrderPage = crate::page::Page<PurchaseOrderView>;

impl crate::page::Listed for PurchaseOrderView {
    const PAGE: &'static str = "PurchaseOrderPage";
    const PAGE_DOC: &'static str = "A page of purchase orders.";
    const ITEMS_DOC: &'static str = "Purchase orders, newest first.";
}

/// Filters and page of the order list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOrderQuery {
    /// One state.
    #[param(pattern = "^(draft|sent|confirmed|partially_received|received|closed|cancelled)$")]
    pub status: Option<String>,
    /// One supplier.
    pub supplier_id: Option<Uuid>,
    /// Orders with a line of this item.
    pub item_id: Option<Uuid>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A line to order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchaseLineRequest {
    /// Item.
    pub item_id: Uuid,
    /// Units.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub qty: i64,
    /// Unit cost before IVA in the order's currency; by default the supplier's best price for
    /// the quantity, else (MXN) the item's last cost.
    #[schema(value_type = Option<crate::formats::Amount>, example = "210.00")]
    #[serde(default, with = "crate::extract::decimal_text_option")]
    pub unit_cost: Option<rust_decimal::Decimal>,
    /// The supplier's code (from its price list by default).
    #[schema(max_length = 64)]
    pub supplier_sku: Option<String>,
    /// Expected day of this line.
    pub expected_on: Option<NaiveDate>,
}

fn new_lines(req: Vec<PurchaseLineRequest>) -> ApiResult<Vec<NewLine>> {
    req.into_iter()
        .enumerate()
        .map(|(i, l)| {
            Ok(NewLine {
                item_id: l.item_id,
                qty: l.qty,
                unit_cost_cents: l
                    .unit_cost
                    .map(|c| Money::from_decimal(&format!("lines[{i}].unit_cost"), c).map(|m| m.0))
                    .transpose()?,
                supplier_sku: l.supplier_sku,
                expected_on: l.expected_on,
                special_order_id: None,
            })
        })
        .collect()
}

/// An order to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePurchaseOrderRequest {
    /// Supplier.
    pub supplier_id: Uuid,
    /// Default receiving warehouse.
    pub warehouse_id: Uuid,
    /// `MXN` or `USD` (the supplier's by default); USD fixes the rate in force.
    #[schema(pattern = "^(MXN|USD)$")]
    pub currency: Option<String>,
    /// Expected day (today + the supplier's lead days by default).
    pub expected_on: Option<NaiveDate>,
    /// Notes printed on the order.
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
    /// 0 to 500 lines.
    #[serde(default)]
    #[schema(max_items = 500)]
    pub lines: Vec<PurchaseLineRequest>,
}

/// Orders, newest first.
#[utoipa::path(
    get, path = "/pos/api/purchase-orders", tag = "purchasing", security(("bearer" = [])),
    params(PurchaseOrderQuery),
    responses((status = 200, body = PurchaseOrderPage), (status = 422, body = ErrorBody))
)]
pub async fn list_purchase_orders(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<PurchaseOrderQuery>,
) -> ApiResult<Json<PurchaseOrderPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = orders::list_orders(
        &ctx.db,
        page,
        OrderFilter {
            status: q.status,
            supplier_id: q.supplier_id,
            item_id: q.item_id,
        },
    )
    .await?;
    Ok(Json(PurchaseOrderPage::from_rows(rows, Into::into)))
}

/// Creates a draft order (owner, admin, manager).
#[utoipa::path(
    post, path = "/pos/api/purchase-orders", tag = "purchasing", security(("bearer" = [])),
    request_body = CreatePurchaseOrderRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer instead of a second order")),
    responses(
        (status = 201, body = PurchaseOrderView),
        (status = 403, body = ErrorBody),
        (status = 404, description = "`supplier_not_found`, `warehouse_not_found`, `item_not_found`", body = ErrorBody),
        (status = 409, description = "`supplier_inactive`, `warehouse_inactive`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn create_purchase_order(
    ctx: TenantCtx,
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<axum::response::Response> {
    let req: CreatePurchaseOrderRequest = crate::extract::body_as(&raw)?;
    let new = NewOrder {
        supplier_id: req.supplier_id,
        warehouse_id: req.warehouse_id,
        currency: req.currency,
        expected_on: req.expected_on,
        notes: req.notes,
        lines: new_lines(req.lines)?,
    };
    let actor = ctx.actor();
    let default_rate = state.config.usd_rate;
    let written = crate::idempotency::write_once(
        &ctx.db,
        &headers,
        "purchasing.order",
        &raw,
        StatusCode::CREATED,
        async |txn| {
            let rate = entities::pricing::prices::current_rate(txn, default_rate).await?;
            let d = orders::create_order(txn, &actor, new, rate, ("manual", None)).await?;
            Ok((crate::extract::to_value(&detail_view(txn, d).await?)?, ()))
        },
    )
    .await?;
    Ok(written.response())
}

/// One order with its lines.
#[utoipa::path(
    get, path = "/pos/api/purchase-orders/{id}", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses((status = 200, body = PurchaseOrderView), (status = 404, body = ErrorBody))
)]
pub async fn get_purchase_order(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<PurchaseOrderView>> {
    let d = orders::get_order(&ctx.db, id).await?;
    Ok(Json(detail_view(&ctx.db, d).await?))
}

/// Changes to an order's head; a field left out is unchanged, `null` clears it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePurchaseOrderRequest {
    /// Expected day, or `null`.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub expected_on: Option<Option<NaiveDate>>,
    /// Notes, or `null`.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub notes: Option<Option<String>>,
    /// Default receiving warehouse.
    pub warehouse_id: Option<Uuid>,
}

/// The answer of a write to one order, run in one transaction.
async fn write(
    ctx: &TenantCtx,
    work: impl AsyncFnOnce(&sea_orm::DatabaseTransaction) -> entities::Result<OrderDetail>,
) -> ApiResult<Json<PurchaseOrderView>> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    let d = work(&txn).await?;
    let v = detail_view(&txn, d).await?;
    txn.commit().await?;
    Ok(Json(v))
}

/// Changes an order's expected day, notes or warehouse (owner, admin, manager); after sending,
/// audited with what it was.
#[utoipa::path(
    patch, path = "/pos/api/purchase-orders/{id}", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = UpdatePurchaseOrderRequest,
    responses(
        (status = 200, body = PurchaseOrderView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_purchase_order_state`, `purchase_order_changed`, `warehouse_inactive`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn update_purchase_order(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<UpdatePurchaseOrderRequest>,
) -> ApiResult<Json<PurchaseOrderView>> {
    let actor = ctx.actor();
    write(&ctx, async |txn| {
        orders::update_order(
            txn,
            &actor,
            id,
            OrderPatch {
                expected_on: req.expected_on,
                notes: req.notes,
                warehouse_id: req.warehouse_id,
            },
        )
        .await
    })
    .await
}

/// Lines to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddLinesRequest {
    /// 1 to 500 lines.
    #[schema(min_items = 1, max_items = 500)]
    pub lines: Vec<PurchaseLineRequest>,
}

/// Adds lines to a draft or open order (owner, admin, manager).
#[utoipa::path(
    post, path = "/pos/api/purchase-orders/{id}/lines", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = AddLinesRequest,
    responses(
        (status = 200, body = PurchaseOrderView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_purchase_order_state`, `purchase_order_changed`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn add_purchase_order_lines(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<AddLinesRequest>,
) -> ApiResult<Json<PurchaseOrderView>> {
    let actor = ctx.actor();
    let lines = new_lines(req.lines)?;
    write(&ctx, async |txn| {
        orders::add_lines(txn, &actor, id, lines).await
    })
    .await
}

/// Changes to a line.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLineRequest {
    /// Units (not below what was received).
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub qty: Option<i64>,
    /// Unit cost before IVA (not once units were received).
    #[schema(value_type = Option<crate::formats::Amount>, example = "210.00")]
    #[serde(default, with = "crate::extract::decimal_text_option")]
    pub unit_cost: Option<rust_decimal::Decimal>,
    /// Expected day, or `null`.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub expected_on: Option<Option<NaiveDate>>,
}

/// Changes a line (owner, admin, manager).
#[utoipa::path(
    patch, path = "/pos/api/purchase-orders/{id}/lines/{line_id}", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"), ("line_id" = Uuid, Path, description = "Line id")),
    request_body = UpdateLineRequest,
    responses(
        (status = 200, body = PurchaseOrderView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_purchase_order_state`, `line_received`, `purchase_order_changed`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn update_purchase_order_line(
    ctx: TenantCtx,
    AppPath((id, line_id)): AppPath<(Uuid, Uuid)>,
    AppJson(req): AppJson<UpdateLineRequest>,
) -> ApiResult<Json<PurchaseOrderView>> {
    let actor = ctx.actor();
    let patch = LinePatch {
        qty: req.qty,
        unit_cost_cents: req
            .unit_cost
            .map(|c| Money::from_decimal("unit_cost", c).map(|m| m.0))
            .transpose()?,
        expected_on: req.expected_on,
    };
    write(&ctx, async |txn| {
        orders::update_line(txn, &actor, id, line_id, patch).await
    })
    .await
}

/// Removes a line nothing was received on (owner, admin, manager).
#[utoipa::path(
    delete, path = "/pos/api/purchase-orders/{id}/lines/{line_id}", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"), ("line_id" = Uuid, Path, description = "Line id")),
    responses(
        (status = 200, body = PurchaseOrderView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_purchase_order_state`, `line_received`, `purchase_order_changed`", body = ErrorBody),
    )
)]
pub async fn remove_purchase_order_line(
    ctx: TenantCtx,
    AppPath((id, line_id)): AppPath<(Uuid, Uuid)>,
) -> ApiResult<Json<PurchaseOrderView>> {
    let actor = ctx.actor();
    write(&ctx, async |txn| {
        orders::remove_line(txn, &actor, id, line_id).await
    })
    .await
}

/// Approves a draft at or above the owner's threshold (owner, admin).
#[utoipa::path(
    post, path = "/pos/api/purchase-orders/{id}/approve", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, body = PurchaseOrderView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_purchase_order_state`, `approval_not_needed`", body = ErrorBody),
    )
)]
pub async fn approve_purchase_order(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<PurchaseOrderView>> {
    let actor = ctx.actor();
    write(&ctx, async |txn| orders::approve(txn, &actor, id).await).await
}

/// Sends a draft to the supplier (owner, admin, manager): its PDF is e-mailed through the
/// notifications channel (parked with the reason while e-mail is not configured).
#[utoipa::path(
    post, path = "/pos/api/purchase-orders/{id}/send", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, body = PurchaseOrderView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_purchase_order_state`, `approval_required`, `purchase_order_empty`", body = ErrorBody),
    )
)]
pub async fn send_purchase_order(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<PurchaseOrderView>> {
    let actor = ctx.actor();
    let tenant_id = ctx.principal.tenant.id;
    let v = write(&ctx, async |txn| {
        let d = orders::send(txn, &actor, id).await?;
        jobs::outbox::enqueue(
            txn,
            &jobs::purchasing::SendPurchaseOrder {
                tenant_id,
                purchase_order_id: id,
            },
        )
        .await
        .map_err(|e| entities::Error::Internal(e.to_string()))?;
        Ok(d)
    })
    .await?;
    state.waker.wake(tenant_id);
    Ok(v)
}

/// The supplier accepted a sent order (owner, admin, manager).
#[utoipa::path(
    post, path = "/pos/api/purchase-orders/{id}/confirm", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, body = PurchaseOrderView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_purchase_order_state`", body = ErrorBody),
    )
)]
pub async fn confirm_purchase_order(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<PurchaseOrderView>> {
    let actor = ctx.actor();
    write(&ctx, async |txn| orders::confirm(txn, &actor, id).await).await
}

/// Cancels an order nothing was received on (owner, admin, manager); its special orders go back
/// to `open`.
#[utoipa::path(
    post, path = "/pos/api/purchase-orders/{id}/cancel", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, body = PurchaseOrderView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_purchase_order_state` (after a receipt, or done)", body = ErrorBody),
    )
)]
pub async fn cancel_purchase_order(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<PurchaseOrderView>> {
    let actor = ctx.actor();
    write(&ctx, async |txn| orders::cancel(txn, &actor, id).await).await
}

/// Closes a received order, or closes a partially received one short: its back order no longer
/// counts as on order (owner, admin, manager).
#[utoipa::path(
    post, path = "/pos/api/purchase-orders/{id}/close", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses(
        (status = 200, body = PurchaseOrderView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_purchase_order_state`", body = ErrorBody),
    )
)]
pub async fn close_purchase_order(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<PurchaseOrderView>> {
    let actor = ctx.actor();
    write(&ctx, async |txn| orders::close(txn, &actor, id).await).await
}
