//! Fleets: fleet customers with their cost centres, drivers, units and contracts, the fleet's
//! stats; maintenance plans and the fleet settings; and, on each registered vehicle, its
//! odometer readings, its plans' urgency, its cost logs and stats.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;

use crate::auth::TenantCtx;
use crate::error::ApiResult;
use crate::state::AppState;

pub mod plans;
pub mod profiles;
pub mod stats;
pub mod vehicles;

/// Every route of the area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(profiles::router())
        .merge(plans::router())
        .merge(vehicles::router())
        .merge(stats::router())
}

/// A text value parsed, or the 422 naming the field.
pub(crate) fn parse_text<T: std::str::FromStr>(
    field: &str,
    v: &str,
    allowed: &str,
) -> Result<T, entities::Error> {
    v.parse::<T>()
        .map_err(|_| entities::Error::validation(field, format!("{field} is {allowed}")))
}

/// Runs a creating `work` once per `Idempotency-Key` in one transaction, answering 201 with the
/// view it made.
pub(crate) async fn create_once<V: Serialize>(
    ctx: &TenantCtx,
    headers: &HeaderMap,
    scope: &str,
    raw: &serde_json::Value,
    work: impl AsyncFnOnce(&sea_orm::DatabaseTransaction) -> ApiResult<V>,
) -> ApiResult<Response> {
    let written = crate::idempotency::write_once(
        &ctx.db,
        headers,
        scope,
        raw,
        StatusCode::CREATED,
        async |txn| {
            let v = work(txn).await?;
            Ok((crate::extract::to_value(&v)?, ()))
        },
    )
    .await?;
    Ok(written.response())
}
