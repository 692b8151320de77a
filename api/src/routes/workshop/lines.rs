//! `/pos/api/service-orders/{id}/parts`, `…/labour`, `…/lines/{line_id}`: the budget's lines.
//! Before approval they make the budget; after it, a supplement the customer approves again.

use axum::Json;
use axum::extract::State;
use entities::workshop::orders::{self, LabourInput, PartInput};
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath};
use crate::routes::workshop::orders::{ServiceOrderView, check_member};
use crate::state::AppState;

/// The line routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_service_part))
        .routes(routes!(add_service_labour))
        .routes(routes!(remove_service_line))
}

/// Runs one change of an order's lines in a write transaction at the rate in force, and
/// answers the order as it is after it.
async fn change(
    state: &AppState,
    ctx: &TenantCtx,
    id: Uuid,
    f: impl AsyncFnOnce(
        &sea_orm::DatabaseTransaction,
        &entities::org::seller::Seller,
        entities::rules::money::Rate,
    ) -> entities::Result<()>,
) -> ApiResult<Json<ServiceOrderView>> {
    let seller = ctx.seller();
    let txn = entities::db::begin_write(&ctx.db).await?;
    let rate = entities::pricing::prices::current_rate(&txn, state.config.usd_rate).await?;
    f(&txn, &seller, rate).await?;
    let d = orders::get(&txn, &seller, id).await?;
    txn.commit().await?;
    Ok(Json(ServiceOrderView::of(
        state,
        ctx.principal.tenant.id,
        &d,
    )))
}

/// A discount as basis points from its percent text.
fn discount_bp(d: Option<Decimal>) -> ApiResult<i32> {
    crate::routes::counter::sales::percent_bp("discount_percent", d)
}

/// A part for the budget.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddServicePartRequest {
    /// The item.
    pub item_id: Uuid,
    /// Where it is held and taken from.
    pub warehouse_id: Uuid,
    /// Units.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub qty: i64,
    /// Discount in percent (`"10"`), within your role's limit.
    #[schema(value_type = Option<crate::formats::Percent>, example = "10")]
    #[serde(default, with = "crate::extract::decimal_text_option")]
    pub discount_percent: Option<Decimal>,
}

/// Adds a part priced from the customer's list (all but viewer; a mechanic on their orders).
#[utoipa::path(
    post, path = "/pos/api/service-orders/{id}/parts", tag = "workshop", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Service order id")),
    request_body = AddServicePartRequest,
    responses(
        (status = 200, body = ServiceOrderView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`awaiting_answer`, `invalid_transition`, `item_inactive`, `labour_not_sold_here`, `warehouse_inactive`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn add_service_part(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<AddServicePartRequest>,
) -> ApiResult<Json<ServiceOrderView>> {
    let p = PartInput {
        item_id: req.item_id,
        warehouse_id: req.warehouse_id,
        qty: req.qty,
        discount_bp: discount_bp(req.discount_percent)?,
    };
    change(&state, &ctx, id, async |txn, seller, rate| {
        orders::add_part(txn, seller, id, p, rate).await.map(drop)
    })
    .await
}

/// Labour for the budget.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddServiceLabourRequest {
    /// The operation: an item of kind `service`.
    pub item_id: Uuid,
    /// Hours at the operation's hourly rate (`"1.5"`); absent for its flat price.
    #[schema(value_type = Option<String>, pattern = "^[0-9]{1,3}(\\.[0-9]{1,2})?$", example = "1.5")]
    #[serde(default, with = "crate::extract::decimal_text_option")]
    pub hours: Option<Decimal>,
    /// The hourly rate or flat price instead of the list's (managers).
    #[schema(value_type = Option<crate::formats::PositiveAmount>, example = "450.00")]
    #[serde(default, with = "crate::extract::decimal_text_option")]
    pub price: Option<Decimal>,
    /// Who does it (a member of the business).
    pub technician_id: Option<Uuid>,
    /// Discount in percent, within your role's limit.
    #[schema(value_type = Option<crate::formats::Percent>, example = "10")]
    #[serde(default, with = "crate::extract::decimal_text_option")]
    pub discount_percent: Option<Decimal>,
    /// Revision and diagnosis: approved from the start and charged even when the budget is
    /// declined (only before the budget is sent).
    #[serde(default)]
    pub is_diagnosis: bool,
}

/// Adds labour (all but viewer; a mechanic on their orders).
#[utoipa::path(
    post, path = "/pos/api/service-orders/{id}/labour", tag = "workshop", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Service order id")),
    request_body = AddServiceLabourRequest,
    responses(
        (status = 200, body = ServiceOrderView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`not_a_service`, `awaiting_answer`, `invalid_transition`, `item_inactive`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn add_service_labour(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<AddServiceLabourRequest>,
) -> ApiResult<Json<ServiceOrderView>> {
    check_member(&state, &ctx, "technician_id", req.technician_id).await?;
    let l = LabourInput {
        item_id: req.item_id,
        hours: req.hours,
        price: req.price,
        technician_id: req.technician_id,
        discount_bp: discount_bp(req.discount_percent)?,
        is_diagnosis: req.is_diagnosis,
    };
    change(&state, &ctx, id, async |txn, seller, rate| {
        orders::add_labour(txn, seller, id, l, rate).await.map(drop)
    })
    .await
}

/// Takes a line not yet approved off the budget (all but viewer; a mechanic on their orders).
#[utoipa::path(
    delete, path = "/pos/api/service-orders/{id}/lines/{line_id}", tag = "workshop", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Service order id"),
        ("line_id" = Uuid, Path, description = "Line id"),
    ),
    responses(
        (status = 200, body = ServiceOrderView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`line_approved`, `awaiting_answer`, `invalid_transition`", body = ErrorBody),
    )
)]
pub async fn remove_service_line(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppPath((id, line_id)): AppPath<(Uuid, Uuid)>,
) -> ApiResult<Json<ServiceOrderView>> {
    change(&state, &ctx, id, async |txn, seller, _| {
        orders::remove_line(txn, seller, id, line_id)
            .await
            .map(drop)
    })
    .await
}
