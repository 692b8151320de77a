//! `/pos/api/special-orders`: a customer's order of a part the store does not stock (pedido
//! especial) with its deposit, the purchase order it goes on, its arrival (held for the
//! customer) and pick-up.
//!
//! Taking, collecting and cancelling: the roles that sell. Ordering: managers and above.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use entities::PageRequest;
use entities::purchasing::special_orders::{self, NewSpecialOrder, SpecialOrderFilter, Status};
use entities::purchasing::tables::special_order;
use entities::rules::money::Money;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::routes::customers::accounts::PaymentMethod;
use crate::state::AppState;

/// The special-order routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_special_orders, create_special_order))
        .routes(routes!(get_special_order))
        .routes(routes!(order_special_order))
        .routes(routes!(collect_special_order))
        .routes(routes!(cancel_special_order))
}

/// A special order.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpecialOrderView {
    /// Id.
    pub id: Uuid,
    /// Folio, e.g. `PE-000012`.
    pub folio: String,
    /// Customer.
    pub customer_id: Uuid,
    /// Item.
    pub item_id: Uuid,
    /// Where it is received and held.
    pub warehouse_id: Uuid,
    /// Units.
    pub qty: i64,
    /// Deposit paid, MXN (held as the customer's store credit).
    #[schema(value_type = String, example = "500.00")]
    pub deposit: Money,
    /// Supplier.
    pub supplier_id: Option<Uuid>,
    /// `open`, `ordered`, `received`, `collected` or `cancelled`.
    pub status: String,
    /// The purchase order it is on.
    pub purchase_order_id: Option<Uuid>,
    /// Note.
    pub note: Option<String>,
    /// Arrived.
    pub received_at: Option<DateTime<Utc>>,
    /// Picked up.
    pub collected_at: Option<DateTime<Utc>>,
    /// Taken.
    pub created_at: DateTime<Utc>,
}

impl From<special_order::Model> for SpecialOrderView {
    fn from(s: special_order::Model) -> Self {
        Self {
            id: s.id,
            folio: s.folio,
            customer_id: s.customer_id,
            item_id: s.item_id,
            warehouse_id: s.warehouse_id,
            qty: s.qty,
            deposit: Money(s.deposit_cents),
            supplier_id: s.supplier_id,
            status: s.status.to_string(),
            purchase_order_id: s.purchase_order_id,
            note: s.note,
            received_at: s.received_at,
            collected_at: s.collected_at,
            created_at: s.created_at,
        }
    }
}

/// A page of special orders.
pub type SpecialOrderPage = crate::page::Page<SpecialOrderView>;

impl crate::page::Listed for SpecialOrderView {
    const PAGE: &'static str = "SpecialOrderPage";
    const PAGE_DOC: &'static str = "A page of special orders.";
    const ITEMS_DOC: &'static str = "Special orders, newest first.";
}

/// Filters and page of the special-order list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SpecialOrderQuery {
    /// One state.
    #[param(pattern = "^(open|ordered|received|collected|cancelled)$")]
    pub status: Option<String>,
    /// One customer.
    pub customer_id: Option<Uuid>,
    /// Only received ones waiting longer than the owner's number of days.
    pub overdue: Option<bool>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A special order to take.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSpecialOrderRequest {
    /// Customer.
    pub customer_id: Uuid,
    /// Item (create it first if the store never had it).
    pub item_id: Uuid,
    /// Where it is received and held.
    pub warehouse_id: Uuid,
    /// Units.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub qty: i64,
    /// Deposit, MXN (none by default).
    #[schema(value_type = Option<crate::formats::Amount>, example = "500.00")]
    #[serde(default, with = "crate::extract::decimal_text_option")]
    pub deposit: Option<rust_decimal::Decimal>,
    /// How the deposit was paid (cash by default).
    pub deposit_method: Option<PaymentMethod>,
    /// The supplier: when given, the part goes on its next order at once.
    pub supplier_id: Option<Uuid>,
    /// Note.
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

/// Special orders, newest first.
#[utoipa::path(
    get, path = "/pos/api/special-orders", tag = "purchasing", security(("bearer" = [])),
    params(SpecialOrderQuery),
    responses((status = 200, body = SpecialOrderPage), (status = 422, body = ErrorBody))
)]
pub async fn list_special_orders(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<SpecialOrderQuery>,
) -> ApiResult<Json<SpecialOrderPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let status = q
        .status
        .map(|s| {
            s.parse::<Status>().map_err(|_| {
                entities::Error::validation(
                    "status",
                    "status is open, ordered, received, collected or cancelled",
                )
            })
        })
        .transpose()?;
    let rows = special_orders::list(
        &ctx.db,
        SpecialOrderFilter {
            status,
            customer_id: q.customer_id,
            overdue: q.overdue.unwrap_or(false),
        },
        page,
    )
    .await?;
    Ok(Json(SpecialOrderPage::from_rows(rows, Into::into)))
}

/// Takes a special order (owner, admin, manager, cashier): the deposit goes to the customer's
/// store credit; with a supplier, the part goes on its next order (its open draft to that
/// warehouse, or a new one).
#[utoipa::path(
    post, path = "/pos/api/special-orders", tag = "purchasing", security(("bearer" = [])),
    request_body = CreateSpecialOrderRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer instead of a second order and deposit")),
    responses(
        (status = 201, body = SpecialOrderView),
        (status = 403, body = ErrorBody),
        (status = 404, description = "`customer_not_found`, `item_not_found`, `warehouse_not_found`, `supplier_not_found`", body = ErrorBody),
        (status = 409, description = "`warehouse_inactive`, `supplier_inactive`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn create_special_order(
    ctx: TenantCtx,
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<axum::response::Response> {
    let req: CreateSpecialOrderRequest = crate::extract::body_as(&raw)?;
    let new = NewSpecialOrder {
        customer_id: req.customer_id,
        item_id: req.item_id,
        warehouse_id: req.warehouse_id,
        qty: req.qty,
        deposit_cents: req
            .deposit
            .map(|d| Money::from_decimal("deposit", d).map(|m| m.0))
            .transpose()?
            .unwrap_or(0),
        deposit_method: req.deposit_method.map(Into::into),
        supplier_id: req.supplier_id,
        note: req.note,
    };
    let actor = ctx.actor();
    let default_rate = state.config.usd_rate;
    let written = crate::idempotency::write_once(
        &ctx.db,
        &headers,
        "purchasing.special_order",
        &raw,
        StatusCode::CREATED,
        async |txn| {
            let rate = entities::pricing::prices::current_rate(txn, default_rate).await?;
            let s = special_orders::create(txn, &actor, new, rate).await?;
            Ok((crate::extract::to_value(&SpecialOrderView::from(s))?, ()))
        },
    )
    .await?;
    Ok(written.response())
}

/// One special order.
#[utoipa::path(
    get, path = "/pos/api/special-orders/{id}", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Special order id")),
    responses((status = 200, body = SpecialOrderView), (status = 404, body = ErrorBody))
)]
pub async fn get_special_order(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<SpecialOrderView>> {
    Ok(Json(special_orders::get(&ctx.db, id).await?.into()))
}

/// The supplier to order a special order from.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderSpecialRequest {
    /// Supplier.
    pub supplier_id: Uuid,
}

/// Puts an open special order on the supplier's next purchase order (owner, admin, manager).
#[utoipa::path(
    post, path = "/pos/api/special-orders/{id}/order", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Special order id")),
    request_body = OrderSpecialRequest,
    responses(
        (status = 200, body = SpecialOrderView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_special_order_state`, `supplier_inactive`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn order_special_order(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<OrderSpecialRequest>,
) -> ApiResult<Json<SpecialOrderView>> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    let rate = entities::pricing::prices::current_rate(&txn, state.config.usd_rate).await?;
    let s = special_orders::order_from(&txn, &ctx.actor(), id, req.supplier_id, rate).await?;
    txn.commit().await?;
    Ok(Json(s.into()))
}

/// The customer picked up a received special order (owner, admin, manager, cashier).
#[utoipa::path(
    post, path = "/pos/api/special-orders/{id}/collect", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Special order id")),
    responses(
        (status = 200, body = SpecialOrderView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_special_order_state`", body = ErrorBody),
    )
)]
pub async fn collect_special_order(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<SpecialOrderView>> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    let s = special_orders::collect(&txn, &ctx.actor(), id).await?;
    txn.commit().await?;
    Ok(Json(s.into()))
}

/// Cancels a special order not yet collected (owner, admin, manager, cashier); the deposit stays
/// as the customer's store credit.
#[utoipa::path(
    post, path = "/pos/api/special-orders/{id}/cancel", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Special order id")),
    responses(
        (status = 200, body = SpecialOrderView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_special_order_state`", body = ErrorBody),
    )
)]
pub async fn cancel_special_order(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<SpecialOrderView>> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    let s = special_orders::cancel(&txn, &ctx.actor(), id).await?;
    txn.commit().await?;
    Ok(Json(s.into()))
}
