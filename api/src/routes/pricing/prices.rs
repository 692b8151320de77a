//! Prices: an item's list prices and branch overrides (`/pos/api/items/{id}/prices`), the USD
//! exchange rate (`/pos/api/settings/exchange-rate`) and propagating list prices to branches
//! (`/pos/api/inventory/sync-prices`, carried out by the `pricing.sync` job).
//!
//! Everyone reads prices and the rate; owners, admins and managers set prices and propagate
//! them; only owners and admins set the rate. The discount a role may give at the counter on top
//! of these prices is `Role::max_discount_bp` (cashier 10 %, manager 30 %, owner/admin any).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use chrono::{DateTime, Utc};
use entities::PageRequest;
use entities::pricing::admin::{
    self, PriceInput, RateSource, Status as sync_status, SyncMode, SyncRequest,
};
use entities::pricing::prices::PriceSource;
use entities::rules::money::{Money, Rate};
use entities::{
    pricing::tables::exchange_rate, pricing::tables::item_price, pricing::tables::price_sync,
};
use jobs::pricing::SyncPrices;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::state::AppState;

/// The price routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_item_prices, set_item_prices))
        .routes(routes!(get_exchange_rate, set_exchange_rate))
        .routes(routes!(sync_prices))
        .routes(routes!(get_price_sync))
}

/// A price row of an item.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriceRowView {
    /// The list.
    pub price_list: String,
    /// The branch it overrides; absent for the list price.
    pub branch_id: Option<Uuid>,
    /// The amount in `currency`, IVA included, decimal string.
    #[schema(value_type = String, example = "123.45")]
    pub amount: Money,
    /// `MXN` or `USD`.
    pub currency: String,
    /// Who set it.
    pub updated_by: Option<Uuid>,
    /// When.
    pub updated_at: DateTime<Utc>,
}

impl From<item_price::Model> for PriceRowView {
    fn from(p: item_price::Model) -> Self {
        Self {
            price_list: p.price_list,
            branch_id: (!p.branch_id.is_nil()).then_some(p.branch_id),
            amount: Money(p.amount_minor),
            currency: p.currency,
            updated_by: p.updated_by,
            updated_at: p.updated_at,
        }
    }
}

/// What an item sells at in a branch for a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResolvedPriceView {
    /// The branch.
    pub branch_id: Uuid,
    /// The list.
    pub price_list: String,
    /// In MXN at the rate in force, IVA included.
    #[schema(value_type = String, example = "296.34")]
    pub unit_price: Money,
    /// The price as set.
    #[schema(value_type = String, example = "17.20")]
    pub amount: Money,
    /// Its currency.
    pub currency: String,
    /// `branch_override`, `list`, `mostrador_override`, `mostrador` or `retail`.
    #[schema(value_type = String)]
    pub source: PriceSource,
}

/// An item's prices.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemPricesView {
    /// The item.
    pub item_id: Uuid,
    /// Its SKU.
    pub sku: String,
    /// The USD→MXN rate `resolved` used.
    #[schema(value_type = String, example = "17.2345")]
    pub exchange_rate: Rate,
    /// Every row: list prices and branch overrides.
    pub prices: Vec<PriceRowView>,
    /// Per active branch and list, the price a sale would use.
    pub resolved: Vec<ResolvedPriceView>,
}

/// One price to set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceInputRequest {
    /// `mostrador`, `taller`, `flotilla` or `mayoreo`.
    #[schema(pattern = "^(mostrador|taller|flotilla|mayoreo)$", example = "taller")]
    pub price_list: String,
    /// The branch to override; absent for the list price of every branch.
    pub branch_id: Option<Uuid>,
    /// Decimal string, at most 2 decimals, not negative, IVA included.
    #[schema(value_type = crate::formats::Amount, example = "123.45")]
    pub amount: String,
    /// `MXN` or `USD`.
    #[schema(pattern = "^(MXN|USD)$", example = "MXN")]
    pub currency: String,
}

/// Prices to set; rows not named stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPricesRequest {
    /// 1 to 200 prices.
    #[schema(min_items = 1, max_items = 200)]
    pub prices: Vec<PriceInputRequest>,
}

async fn item_prices_view(
    state: &AppState,
    ctx: &TenantCtx,
    id: Uuid,
) -> ApiResult<ItemPricesView> {
    let rate = entities::pricing::prices::current_rate(&ctx.db, state.config.usd_rate).await?;
    let p = admin::item_prices(&ctx.db, id, rate).await?;
    Ok(ItemPricesView {
        item_id: p.item.id,
        sku: p.item.sku,
        exchange_rate: p.rate,
        prices: p.rows.into_iter().map(Into::into).collect(),
        resolved: p
            .resolved
            .into_iter()
            .filter(|r| ctx.principal.can_see_branch(r.branch_id))
            .map(|r| ResolvedPriceView {
                branch_id: r.branch_id,
                price_list: r.price_list.to_owned(),
                unit_price: Money(r.unit_cents),
                amount: Money(r.amount_minor),
                currency: r.currency.code().to_owned(),
                source: r.source,
            })
            .collect(),
    })
}

/// An item's price rows and what each active branch sells it at per list.
#[utoipa::path(
    get, path = "/pos/api/items/{id}/prices", tag = "prices", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Item id")),
    responses((status = 200, body = ItemPricesView), (status = 404, body = ErrorBody))
)]
pub async fn get_item_prices(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<ItemPricesView>> {
    Ok(Json(item_prices_view(&state, &ctx, id).await?))
}

/// Sets list prices and branch overrides of an item (owner, admin, manager).
#[utoipa::path(
    put, path = "/pos/api/items/{id}/prices", tag = "prices", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Item id")),
    request_body = SetPricesRequest,
    responses(
        (status = 200, body = ItemPricesView),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown item or branch", body = ErrorBody),
        (status = 422, description = "Unknown list or currency, bad amount; `field` names it", body = ErrorBody),
    )
)]
pub async fn set_item_prices(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<SetPricesRequest>,
) -> ApiResult<Json<ItemPricesView>> {
    if req
        .prices
        .iter()
        .filter_map(|p| p.branch_id)
        .any(|b| !ctx.principal.can_see_branch(b))
    {
        return Err(ApiError::NotFound("branch"));
    }
    // A list price (no branch) is what every branch sells at: only a user who sees every branch
    // sets it, as with the price sync.
    if ctx.principal.branch_scope.is_some() && req.prices.iter().any(|p| p.branch_id.is_none()) {
        return Err(ApiError::Forbidden {
            code: "branch_scope",
            message: "a list price applies to every branch; a user limited to some branches sets \
                      branch prices (branch_id) only"
                .into(),
        });
    }
    let inputs = req
        .prices
        .into_iter()
        .map(|p| PriceInput {
            price_list: p.price_list,
            branch_id: p.branch_id,
            amount: p.amount,
            currency: p.currency,
        })
        .collect();
    admin::set_prices(&ctx.db, &ctx.actor(), id, inputs).await?;
    Ok(Json(item_prices_view(&state, &ctx, id).await?))
}

/// A rate an admin set.
#[derive(Debug, Serialize, ToSchema)]
pub struct RateView {
    /// Sequence.
    pub id: i64,
    /// MXN per USD.
    #[schema(value_type = String, example = "17.2345")]
    pub rate: Rate,
    /// Why.
    pub note: Option<String>,
    /// Who.
    pub set_by: Option<Uuid>,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<exchange_rate::Model> for RateView {
    fn from(r: exchange_rate::Model) -> Self {
        Self {
            id: r.id,
            rate: Rate(r.rate_micros),
            note: r.note,
            set_by: r.set_by,
            created_at: r.created_at,
        }
    }
}

/// A page of the rate history.
pub type RateHistory = crate::page::Page<RateView>;

impl crate::page::Listed for RateView {
    const PAGE: &'static str = "RateHistory";
    const PAGE_DOC: &'static str = "A page of the rate history.";
    const ITEMS_DOC: &'static str = "Rates, newest first.";
}

/// The USD rate in force and its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExchangeRateView {
    /// Always `USD`.
    pub currency: String,
    /// MXN per USD in force.
    #[schema(value_type = String, example = "17.2345")]
    pub rate: Rate,
    /// `configured` (the server's default) or `set` (by an admin of the business).
    #[schema(value_type = String)]
    pub source: RateSource,
    /// When it was set (absent for the configured rate).
    pub set_at: Option<DateTime<Utc>>,
    /// Rates set in the business, newest first.
    pub history: RateHistory,
}

/// Page of the rate history.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RateQuery {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A new rate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRateRequest {
    /// MXN per USD, decimal string with at most 6 decimals.
    #[schema(value_type = crate::formats::ExchangeRate, example = "17.2345")]
    pub rate: String,
    /// Why (e.g. "DOF del día").
    pub note: Option<String>,
}

async fn rate_view(
    state: &AppState,
    ctx: &TenantCtx,
    page: PageRequest,
) -> ApiResult<ExchangeRateView> {
    let (rate, source, last) = admin::rate_in_force(&ctx.db, state.config.usd_rate).await?;
    let rows = admin::rate_history(&ctx.db, page).await?;
    Ok(ExchangeRateView {
        currency: entities::rules::money::USD.to_owned(),
        rate,
        source,
        set_at: last.map(|r| r.created_at),
        history: RateHistory::from_rows(rows, Into::into),
    })
}

/// The USD rate in force, with its history.
#[utoipa::path(
    get, path = "/pos/api/settings/exchange-rate", tag = "prices", security(("bearer" = [])),
    params(RateQuery),
    responses((status = 200, body = ExchangeRateView))
)]
pub async fn get_exchange_rate(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppQuery(q): AppQuery<RateQuery>,
) -> ApiResult<Json<ExchangeRateView>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    Ok(Json(rate_view(&state, &ctx, page).await?))
}

/// Sets the USD rate (owner, admin): in force for documents from now on.
#[utoipa::path(
    put, path = "/pos/api/settings/exchange-rate", tag = "prices", security(("bearer" = [])),
    request_body = SetRateRequest,
    responses(
        (status = 200, body = ExchangeRateView),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn set_exchange_rate(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppJson(req): AppJson<SetRateRequest>,
) -> ApiResult<Json<ExchangeRateView>> {
    let rate = Rate::from_decimal("rate", entities::rules::money::decimal("rate", &req.rate)?)?;
    admin::set_rate(&ctx.db, &ctx.actor(), rate, req.note).await?;
    Ok(Json(
        rate_view(&state, &ctx, PageRequest::new(None, None)?).await?,
    ))
}

/// A propagation of list prices to branches.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncPricesRequest {
    /// One list; every list when absent.
    #[schema(pattern = "^(mostrador|taller|flotilla|mayoreo)$", example = "taller")]
    pub price_list: Option<String>,
    /// These items; every item with a list price when absent.
    #[schema(min_items = 1, max_items = 10000)]
    pub item_ids: Option<Vec<Uuid>>,
    /// These branches; every active branch (in the caller's scope) when absent.
    #[schema(min_items = 1)]
    pub branch_ids: Option<Vec<Uuid>>,
    /// `reset_overrides` (default: the branches' overrides are removed, so they sell at the list
    /// price and follow its later changes) or `fill_missing` (overrides stay; the run only
    /// counts the branches that follow the list).
    #[schema(pattern = "^(reset_overrides|fill_missing)$")]
    pub mode: Option<String>,
}

/// A propagation accepted.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncAccepted {
    /// Its id.
    pub id: Uuid,
    /// `queued`.
    pub status: String,
}

/// A propagation and how it went.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriceSyncView {
    /// Id.
    pub id: Uuid,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    /// What was asked.
    #[schema(value_type = Object)]
    pub request: serde_json::Value,
    /// `{branches, items, overrides_removed, rows_unchanged}` (with a `cursor` while running).
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// Why it failed (or why the last try did, while running).
    pub error: Option<String>,
    /// Who asked.
    pub requested_by: Option<Uuid>,
    /// Asked.
    pub created_at: DateTime<Utc>,
    /// Ended.
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<price_sync::Model> for PriceSyncView {
    fn from(s: price_sync::Model) -> Self {
        Self {
            id: s.id,
            status: s.status.to_string(),
            request: s.request,
            result: s.result,
            error: s.error,
            requested_by: s.requested_by,
            created_at: s.created_at,
            finished_at: s.finished_at,
        }
    }
}

fn sync_mode(mode: Option<&str>) -> ApiResult<SyncMode> {
    match mode.map(str::trim) {
        None | Some("reset_overrides") => Ok(SyncMode::ResetOverrides),
        Some("fill_missing") => Ok(SyncMode::FillMissing),
        Some(other) => Err(ApiError::invalid(
            "mode",
            format!("mode: {other:?} is not reset_overrides or fill_missing"),
        )),
    }
}

/// Propagates list prices to branches (owner, admin, manager): records the request and its
/// job in one transaction and answers at once; follow it at `Location`.
#[utoipa::path(
    post, path = "/pos/api/inventory/sync-prices", tag = "prices", security(("bearer" = [])),
    request_body = SyncPricesRequest,
    responses(
        (status = 202, body = SyncAccepted, headers(("Location" = String, description = "The propagation"))),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown branch", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn sync_prices(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppJson(req): AppJson<SyncPricesRequest>,
) -> ApiResult<(
    StatusCode,
    [(header::HeaderName, String); 1],
    Json<SyncAccepted>,
)> {
    let mode = sync_mode(req.mode.as_deref())?;
    let branch_ids = match (req.branch_ids, &ctx.principal.branch_scope) {
        (Some(ids), _) if ids.iter().any(|b| !ctx.principal.can_see_branch(*b)) => {
            return Err(ApiError::NotFound("branch"));
        }
        (Some(ids), _) => Some(ids),
        // A manager limited to some branches propagates to those only.
        (None, Some(scope)) => Some(scope.clone()),
        (None, None) => None,
    };
    let request = SyncRequest {
        price_list: req.price_list,
        item_ids: req.item_ids,
        branch_ids,
        mode,
    };
    let tenant_id = ctx.principal.tenant.id;
    let txn = entities::db::begin_write(&ctx.db).await?;
    let row = admin::request_sync(&txn, &ctx.actor(), request).await?;
    jobs::outbox::enqueue(
        &txn,
        &SyncPrices {
            tenant_id,
            sync_id: row.id,
        },
    )
    .await
    .map_err(|e| ApiError::Internal(format!("enqueue pricing.sync: {e}")))?;
    txn.commit().await?;
    state.waker.wake(tenant_id);
    Ok((
        StatusCode::ACCEPTED,
        [(
            header::LOCATION,
            format!("/pos/api/inventory/sync-prices/{}", row.id),
        )],
        Json(SyncAccepted {
            id: row.id,
            status: sync_status::Queued.to_string(),
        }),
    ))
}

/// A propagation: its request, state, result or error.
#[utoipa::path(
    get, path = "/pos/api/inventory/sync-prices/{id}", tag = "prices", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Propagation id")),
    responses((status = 200, body = PriceSyncView), (status = 404, body = ErrorBody))
)]
pub async fn get_price_sync(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<PriceSyncView>> {
    Ok(Json(admin::get_sync(&ctx.db, id).await?.into()))
}
