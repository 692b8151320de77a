//! `/pos/api/service-orders/kanban` and `/pos/api/workshop/settings`: the board and the
//! owner's labels of its columns.

use std::collections::BTreeMap;

use axum::Json;
use entities::workshop::board;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppQuery};
use crate::routes::workshop::orders::ServiceOrderSummary;
use crate::state::AppState;

/// The board routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(service_kanban))
        .routes(routes!(get_workshop_settings, set_workshop_settings))
}

/// One column of the board.
#[derive(Debug, Serialize, ToSchema)]
pub struct KanbanColumn {
    /// The state.
    pub status: String,
    /// The owner's label for it.
    pub label: String,
    /// Orders in it.
    pub count: u64,
    /// Up to 100 cards, late ones first, then by promised time.
    pub cards: Vec<ServiceOrderSummary>,
}

/// The workshop's board.
#[derive(Debug, Serialize, ToSchema)]
pub struct KanbanView {
    /// Columns in the order of the work.
    pub columns: Vec<KanbanColumn>,
}

/// Which board.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct KanbanQuery {
    /// One branch (every branch in reach by default).
    pub branch_id: Option<Uuid>,
}

/// The kanban: a column per open state with its count and cards (a mechanic sees their own
/// orders only).
#[utoipa::path(
    get, path = "/pos/api/service-orders/kanban", tag = "workshop", security(("bearer" = [])),
    params(KanbanQuery),
    responses((status = 200, body = KanbanView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn service_kanban(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<KanbanQuery>,
) -> ApiResult<Json<KanbanView>> {
    let (columns, now) = board::kanban(&ctx.db, &ctx.seller(), q.branch_id).await?;
    Ok(Json(KanbanView {
        columns: columns
            .into_iter()
            .map(|c| KanbanColumn {
                status: c.status.to_string(),
                label: c.label,
                count: c.count,
                cards: c
                    .cards
                    .iter()
                    .map(|o| ServiceOrderSummary::of(o, now))
                    .collect(),
            })
            .collect(),
    }))
}

/// The owner's workshop settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkshopSettingsView {
    /// The kanban's label of each state.
    pub column_labels: BTreeMap<String, String>,
    /// Days a sold core's deposit is refunded in money; after them, as store credit.
    pub core_window_days: i32,
}

impl From<board::Settings> for WorkshopSettingsView {
    fn from(s: board::Settings) -> Self {
        Self {
            column_labels: s.column_labels,
            core_window_days: s.core_window_days,
        }
    }
}

/// The workshop settings.
#[utoipa::path(
    get, path = "/pos/api/workshop/settings", tag = "workshop", security(("bearer" = [])),
    responses((status = 200, body = WorkshopSettingsView))
)]
pub async fn get_workshop_settings(ctx: TenantCtx) -> ApiResult<Json<WorkshopSettingsView>> {
    Ok(Json(board::settings(&ctx.db).await?.into()))
}

/// New kanban labels by state, 1–40 characters each; absent states keep theirs.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnLabels {
    /// `received`.
    #[schema(min_length = 1, max_length = 40)]
    pub received: Option<String>,
    /// `diagnosing`.
    #[schema(min_length = 1, max_length = 40)]
    pub diagnosing: Option<String>,
    /// `awaiting_approval`.
    #[schema(min_length = 1, max_length = 40)]
    pub awaiting_approval: Option<String>,
    /// `waiting_parts`.
    #[schema(min_length = 1, max_length = 40)]
    pub waiting_parts: Option<String>,
    /// `in_repair`.
    #[schema(min_length = 1, max_length = 40)]
    pub in_repair: Option<String>,
    /// `quality_check`.
    #[schema(min_length = 1, max_length = 40)]
    pub quality_check: Option<String>,
    /// `ready`.
    #[schema(min_length = 1, max_length = 40)]
    pub ready: Option<String>,
    /// `delivered`.
    #[schema(min_length = 1, max_length = 40)]
    pub delivered: Option<String>,
    /// `declined`.
    #[schema(min_length = 1, max_length = 40)]
    pub declined: Option<String>,
    /// `cancelled`.
    #[schema(min_length = 1, max_length = 40)]
    pub cancelled: Option<String>,
}

impl ColumnLabels {
    fn into_map(self) -> BTreeMap<String, String> {
        [
            ("received", self.received),
            ("diagnosing", self.diagnosing),
            ("awaiting_approval", self.awaiting_approval),
            ("waiting_parts", self.waiting_parts),
            ("in_repair", self.in_repair),
            ("quality_check", self.quality_check),
            ("ready", self.ready),
            ("delivered", self.delivered),
            ("declined", self.declined),
            ("cancelled", self.cancelled),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
        .collect()
    }
}

/// Changes to the workshop settings; absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkshopSettingsRequest {
    /// Labels by state (`{"in_repair": "En el elevador"}`); the states are fixed.
    pub column_labels: Option<ColumnLabels>,
    /// Days a core's deposit is refunded in money, 1–365.
    #[schema(minimum = 1, maximum = 365)]
    pub core_window_days: Option<i32>,
}

/// Sets the kanban's labels and the core window (owner, admin).
#[utoipa::path(
    put, path = "/pos/api/workshop/settings", tag = "workshop", security(("bearer" = [])),
    request_body = WorkshopSettingsRequest,
    responses((status = 200, body = WorkshopSettingsView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn set_workshop_settings(
    ctx: TenantCtx,
    AppJson(req): AppJson<WorkshopSettingsRequest>,
) -> ApiResult<Json<WorkshopSettingsView>> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    let labels = req.column_labels.map(ColumnLabels::into_map);
    let s = board::set_settings(&txn, labels, req.core_window_days).await?;
    ctx.seller()
        .entry("workshop.settings", "workshop", uuid::Uuid::nil())
        .details(serde_json::json!({
            "column_labels": s.column_labels, "core_window_days": s.core_window_days,
        }))
        .record_tenant(&txn)
        .await?;
    txn.commit().await?;
    Ok(Json(s.into()))
}
