//! Stats of a fleet (`/pos/api/fleets/{id}/stats`) and of a unit
//! (`/pos/api/vehicles/registered/{id}/stats`): spend by kind and month, distance, cost per km
//! and upcoming work; and the view of a vehicle's standing on a plan.

use axum::Json;
use chrono::NaiveDate;
use entities::fleets::plans::Upcoming;
use entities::fleets::stats::{self, Spend, Stats};
use entities::rules::money::Money;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppPath, AppQuery};
use crate::state::AppState;

/// The stats routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(fleet_stats))
        .routes(routes!(vehicle_stats))
}

/// A vehicle's standing on one plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct UpcomingView {
    /// The vehicle.
    pub vehicle_id: Uuid,
    /// The plan.
    pub plan_id: Uuid,
    /// What is done.
    pub plan: String,
    /// When it was last done, km (none without an odometer base).
    pub last_done_km: Option<i64>,
    /// When it was last done.
    pub last_done_on: NaiveDate,
    /// Due at this odometer reading.
    pub next_due_km: Option<i64>,
    /// Due on this day.
    pub next_due_on: Option<NaiveDate>,
    /// The vehicle's current reading.
    pub current_km: Option<i64>,
    /// The day its pace reaches the due km.
    pub projected_on: Option<NaiveDate>,
    /// The earlier of the due day and the projected day.
    pub alert_on: Option<NaiveDate>,
    /// `past_due`, `very_urgent`, `urgent` or `not_urgent`.
    pub urgency: String,
    /// What triggered it: `date`, `km` or `projected`.
    pub metric: Option<String>,
}

impl From<Upcoming> for UpcomingView {
    fn from(u: Upcoming) -> Self {
        Self {
            vehicle_id: u.state.vehicle_id,
            plan_id: u.plan.id,
            plan: u.plan.name,
            last_done_km: u.state.last_done_km,
            last_done_on: u.state.last_done_on,
            next_due_km: u.state.next_due_km,
            next_due_on: u.state.next_due_on,
            current_km: u.current_km,
            projected_on: u.standing.projected_on,
            alert_on: u.standing.alert_on,
            urgency: u.standing.urgency.as_str().to_owned(),
            metric: u.standing.metric.map(|m| m.as_str().to_owned()),
        }
    }
}

/// Spend by kind, MXN.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpendView {
    /// Services.
    #[schema(value_type = String, example = "1500.00")]
    pub service: Money,
    /// Fuel.
    #[schema(value_type = String, example = "1500.00")]
    pub fuel: Money,
    /// Other costs.
    #[schema(value_type = String, example = "1500.00")]
    pub other: Money,
    /// Everything.
    #[schema(value_type = String, example = "4500.00")]
    pub total: Money,
}

impl From<Spend> for SpendView {
    fn from(s: Spend) -> Self {
        Self {
            service: Money(s.service_cents),
            fuel: Money(s.fuel_cents),
            other: Money(s.other_cents),
            total: Money(s.total_cents()),
        }
    }
}

/// One month's spend.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonthSpendView {
    /// `2025-06`.
    pub month: String,
    /// The spend.
    pub spend: SpendView,
}

/// The stats of a unit or a fleet over a period.
#[derive(Debug, Serialize, ToSchema)]
pub struct FleetStatsView {
    /// First day counted.
    pub from: NaiveDate,
    /// Last day counted.
    pub to: NaiveDate,
    /// Spend in the period.
    pub spend: SpendView,
    /// Spend per month, months with none left out.
    pub months: Vec<MonthSpendView>,
    /// Kilometres driven in the period.
    pub km_driven: i64,
    /// Spend per km driven, MXN (none without distance).
    #[schema(value_type = Option<String>, example = "1.23")]
    pub cost_per_km: Option<Money>,
    /// Fuel loaded, millilitres.
    pub fuel_ml: i64,
    /// The plans' standings, most urgent first (a fleet's: urgent or worse only).
    pub upcoming: Vec<UpcomingView>,
}

impl From<Stats> for FleetStatsView {
    fn from(s: Stats) -> Self {
        Self {
            from: s.from,
            to: s.to,
            spend: s.spend.into(),
            months: s
                .months
                .into_iter()
                .map(|(month, spend)| MonthSpendView {
                    month,
                    spend: spend.into(),
                })
                .collect(),
            km_driven: s.km_driven,
            cost_per_km: s.cost_per_km_cents.map(Money),
            fuel_ml: s.fuel_ml,
            upcoming: s.upcoming.into_iter().map(Into::into).collect(),
        }
    }
}

/// The period of a stats request.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    /// First day (a year before `to` by default).
    pub from: Option<NaiveDate>,
    /// Last day (today by default); at most two years after `from`.
    pub to: Option<NaiveDate>,
}

/// A fleet's spend, distance, cost per km and upcoming work over a period.
#[utoipa::path(
    get, path = "/pos/api/fleets/{id}/stats", tag = "fleets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The fleet's customer id"), StatsQuery),
    responses((status = 200, body = FleetStatsView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn fleet_stats(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<StatsQuery>,
) -> ApiResult<Json<FleetStatsView>> {
    Ok(Json(
        stats::of_fleet(&ctx.db, id, q.from, q.to).await?.into(),
    ))
}

/// A fleet unit's spend, distance, cost per km and plans over a period.
#[utoipa::path(
    get, path = "/pos/api/vehicles/registered/{id}/stats", tag = "fleets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Registered vehicle id (a fleet unit)"), StatsQuery),
    responses((status = 200, body = FleetStatsView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn vehicle_stats(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<StatsQuery>,
) -> ApiResult<Json<FleetStatsView>> {
    Ok(Json(
        stats::of_vehicle(&ctx.db, id, q.from, q.to).await?.into(),
    ))
}
