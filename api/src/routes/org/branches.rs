//! `/pos/api/branches`: branches and their warehouses. Everyone reads the branches in their
//! scope; owners and admins change them.

use axum::Json;
use axum::http::StatusCode;
use entities::PageRequest;
use entities::org::branches::{self, BranchPatch, NewBranch, NewWarehouse, WarehousePatch};
use entities::{org::tables::branch, org::tables::warehouse};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery, double_option};
use crate::state::AppState;

/// The branch routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_branches, create_branch))
        .routes(routes!(get_branch, update_branch, delete_branch))
        .routes(routes!(list_warehouses, create_warehouse))
        .routes(routes!(get_warehouse, update_warehouse, delete_warehouse))
}

/// A branch.
#[derive(Debug, Serialize, ToSchema)]
pub struct BranchView {
    /// Branch id.
    pub id: Uuid,
    /// Unique code.
    pub code: String,
    /// Name.
    pub name: String,
    /// IVA rate as a decimal string: `"0.16"`, or `"0.08"` in the border region.
    #[schema(value_type = String, example = "0.16")]
    pub iva_rate: Decimal,
    /// IANA timezone.
    pub timezone: String,
    /// Street address.
    pub address: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Whether the branch takes new work.
    pub is_active: bool,
    /// Whether cash is taken only through an open drawer session (`POST /pos/api/drawers`).
    pub cash_drawer_required: bool,
    /// Created.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Last change.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<branch::Model> for BranchView {
    fn from(b: branch::Model) -> Self {
        Self {
            id: b.id,
            code: b.code,
            name: b.name,
            iva_rate: Decimal::new(i64::from(b.iva_rate_bp), 4).normalize(),
            timezone: b.timezone,
            address: b.address,
            postal_code: b.postal_code,
            phone: b.phone,
            is_active: b.is_active,
            cash_drawer_required: b.cash_drawer_required,
            created_at: b.created_at,
            updated_at: b.updated_at,
        }
    }
}

/// A page of branches.
pub type BranchPage = crate::page::Page<BranchView>;

impl crate::page::Listed for BranchView {
    const PAGE: &'static str = "BranchPage";
    const PAGE_DOC: &'static str = "A page of branches.";
    const ITEMS_DOC: &'static str = "Branches of this page.";
}

/// A branch's warehouses, answered whole as one page.
pub type WarehousePage = crate::page::Page<WarehouseView>;

impl crate::page::Listed for WarehouseView {
    const PAGE: &'static str = "WarehousePage";
    const PAGE_DOC: &'static str = "A branch's warehouses.";
    const ITEMS_DOC: &'static str = "Warehouses by code.";
}

/// A warehouse.
#[derive(Debug, Serialize, ToSchema)]
pub struct WarehouseView {
    /// Warehouse id.
    pub id: Uuid,
    /// Owning branch.
    pub branch_id: Uuid,
    /// Unique code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Whether it takes new stock.
    pub is_active: bool,
    /// Created.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Last change.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<warehouse::Model> for WarehouseView {
    fn from(w: warehouse::Model) -> Self {
        Self {
            id: w.id,
            branch_id: w.branch_id,
            code: w.code,
            name: w.name,
            is_active: w.is_active,
            created_at: w.created_at,
            updated_at: w.updated_at,
        }
    }
}

/// Filters and page of the branch list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BranchQuery {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    /// Only active (`true`) or inactive (`false`) branches.
    pub active: Option<bool>,
}

/// A new branch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBranchRequest {
    /// Unique code (letters, digits, `-`, `_`; upper-cased).
    #[schema(pattern = "^[A-Za-z0-9_-]{1,32}$", example = "NORTE")]
    pub code: String,
    /// Name.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// `"0.16"` (default) or `"0.08"` for the border region.
    #[schema(value_type = Option<crate::formats::IvaRate>, example = "0.16")]
    #[serde(default, with = "crate::extract::decimal_text_option")]
    pub iva_rate: Option<Decimal>,
    /// IANA timezone in Mexico; America/Mexico_City by default.
    #[schema(
        pattern = "^(America/Mexico_City|America/Cancun|America/Merida|America/Monterrey|America/Matamoros|America/Chihuahua|America/Ciudad_Juarez|America/Ojinaga|America/Mazatlan|America/Bahia_Banderas|America/Hermosillo|America/Tijuana)$"
    )]
    pub timezone: Option<String>,
    /// Street address.
    #[schema(max_length = 500)]
    pub address: Option<String>,
    /// Five-digit postal code.
    #[schema(pattern = "^(|[0-9]{5})$")]
    pub postal_code: Option<String>,
    /// Phone.
    #[schema(max_length = 32, pattern = "^(|[ +()-]*([0-9][ +()-]*){7,32})$")]
    pub phone: Option<String>,
    /// Whether cash needs an open drawer session (default true).
    pub cash_drawer_required: Option<bool>,
}

/// Changes to a branch; absent fields stay, `null` clears an optional one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBranchRequest {
    /// New code.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,32}$")]
    pub code: Option<String>,
    /// New name.
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// New IVA rate.
    #[schema(value_type = Option<crate::formats::IvaRate>, example = "0.08")]
    #[serde(default, with = "crate::extract::decimal_text_option")]
    pub iva_rate: Option<Decimal>,
    /// New timezone.
    #[schema(
        pattern = "^(America/Mexico_City|America/Cancun|America/Merida|America/Monterrey|America/Matamoros|America/Chihuahua|America/Ciudad_Juarez|America/Ojinaga|America/Mazatlan|America/Bahia_Banderas|America/Hermosillo|America/Tijuana)$"
    )]
    pub timezone: Option<String>,
    /// New address or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 500, value_type = Option<String>)]
    pub address: Option<Option<String>>,
    /// New postal code or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(pattern = "^(|[0-9]{5})$", value_type = Option<String>)]
    pub postal_code: Option<Option<String>>,
    /// New phone or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 32, pattern = "^(|[ +()-]*([0-9][ +()-]*){7,32})$", value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// Activate or deactivate.
    pub is_active: Option<bool>,
    /// Require an open drawer session for cash sales and refunds, or let them go without one.
    pub cash_drawer_required: Option<bool>,
}

/// A new warehouse.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWarehouseRequest {
    /// Unique code.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,32}$", example = "NORTE-A")]
    pub code: String,
    /// Name.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
}

/// Changes to a warehouse.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWarehouseRequest {
    /// New code.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,32}$")]
    pub code: Option<String>,
    /// New name.
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Activate or deactivate.
    pub is_active: Option<bool>,
}

/// Converts an IVA rate such as `0.16` to basis points.
fn iva_bp(rate: Decimal) -> ApiResult<i32> {
    let bp = rate * Decimal::from(10_000);
    if bp.fract() != Decimal::ZERO {
        return Err(ApiError::invalid(
            "iva_rate",
            "iva_rate: must be 0.16, or 0.08 in the border region",
        ));
    }
    let bp = bp.to_i32().ok_or_else(|| {
        ApiError::invalid(
            "iva_rate",
            "iva_rate: must be 0.16, or 0.08 in the border region",
        )
    })?;
    Ok(branches::check_iva(bp)?)
}

/// A branch the caller may see, or 404 (a branch outside the caller's scope is not shown).
pub(crate) async fn visible_branch(ctx: &TenantCtx, id: Uuid) -> ApiResult<branch::Model> {
    if !ctx.principal.can_see_branch(id) {
        return Err(ApiError::NotFound("branch"));
    }
    Ok(branches::get_branch(&ctx.db, id).await?)
}

/// Lists the branches the caller may see.
#[utoipa::path(
    get, path = "/pos/api/branches", tag = "branches", security(("bearer" = [])),
    params(BranchQuery),
    responses((status = 200, body = BranchPage), (status = 401, body = ErrorBody))
)]
pub async fn list_branches(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<BranchQuery>,
) -> ApiResult<Json<BranchPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = branches::list_branches(
        &ctx.db,
        page,
        q.active,
        ctx.principal.branch_scope.as_deref(),
    )
    .await?;
    Ok(Json(BranchPage::from_rows(rows, Into::into)))
}

/// Creates a branch (owner, admin).
#[utoipa::path(
    post, path = "/pos/api/branches", tag = "branches", security(("bearer" = [])),
    request_body = CreateBranchRequest,
    responses(
        (status = 201, body = BranchView),
        (status = 403, body = ErrorBody),
        (status = 409, description = "Code taken", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn create_branch(
    ctx: TenantCtx,
    AppJson(req): AppJson<CreateBranchRequest>,
) -> ApiResult<(StatusCode, Json<BranchView>)> {
    let new = NewBranch {
        code: req.code,
        name: req.name,
        iva_rate_bp: req.iva_rate.map(iva_bp).transpose()?,
        timezone: req.timezone,
        address: req.address,
        postal_code: req.postal_code,
        phone: req.phone,
        cash_drawer_required: req.cash_drawer_required,
    };
    let b = branches::create_branch(&ctx.db, &ctx.actor(), new).await?;
    Ok((StatusCode::CREATED, Json(b.into())))
}

/// One branch.
#[utoipa::path(
    get, path = "/pos/api/branches/{id}", tag = "branches", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Branch id")),
    responses((status = 200, body = BranchView), (status = 404, body = ErrorBody))
)]
pub async fn get_branch(ctx: TenantCtx, AppPath(id): AppPath<Uuid>) -> ApiResult<Json<BranchView>> {
    Ok(Json(visible_branch(&ctx, id).await?.into()))
}

/// Changes a branch (owner, admin).
#[utoipa::path(
    patch, path = "/pos/api/branches/{id}", tag = "branches", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Branch id")),
    request_body = UpdateBranchRequest,
    responses(
        (status = 200, body = BranchView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn update_branch(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<UpdateBranchRequest>,
) -> ApiResult<Json<BranchView>> {
    visible_branch(&ctx, id).await?;
    let patch = BranchPatch {
        code: req.code,
        name: req.name,
        iva_rate_bp: req.iva_rate.map(iva_bp).transpose()?,
        timezone: req.timezone,
        address: req.address,
        postal_code: req.postal_code,
        phone: req.phone,
        is_active: req.is_active,
        cash_drawer_required: req.cash_drawer_required,
    };
    Ok(Json(
        branches::update_branch(&ctx.db, &ctx.actor(), id, patch)
            .await?
            .into(),
    ))
}

/// Deletes a branch without warehouses (owner, admin); deactivate one with history instead.
#[utoipa::path(
    delete, path = "/pos/api/branches/{id}", tag = "branches", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Branch id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Has warehouses, or is the last branch", body = ErrorBody),
    )
)]
pub async fn delete_branch(ctx: TenantCtx, AppPath(id): AppPath<Uuid>) -> ApiResult<StatusCode> {
    visible_branch(&ctx, id).await?;
    branches::delete_branch(&ctx.db, &ctx.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A branch's warehouses.
#[utoipa::path(
    get, path = "/pos/api/branches/{id}/warehouses", tag = "branches", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Branch id")),
    responses((status = 200, body = WarehousePage), (status = 404, body = ErrorBody))
)]
pub async fn list_warehouses(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<WarehousePage>> {
    visible_branch(&ctx, id).await?;
    let ws = branches::list_warehouses(&ctx.db, id).await?;
    Ok(Json(WarehousePage::whole(
        ws.into_iter().map(Into::into).collect(),
    )))
}

/// Creates a warehouse in a branch (owner, admin).
#[utoipa::path(
    post, path = "/pos/api/branches/{id}/warehouses", tag = "branches", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Branch id")),
    request_body = CreateWarehouseRequest,
    responses(
        (status = 201, body = WarehouseView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn create_warehouse(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<CreateWarehouseRequest>,
) -> ApiResult<(StatusCode, Json<WarehouseView>)> {
    visible_branch(&ctx, id).await?;
    let w = branches::create_warehouse(
        &ctx.db,
        &ctx.actor(),
        id,
        NewWarehouse {
            code: req.code,
            name: req.name,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(w.into())))
}

/// One warehouse of a branch.
#[utoipa::path(
    get, path = "/pos/api/branches/{id}/warehouses/{warehouse_id}", tag = "branches", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Branch id"), ("warehouse_id" = Uuid, Path, description = "Warehouse id")),
    responses((status = 200, body = WarehouseView), (status = 404, body = ErrorBody))
)]
pub async fn get_warehouse(
    ctx: TenantCtx,
    AppPath((id, warehouse_id)): AppPath<(Uuid, Uuid)>,
) -> ApiResult<Json<WarehouseView>> {
    visible_branch(&ctx, id).await?;
    Ok(Json(
        branches::get_warehouse(&ctx.db, id, warehouse_id)
            .await?
            .into(),
    ))
}

/// Changes a warehouse (owner, admin).
#[utoipa::path(
    patch, path = "/pos/api/branches/{id}/warehouses/{warehouse_id}", tag = "branches", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Branch id"), ("warehouse_id" = Uuid, Path, description = "Warehouse id")),
    request_body = UpdateWarehouseRequest,
    responses(
        (status = 200, body = WarehouseView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn update_warehouse(
    ctx: TenantCtx,
    AppPath((id, warehouse_id)): AppPath<(Uuid, Uuid)>,
    AppJson(req): AppJson<UpdateWarehouseRequest>,
) -> ApiResult<Json<WarehouseView>> {
    visible_branch(&ctx, id).await?;
    let patch = WarehousePatch {
        code: req.code,
        name: req.name,
        is_active: req.is_active,
    };
    Ok(Json(
        branches::update_warehouse(&ctx.db, &ctx.actor(), id, warehouse_id, patch)
            .await?
            .into(),
    ))
}

/// Deletes a warehouse (owner, admin).
#[utoipa::path(
    delete, path = "/pos/api/branches/{id}/warehouses/{warehouse_id}", tag = "branches", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Branch id"), ("warehouse_id" = Uuid, Path, description = "Warehouse id")),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn delete_warehouse(
    ctx: TenantCtx,
    AppPath((id, warehouse_id)): AppPath<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    visible_branch(&ctx, id).await?;
    branches::delete_warehouse(&ctx.db, &ctx.actor(), id, warehouse_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iva_rates_convert_to_basis_points() {
        assert_eq!(iva_bp(Decimal::new(16, 2)).unwrap(), 1600);
        assert_eq!(iva_bp(Decimal::new(8, 2)).unwrap(), 800);
        assert_eq!(iva_bp(Decimal::new(800, 4)).unwrap(), 800);
        assert!(iva_bp(Decimal::new(15, 2)).is_err());
        assert!(iva_bp(Decimal::new(160001, 6)).is_err());
    }

    #[test]
    fn stored_basis_points_show_as_a_short_decimal() {
        assert_eq!(Decimal::new(1600, 4).normalize().to_string(), "0.16");
    }
}
