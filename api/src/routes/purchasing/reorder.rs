//! Reorder (the seed's paths under `/pos/api/inventory`): rules per warehouse and item, the
//! alerts they raise, the suggested purchase orders (previewed, or created as drafts once per
//! supplier, warehouse and day), and lost sales.
//!
//! Everyone reads; managers and above change rules, generate alerts and create orders; every
//! role that records work may acknowledge an alert or record a lost sale.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use entities::PageRequest;
use entities::purchasing::lost_sales::{self, LostSaleFilter, NewLostSale, Reason};
use entities::purchasing::reorder::{
    self, AlertFilter, AlertStatus, Mode, NewRule, RuleFilter, RulePatch,
};
use entities::purchasing::tables::{lost_sale, reorder_alert, reorder_rule};
use entities::rules::money::Money;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::routes::purchasing::orders::{PurchaseOrderView, detail_view};
use crate::state::AppState;

/// The reorder routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_reorder_rules, create_reorder_rule))
        .routes(routes!(update_reorder_rule, delete_reorder_rule))
        .routes(routes!(generate_reorder_alerts))
        .routes(routes!(list_reorder_alerts))
        .routes(routes!(acknowledge_reorder_alert))
        .routes(routes!(resolve_reorder_alert))
        .routes(routes!(
            suggest_purchase_orders,
            create_suggested_purchase_orders
        ))
        .routes(routes!(list_lost_sales, record_lost_sale))
}

/// `manual` or `computed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleMode {
    /// Pinned by hand: the nightly job never changes it.
    Manual,
    /// Min and max proposed by the nightly velocity job.
    Computed,
}

impl From<RuleMode> for Mode {
    fn from(m: RuleMode) -> Self {
        match m {
            RuleMode::Manual => Mode::Manual,
            RuleMode::Computed => Mode::Computed,
        }
    }
}

impl From<Mode> for RuleMode {
    fn from(m: Mode) -> Self {
        match m {
            Mode::Manual => RuleMode::Manual,
            Mode::Computed => RuleMode::Computed,
        }
    }
}

/// A reorder rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReorderRuleView {
    /// Id.
    pub id: Uuid,
    /// Warehouse.
    pub warehouse_id: Uuid,
    /// Item.
    pub item_id: Uuid,
    /// Reorder below this forecast.
    pub min_qty: i64,
    /// Order up to this.
    pub max_qty: i64,
    /// Order in multiples of this.
    pub multiple: i64,
    /// Lead days.
    pub lead_days: i32,
    /// Supplier to order from.
    pub preferred_supplier_id: Option<Uuid>,
    /// Who sets min and max.
    pub mode: RuleMode,
    /// No alert until after this day.
    pub snoozed_until: Option<NaiveDate>,
    /// Units a day the last nightly run found.
    #[schema(value_type = Option<String>, example = "1.250")]
    pub units_per_day: Option<String>,
    /// When the nightly run last computed it.
    pub computed_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<reorder_rule::Model> for ReorderRuleView {
    fn from(r: reorder_rule::Model) -> Self {
        Self {
            id: r.id,
            warehouse_id: r.warehouse_id,
            item_id: r.item_id,
            min_qty: r.min_qty,
            max_qty: r.max_qty,
            multiple: r.multiple,
            lead_days: r.lead_days,
            preferred_supplier_id: r.preferred_supplier_id,
            mode: r.mode.into(),
            snoozed_until: r.snoozed_until,
            units_per_day: r
                .velocity_milli
                .map(|v| rust_decimal::Decimal::new(v, 3).to_string()),
            computed_at: r.computed_at,
            updated_at: r.updated_at,
        }
    }
}

/// A page of reorder rules.
pub type ReorderRulePage = crate::page::Page<ReorderRuleView>;

impl crate::page::Listed for ReorderRuleView {
    const PAGE: &'static str = "ReorderRulePage";
    const PAGE_DOC: &'static str = "A page of reorder rules.";
    const ITEMS_DOC: &'static str = "Rules, newest first.";
}

/// Filters and page of the rule list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReorderRuleQuery {
    /// One warehouse.
    pub warehouse_id: Option<Uuid>,
    /// One item.
    pub item_id: Option<Uuid>,
    /// One mode.
    pub mode: Option<RuleMode>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A rule to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReorderRuleRequest {
    /// Warehouse.
    pub warehouse_id: Uuid,
    /// Item.
    pub item_id: Uuid,
    /// Reorder below this forecast.
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub min_qty: i64,
    /// Order up to this (at least `min_qty`).
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub max_qty: i64,
    /// Order in multiples of this (1 by default).
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub multiple: Option<i64>,
    /// Lead days (the preferred supplier's by default).
    #[schema(minimum = 0, maximum = 365)]
    pub lead_days: Option<i32>,
    /// Supplier to order from.
    pub preferred_supplier_id: Option<Uuid>,
    /// `manual` (default) or `computed`.
    pub mode: Option<RuleMode>,
    /// No alert until after this day.
    pub snoozed_until: Option<NaiveDate>,
}

/// Changes to a rule; setting `min_qty` or `max_qty` pins it (`manual`) unless `mode` says
/// otherwise.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateReorderRuleRequest {
    /// New minimum.
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub min_qty: Option<i64>,
    /// New maximum.
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub max_qty: Option<i64>,
    /// New multiple.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub multiple: Option<i64>,
    /// New lead days.
    #[schema(minimum = 0, maximum = 365)]
    pub lead_days: Option<i32>,
    /// New supplier, or `null`.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub preferred_supplier_id: Option<Option<Uuid>>,
    /// New mode.
    pub mode: Option<RuleMode>,
    /// New snooze, or `null`.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub snoozed_until: Option<Option<NaiveDate>>,
}

/// Reorder rules, newest first.
#[utoipa::path(
    get, path = "/pos/api/inventory/reorder-rules", tag = "purchasing", security(("bearer" = [])),
    params(ReorderRuleQuery),
    responses((status = 200, body = ReorderRulePage), (status = 422, body = ErrorBody))
)]
pub async fn list_reorder_rules(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<ReorderRuleQuery>,
) -> ApiResult<Json<ReorderRulePage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = reorder::list_rules(
        &ctx.db,
        RuleFilter {
            warehouse_id: q.warehouse_id,
            item_id: q.item_id,
            mode: q.mode.map(Into::into),
        },
        page,
    )
    .await?;
    Ok(Json(ReorderRulePage::from_rows(rows, Into::into)))
}

/// Creates a rule (owner, admin, manager); one per warehouse and item.
#[utoipa::path(
    post, path = "/pos/api/inventory/reorder-rules", tag = "purchasing", security(("bearer" = [])),
    request_body = CreateReorderRuleRequest,
    responses(
        (status = 201, body = ReorderRuleView),
        (status = 403, body = ErrorBody),
        (status = 404, description = "`item_not_found`, `warehouse_not_found`, `supplier_not_found`", body = ErrorBody),
        (status = 409, description = "`reorder_rule_exists`, `warehouse_inactive`, `supplier_inactive`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn create_reorder_rule(
    ctx: TenantCtx,
    AppJson(req): AppJson<CreateReorderRuleRequest>,
) -> ApiResult<(StatusCode, Json<ReorderRuleView>)> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    let r = reorder::create_rule(
        &txn,
        &ctx.actor(),
        NewRule {
            warehouse_id: req.warehouse_id,
            item_id: req.item_id,
            min_qty: req.min_qty,
            max_qty: req.max_qty,
            multiple: req.multiple,
            lead_days: req.lead_days,
            preferred_supplier_id: req.preferred_supplier_id,
            mode: req.mode.map(Into::into),
            snoozed_until: req.snoozed_until,
        },
    )
    .await?;
    txn.commit().await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

/// Changes a rule (owner, admin, manager); audited with what it was.
#[utoipa::path(
    patch, path = "/pos/api/inventory/reorder-rules/{id}", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Rule id")),
    request_body = UpdateReorderRuleRequest,
    responses(
        (status = 200, body = ReorderRuleView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`supplier_inactive`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn update_reorder_rule(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<UpdateReorderRuleRequest>,
) -> ApiResult<Json<ReorderRuleView>> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    let r = reorder::update_rule(
        &txn,
        &ctx.actor(),
        id,
        RulePatch {
            min_qty: req.min_qty,
            max_qty: req.max_qty,
            multiple: req.multiple,
            lead_days: req.lead_days,
            preferred_supplier_id: req.preferred_supplier_id,
            mode: req.mode.map(Into::into),
            snoozed_until: req.snoozed_until,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(Json(r.into()))
}

/// Deletes a rule and resolves its live alert (owner, admin, manager).
#[utoipa::path(
    delete, path = "/pos/api/inventory/reorder-rules/{id}", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Rule id")),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn delete_reorder_rule(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<StatusCode> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    reorder::delete_rule(&txn, &ctx.actor(), id).await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What an alert run did.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertRunView {
    /// Rules looked at.
    pub rules: u64,
    /// New alerts.
    pub raised: u64,
    /// Live alerts refreshed.
    pub refreshed: u64,
    /// Live alerts resolved (back at or above the minimum).
    pub cleared: u64,
    /// Rules skipped while snoozed.
    pub snoozed: u64,
}

/// Which warehouse a run or suggestion is about.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WarehouseQuery {
    /// One warehouse (all by default).
    pub warehouse_id: Option<Uuid>,
}

/// Evaluates the rules now (owner, admin, manager), as the nightly job does after the velocity:
/// raises an alert for each rule whose forecast (on hand + on order + inbound − reserved) is
/// below its minimum, refreshes the live ones, and resolves those back at or above it.
#[utoipa::path(
    post, path = "/pos/api/inventory/generate-alerts", tag = "purchasing", security(("bearer" = [])),
    params(WarehouseQuery),
    responses((status = 200, body = AlertRunView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn generate_reorder_alerts(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<WarehouseQuery>,
) -> ApiResult<Json<AlertRunView>> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    let r = reorder::generate_alerts(&txn, q.warehouse_id).await?;
    txn.commit().await?;
    Ok(Json(AlertRunView {
        rules: r.rules,
        raised: r.raised,
        refreshed: r.refreshed,
        cleared: r.cleared,
        snoozed: r.snoozed,
    }))
}

/// A reorder alert.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReorderAlertView {
    /// Id.
    pub id: Uuid,
    /// The rule.
    pub rule_id: Uuid,
    /// Item.
    pub item_id: Uuid,
    /// Warehouse.
    pub warehouse_id: Uuid,
    /// On hand.
    pub on_hand: i64,
    /// Open purchase-order units.
    pub on_order: i64,
    /// Shipped here by transfers, not yet received.
    pub inbound: i64,
    /// Held for customers.
    pub reserved: i64,
    /// on hand + on order + inbound − reserved.
    pub forecast: i64,
    /// The rule's minimum.
    pub min_qty: i64,
    /// The rule's maximum.
    pub max_qty: i64,
    /// Units to order.
    pub suggested_qty: i64,
    /// The rule's supplier.
    pub supplier_id: Option<Uuid>,
    /// `open`, `acknowledged` or `resolved`.
    pub status: String,
    /// Who acknowledged.
    pub acknowledged_by: Option<Uuid>,
    /// When.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Who resolved (none when resolved by a later run).
    pub resolved_by: Option<Uuid>,
    /// When.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Raised.
    pub created_at: DateTime<Utc>,
    /// Last refreshed.
    pub updated_at: DateTime<Utc>,
}

impl From<reorder_alert::Model> for ReorderAlertView {
    fn from(a: reorder_alert::Model) -> Self {
        Self {
            id: a.id,
            rule_id: a.rule_id,
            item_id: a.item_id,
            warehouse_id: a.warehouse_id,
            on_hand: a.on_hand,
            on_order: a.on_order,
            inbound: a.inbound,
            reserved: a.reserved,
            forecast: a.forecast,
            min_qty: a.min_qty,
            max_qty: a.max_qty,
            suggested_qty: a.suggested_qty,
            supplier_id: a.supplier_id,
            status: a.status.to_string(),
            acknowledged_by: a.acknowledged_by,
            acknowledged_at: a.acknowledged_at,
            resolved_by: a.resolved_by,
            resolved_at: a.resolved_at,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

/// A page of reorder alerts.
pub type ReorderAlertPage = crate::page::Page<ReorderAlertView>;

impl crate::page::Listed for ReorderAlertView {
    const PAGE: &'static str = "ReorderAlertPage";
    const PAGE_DOC: &'static str = "A page of reorder alerts.";
    const ITEMS_DOC: &'static str = "Alerts, newest first.";
}

/// Filters and page of the alert list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReorderAlertQuery {
    /// One state.
    #[param(pattern = "^(open|acknowledged|resolved)$")]
    pub status: Option<String>,
    /// One warehouse.
    pub warehouse_id: Option<Uuid>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// Reorder alerts, newest first.
#[utoipa::path(
    get, path = "/pos/api/inventory/reorder-alerts", tag = "purchasing", security(("bearer" = [])),
    params(ReorderAlertQuery),
    responses((status = 200, body = ReorderAlertPage), (status = 422, body = ErrorBody))
)]
pub async fn list_reorder_alerts(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<ReorderAlertQuery>,
) -> ApiResult<Json<ReorderAlertPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let status = q
        .status
        .map(|s| {
            s.parse::<AlertStatus>().map_err(|_| {
                entities::Error::validation("status", "status is open, acknowledged or resolved")
            })
        })
        .transpose()?;
    let rows = reorder::list_alerts(
        &ctx.db,
        AlertFilter {
            status,
            warehouse_id: q.warehouse_id,
        },
        page,
    )
    .await?;
    Ok(Json(ReorderAlertPage::from_rows(rows, Into::into)))
}

/// Marks an open alert as seen (every role but viewer).
#[utoipa::path(
    put, path = "/pos/api/inventory/reorder-alerts/{id}/acknowledge", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Alert id")),
    responses(
        (status = 200, body = ReorderAlertView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_alert_state`", body = ErrorBody),
    )
)]
pub async fn acknowledge_reorder_alert(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<ReorderAlertView>> {
    let a = reorder::acknowledge(&ctx.db, &ctx.actor(), id).await?;
    Ok(Json(a.into()))
}

/// Resolves an alert by hand (owner, admin, manager).
#[utoipa::path(
    put, path = "/pos/api/inventory/reorder-alerts/{id}/resolve", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Alert id")),
    responses(
        (status = 200, body = ReorderAlertView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_alert_state`", body = ErrorBody),
    )
)]
pub async fn resolve_reorder_alert(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<ReorderAlertView>> {
    let a = reorder::resolve(&ctx.db, &ctx.actor(), id).await?;
    Ok(Json(a.into()))
}

/// A suggested line.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestedLineView {
    /// The rule.
    pub rule_id: Uuid,
    /// Item.
    pub item_id: Uuid,
    /// Forecast it was computed from.
    pub forecast: i64,
    /// The rule's minimum.
    pub min_qty: i64,
    /// The rule's maximum.
    pub max_qty: i64,
    /// Units to order (up to the maximum, rounded up to the multiple and the supplier's pack).
    pub qty: i64,
    /// The supplier's price for it, when there is one.
    #[schema(value_type = Option<String>, example = "210.00")]
    pub unit_cost: Option<Money>,
    /// Its currency.
    pub currency: Option<String>,
    /// The supplier's code.
    pub supplier_sku: Option<String>,
}

/// A suggested order.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestedOrderView {
    /// The supplier (none when no supplier sells the items).
    pub supplier_id: Option<Uuid>,
    /// Warehouse.
    pub warehouse_id: Uuid,
    /// Lines.
    pub lines: Vec<SuggestedLineView>,
}

/// What to order now, grouped by supplier and warehouse: every rule below its minimum (not
/// snoozed), up to its maximum, rounded to the multiple and the supplier's pack.
#[utoipa::path(
    get, path = "/pos/api/inventory/reorder-suggest-po", tag = "purchasing", security(("bearer" = [])),
    params(WarehouseQuery),
    responses((status = 200, body = [SuggestedOrderView]), (status = 422, body = ErrorBody))
)]
pub async fn suggest_purchase_orders(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<WarehouseQuery>,
) -> ApiResult<Json<Vec<SuggestedOrderView>>> {
    let rate = entities::pricing::prices::current_rate(&ctx.db, state.config.usd_rate).await?;
    let s = reorder::suggest(&ctx.db, q.warehouse_id, rate).await?;
    Ok(Json(
        s.into_iter()
            .map(|s| SuggestedOrderView {
                supplier_id: s.supplier_id,
                warehouse_id: s.warehouse_id,
                lines: s
                    .lines
                    .into_iter()
                    .map(|l| SuggestedLineView {
                        rule_id: l.rule_id,
                        item_id: l.item_id,
                        forecast: l.forecast,
                        min_qty: l.min_qty,
                        max_qty: l.max_qty,
                        qty: l.qty,
                        unit_cost: l.unit_cost_cents.map(Money),
                        currency: l.currency,
                        supplier_sku: l.supplier_sku,
                    })
                    .collect(),
            })
            .collect(),
    ))
}

/// Creates the suggested orders as drafts (owner, admin, manager), one per supplier and
/// warehouse, once a day: a second call the same day answers the same orders. Lines without a
/// supplier are left for a person.
#[utoipa::path(
    post, path = "/pos/api/inventory/reorder-suggest-po", tag = "purchasing", security(("bearer" = [])),
    params(WarehouseQuery),
    responses((status = 200, body = [PurchaseOrderView]), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn create_suggested_purchase_orders(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppQuery(q): AppQuery<WarehouseQuery>,
) -> ApiResult<Json<Vec<PurchaseOrderView>>> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    let rate = entities::pricing::prices::current_rate(&txn, state.config.usd_rate).await?;
    let orders = reorder::create_suggested_orders(&txn, &ctx.actor(), q.warehouse_id, rate).await?;
    let mut out = Vec::with_capacity(orders.len());
    for d in orders {
        out.push(detail_view(&txn, d).await?);
    }
    txn.commit().await?;
    Ok(Json(out))
}

/// Why a sale was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LostReason {
    /// Nothing available.
    NoStock,
    /// The customer refused the price.
    Price,
    /// Anything else.
    Other,
}

impl From<LostReason> for Reason {
    fn from(r: LostReason) -> Self {
        match r {
            LostReason::NoStock => Reason::NoStock,
            LostReason::Price => Reason::Price,
            LostReason::Other => Reason::Other,
        }
    }
}

impl From<Reason> for LostReason {
    fn from(r: Reason) -> Self {
        match r {
            Reason::NoStock => LostReason::NoStock,
            Reason::Price => LostReason::Price,
            Reason::Other => LostReason::Other,
        }
    }
}

/// A lost sale.
#[derive(Debug, Serialize, ToSchema)]
pub struct LostSaleView {
    /// Id.
    pub id: Uuid,
    /// Item.
    pub item_id: Option<Uuid>,
    /// Catalog part the store does not stock.
    pub catalog_part_id: Option<i64>,
    /// Warehouse.
    pub warehouse_id: Option<Uuid>,
    /// Branch.
    pub branch_id: Option<Uuid>,
    /// Units asked for.
    pub qty: i64,
    /// Why.
    pub reason: LostReason,
    /// `manual`, `stock_lookup` or `cart`.
    pub source: String,
    /// Customer.
    pub customer_id: Option<Uuid>,
    /// Note.
    pub note: Option<String>,
    /// Who recorded it.
    pub recorded_by: Option<Uuid>,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<lost_sale::Model> for LostSaleView {
    fn from(l: lost_sale::Model) -> Self {
        Self {
            id: l.id,
            item_id: l.item_id,
            catalog_part_id: l.catalog_part_id,
            warehouse_id: l.warehouse_id,
            branch_id: l.branch_id,
            qty: l.qty,
            reason: l.reason.into(),
            source: l.source,
            customer_id: l.customer_id,
            note: l.note,
            recorded_by: l.recorded_by,
            created_at: l.created_at,
        }
    }
}

/// A page of lost sales.
pub type LostSalePage = crate::page::Page<LostSaleView>;

impl crate::page::Listed for LostSaleView {
    const PAGE: &'static str = "LostSalePage";
    const PAGE_DOC: &'static str = "A page of lost sales.";
    const ITEMS_DOC: &'static str = "Lost sales, newest first.";
}

/// Filters and page of the lost-sale list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LostSaleQuery {
    /// One item.
    pub item_id: Option<Uuid>,
    /// One reason.
    pub reason: Option<LostReason>,
    /// From this day (Mexico City), inclusive.
    pub from: Option<NaiveDate>,
    /// To this day, inclusive.
    pub to: Option<NaiveDate>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A lost sale to record: the item, or the catalog part the store does not stock.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordLostSaleRequest {
    /// Item.
    pub item_id: Option<Uuid>,
    /// Catalog part.
    #[schema(minimum = 1)]
    pub catalog_part_id: Option<i64>,
    /// Where it was asked for.
    pub warehouse_id: Option<Uuid>,
    /// Units asked for.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub qty: i64,
    /// Why (`no_stock` by default).
    pub reason: Option<LostReason>,
    /// Customer.
    pub customer_id: Option<Uuid>,
    /// Note.
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// Lost sales, newest first.
#[utoipa::path(
    get, path = "/pos/api/inventory/lost-sales", tag = "purchasing", security(("bearer" = [])),
    params(LostSaleQuery),
    responses((status = 200, body = LostSalePage), (status = 422, body = ErrorBody))
)]
pub async fn list_lost_sales(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<LostSaleQuery>,
) -> ApiResult<Json<LostSalePage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = lost_sales::list(
        &ctx.db,
        LostSaleFilter {
            item_id: q.item_id,
            reason: q.reason.map(Into::into),
            from: q.from,
            to: q.to,
        },
        page,
    )
    .await?;
    Ok(Json(LostSalePage::from_rows(rows, Into::into)))
}

/// Records a lost sale (every role but viewer); it counts in the velocity at the owner's weight.
#[utoipa::path(
    post, path = "/pos/api/inventory/lost-sales", tag = "purchasing", security(("bearer" = [])),
    request_body = RecordLostSaleRequest,
    responses(
        (status = 201, body = LostSaleView),
        (status = 403, body = ErrorBody),
        (status = 404, description = "`item_not_found`, `catalog_part_not_found`, `warehouse_not_found`", body = ErrorBody),
        (status = 409, description = "`warehouse_inactive`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn record_lost_sale(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppJson(req): AppJson<RecordLostSaleRequest>,
) -> ApiResult<(StatusCode, Json<LostSaleView>)> {
    let l = lost_sales::record(
        &ctx.db,
        &state.platform,
        &ctx.actor(),
        NewLostSale {
            item_id: req.item_id,
            catalog_part_id: req.catalog_part_id,
            warehouse_id: req.warehouse_id,
            branch_id: None,
            qty: req.qty,
            reason: req.reason.map(Into::into),
            customer_id: req.customer_id,
            note: req.note,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(l.into())))
}

/// Records, once a day per item, branch and source, that the counter found none of an item. A
/// failure is logged and never fails the look-up or the cart that noticed it.
pub(crate) async fn note_lost_sale(
    ctx: &TenantCtx,
    item_id: Uuid,
    branch_id: Option<Uuid>,
    qty: i64,
    source: &str,
) {
    if let Err(e) =
        lost_sales::record_automatic(&ctx.db, &ctx.actor(), item_id, branch_id, qty, source).await
    {
        tracing::warn!(%item_id, error = %e, "a lost sale could not be recorded");
    }
}
