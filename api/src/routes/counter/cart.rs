//! `/pos/api/cart`: the cashier's cart on the server. One per user; lines from any warehouse of
//! the business; priced from the customer's list whenever it is read, with the stock of each
//! line. `POST /pos/api/sales` with `from_cart: true` sells it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use entities::counter::carts::{self, CartLineView};
use entities::pricing::prices;
use entities::rules::money::{Money, Rate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath};
use crate::routes::counter::sales::percent_bp;
use crate::state::AppState;

/// The cart routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_cart, open_cart, discard_cart))
        .routes(routes!(add_line))
        .routes(routes!(update_line, remove_line))
}

/// A priced cart.
#[derive(Debug, Serialize, ToSchema)]
pub struct CartView {
    /// Cart id.
    pub id: Uuid,
    /// Branch selling.
    pub branch_id: Uuid,
    /// Customer.
    pub customer_id: Option<Uuid>,
    /// Price list.
    pub price_list: String,
    /// USD rate in force.
    #[schema(value_type = String)]
    pub exchange_rate: Rate,
    /// Lines with prices, amounts and stock.
    pub lines: Vec<CartLineBody>,
    /// Sum of bases.
    #[schema(value_type = String)]
    pub subtotal: Money,
    /// Sum of discounts.
    #[schema(value_type = String)]
    pub discount: Money,
    /// Sum of IVA.
    #[schema(value_type = String)]
    pub tax: Money,
    /// Total.
    #[schema(value_type = String)]
    pub total: Money,
    /// Savings against retail prices.
    #[schema(value_type = String)]
    pub savings: Money,
}

/// A cart line: the core every line of the POS API carries (item, SKU, name, quantity, unit
/// price, discount, tax, total), with the percentage a re-priced line keeps and its stock.
#[derive(Debug, Serialize, ToSchema)]
pub struct CartLineBody {
    /// Line id (for `PATCH` and `DELETE /pos/api/cart/lines/{id}`).
    pub line_id: Uuid,
    /// Position, from 1.
    pub line_no: i32,
    /// Item.
    pub item_id: Uuid,
    /// SKU.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Warehouse it is taken from.
    pub warehouse_id: Uuid,
    /// Units.
    pub qty: i64,
    /// Unit price, IVA included.
    #[schema(value_type = String, example = "450.00")]
    pub unit_price: Money,
    /// Reference retail unit price.
    #[schema(value_type = String)]
    pub retail_unit_price: Money,
    /// The unit price in USD, when the list prices the item in dollars.
    #[schema(value_type = Option<String>)]
    pub usd_unit_price: Option<Money>,
    /// Discount in percent (`"10"`), as a request gives it.
    #[schema(value_type = String, example = "10")]
    pub discount_percent: Decimal,
    /// The discount's amount.
    #[schema(value_type = String)]
    pub discount: Money,
    /// Taxable base.
    #[schema(value_type = String)]
    pub base: Money,
    /// IVA.
    #[schema(value_type = String)]
    pub tax: Money,
    /// Line total.
    #[schema(value_type = String)]
    pub total: Money,
    /// Savings against the retail price.
    #[schema(value_type = String)]
    pub savings: Money,
    /// IVA rate (`"0.16"`).
    #[schema(value_type = String, example = "0.16")]
    pub iva_rate: Decimal,
    /// Units on hand in the line's warehouse.
    pub stock_here: i64,
    /// Units on hand in the whole business.
    pub stock_total: i64,
    /// Whether the line's warehouse has the units.
    pub available: bool,
}

impl From<CartLineView> for CartLineBody {
    fn from(l: CartLineView) -> Self {
        let p = l.priced;
        Self {
            line_id: l.line_id,
            line_no: p.line_no,
            item_id: p.item_id,
            sku: p.sku,
            name: p.name,
            warehouse_id: p.warehouse_id,
            qty: p.qty,
            unit_price: p.unit_price,
            retail_unit_price: p.retail_unit_price,
            usd_unit_price: p.usd_unit_price,
            discount_percent: Decimal::new(i64::from(p.discount_bp), 2).normalize(),
            discount: p.amounts.discount,
            base: p.amounts.base,
            tax: p.amounts.tax,
            total: p.amounts.total,
            savings: p.amounts.savings,
            iva_rate: Decimal::new(i64::from(p.iva_rate_bp), 4).normalize(),
            stock_here: l.stock_here,
            stock_total: l.stock_total,
            available: l.available,
        }
    }
}

async fn render(state: &AppState, ctx: &TenantCtx) -> ApiResult<Json<CartView>> {
    let rate = prices::current_rate(&ctx.db, state.config.usd_rate).await?;
    let v = carts::view(&ctx.db, &ctx.seller(), rate).await?;
    Ok(Json(CartView {
        id: v.cart.id,
        branch_id: v.cart.branch_id,
        customer_id: v.cart.customer_id,
        price_list: v.cart.price_list,
        exchange_rate: v.rate,
        lines: v.lines.into_iter().map(Into::into).collect(),
        subtotal: v.totals.subtotal,
        discount: v.totals.discount,
        tax: v.totals.tax,
        total: v.totals.total,
        savings: v.totals.savings,
    }))
}

/// The caller's cart, priced.
#[utoipa::path(
    get,
    path = "/pos/api/cart",
    tag = "cart",
    responses((status = 200, body = CartView), (status = 404, description = "No open cart", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_cart(State(state): State<AppState>, ctx: TenantCtx) -> ApiResult<Json<CartView>> {
    render(&state, &ctx).await
}

/// Opening or changing the cart.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenCart {
    /// Branch selling.
    pub branch_id: Uuid,
    /// Customer (their list prices the cart).
    pub customer_id: Option<Uuid>,
    /// Another list than the customer's (manager and up).
    #[schema(pattern = "^(mostrador|taller|flotilla|mayoreo)$", example = "taller")]
    pub price_list: Option<String>,
}

/// Opens the caller's cart, or changes its branch, customer or list (lines stay).
#[utoipa::path(
    put,
    path = "/pos/api/cart",
    tag = "cart",
    request_body = OpenCart,
    responses((status = 200, body = CartView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn open_cart(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppJson(req): AppJson<OpenCart>,
) -> ApiResult<Json<CartView>> {
    carts::open(
        &ctx.db,
        &ctx.seller(),
        req.branch_id,
        req.customer_id,
        req.price_list.as_deref(),
    )
    .await?;
    render(&state, &ctx).await
}

/// Empties and closes the caller's cart.
#[utoipa::path(
    delete,
    path = "/pos/api/cart",
    tag = "cart",
    responses((status = 204)),
    security(("bearer" = []))
)]
pub async fn discard_cart(ctx: TenantCtx) -> ApiResult<StatusCode> {
    carts::discard(&ctx.db, ctx.principal.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A line to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddLine {
    /// Item.
    pub item_id: Uuid,
    /// Warehouse it is taken from (any of the business).
    pub warehouse_id: Uuid,
    /// Units; added to the line's when the cart has this item from this warehouse already.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub qty: i64,
    /// Discount in percent (`"10"`), within the role's limit; without it a line already in the
    /// cart keeps its discount. (`discount` is read as this too.)
    #[serde(alias = "discount")]
    #[schema(value_type = Option<crate::formats::Percent>)]
    #[serde(default, with = "crate::extract::decimal_text_option")]
    pub discount_percent: Option<Decimal>,
}

/// Adds units to the cart (to the same item and warehouse's line when there is one).
#[utoipa::path(
    post,
    path = "/pos/api/cart/lines",
    tag = "cart",
    request_body = AddLine,
    responses((status = 201, body = CartView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn add_line(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppJson(req): AppJson<AddLine>,
) -> ApiResult<(StatusCode, Json<CartView>)> {
    // No discount named: a new line has none, a line already there keeps its own.
    let d = match req.discount_percent {
        Some(_) => Some(percent_bp("discount_percent", req.discount_percent)?),
        None => None,
    };
    carts::add_line(
        &ctx.db,
        &ctx.seller(),
        req.item_id,
        req.warehouse_id,
        req.qty,
        d,
    )
    .await?;
    let view = render(&state, &ctx).await?;
    // Nothing of the item anywhere in the business: the customer asked for what the store does
    // not have, a lost sale unless someone brings stock before checkout.
    if let Some(l) = view
        .lines
        .iter()
        .find(|l| l.item_id == req.item_id && l.stock_total <= 0)
    {
        let (item_id, qty) = (l.item_id, l.qty);
        crate::routes::purchasing::reorder::note_lost_sale(
            &ctx,
            item_id,
            Some(view.branch_id),
            qty,
            entities::purchasing::lost_sales::source::CART,
        )
        .await;
    }
    Ok((StatusCode::CREATED, view))
}

/// Changes to a line.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLine {
    /// New quantity.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub qty: Option<i64>,
    /// New discount in percent (`"10"`). (`discount` is read as this too.)
    #[serde(alias = "discount")]
    #[schema(value_type = Option<crate::formats::Percent>)]
    #[serde(default, with = "crate::extract::decimal_text_option")]
    pub discount_percent: Option<Decimal>,
}

/// Changes a line's quantity or discount.
#[utoipa::path(
    patch,
    path = "/pos/api/cart/lines/{id}",
    tag = "cart",
    params(("id" = Uuid, Path, description = "Cart line id")),
    request_body = UpdateLine,
    responses((status = 200, body = CartView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn update_line(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<UpdateLine>,
) -> ApiResult<Json<CartView>> {
    let d = match req.discount_percent {
        Some(_) => Some(percent_bp("discount_percent", req.discount_percent)?),
        None => None,
    };
    carts::update_line(&ctx.db, &ctx.seller(), id, req.qty, d).await?;
    render(&state, &ctx).await
}

/// Removes a line.
#[utoipa::path(
    delete,
    path = "/pos/api/cart/lines/{id}",
    tag = "cart",
    params(("id" = Uuid, Path, description = "Cart line id")),
    responses((status = 200, body = CartView), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn remove_line(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<CartView>> {
    carts::remove_line(&ctx.db, ctx.principal.user_id, id).await?;
    render(&state, &ctx).await
}
