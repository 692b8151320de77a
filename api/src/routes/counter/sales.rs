//! `/pos/api/sales`: checkout (from direct lines or the cashier's cart), reading sales back,
//! returns, cancellations and the ticket a printer needs.
//!
//! A checkout is one tenant-DB transaction: the sale, its lines and payments, the stock
//! decrements and ledger rows, the `sales.sale_completed` job and, when a balance crosses its
//! minimum, an `inventory.low_stock` job. It honours `Idempotency-Key`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use entities::counter::sales::{
    self, CheckoutOutcome, LineInput, Method, NewSale, PaymentInput, SaleDoc, SaleFilter,
};
use entities::rules::money::{Currency, Money, Rate};
use entities::{PageRequest, sea_orm};
use entities::{
    counter::tables::cart, counter::tables::cart_line, counter::tables::payment,
    counter::tables::sale, counter::tables::sale_line, customers::tables::customer,
    org::tables::branch,
};
use jobs::{
    counter::SaleCompleted,
    inventory::{LowBalance, LowStock},
};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery, body_as};
use crate::idempotency::Written;
use crate::state::AppState;

/// The sales routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_sale, list_sales))
        .routes(routes!(get_sale))
        .routes(routes!(get_ticket))
        .routes(routes!(return_lines))
        .routes(routes!(cancel_sale))
}

/// A percentage as basis points: `"12.5"` → 1250.
pub(crate) fn percent_bp(field: &str, p: Option<Decimal>) -> ApiResult<i32> {
    let Some(p) = p else { return Ok(0) };
    let p = p.normalize();
    if p.scale() > 2 || p.is_sign_negative() || p > Decimal::ONE_HUNDRED {
        return Err(ApiError::invalid(
            field,
            format!("{field} is a percentage from 0 to 100 with at most 2 decimals"),
        ));
    }
    (p * Decimal::ONE_HUNDRED)
        .to_i32()
        .ok_or_else(|| ApiError::invalid(field, format!("{field} is a percentage from 0 to 100")))
}

/// A line of a direct checkout or a quote.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineRequest {
    /// The item.
    pub item_id: Uuid,
    /// The warehouse it is taken from: any warehouse of the business.
    pub warehouse_id: Uuid,
    /// Units (at least 1).
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub qty: i64,
    /// Discount in percent (`"10"`), within the role's limit: cashier 10, manager 30.
    /// (`discount` is read as this too; in every response `discount` is the amount.)
    #[serde(alias = "discount")]
    #[schema(value_type = Option<crate::formats::Percent>)]
    #[serde(default, with = "crate::extract::decimal_text_option")]
    pub discount_percent: Option<Decimal>,
}

impl LineRequest {
    pub(crate) fn input(&self, i: usize) -> ApiResult<LineInput> {
        Ok(LineInput {
            item_id: self.item_id,
            warehouse_id: self.warehouse_id,
            qty: self.qty,
            discount_bp: percent_bp(
                &format!("lines[{i}].discount_percent"),
                self.discount_percent,
            )?,
            fixed_price: None,
        })
    }
}

/// A payment tendered.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    /// `cash`, `card`, `transfer`, `usd_cash`, `credit` (the customer's account),
    /// `store_credit` (the customer's saldo a favor) or `points` (the customer's loyalty
    /// points, 1 point = 1 centavo).
    #[schema(pattern = "^(cash|card|transfer|usd_cash|credit|store_credit|points)$", value_type = String, example = "cash")]
    pub method: Method,
    /// Amount in the payment's currency (`"500.00"`).
    #[schema(value_type = crate::formats::PositiveAmount, example = "500.00")]
    #[serde(with = "crate::extract::decimal_text")]
    pub amount: Decimal,
    /// `MXN` (default) or `USD` (cash only: the same as `usd_cash`).
    #[schema(pattern = "^(MXN|USD)$")]
    pub currency: Option<String>,
    /// Card authorisation or transfer reference.
    pub reference: Option<String>,
}

pub(crate) fn payments(ps: &[PaymentRequest]) -> ApiResult<Vec<PaymentInput>> {
    ps.iter()
        .enumerate()
        .map(|(i, p)| {
            let cur = match &p.currency {
                Some(c) => Currency::parse(&format!("payments[{i}].currency"), c)?,
                None if p.method == Method::UsdCash => Currency::Usd,
                None => Currency::Mxn,
            };
            let method = match (p.method, cur) {
                (Method::Cash | Method::UsdCash, Currency::Usd) => Method::UsdCash,
                (Method::UsdCash, Currency::Mxn) => {
                    return Err(ApiError::invalid(
                        &format!("payments[{i}].currency"),
                        "usd_cash is paid in USD",
                    ));
                }
                (m, Currency::Usd) => {
                    return Err(ApiError::invalid(
                        &format!("payments[{i}].currency"),
                        format!("{} is paid in MXN; only cash may be USD", m.as_str()),
                    ));
                }
                (m, Currency::Mxn) => m,
            };
            let amount = Money::from_decimal(&format!("payments[{i}].amount"), p.amount)?;
            let reference = p
                .reference
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned);
            if reference.as_ref().is_some_and(|r| r.chars().count() > 100) {
                return Err(ApiError::invalid(
                    &format!("payments[{i}].reference"),
                    "a reference is at most 100 characters",
                ));
            }
            Ok(PaymentInput {
                method,
                amount_minor: amount.0,
                reference,
            })
        })
        .collect()
}

/// A checkout: direct `lines`, or `from_cart: true` for the cashier's cart.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckoutRequest {
    /// The branch selling (required with direct lines; the cart's otherwise).
    pub branch_id: Option<Uuid>,
    /// The customer, when known.
    pub customer_id: Option<Uuid>,
    /// Another price list than the customer's (manager and up).
    #[schema(pattern = "^(mostrador|taller|flotilla|mayoreo)$", example = "taller")]
    pub price_list: Option<String>,
    /// Direct lines.
    #[schema(min_items = 1, max_items = 200)]
    pub lines: Option<Vec<LineRequest>>,
    /// Sell the cashier's cart (its lines, branch, customer and list) and close it.
    #[serde(default)]
    pub from_cart: bool,
    /// Payments: together at least the total; change only from cash.
    pub payments: Vec<PaymentRequest>,
    /// Note on the ticket.
    pub note: Option<String>,
    /// The drawer session the money goes through; your own open one in the branch when absent.
    /// Cash needs one where the branch requires drawers (the default).
    pub drawer_session_id: Option<Uuid>,
    /// The customer's registered vehicle the sale is for (a fleet unit), stored on the sale.
    pub vehicle_id: Option<Uuid>,
    /// Its odometer now, km: recorded as a reading, so never below the current one.
    #[schema(minimum = 0, maximum = 3_000_000)]
    pub odometer: Option<i64>,
}

/// A sale line.
#[derive(Debug, Serialize, ToSchema)]
pub struct SaleLineView {
    /// Position from 1.
    pub line_no: i32,
    /// `part`, `labour` (a service order's operation) or `core` (the deposit for the old unit of
    /// the part line before it).
    pub kind: String,
    /// Item.
    pub item_id: Uuid,
    /// SKU.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Warehouse the stock came from (the nil id on a labour line, which takes no stock).
    pub warehouse_id: Uuid,
    /// Units.
    pub qty: i64,
    /// Units returned so far.
    pub returned_qty: i64,
    /// Unit price, IVA included.
    #[schema(value_type = String)]
    pub unit_price: Money,
    /// Reference retail unit price.
    #[schema(value_type = String)]
    pub retail_unit_price: Money,
    /// Discount.
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
    #[schema(value_type = String)]
    pub iva_rate: Decimal,
}

impl From<&sale_line::Model> for SaleLineView {
    fn from(l: &sale_line::Model) -> Self {
        Self {
            line_no: l.line_no,
            kind: l.kind.to_string(),
            item_id: l.item_id,
            sku: l.sku.clone(),
            name: l.name.clone(),
            warehouse_id: l.warehouse_id,
            qty: l.qty,
            returned_qty: l.returned_qty,
            unit_price: Money(l.unit_price_cents),
            retail_unit_price: Money(l.retail_unit_cents),
            discount: Money(l.discount_cents),
            base: Money(l.base_cents),
            tax: Money(l.tax_cents),
            total: Money(l.total_cents),
            savings: Money(l.savings_cents),
            iva_rate: Decimal::new(i64::from(l.iva_rate_bp), 4).normalize(),
        }
    }
}

/// A payment.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentView {
    /// Method.
    pub method: String,
    /// Currency tendered.
    pub currency: String,
    /// Amount tendered, in its currency.
    #[schema(value_type = String)]
    pub amount: Money,
    /// The same in MXN.
    #[schema(value_type = String)]
    pub amount_mxn: Money,
    /// Rate used (`"1"` for MXN).
    #[schema(value_type = String)]
    pub exchange_rate: Rate,
    /// Reference.
    pub reference: Option<String>,
}

impl From<&payment::Model> for PaymentView {
    fn from(p: &payment::Model) -> Self {
        Self {
            method: p.method.clone(),
            currency: p.currency.clone(),
            amount: Money(p.amount_minor),
            amount_mxn: Money(p.amount_mxn_cents),
            exchange_rate: Rate(p.exchange_rate_micros),
            reference: p.reference.clone(),
        }
    }
}

/// A sale summary (lists).
#[derive(Debug, Serialize, ToSchema)]
pub struct SaleSummary {
    /// Id.
    pub id: Uuid,
    /// Folio.
    pub folio: String,
    /// Branch.
    pub branch_id: Uuid,
    /// Customer.
    pub customer_id: Option<Uuid>,
    /// Cashier.
    pub cashier_id: Uuid,
    /// `completed`, `partially_returned`, `returned` or `cancelled`.
    pub status: String,
    /// Price list used.
    pub price_list: String,
    /// USD rate stored on the sale.
    #[schema(value_type = String)]
    pub exchange_rate: Rate,
    /// Sum of bases.
    #[schema(value_type = String)]
    pub subtotal: Money,
    /// Sum of discounts.
    #[schema(value_type = String)]
    pub discount: Money,
    /// Sum of IVA.
    #[schema(value_type = String)]
    pub tax: Money,
    /// Total (sum of the lines).
    #[schema(value_type = String)]
    pub total: Money,
    /// At reference retail prices.
    #[schema(value_type = String)]
    pub retail_total: Money,
    /// Savings.
    #[schema(value_type = String)]
    pub savings: Money,
    /// Paid, MXN.
    #[schema(value_type = String)]
    pub paid: Money,
    /// Change given.
    #[schema(value_type = String)]
    pub change: Money,
    /// Refunded by returns.
    #[schema(value_type = String)]
    pub refunded: Money,
    /// Quote it came from.
    pub quote_id: Option<Uuid>,
    /// The service order it charged at delivery.
    pub service_order_id: Option<Uuid>,
    /// The drawer session its money went through.
    pub drawer_session_id: Option<Uuid>,
    /// Note.
    pub note: Option<String>,
    /// Sold at.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Cancelled at.
    pub cancelled_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<&sale::Model> for SaleSummary {
    fn from(s: &sale::Model) -> Self {
        Self {
            id: s.id,
            folio: s.folio.clone(),
            branch_id: s.branch_id,
            customer_id: s.customer_id,
            cashier_id: s.cashier_id,
            status: s.status.to_string(),
            price_list: s.price_list.clone(),
            exchange_rate: Rate(s.exchange_rate_micros),
            subtotal: Money(s.subtotal_cents),
            discount: Money(s.discount_cents),
            tax: Money(s.tax_cents),
            total: Money(s.total_cents),
            retail_total: Money(s.retail_total_cents),
            savings: Money(s.savings_cents),
            paid: Money(s.paid_cents),
            change: Money(s.change_cents),
            refunded: Money(s.refunded_cents),
            quote_id: s.quote_id,
            service_order_id: s.service_order_id,
            drawer_session_id: s.drawer_session_id,
            note: s.note.clone(),
            created_at: s.created_at,
            cancelled_at: s.cancelled_at,
        }
    }
}

/// A sale with its lines and payments.
#[derive(Debug, Serialize, ToSchema)]
pub struct SaleView {
    /// The sale.
    #[serde(flatten)]
    pub sale: SaleSummary,
    /// Lines.
    pub lines: Vec<SaleLineView>,
    /// Payments.
    pub payments: Vec<PaymentView>,
}

impl From<&SaleDoc> for SaleView {
    fn from(d: &SaleDoc) -> Self {
        Self {
            sale: (&d.sale).into(),
            lines: d.lines.iter().map(Into::into).collect(),
            payments: d.payments.iter().map(Into::into).collect(),
        }
    }
}

/// The cashier's cart as checkout lines.
async fn cart_lines(ctx: &TenantCtx) -> ApiResult<(cart::Model, Vec<LineInput>)> {
    let c = cart::Entity::find()
        .filter(cart::Column::UserId.eq(ctx.principal.user_id))
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::Conflict {
            code: "cart_empty",
            message: "you have no open cart".into(),
        })?;
    let lines = cart_line::Entity::find()
        .filter(cart_line::Column::CartId.eq(c.id))
        .order_by_asc(cart_line::Column::Position)
        .all(&ctx.db)
        .await?;
    if lines.is_empty() {
        return Err(ApiError::Conflict {
            code: "cart_empty",
            message: "the cart has no lines".into(),
        });
    }
    let inputs = lines
        .iter()
        .map(|l| LineInput {
            item_id: l.item_id,
            warehouse_id: l.warehouse_id,
            qty: l.qty,
            discount_bp: l.discount_bp,
            fixed_price: None,
        })
        .collect();
    Ok((c, inputs))
}

/// A checkout in the caller's write transaction, with its jobs: the sale's answer and the
/// items whose stock changed. Shared by sales and quote conversion, each through
/// [`crate::idempotency::write_once`]; the caller then runs [`checked_out`].
pub(crate) async fn checkout_in(
    state: &AppState,
    ctx: &TenantCtx,
    txn: &sea_orm::DatabaseTransaction,
    new: NewSale,
    close_cart: Option<Uuid>,
    after: impl AsyncFnOnce(&sea_orm::DatabaseTransaction, &CheckoutOutcome) -> ApiResult<()>,
) -> ApiResult<(serde_json::Value, Vec<Uuid>)> {
    let tenant_id = ctx.principal.tenant.id;
    let out = sales::checkout(txn, &ctx.seller(), new, state.config.usd_rate).await?;
    if let Some(cart_id) = close_cart {
        sales::close_cart(txn, cart_id).await?;
    }
    after(txn, &out).await?;
    jobs::outbox::enqueue(
        txn,
        &SaleCompleted {
            tenant_id,
            sale_id: out.doc.sale.id,
        },
    )
    .await?;
    if !out.low_stock.is_empty() {
        jobs::outbox::enqueue(
            txn,
            &LowStock {
                tenant_id,
                source: format!("sale:{}", out.doc.sale.id),
                balances: out
                    .low_stock
                    .iter()
                    .map(|l| LowBalance {
                        item_id: l.item_id,
                        warehouse_id: l.warehouse_id,
                        qty: l.qty,
                        min_qty: l.min_qty,
                    })
                    .collect(),
            },
        )
        .await?;
    }
    let body = serde_json::to_value(SaleView::from(&out.doc))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((body, out.touched_items))
}

/// The answer of a checkout: the replayed first one, or this one after the relay was woken and
/// the sold items left the stock cache.
pub(crate) async fn checked_out(
    state: &AppState,
    ctx: &TenantCtx,
    written: Written<Vec<Uuid>>,
) -> Response {
    match written {
        Written::Replayed(resp) => resp,
        Written::Done(status, body, touched) => {
            let tenant_id = ctx.principal.tenant.id;
            state.waker.wake(tenant_id);
            state.stock_changed(tenant_id, &touched).await;
            (status, Json(body)).into_response()
        }
    }
}

/// Makes a sale.
///
/// From direct `lines` (each from any warehouse of the business) or from the cashier's cart
/// (`from_cart: true`). Prices come from the customer's list in the branch; each line's IVA is
/// taken out of its total at the branch's rate; the sale's totals are sums of the rounded lines.
/// Stock never goes below zero: a short line is 409 `insufficient_stock` and nothing is written.
/// Send an `Idempotency-Key` to make retries safe.
#[utoipa::path(
    post,
    path = "/pos/api/sales",
    tag = "sales",
    request_body = CheckoutRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    responses(
        (status = 201, description = "Sold", body = SaleView),
        (status = 403, description = "Role may not sell, or a discount beyond its limit", body = ErrorBody),
        (status = 404, description = "Branch, customer, item or warehouse not found", body = ErrorBody),
        (status = 409, description = "`insufficient_stock`, `item_inactive`, `customer_inactive`, `branch_inactive`, `idempotency_key_in_use`, `cart_empty`, `credit_limit_exceeded`, `store_credit_insufficient`, `points_insufficient`, `drawer_not_open` (cash without an open drawer session), `drawer_closed`, `vehicle_of_another_customer`, `odometer_below_current`", body = ErrorBody),
        (status = 422, description = "Invalid field, or the key was used with another body", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_sale(
    State(state): State<AppState>,
    ctx: TenantCtx,
    headers: HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: CheckoutRequest = body_as(&raw)?;
    let written = crate::idempotency::write_once(
        &ctx.db,
        &headers,
        "sales.create",
        &raw,
        StatusCode::CREATED,
        async |txn| {
            let (vehicle_id, odometer) = (req.vehicle_id, req.odometer);
            let (new, cart_id) = prepare(&ctx, req).await?;
            checkout_in(&state, &ctx, txn, new, cart_id, async |txn, out| {
                // A fleet unit's sale: the vehicle and its odometer, in the sale's transaction.
                entities::fleets::readings::on_sale(
                    txn,
                    &ctx.seller(),
                    out.doc.sale.id,
                    out.doc.sale.customer_id,
                    vehicle_id,
                    odometer,
                )
                .await?;
                Ok(())
            })
            .await
        },
    )
    .await?;
    Ok(checked_out(&state, &ctx, written).await)
}

async fn prepare(ctx: &TenantCtx, req: CheckoutRequest) -> ApiResult<(NewSale, Option<Uuid>)> {
    let pays = payments(&req.payments)?;
    if req.from_cart {
        if req.lines.is_some() || req.branch_id.is_some() || req.customer_id.is_some() {
            return Err(ApiError::invalid(
                "from_cart",
                "a cart checkout takes its lines, branch and customer from the cart",
            ));
        }
        let (c, lines) = cart_lines(ctx).await?;
        return Ok((
            NewSale {
                branch_id: c.branch_id,
                customer_id: c.customer_id,
                price_list: Some(c.price_list.clone()),
                lines,
                payments: pays,
                note: req.note,
                quote_id: None,
                fixed_rate: None,
                drawer_session_id: req.drawer_session_id,
            },
            Some(c.id),
        ));
    }
    let branch_id = req
        .branch_id
        .ok_or_else(|| ApiError::invalid("branch_id", "branch_id is required"))?;
    let lines = req
        .lines
        .as_deref()
        .ok_or_else(|| ApiError::invalid("lines", "send lines, or from_cart: true"))?
        .iter()
        .enumerate()
        .map(|(i, l)| l.input(i))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok((
        NewSale {
            branch_id,
            customer_id: req.customer_id,
            price_list: req.price_list,
            lines,
            payments: pays,
            note: req.note,
            quote_id: None,
            fixed_rate: None,
            drawer_session_id: req.drawer_session_id,
        },
        None,
    ))
}

/// Filters of the sales list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SaleQuery {
    /// Page from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size (≤ 200).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    /// One branch.
    pub branch_id: Option<Uuid>,
    /// One customer.
    pub customer_id: Option<Uuid>,
    /// One status.
    #[param(pattern = "^(completed|partially_returned|returned|cancelled)$")]
    pub status: Option<String>,
    /// Sold at or after (RFC 3339).
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Sold before (RFC 3339).
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

/// A page of sales.
pub type SalePage = crate::page::Page<SaleSummary>;

impl crate::page::Listed for SaleSummary {
    const PAGE: &'static str = "SalePage";
    const PAGE_DOC: &'static str = "A page of sales.";
    const ITEMS_DOC: &'static str = "Sales, newest first.";
}

/// Lists sales of the caller's branches, newest first.
#[utoipa::path(
    get,
    path = "/pos/api/sales",
    tag = "sales",
    params(SaleQuery),
    responses((status = 200, body = SalePage)),
    security(("bearer" = []))
)]
pub async fn list_sales(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<SaleQuery>,
) -> ApiResult<Json<SalePage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    if let Some(st) = q.status.as_deref()
        && st.parse::<sales::Status>().is_err()
    {
        return Err(ApiError::invalid(
            "status",
            "status: completed, partially_returned, returned or cancelled",
        ));
    }
    let p = sales::list_sales(
        &ctx.db,
        &SaleFilter {
            branch_id: q.branch_id,
            customer_id: q.customer_id,
            status: q.status,
            from: q.from,
            to: q.to,
            scope: ctx.principal.branch_scope.clone(),
        },
        page,
    )
    .await?;
    Ok(Json(SalePage::from_rows(p, |row| (&row).into())))
}

async fn visible_sale(ctx: &TenantCtx, id: Uuid) -> ApiResult<SaleDoc> {
    let doc = sales::get_sale(&ctx.db, id).await?;
    if !ctx.principal.can_see_branch(doc.sale.branch_id) {
        return Err(ApiError::NotFound("sale"));
    }
    Ok(doc)
}

/// One sale with lines and payments.
#[utoipa::path(
    get,
    path = "/pos/api/sales/{id}",
    tag = "sales",
    params(("id" = Uuid, Path, description = "Sale id")),
    responses((status = 200, body = SaleView), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_sale(ctx: TenantCtx, AppPath(id): AppPath<Uuid>) -> ApiResult<Json<SaleView>> {
    Ok(Json(SaleView::from(&visible_sale(&ctx, id).await?)))
}

/// What a ticket printer needs.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ticket {
    /// Business name.
    pub business: String,
    /// Branch name.
    pub branch: String,
    /// Branch address.
    pub address: Option<String>,
    /// Branch phone.
    pub phone: Option<String>,
    /// Folio.
    pub folio: String,
    /// Local date and time at the branch (`2026-11-25 10:31`).
    pub date: String,
    /// Customer name.
    pub customer: Option<String>,
    /// The customer's RFC, when known.
    pub customer_rfc: Option<String>,
    /// Who sold it.
    pub cashier: Option<String>,
    /// Lines.
    pub lines: Vec<SaleLineView>,
    /// IVA summary per rate: (rate, base, tax).
    pub taxes: Vec<TicketTax>,
    /// Sale totals and payments.
    pub sale: SaleSummary,
    /// Payments.
    pub payments: Vec<PaymentView>,
    /// The sale as 40-column text for ESC/POS printers.
    pub text: String,
}

/// The IVA of one rate on a ticket.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketTax {
    /// Rate.
    #[schema(value_type = String)]
    pub rate: Decimal,
    /// Base.
    #[schema(value_type = String)]
    pub base: Money,
    /// IVA.
    #[schema(value_type = String)]
    pub tax: Money,
}

const WIDTH: usize = 40;

/// Breaks text into lines of at most [`WIDTH`] columns at spaces (a word longer than a line is
/// cut), so a long part name prints whole.
fn wrap(text: &str, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: String = word.chars().take(WIDTH - indent.chars().count()).collect();
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > WIDTH {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if line.is_empty() {
            line.push_str(indent);
        } else {
            line.push(' ');
        }
        line.push_str(&std::mem::take(&mut word));
    }
    if !line.is_empty() {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// How a payment method reads on a ticket.
fn method_es(method: &str) -> &str {
    match method {
        "cash" => "Efectivo",
        "card" => "Tarjeta",
        "transfer" => "Transferencia",
        "usd_cash" => "Efectivo USD",
        "credit" => "Crédito",
        other => other,
    }
}

fn row(left: &str, right: &str) -> String {
    let l: String = left
        .chars()
        .take(WIDTH.saturating_sub(right.len() + 1))
        .collect();
    let pad = WIDTH.saturating_sub(l.chars().count() + right.chars().count());
    format!("{l}{}{right}\n", " ".repeat(pad))
}

/// The ticket of a sale: business, branch, folio, local time, lines, IVA per rate, totals,
/// payments, change and savings, with a 40-column text rendering.
#[utoipa::path(
    get,
    path = "/pos/api/sales/{id}/ticket",
    tag = "sales",
    params(("id" = Uuid, Path, description = "Sale id")),
    responses((status = 200, body = Ticket), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_ticket(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<Ticket>> {
    let doc = visible_sale(&ctx, id).await?;
    let b = branch::Entity::find_by_id(doc.sale.branch_id)
        .one(&ctx.db)
        .await?
        .ok_or(ApiError::NotFound("branch"))?;
    let (customer, customer_rfc) = match doc.sale.customer_id {
        Some(c) => customer::Entity::find_by_id(c)
            .one(&ctx.db)
            .await?
            .map_or((None, None), |c| (Some(c.name), c.rfc)),
        None => (None, None),
    };
    let cashier = entities::org::accounts::find_user(&state.platform, doc.sale.cashier_id)
        .await
        .ok()
        .map(|u| u.full_name);
    let returns = sales::returns_of(&ctx.db, doc.sale.id).await?;
    let tz: chrono_tz::Tz = b
        .timezone
        .parse()
        .unwrap_or(chrono_tz::America::Mexico_City);
    let date = doc
        .sale
        .created_at
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let mut taxes: Vec<TicketTax> = Vec::new();
    for l in &doc.lines {
        let rate = Decimal::new(i64::from(l.iva_rate_bp), 4).normalize();
        match taxes.iter_mut().find(|t| t.rate == rate) {
            Some(t) => {
                t.base.0 += l.base_cents;
                t.tax.0 += l.tax_cents;
            }
            None => taxes.push(TicketTax {
                rate,
                base: Money(l.base_cents),
                tax: Money(l.tax_cents),
            }),
        }
    }
    let business = ctx.principal.tenant.name.clone();
    let mut text = String::new();
    if doc.sale.status == "cancelled" {
        text.push_str(&format!("{:^WIDTH$}\n", "*** CANCELADA ***"));
    }
    text.push_str(&format!("{business:^WIDTH$}\n{:^WIDTH$}\n", b.name));
    if let Some(a) = &b.address {
        text.push_str(&format!(
            "{:^WIDTH$}\n",
            a.chars().take(WIDTH).collect::<String>()
        ));
    }
    text.push_str(&row(&format!("Folio {}", doc.sale.folio), &date));
    if let Some(c) = &customer {
        text.push_str(&wrap(&format!("Cliente: {c}"), ""));
    }
    if let Some(rfc) = &customer_rfc {
        text.push_str(&format!("RFC: {rfc}\n"));
    }
    if let Some(c) = &cashier {
        text.push_str(&wrap(&format!("Le atendió: {c}"), ""));
    }
    text.push_str(&"-".repeat(WIDTH));
    text.push('\n');
    for l in &doc.lines {
        text.push_str(&wrap(&l.name, ""));
        text.push_str(&row(
            &format!(
                "  {} x {} {}",
                l.qty,
                Money(l.unit_price_cents).grouped(),
                l.sku
            ),
            &Money(l.total_cents).grouped(),
        ));
        if l.discount_cents > 0 {
            text.push_str(&row(
                "  Descuento",
                &format!("-{}", Money(l.discount_cents).grouped()),
            ));
        }
    }
    text.push_str(&"-".repeat(WIDTH));
    text.push('\n');
    text.push_str(&row("Subtotal", &Money(doc.sale.subtotal_cents).grouped()));
    for t in &taxes {
        text.push_str(&row(
            &format!("IVA {}%", t.rate * Decimal::ONE_HUNDRED),
            &t.tax.grouped(),
        ));
    }
    text.push_str(&row("TOTAL", &Money(doc.sale.total_cents).grouped()));
    for p in &doc.payments {
        text.push_str(&row(
            &format!("{} {}", method_es(&p.method), p.currency),
            &Money(p.amount_minor).grouped(),
        ));
        if let Some(reference) = p.reference.as_deref().filter(|r| !r.trim().is_empty()) {
            text.push_str(&wrap(&format!("Ref. {reference}"), "  "));
        }
        if p.currency == "USD" {
            text.push_str(&format!(
                "  Tipo de cambio {} MXN/USD\n",
                Rate(p.exchange_rate_micros)
            ));
        }
    }
    text.push_str(&row("Cambio", &Money(doc.sale.change_cents).grouped()));
    for r in &returns {
        let what = if r.kind == "cancellation" {
            "Cancelación"
        } else {
            "Devolución"
        };
        text.push_str(&row(
            &format!(
                "{what} {}",
                r.created_at.with_timezone(&tz).format("%Y-%m-%d")
            ),
            &format!("-{}", Money(r.refund_cents).grouped()),
        ));
    }
    if doc.sale.savings_cents > 0 {
        text.push_str(&wrap(
            &format!(
                "Usted ahorró ${} en esta compra",
                Money(doc.sale.savings_cents).grouped()
            ),
            "",
        ));
    }
    Ok(Json(Ticket {
        business,
        branch: b.name,
        address: b.address,
        phone: b.phone,
        folio: doc.sale.folio.clone(),
        date,
        customer,
        customer_rfc,
        cashier,
        lines: doc.lines.iter().map(Into::into).collect(),
        taxes,
        sale: (&doc.sale).into(),
        payments: doc.payments.iter().map(Into::into).collect(),
        text,
    }))
}

/// Units to return.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    /// Lines and units.
    pub lines: Vec<ReturnLine>,
    /// Why.
    #[schema(min_length = 1, max_length = 500, pattern = "\\S")]
    pub reason: String,
    /// How what is not taken off the customer's account is paid back; the way the sale was
    /// mostly paid when absent.
    pub refund_method: Option<RefundMethod>,
    /// `MXN` (default), or `USD` for cash at the sale's rate.
    #[schema(pattern = "^(MXN|USD)$", value_type = Option<String>, example = "MXN")]
    pub refund_currency: Option<String>,
    /// The drawer session the money leaves from; your own open one in the sale's branch when
    /// absent (a manager refunding at a cashier's drawer names it).
    pub drawer_session_id: Option<Uuid>,
}

/// How a refund is paid back.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundMethod {
    /// Notes and coins from the drawer.
    Cash,
    /// A reversal on the card terminal.
    Card,
    /// A bank transfer back.
    Transfer,
    /// Store credit (saldo a favor) for the sale's customer.
    StoreCredit,
}

impl From<RefundMethod> for sales::RefundMethod {
    fn from(m: RefundMethod) -> Self {
        match m {
            RefundMethod::Cash => Self::Cash,
            RefundMethod::Card => Self::Card,
            RefundMethod::Transfer => Self::Transfer,
            RefundMethod::StoreCredit => Self::StoreCredit,
        }
    }
}

pub(crate) fn refund_ask(
    method: Option<RefundMethod>,
    currency: Option<&str>,
    drawer_session_id: Option<Uuid>,
) -> ApiResult<sales::RefundAsk> {
    Ok(sales::RefundAsk {
        method: method.map(Into::into),
        currency: currency
            .map(|c| Currency::parse("refund_currency", c))
            .transpose()?,
        drawer_session_id,
    })
}

/// A line to return.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnLine {
    /// The sale's line number.
    pub line_no: i32,
    /// Units back.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub qty: i64,
}

/// A cancellation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// Why.
    #[schema(min_length = 1, max_length = 500, pattern = "\\S")]
    pub reason: String,
    /// How what is not taken off the customer's account is paid back; the way the sale was
    /// mostly paid when absent.
    pub refund_method: Option<RefundMethod>,
    /// `MXN` (default), or `USD` for cash at the sale's rate.
    #[schema(pattern = "^(MXN|USD)$", value_type = Option<String>, example = "MXN")]
    pub refund_currency: Option<String>,
    /// The drawer session the money leaves from; your own open one in the sale's branch when
    /// absent.
    pub drawer_session_id: Option<Uuid>,
}

/// A return or cancellation made.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReturnView {
    /// Return id.
    pub id: Uuid,
    /// `return`, `cancellation` or `core` (a core deposit refunded for the old unit).
    pub kind: String,
    /// Refund in MXN: what the lines that came back were worth.
    #[schema(value_type = String)]
    pub refund: Money,
    /// The part of the refund taken off the customer's account (what was still owed on a credit
    /// sale); the rest is paid back.
    #[schema(value_type = String)]
    pub to_account: Money,
    /// How the rest was paid back: `cash`, `card`, `transfer` or `store_credit`; absent when
    /// nothing was.
    pub refund_method: Option<String>,
    /// The currency it was paid back in.
    pub refund_currency: Option<String>,
    /// What was paid back, in `refund_currency` (`"0.00"` when nothing was).
    #[schema(value_type = String)]
    pub refunded_amount: Money,
    /// The drawer session the money left from.
    pub drawer_session_id: Option<Uuid>,
    /// Savings taken back.
    #[schema(value_type = String)]
    pub savings: Money,
    /// The sale after it.
    pub sale: SaleSummary,
}

impl From<&sales::ReturnDoc> for ReturnView {
    fn from(r: &sales::ReturnDoc) -> Self {
        Self {
            id: r.ret.id,
            kind: r.ret.kind.clone(),
            refund: Money(r.ret.refund_cents),
            to_account: Money(r.ret.account_credit_cents),
            refund_method: r.ret.refund_method.clone(),
            refund_currency: r.ret.refund_currency.clone(),
            refunded_amount: Money(r.ret.refund_minor),
            drawer_session_id: r.ret.drawer_session_id,
            savings: Money(r.ret.savings_cents),
            sale: (&r.sale).into(),
        }
    }
}

/// A return or cancellation asked for.
struct ReturnAsk<'a> {
    id: Uuid,
    lines: Vec<(i32, i64)>,
    reason: &'a str,
    cancel: bool,
    refund: sales::RefundAsk,
    scope: String,
    raw: &'a serde_json::Value,
}

async fn run_return(
    state: &AppState,
    ctx: &TenantCtx,
    headers: &HeaderMap,
    ask: ReturnAsk<'_>,
) -> ApiResult<Response> {
    let ReturnAsk {
        id,
        lines,
        reason,
        cancel,
        refund,
        scope,
        raw,
    } = ask;
    let written = crate::idempotency::write_once(
        &ctx.db,
        headers,
        &scope,
        raw,
        StatusCode::CREATED,
        async |txn| {
            let r =
                sales::return_items(txn, &ctx.seller(), id, &lines, reason, cancel, refund).await?;
            let body = serde_json::to_value(ReturnView::from(&r))
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok((body, r.touched_items))
        },
    )
    .await?;
    Ok(match written {
        Written::Replayed(resp) => resp,
        Written::Done(status, body, touched) => {
            state.stock_changed(ctx.principal.tenant.id, &touched).await;
            (status, Json(body)).into_response()
        }
    })
}

/// Returns units of a sale (manager and up): stock goes back to the warehouse it came from
/// through the ledger, the refund is the lines' share. Honours `Idempotency-Key`.
#[utoipa::path(
    post,
    path = "/pos/api/sales/{id}/returns",
    tag = "sales",
    params(("id" = Uuid, Path, description = "Sale id")),
    request_body = ReturnRequest,
    responses(
        (status = 201, body = ReturnView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`sale_cancelled`, `drawer_not_open`, `drawer_closed`", body = ErrorBody),
        (status = 422, description = "More units than are left on a line", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn return_lines(
    State(state): State<AppState>,
    ctx: TenantCtx,
    headers: HeaderMap,
    AppPath(id): AppPath<Uuid>,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: ReturnRequest = body_as(&raw)?;
    let lines = req.lines.iter().map(|l| (l.line_no, l.qty)).collect();
    let ask = ReturnAsk {
        id,
        lines,
        reason: &req.reason,
        cancel: false,
        refund: refund_ask(
            req.refund_method,
            req.refund_currency.as_deref(),
            req.drawer_session_id,
        )?,
        scope: format!("sales.return:{id}"),
        raw: &raw,
    };
    run_return(&state, &ctx, &headers, ask).await
}

/// Cancels a sale (manager and up): every unit not yet returned goes back, the sale is
/// `cancelled`. Honours `Idempotency-Key`.
#[utoipa::path(
    post,
    path = "/pos/api/sales/{id}/cancel",
    tag = "sales",
    params(("id" = Uuid, Path, description = "Sale id")),
    request_body = CancelRequest,
    responses(
        (status = 201, body = ReturnView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`sale_cancelled`, `nothing_to_return`, `drawer_not_open`, `drawer_closed`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn cancel_sale(
    State(state): State<AppState>,
    ctx: TenantCtx,
    headers: HeaderMap,
    AppPath(id): AppPath<Uuid>,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: CancelRequest = body_as(&raw)?;
    let ask = ReturnAsk {
        id,
        lines: Vec::new(),
        reason: &req.reason,
        cancel: true,
        refund: refund_ask(
            req.refund_method,
            req.refund_currency.as_deref(),
            req.drawer_session_id,
        )?,
        scope: format!("sales.cancel:{id}"),
        raw: &raw,
    };
    run_return(&state, &ctx, &headers, ask).await
}
