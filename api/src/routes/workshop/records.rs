//! `/pos/api/service-orders/{id}/labour-time` and `…/photos`: a technician's time on a labour
//! line, and photos of the vehicle and the parts.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use entities::workshop::records::{self, NewTime};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::routes::workshop::orders::{LabourTimeView, ServicePhotoView, check_member};
use crate::state::AppState;

/// The routes of time and photos.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(log_labour_time))
        .routes(routes!(add_service_photo))
        .routes(routes!(get_service_photo))
}

/// Time worked on a labour line.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabourTimeRequest {
    /// The labour line.
    pub line_id: Uuid,
    /// Minutes.
    #[schema(minimum = 1, maximum = 1440)]
    pub minutes: i64,
    /// The day worked (today by default).
    pub worked_on: Option<chrono::NaiveDate>,
    /// The technician (you by default; another one needs a manager).
    pub technician_id: Option<Uuid>,
    /// Note.
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// Logs time on a labour line (all but viewer; a mechanic on their orders).
#[utoipa::path(
    post, path = "/pos/api/service-orders/{id}/labour-time", tag = "workshop", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Service order id")),
    request_body = LabourTimeRequest,
    responses(
        (status = 201, body = LabourTimeView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transition` on a finished order", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn log_labour_time(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<LabourTimeRequest>,
) -> ApiResult<(StatusCode, Json<LabourTimeView>)> {
    check_member(&state, &ctx, "technician_id", req.technician_id).await?;
    let txn = entities::db::begin_write(&ctx.db).await?;
    let e = records::log_time(
        &txn,
        &ctx.seller(),
        id,
        NewTime {
            line_id: req.line_id,
            minutes: req.minutes,
            worked_on: req.worked_on,
            technician_id: req.technician_id,
            note: req.note,
        },
    )
    .await?;
    txn.commit().await?;
    Ok((StatusCode::CREATED, Json((&e).into())))
}

/// A photo's caption.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PhotoQuery {
    /// Caption.
    #[param(max_length = 200)]
    pub caption: Option<String>,
}

/// Adds a photo (the body is the image: JPEG, PNG or WebP, up to 10 MiB; its type is read
/// from its bytes).
#[utoipa::path(
    post, path = "/pos/api/service-orders/{id}/photos", tag = "workshop", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Service order id"), PhotoQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 201, body = ServicePhotoView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_transition` on a finished order", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn add_service_photo(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<PhotoQuery>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ServicePhotoView>)> {
    let seller = ctx.seller();
    let content_type = records::photo_type(&body)?;
    records::photo_target(&ctx.db, &seller, id).await?;
    let photo_id = Uuid::now_v7();
    let key = records::photo_key(ctx.principal.tenant.id, id, photo_id);
    // The bytes first: a photo row never points at nothing (an orphan file is harmless).
    state
        .config
        .files
        .put(&key, &body)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let txn = entities::db::begin_write(&ctx.db).await?;
    let p = records::add_photo(
        &txn,
        &seller,
        id,
        photo_id,
        key,
        content_type,
        &body,
        q.caption,
    )
    .await?;
    txn.commit().await?;
    Ok((StatusCode::CREATED, Json((&p).into())))
}

/// A photo's bytes.
#[utoipa::path(
    get, path = "/pos/api/service-orders/{id}/photos/{photo_id}", tag = "workshop", security(("bearer" = [])),
    params(
        ("id" = Uuid, Path, description = "Service order id"),
        ("photo_id" = Uuid, Path, description = "Photo id"),
    ),
    responses(
        (status = 200, description = "The image", content_type = "image/jpeg"),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn get_service_photo(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppPath((id, photo_id)): AppPath<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    let p = records::photo(&ctx.db, &ctx.seller(), id, photo_id).await?;
    let bytes = state
        .config
        .files
        .get(&p.file_key)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or(ApiError::NotFound("photo"))?;
    Ok((
        [
            (header::CONTENT_TYPE, p.content_type),
            (header::CACHE_CONTROL, "private, max-age=86400".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
