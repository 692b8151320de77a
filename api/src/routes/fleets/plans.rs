//! `/pos/api/maintenance-plans` (per vehicle or per make and model; managers write, everyone
//! reads) and `/pos/api/fleet-settings` (the urgency windows and contract notices).

use axum::Json;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use entities::PageRequest;
use entities::fleets::due::{self, NewSettings};
use entities::fleets::plans::{self, NewPlan, PlanFilter};
use entities::fleets::tables::{plan, setting};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::create_once;
use crate::auth::TenantCtx;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppQuery};
use crate::state::AppState;

/// The plan and settings routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_maintenance_plans, create_maintenance_plan))
        .routes(routes!(get_fleet_settings, put_fleet_settings))
}

/// A maintenance plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct MaintenancePlanView {
    /// Id.
    pub id: Uuid,
    /// What is done.
    pub name: String,
    /// One unit's plan (or `make` and `model`).
    pub vehicle_id: Option<Uuid>,
    /// Every unit of this make…
    pub make: Option<String>,
    /// …and model.
    pub model: Option<String>,
    /// The service item whose delivery in a service order does the work.
    pub item_id: Option<Uuid>,
    /// Every this many km…
    pub interval_km: Option<i64>,
    /// …or months, whichever comes first.
    pub interval_months: Option<i32>,
    /// The plan's own warning window, km.
    pub warn_km: Option<i64>,
    /// The plan's own warning window, days.
    pub warn_days: Option<i32>,
    /// In force.
    pub is_active: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
}

impl From<plan::Model> for MaintenancePlanView {
    fn from(p: plan::Model) -> Self {
        Self {
            id: p.id,
            name: p.name,
            vehicle_id: p.vehicle_id,
            make: p.make,
            model: p.model,
            item_id: p.item_id,
            interval_km: p.interval_km,
            interval_months: p.interval_months,
            warn_km: p.warn_km,
            warn_days: p.warn_days,
            is_active: p.is_active,
            created_at: p.created_at,
        }
    }
}

/// A page of maintenance plans.
pub type MaintenancePlanPage = crate::page::Page<MaintenancePlanView>;

impl crate::page::Listed for MaintenancePlanView {
    const PAGE: &'static str = "MaintenancePlanPage";
    const PAGE_DOC: &'static str = "A page of maintenance plans.";
    const ITEMS_DOC: &'static str = "Plans, newest first.";
}

/// Filters and page of the plan list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MaintenancePlanQuery {
    /// One unit's own plans.
    pub vehicle_id: Option<Uuid>,
    /// Plans of a make (any case).
    #[param(min_length = 1, max_length = 60)]
    pub make: Option<String>,
    /// In force or not.
    pub active: Option<bool>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A plan to create: of one fleet unit, or of every unit of a make and model.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMaintenancePlanRequest {
    /// What is done (`Cambio de aceite y filtro`).
    #[schema(min_length = 1, max_length = 120)]
    pub name: String,
    /// One fleet unit (or `make` and `model`).
    pub vehicle_id: Option<Uuid>,
    /// Every unit of this make…
    #[schema(max_length = 60)]
    pub make: Option<String>,
    /// …and model (any case).
    #[schema(max_length = 60)]
    pub model: Option<String>,
    /// The service item whose delivery in a service order does the work.
    pub item_id: Option<Uuid>,
    /// Every this many km…
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub interval_km: Option<i64>,
    /// …or months, whichever comes first (at least one of the two).
    #[schema(minimum = 1, maximum = 120)]
    pub interval_months: Option<i32>,
    /// Warn this many km before (the business's `urgent_km` otherwise).
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub warn_km: Option<i64>,
    /// Warn this many days before (the business's `urgent_days` otherwise).
    #[schema(minimum = 1, maximum = 365)]
    pub warn_days: Option<i32>,
    /// A unit's plan: the km its work was last done at (its current reading otherwise).
    #[schema(minimum = 0, maximum = 3_000_000)]
    pub last_done_km: Option<i64>,
    /// A unit's plan: the day its work was last done (today otherwise).
    pub last_done_on: Option<NaiveDate>,
}

/// Maintenance plans, newest first.
#[utoipa::path(
    get, path = "/pos/api/maintenance-plans", tag = "fleets", security(("bearer" = [])),
    params(MaintenancePlanQuery),
    responses((status = 200, body = MaintenancePlanPage), (status = 422, body = ErrorBody))
)]
pub async fn list_maintenance_plans(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<MaintenancePlanQuery>,
) -> ApiResult<Json<MaintenancePlanPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = plans::list(
        &ctx.db,
        PlanFilter {
            vehicle_id: q.vehicle_id,
            make: q.make,
            active: q.active,
        },
        page,
    )
    .await?;
    Ok(Json(MaintenancePlanPage::from_rows(rows, Into::into)))
}

/// Creates a plan (owner, admin, manager) and starts it on the units it applies to. Honours
/// `Idempotency-Key`.
#[utoipa::path(
    post, path = "/pos/api/maintenance-plans", tag = "fleets", security(("bearer" = [])),
    request_body = CreateMaintenancePlanRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    responses(
        (status = 201, body = MaintenancePlanView),
        (status = 403, body = ErrorBody),
        (status = 404, description = "`vehicle_not_found` (not a fleet unit), `item_not_found`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn create_maintenance_plan(
    ctx: TenantCtx,
    headers: HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: CreateMaintenancePlanRequest = crate::extract::body_as(&raw)?;
    let seller = ctx.seller();
    create_once(&ctx, &headers, "fleets.plan", &raw, async |txn| {
        let p = plans::create(
            txn,
            &seller,
            NewPlan {
                name: req.name,
                vehicle_id: req.vehicle_id,
                make: req.make,
                model: req.model,
                item_id: req.item_id,
                interval_km: req.interval_km,
                interval_months: req.interval_months,
                warn_km: req.warn_km,
                warn_days: req.warn_days,
                last_done_km: req.last_done_km,
                last_done_on: req.last_done_on,
            },
        )
        .await?;
        Ok(MaintenancePlanView::from(p))
    })
    .await
}

/// The fleet settings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FleetSettingsView {
    /// Very urgent within this many days (0 to 365; 7 by default).
    #[schema(minimum = 0, maximum = 365)]
    pub very_urgent_days: i32,
    /// Very urgent within this many km (0 to 100 000; 50 by default).
    #[schema(minimum = 0, maximum = 100_000)]
    pub very_urgent_km: i64,
    /// Urgent within this many days (very_urgent_days to 365; 30 by default): a
    /// `maintenance_due` event is recorded from here on.
    #[schema(minimum = 0, maximum = 365)]
    pub urgent_days: i32,
    /// Urgent within this many km (very_urgent_km to 100 000; 100 by default).
    #[schema(minimum = 0, maximum = 100_000)]
    pub urgent_km: i64,
    /// First `contract_expiring` notice, days before the end (1 to 365; 30 by default).
    #[schema(minimum = 1, maximum = 365)]
    pub contract_notice_days: i32,
    /// Second notice (1 to the first; 15 by default).
    #[schema(minimum = 1, maximum = 365)]
    pub contract_second_notice_days: i32,
}

impl From<setting::Model> for FleetSettingsView {
    fn from(s: setting::Model) -> Self {
        Self {
            very_urgent_days: s.very_urgent_days,
            very_urgent_km: s.very_urgent_km,
            urgent_days: s.urgent_days,
            urgent_km: s.urgent_km,
            contract_notice_days: s.contract_notice_days,
            contract_second_notice_days: s.contract_second_notice_days,
        }
    }
}

/// The fleet settings (LubeLogger's 7 days or 50 km and 30 days or 100 km, and notices at 30
/// and 15 days, until changed).
#[utoipa::path(
    get, path = "/pos/api/fleet-settings", tag = "fleets", security(("bearer" = [])),
    responses((status = 200, body = FleetSettingsView))
)]
pub async fn get_fleet_settings(ctx: TenantCtx) -> ApiResult<Json<FleetSettingsView>> {
    Ok(Json(due::settings(&ctx.db).await?.into()))
}

/// Replaces the fleet settings (owner, admin, manager).
#[utoipa::path(
    put, path = "/pos/api/fleet-settings", tag = "fleets", security(("bearer" = [])),
    request_body = FleetSettingsView,
    responses((status = 200, body = FleetSettingsView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn put_fleet_settings(
    ctx: TenantCtx,
    AppJson(req): AppJson<FleetSettingsView>,
) -> ApiResult<Json<FleetSettingsView>> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    let s = due::set_settings(
        &txn,
        &ctx.seller(),
        NewSettings {
            very_urgent_days: req.very_urgent_days,
            very_urgent_km: req.very_urgent_km,
            urgent_days: req.urgent_days,
            urgent_km: req.urgent_km,
            contract_notice_days: req.contract_notice_days,
            contract_second_notice_days: req.contract_second_notice_days,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(Json(s.into()))
}
