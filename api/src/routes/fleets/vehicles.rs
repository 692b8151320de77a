//! On a registered vehicle: `/pos/api/vehicles/registered/{id}/odometer` (its readings, only
//! upwards unless a manager records a rollover or a correction), `…/maintenance` (its plans'
//! urgency, and recording a plan's work as done) and `…/logs` (a fleet unit's costs).

use axum::Json;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use entities::PageRequest;
use entities::fleets::logs::{self, LogFilter, NewLog};
use entities::fleets::plans;
use entities::fleets::readings::{self, NewReading};
use entities::fleets::tables::{log, reading};
use entities::rules::money::Money;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{create_once, parse_text};
use crate::auth::TenantCtx;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::routes::fleets::stats::UpcomingView;
use crate::state::AppState;

/// The vehicle routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_odometer, record_odometer))
        .routes(routes!(vehicle_maintenance))
        .routes(routes!(maintenance_done))
        .routes(routes!(list_vehicle_logs, create_vehicle_log))
}

/// An odometer reading.
#[derive(Debug, Serialize, ToSchema)]
pub struct OdometerReadingView {
    /// Id.
    pub id: Uuid,
    /// Kilometres shown.
    pub km: i64,
    /// The day it was read.
    pub read_on: NaiveDate,
    /// `reading`, `rollover` or `correction`.
    pub kind: String,
    /// `manual`, `reception`, `sale` or `log`.
    pub source: String,
    /// The service order, sale or log it came with.
    pub source_id: Option<Uuid>,
    /// Below the current reading at a reception: kept for review, never the current one.
    pub flagged: bool,
    /// Why (a rollover's or correction's reason, a flag's explanation).
    pub note: Option<String>,
    /// Recorded.
    pub created_at: DateTime<Utc>,
}

impl From<reading::Model> for OdometerReadingView {
    fn from(r: reading::Model) -> Self {
        Self {
            id: r.id,
            km: r.km,
            read_on: r.read_on,
            kind: r.kind.to_string(),
            source: r.source.to_string(),
            source_id: r.source_id,
            flagged: r.flagged,
            note: r.note,
            created_at: r.created_at,
        }
    }
}

/// A page of odometer readings.
pub type OdometerReadingPage = crate::page::Page<OdometerReadingView>;

impl crate::page::Listed for OdometerReadingView {
    const PAGE: &'static str = "OdometerReadingPage";
    const PAGE_DOC: &'static str = "A page of a vehicle's odometer readings.";
    const ITEMS_DOC: &'static str = "Readings, newest first.";
}

/// Filters and page of the reading list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OdometerQuery {
    /// Only flagged (or only unflagged) readings.
    pub flagged: Option<bool>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A reading to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordOdometerRequest {
    /// Kilometres shown, 0 to 3 000 000: at least the current reading for a `reading`.
    #[schema(minimum = 0, maximum = 3_000_000)]
    pub km: i64,
    /// The day it was read (today by default).
    pub read_on: Option<NaiveDate>,
    /// `reading` (default), or a manager's `rollover` or `correction` (a new base, with a note).
    #[schema(pattern = "^(reading|rollover|correction)$")]
    pub kind: Option<String>,
    /// Why; required for a rollover or a correction.
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// A vehicle's odometer readings, newest first.
#[utoipa::path(
    get, path = "/pos/api/vehicles/registered/{id}/odometer", tag = "fleets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Registered vehicle id"), OdometerQuery),
    responses((status = 200, body = OdometerReadingPage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn list_odometer(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<OdometerQuery>,
) -> ApiResult<Json<OdometerReadingPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = readings::list(&ctx.db, id, q.flagged, page).await?;
    Ok(Json(OdometerReadingPage::from_rows(rows, Into::into)))
}

/// Records an odometer reading. A reading below the current one is 409
/// `odometer_below_current` and changes nothing; a `rollover` or a `correction` (owner, admin,
/// manager, with a note) is a new base, audited. Honours `Idempotency-Key`.
#[utoipa::path(
    post, path = "/pos/api/vehicles/registered/{id}/odometer", tag = "fleets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Registered vehicle id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    request_body = RecordOdometerRequest,
    responses(
        (status = 201, body = OdometerReadingView),
        (status = 403, description = "A rollover or correction below manager", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`odometer_below_current`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn record_odometer(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    headers: HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: RecordOdometerRequest = crate::extract::body_as(&raw)?;
    let kind = match req.kind.as_deref() {
        Some(k) => parse_text("kind", k, "reading, rollover or correction")?,
        None => reading::Kind::Reading,
    };
    let seller = ctx.seller();
    create_once(&ctx, &headers, "fleets.odometer", &raw, async |txn| {
        let r = readings::record(
            txn,
            &seller,
            id,
            NewReading {
                km: req.km,
                read_on: req.read_on,
                kind,
                note: req.note,
            },
        )
        .await?;
        Ok(OdometerReadingView::from(r))
    })
    .await
}

/// A vehicle's plans with their urgency today, most urgent first.
#[utoipa::path(
    get, path = "/pos/api/vehicles/registered/{id}/maintenance", tag = "fleets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Registered vehicle id")),
    responses((status = 200, body = Vec<UpcomingView>), (status = 404, body = ErrorBody))
)]
pub async fn vehicle_maintenance(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<Vec<UpcomingView>>> {
    let rows = plans::of_vehicle(&ctx.db, id, entities::today()).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// When a plan's work was done.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceDoneRequest {
    /// The odometer then (the current reading by default).
    #[schema(minimum = 0, maximum = 3_000_000)]
    pub km: Option<i64>,
    /// The day (today by default).
    pub done_on: Option<NaiveDate>,
}

/// Records that a plan's work was done on the vehicle: the next due point counts from here.
#[utoipa::path(
    post, path = "/pos/api/vehicles/registered/{id}/maintenance/{plan_id}/done", tag = "fleets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Registered vehicle id"), ("plan_id" = Uuid, Path, description = "Plan id")),
    request_body = MaintenanceDoneRequest,
    responses((status = 200, body = UpcomingView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn maintenance_done(
    ctx: TenantCtx,
    AppPath((id, plan_id)): AppPath<(Uuid, Uuid)>,
    AppJson(req): AppJson<MaintenanceDoneRequest>,
) -> ApiResult<Json<UpcomingView>> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    plans::done(&txn, &ctx.seller(), id, plan_id, req.km, req.done_on).await?;
    let today = entities::today();
    let row = plans::of_vehicle(&txn, id, today)
        .await?
        .into_iter()
        .find(|u| u.plan.id == plan_id)
        .ok_or(entities::Error::NotFound {
            entity: "maintenance_plan",
        })?;
    txn.commit().await?;
    Ok(Json(row.into()))
}

/// A cost of a fleet unit.
#[derive(Debug, Serialize, ToSchema)]
pub struct FleetLogView {
    /// Id.
    pub id: Uuid,
    /// The unit.
    pub vehicle_id: Uuid,
    /// `service`, `fuel` or `other`.
    pub kind: String,
    /// The day of the cost.
    pub spent_on: NaiveDate,
    /// IVA included, MXN.
    #[schema(value_type = String, example = "850.00")]
    pub amount: Money,
    /// The odometer then.
    pub odometer_km: Option<i64>,
    /// Fuel, millilitres.
    pub fuel_ml: Option<i64>,
    /// What it was.
    pub description: Option<String>,
    /// The delivered service order it came from.
    pub service_order_id: Option<Uuid>,
}

impl From<log::Model> for FleetLogView {
    fn from(l: log::Model) -> Self {
        Self {
            id: l.id,
            vehicle_id: l.vehicle_id,
            kind: l.kind.to_string(),
            spent_on: l.spent_on,
            amount: Money(l.amount_cents),
            odometer_km: l.odometer_km,
            fuel_ml: l.fuel_ml,
            description: l.description,
            service_order_id: l.service_order_id,
        }
    }
}

/// A page of fleet logs.
pub type FleetLogPage = crate::page::Page<FleetLogView>;

impl crate::page::Listed for FleetLogView {
    const PAGE: &'static str = "FleetLogPage";
    const PAGE_DOC: &'static str = "A page of a fleet unit's cost logs.";
    const ITEMS_DOC: &'static str = "Logs, newest first.";
}

/// Filters and page of the log list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FleetLogQuery {
    /// One kind.
    #[param(pattern = "^(service|fuel|other)$")]
    pub kind: Option<String>,
    /// On or after.
    pub from: Option<NaiveDate>,
    /// On or before.
    pub to: Option<NaiveDate>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A cost to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFleetLogRequest {
    /// `service`, `fuel` or `other`.
    #[schema(pattern = "^(service|fuel|other)$")]
    pub kind: String,
    /// The day of the cost (today at the latest).
    pub spent_on: NaiveDate,
    /// IVA included, MXN (`"850.00"`).
    #[schema(value_type = crate::formats::Amount, example = "850.00")]
    pub amount: String,
    /// The odometer then: recorded as a reading, so never below the current one.
    #[schema(minimum = 0, maximum = 3_000_000)]
    pub odometer_km: Option<i64>,
    /// Fuel loaded, millilitres (fuel logs only, 1 to 2 000 000).
    #[schema(minimum = 1, maximum = 2_000_000)]
    pub fuel_ml: Option<i64>,
    /// What it was.
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

const LOG_KINDS: &str = "service, fuel or other";

/// A fleet unit's cost logs, newest first.
#[utoipa::path(
    get, path = "/pos/api/vehicles/registered/{id}/logs", tag = "fleets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Registered vehicle id (a fleet unit)"), FleetLogQuery),
    responses((status = 200, body = FleetLogPage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn list_vehicle_logs(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<FleetLogQuery>,
) -> ApiResult<Json<FleetLogPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let kind = q
        .kind
        .as_deref()
        .map(|k| parse_text("kind", k, LOG_KINDS))
        .transpose()?;
    let rows = logs::list(
        &ctx.db,
        id,
        LogFilter {
            kind,
            from: q.from,
            to: q.to,
        },
        page,
    )
    .await?;
    Ok(Json(FleetLogPage::from_rows(rows, Into::into)))
}

/// Records a cost of a fleet unit (its odometer, when given, as a reading). Honours
/// `Idempotency-Key`.
#[utoipa::path(
    post, path = "/pos/api/vehicles/registered/{id}/logs", tag = "fleets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Registered vehicle id (a fleet unit)"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    request_body = CreateFleetLogRequest,
    responses(
        (status = 201, body = FleetLogView),
        (status = 404, description = "`fleet_vehicle`: not a fleet unit", body = ErrorBody),
        (status = 409, description = "`odometer_below_current`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn create_vehicle_log(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    headers: HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: CreateFleetLogRequest = crate::extract::body_as(&raw)?;
    let kind = parse_text("kind", &req.kind, LOG_KINDS)?;
    let amount = Money::parse("amount", &req.amount)?;
    let seller = ctx.seller();
    create_once(&ctx, &headers, "fleets.log", &raw, async |txn| {
        let l = logs::create(
            txn,
            &seller,
            id,
            NewLog {
                kind,
                spent_on: req.spent_on,
                amount_cents: amount.0,
                odometer_km: req.odometer_km,
                fuel_ml: req.fuel_ml,
                description: req.description,
            },
        )
        .await?;
        Ok(FleetLogView::from(l))
    })
    .await
}
