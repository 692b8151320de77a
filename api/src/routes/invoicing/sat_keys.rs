//! Default SAT keys per part type: `/pos/api/settings/fiscal/sat-keys` (owners and admins). An
//! invoice line takes its item's keys, else its catalog part's, else its part type's set here,
//! else the business-wide defaults of the fiscal settings.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use entities::catalog::schema::category;
use entities::invoicing::sat_keys::{self, CategoryKeys};
use entities::invoicing::tables::category_sat_key;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath};
use crate::state::AppState;

/// The part-type key routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sat_keys))
        .routes(routes!(put_sat_keys, delete_sat_keys))
}

/// Every part type with default SAT keys, answered whole as one page.
pub type CategoryKeysPage = crate::page::Page<CategoryKeysView>;

impl crate::page::Listed for CategoryKeysView {
    const PAGE: &'static str = "CategoryKeysPage";
    const PAGE_DOC: &'static str = "The part types with default SAT keys.";
    const ITEMS_DOC: &'static str = "Part types by id.";
}

/// The default SAT keys of one part type.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryKeysView {
    /// The shared catalog's category (part type).
    pub category_id: i32,
    /// Its Spanish name.
    pub category: Option<String>,
    /// ClaveProdServ, or `null` to take the business-wide default.
    pub product_key: Option<String>,
    /// ClaveUnidad, or `null` to take the business-wide default.
    pub unit_key: Option<String>,
    /// Last change.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl CategoryKeysView {
    fn new(k: category_sat_key::Model, name: Option<String>) -> Self {
        Self {
            category_id: k.category_id,
            category: name,
            product_key: k.product_key,
            unit_key: k.unit_key,
            updated_at: k.updated_at,
        }
    }
}

/// The keys to set for a part type.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryKeysRequest {
    /// ClaveProdServ (8 digits, e.g. `25171700` for brakes).
    #[schema(pattern = "^[0-9]{8}$")]
    pub product_key: Option<String>,
    /// ClaveUnidad (e.g. `H87` pieza, `KT` kit, `LTR` litro).
    #[schema(pattern = "^[A-Za-z0-9]{1,3}$")]
    pub unit_key: Option<String>,
}

/// The part types with default SAT keys (owner and admin).
#[utoipa::path(
    get,
    path = "/pos/api/settings/fiscal/sat-keys",
    tag = "invoicing",
    responses((status = 200, body = CategoryKeysPage), (status = 403, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list_sat_keys(
    State(state): State<AppState>,
    ctx: TenantCtx,
) -> ApiResult<Json<CategoryKeysPage>> {
    let rows = sat_keys::list(&ctx.db).await?;
    let names = category::Entity::find()
        .filter(category::Column::Id.is_in(rows.iter().map(|r| r.category_id)))
        .all(&state.platform)
        .await?;
    Ok(Json(CategoryKeysPage::whole(
        rows.into_iter()
            .map(|r| {
                let name = names
                    .iter()
                    .find(|c| c.id == r.category_id)
                    .map(|c| c.name.clone());
                CategoryKeysView::new(r, name)
            })
            .collect(),
    )))
}

/// Sets the default SAT keys of a part type (owner and admin); a key left out or `null` falls
/// back to the business-wide default.
#[utoipa::path(
    put,
    path = "/pos/api/settings/fiscal/sat-keys/{category_id}",
    tag = "invoicing",
    params(("category_id" = i32, Path, description = "The catalog category (part type)")),
    request_body = CategoryKeysRequest,
    responses(
        (status = 200, body = CategoryKeysView),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such category", body = ErrorBody),
        (status = 422, description = "A key of the wrong shape, or none given", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn put_sat_keys(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppPath(category_id): AppPath<i32>,
    AppJson(req): AppJson<CategoryKeysRequest>,
) -> ApiResult<Json<CategoryKeysView>> {
    // The keys and their audit entry commit together.
    let txn = entities::db::begin_write(&ctx.db).await?;
    let saved = sat_keys::set(
        &txn,
        &state.platform,
        Some(ctx.principal.user_id),
        category_id,
        CategoryKeys {
            product_key: req.product_key,
            unit_key: req.unit_key,
        },
    )
    .await?;
    txn.commit().await?;
    let name = category::Entity::find_by_id(category_id)
        .one(&state.platform)
        .await?
        .map(|c| c.name);
    Ok(Json(CategoryKeysView::new(saved, name)))
}

/// Removes a part type's default SAT keys (owner and admin).
#[utoipa::path(
    delete,
    path = "/pos/api/settings/fiscal/sat-keys/{category_id}",
    tag = "invoicing",
    params(("category_id" = i32, Path, description = "The catalog category (part type)")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, body = ErrorBody),
        (status = 404, description = "The part type had no keys", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn delete_sat_keys(
    ctx: TenantCtx,
    AppPath(category_id): AppPath<i32>,
) -> ApiResult<StatusCode> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    let gone = sat_keys::clear(&txn, Some(ctx.principal.user_id), category_id).await?;
    txn.commit().await?;
    if gone {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("part type keys"))
    }
}
