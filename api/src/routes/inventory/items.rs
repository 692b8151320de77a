//! `/pos/api/items`: the business's items. Everyone reads them; owners, admins and managers
//! create and change them.

use axum::Json;
use axum::http::StatusCode;
use entities::PageRequest;
use entities::inventory::items::{self, ItemFilter, ItemPatch, NewItem};
use entities::inventory::tables::item;
use entities::rules::money::Money;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery, double_option};
use crate::state::AppState;

/// The item routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_items, create_item))
        .routes(routes!(get_item, update_item))
}

/// An item.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemView {
    /// Item id.
    pub id: Uuid,
    /// The business's SKU.
    pub sku: String,
    /// The shared catalog's part, when linked.
    pub catalog_part_id: Option<i64>,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Brand.
    pub brand: Option<String>,
    /// Manufacturer part number.
    pub part_number: Option<String>,
    /// SAT ClaveProdServ.
    pub sat_product_key: Option<String>,
    /// SAT ClaveUnidad.
    pub sat_unit_key: Option<String>,
    /// Last cost in MXN, e.g. `"123.45"`; absent for roles that do not see margins (cashier,
    /// mechanic, viewer).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "123.45")]
    pub cost: Option<Money>,
    /// Maker's list price in MXN.
    #[schema(value_type = Option<String>, example = "199.00")]
    pub retail_price: Option<Money>,
    /// Reorder point per warehouse.
    pub min_qty: i64,
    /// Most to keep per warehouse.
    pub max_qty: Option<i64>,
    /// `part` (stocked) or `service` (a labour operation of the workshop, never stocked).
    pub kind: String,
    /// The deposit for the old unit (casco) each unit sold adds, MXN, IVA included.
    #[schema(value_type = String, example = "350.00")]
    pub core_charge: Money,
    /// Whether it is sold.
    pub is_active: bool,
    /// Created.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Last change.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<item::Model> for ItemView {
    fn from(i: item::Model) -> Self {
        Self {
            id: i.id,
            sku: i.sku,
            catalog_part_id: i.catalog_part_id,
            name: i.name,
            description: i.description,
            brand: i.brand,
            part_number: i.part_number,
            sat_product_key: i.sat_product_key,
            sat_unit_key: i.sat_unit_key,
            cost: Some(Money(i.cost_cents)),
            retail_price: i.retail_price_cents.map(Money),
            min_qty: i.min_qty,
            max_qty: i.max_qty,
            kind: i.kind.to_string(),
            core_charge: Money(i.core_charge_cents),
            is_active: i.is_active,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

impl ItemView {
    /// The view as `role` may see it: the cost only for managers and up, who set prices.
    fn seen_by(mut self, role: entities::Role) -> Self {
        if !role.is_manager() {
            self.cost = None;
        }
        self
    }
}

/// A page of items.
pub type ItemPage = crate::page::Page<ItemView>;

impl crate::page::Listed for ItemView {
    const PAGE: &'static str = "ItemPage";
    const PAGE_DOC: &'static str = "A page of items.";
    const ITEMS_DOC: &'static str = "Items of this page.";
}

/// Filters and page of the item list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ItemQuery {
    /// Text in the SKU, name or part number (case-insensitive).
    pub q: Option<String>,
    /// Only active (`true`) or inactive (`false`) items.
    pub active: Option<bool>,
    /// Only the item linked to this catalog part.
    #[param(minimum = 1)]
    pub catalog_part_id: Option<i64>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A new item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateItemRequest {
    /// SKU (letters, digits, `-`, `_`, `.`, `/`; upper-cased), unique.
    #[schema(pattern = "^[A-Za-z0-9_./-]{1,64}$")]
    pub sku: String,
    /// The shared catalog's part; one item per part. Its name, description, brand, number, SAT
    /// keys and retail price are copied into the fields not sent.
    #[schema(minimum = 1)]
    pub catalog_part_id: Option<i64>,
    /// Name (1–200 characters); the catalog part's when absent, required without one.
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Description.
    #[schema(max_length = 4000)]
    pub description: Option<String>,
    /// Brand.
    #[schema(max_length = 100)]
    pub brand: Option<String>,
    /// Manufacturer part number.
    #[schema(max_length = 100)]
    pub part_number: Option<String>,
    /// SAT ClaveProdServ, 8 digits.
    #[schema(pattern = "^(|[0-9]{8})$")]
    pub sat_product_key: Option<String>,
    /// SAT ClaveUnidad, 2 or 3 characters (`H87`, `KT`).
    #[schema(pattern = "^(|[A-Za-z0-9]{2,3})$")]
    pub sat_unit_key: Option<String>,
    /// Last cost in MXN as a decimal string, at most 2 decimals; `"0"` by default.
    #[schema(value_type = Option<crate::formats::Amount>, example = "123.45")]
    #[serde(default, with = "crate::extract::decimal_text_option")]
    pub cost: Option<Decimal>,
    /// Maker's list price in MXN as a decimal string.
    #[schema(value_type = Option<crate::formats::Amount>, example = "199.00")]
    #[serde(default, with = "crate::extract::decimal_text_option")]
    pub retail_price: Option<Decimal>,
    /// Reorder point, ≥ 0 (0 by default).
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub min_qty: Option<i64>,
    /// Most to keep, ≥ `min_qty`.
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub max_qty: Option<i64>,
    /// `part` (by default) or `service`: a labour operation of the workshop (its price on a
    /// list is the hourly rate or the flat price; never stocked; SAT keys 78181500 and E48 unless
    /// given).
    #[schema(pattern = "^(part|service)$")]
    pub kind: Option<String>,
    /// The deposit for the old unit (casco) each unit sold adds, MXN, IVA included (none by
    /// default).
    #[schema(value_type = Option<crate::formats::Amount>, example = "350.00")]
    #[serde(default, with = "crate::extract::decimal_text_option")]
    pub core_charge: Option<Decimal>,
}

/// Changes to an item; absent fields stay, `null` clears an optional one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateItemRequest {
    /// New SKU.
    #[schema(pattern = "^[A-Za-z0-9_./-]{1,64}$")]
    pub sku: Option<String>,
    /// New catalog part or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(minimum = 1, value_type = Option<i64>)]
    pub catalog_part_id: Option<Option<i64>>,
    /// New name.
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// New description or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 4000, value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// New brand or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 100, value_type = Option<String>)]
    pub brand: Option<Option<String>>,
    /// New part number or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 100, value_type = Option<String>)]
    pub part_number: Option<Option<String>>,
    /// New SAT product key or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(pattern = "^(|[0-9]{8})$", value_type = Option<String>)]
    pub sat_product_key: Option<Option<String>>,
    /// New SAT unit key or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(pattern = "^(|[A-Za-z0-9]{2,3})$", value_type = Option<String>)]
    pub sat_unit_key: Option<Option<String>>,
    /// New cost in MXN.
    #[schema(value_type = Option<crate::formats::Amount>, example = "123.45")]
    #[serde(default, with = "crate::extract::decimal_text_option")]
    pub cost: Option<Decimal>,
    /// New list price or `null`.
    #[serde(default, deserialize_with = "crate::extract::double_option_decimal")]
    #[schema(value_type = Option<crate::formats::Amount>)]
    pub retail_price: Option<Option<Decimal>>,
    /// New reorder point.
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub min_qty: Option<i64>,
    /// New maximum or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(minimum = 0, maximum = 1_000_000, value_type = Option<i64>)]
    pub max_qty: Option<Option<i64>>,
    /// Activate or deactivate.
    pub is_active: Option<bool>,
    /// New core charge, MXN (0 for none).
    #[schema(value_type = Option<crate::formats::Amount>, example = "350.00")]
    #[serde(default, with = "crate::extract::decimal_text_option")]
    pub core_charge: Option<Decimal>,
}

/// Lists items by SKU.
#[utoipa::path(
    get, path = "/pos/api/items", tag = "inventory", security(("bearer" = [])),
    params(ItemQuery),
    responses((status = 200, body = ItemPage), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn list_items(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<ItemQuery>,
) -> ApiResult<Json<ItemPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    if q.catalog_part_id.is_some_and(|p| p < 1) {
        return Err(ApiError::invalid(
            "catalog_part_id",
            "catalog_part_id: a catalog part id is 1 or more",
        ));
    }
    let rows = items::list_items(
        &ctx.db,
        page,
        ItemFilter {
            q: q.q,
            active: q.active,
            catalog_part_id: q.catalog_part_id,
        },
    )
    .await?;
    let role = ctx.principal.role;
    Ok(Json(ItemPage::from_rows(rows, |i| {
        ItemView::from(i).seen_by(role)
    })))
}

/// Creates an item (owner, admin, manager).
#[utoipa::path(
    post, path = "/pos/api/items", tag = "inventory", security(("bearer" = [])),
    request_body = CreateItemRequest,
    responses(
        (status = 201, body = ItemView),
        (status = 403, body = ErrorBody),
        (status = 409, description = "`sku_taken` or `catalog_part_taken`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn create_item(
    ctx: TenantCtx,
    axum::extract::State(state): axum::extract::State<AppState>,
    AppJson(req): AppJson<CreateItemRequest>,
) -> ApiResult<(StatusCode, Json<ItemView>)> {
    let mut new = NewItem {
        sku: req.sku,
        catalog_part_id: req.catalog_part_id,
        name: req.name,
        description: req.description,
        brand: req.brand,
        part_number: req.part_number,
        sat_product_key: req.sat_product_key,
        sat_unit_key: req.sat_unit_key,
        cost: req.cost,
        retail_price: req.retail_price,
        min_qty: req.min_qty,
        max_qty: req.max_qty,
        kind: req
            .kind
            .map(|k| {
                k.parse::<entities::inventory::tables::item::Kind>()
                    .map_err(|_| entities::Error::validation("kind", "kind is part or service"))
            })
            .transpose()?,
        core_charge: req.core_charge,
    };
    if let Some(id) = req.catalog_part_id {
        let (part, brand) =
            entities::catalog::lookup::part_with_brand(&state.platform, "catalog_part_id", id)
                .await?;
        new = new.or_from_part(&part, brand);
    }
    let it = items::create_item(&ctx.db, &ctx.actor(), new).await?;
    Ok((StatusCode::CREATED, Json(it.into())))
}

/// One item.
#[utoipa::path(
    get, path = "/pos/api/items/{id}", tag = "inventory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Item id")),
    responses((status = 200, body = ItemView), (status = 404, body = ErrorBody))
)]
pub async fn get_item(ctx: TenantCtx, AppPath(id): AppPath<Uuid>) -> ApiResult<Json<ItemView>> {
    Ok(Json(
        ItemView::from(items::get_item(&ctx.db, id).await?).seen_by(ctx.principal.role),
    ))
}

/// Changes an item (owner, admin, manager).
#[utoipa::path(
    patch, path = "/pos/api/items/{id}", tag = "inventory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Item id")),
    request_body = UpdateItemRequest,
    responses(
        (status = 200, body = ItemView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn update_item(
    ctx: TenantCtx,
    axum::extract::State(state): axum::extract::State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<UpdateItemRequest>,
) -> ApiResult<Json<ItemView>> {
    if let Some(Some(part)) = req.catalog_part_id {
        entities::catalog::lookup::require_part(&state.platform, "catalog_part_id", part).await?;
    }
    let patch = ItemPatch {
        sku: req.sku,
        catalog_part_id: req.catalog_part_id,
        name: req.name,
        description: req.description,
        brand: req.brand,
        part_number: req.part_number,
        sat_product_key: req.sat_product_key,
        sat_unit_key: req.sat_unit_key,
        cost: req.cost,
        retail_price: req.retail_price,
        min_qty: req.min_qty,
        max_qty: req.max_qty,
        is_active: req.is_active,
        core_charge: req.core_charge,
    };
    let it = items::update_item(&ctx.db, &ctx.actor(), id, patch).await?;
    // The cached stock view shows the SKU, name and minimum.
    state
        .stock_cache()
        .invalidate(ctx.principal.tenant.id, &[id])
        .await;
    Ok(Json(it.into()))
}
