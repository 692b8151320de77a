//! `/pos/api/catalog` and the vehicle cascade under `/pos/api/vehicles`: "what fits this car?".
//! The catalog is shared by every tenant and lives in the platform database; any signed-in user
//! of a business may read it.

use std::sync::Arc;

use axum::Json;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use entities::PageRequest;
use entities::catalog::lookup::{self, FitmentView, Named, NumberView, PartDetail, VehicleView};
use entities::catalog::search::{
    self, CatalogSearch, SearchError, SearchHit, SearchPage, SearchQuery, SqlSearch,
};
use entities::inventory::stock_views::{self, PartStock};
use entities::rules::money::Money;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{Principal, TenantCtx};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppPath, AppQuery};
use crate::state::AppState;

/// The catalog routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_parts))
        .routes(routes!(get_part))
        .routes(routes!(years))
        .routes(routes!(makes))
        .routes(routes!(models))
        .routes(routes!(engines))
        .routes(routes!(get_vehicle))
        .routes(routes!(categories))
        .routes(routes!(brands))
}

/// Which search backend answered.
pub static SEARCH_BACKEND: HeaderName = HeaderName::from_static("x-search-backend");
/// Why the configured search backend was skipped, when it was.
pub static SEARCH_FALLBACK: HeaderName = HeaderName::from_static("x-search-fallback");

/// The cascade changes only when the catalog is loaded: let the POS cache it for an hour.
fn cacheable() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    h
}

/// Search filters and page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// Words, a part number or an interchange number ("balata", "BP-1234", "bp 1234").
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Only parts that fit this catalog vehicle.
    pub vehicle_id: Option<i32>,
    /// Only parts that fit a vehicle of this year…
    #[param(minimum = 1900, maximum = 2100)]
    pub year: Option<i16>,
    /// …of this maker (id)…
    pub make: Option<i32>,
    /// …of this model (id)…
    pub model: Option<i32>,
    /// …with this displacement in litres ("1.6").
    #[param(
        pattern = "^(|(0?\\.[1-9]|[1-9](\\.[0-9])?|1[0-9](\\.[0-9])?|20(\\.0)?)[Ll]?)$",
        example = "1.6"
    )]
    pub engine: Option<String>,
    /// Only this category (id).
    pub category: Option<i32>,
    /// Only this brand (id).
    pub brand: Option<i32>,
    /// The branch the counter is in: each hit's `stock.here` counts its warehouses. By default
    /// the user's branch when they are limited to one.
    pub branch_id: Option<Uuid>,
    /// Only parts the business has on hand (an active item linked to the part with units in a
    /// warehouse; in `branch_id`'s when given).
    pub in_stock: Option<bool>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A part in a result list.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartHit {
    /// Part id.
    pub id: i64,
    /// Number as printed.
    pub number: String,
    /// Name.
    pub name: String,
    /// Brand id.
    pub brand_id: i32,
    /// Brand.
    pub brand: String,
    /// Category id.
    pub category_id: Option<i32>,
    /// Category.
    pub category: Option<String>,
    /// Reference retail price in MXN, decimal string (`"450.00"`), as every price of the POS API.
    #[schema(value_type = Option<String>, example = "450.00")]
    pub retail_price: Option<Money>,
    /// What the business has of the part; absent when it sells no item linked to it.
    pub stock: Option<HitStock>,
}

/// A business's stock of a catalog part.
#[derive(Debug, Serialize, ToSchema)]
pub struct HitStock {
    /// The item the business sells the part as (what a cart line takes).
    pub item_id: Uuid,
    /// Its SKU.
    pub sku: String,
    /// Units on hand in the counter's branch; absent when no branch applies.
    pub here: Option<i64>,
    /// Units on hand in the other branches.
    pub elsewhere: i64,
}

impl From<PartStock> for HitStock {
    fn from(s: PartStock) -> Self {
        Self {
            item_id: s.item_id,
            sku: s.sku,
            here: s.here,
            elsewhere: s.elsewhere,
        }
    }
}

impl From<SearchHit> for PartHit {
    fn from(h: SearchHit) -> Self {
        Self {
            id: h.id,
            number: h.number,
            name: h.name,
            brand_id: h.brand_id,
            brand: h.brand,
            category_id: h.category_id,
            category: h.category,
            retail_price: h.retail_price_cents.map(Money),
            stock: None,
        }
    }
}

/// A page of parts.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartPage {
    /// Parts of this page, best match first.
    pub items: Vec<PartHit>,
    /// Page number.
    pub page: u64,
    /// Page size.
    pub per_page: u64,
    /// Matches in all pages: exact when `total_exact`; otherwise a lower bound (PostgreSQL stops
    /// counting past 2,000 matches) or Meilisearch's estimate.
    pub total: u64,
    /// Whether `total` is an exact count.
    pub total_exact: bool,
    /// The backend that answered: `sql` or `meilisearch`.
    pub backend: String,
}

/// Searches the catalog by text and fitment. Answers from Meilisearch when it is configured, and
/// from the SQL index when it is not or does not answer (header `X-Search-Fallback` says why).
/// Each hit says what the business has of the part, here and in its other branches; `in_stock`
/// searches only the parts it has, from the SQL index (the shared index holds no one's stock).
#[utoipa::path(
    get, path = "/pos/api/catalog/search", tag = "catalog", security(("bearer" = [])),
    params(SearchParams),
    responses(
        (status = 200, body = PartPage, headers(("x-search-backend" = String))),
        (status = 401, body = ErrorBody),
        (status = 404, description = "`branch_id` is not a branch the user can see", body = ErrorBody),
        (status = 422, description = "Bad page, engine or filter", body = ErrorBody),
    )
)]
pub async fn search_parts(
    state: axum::extract::State<AppState>,
    ctx: TenantCtx,
    AppQuery(p): AppQuery<SearchParams>,
) -> ApiResult<(HeaderMap, Json<PartPage>)> {
    let here = counter_branch(&ctx, p.branch_id).await?;
    if let Some(y) = p.year {
        model_year(y)?;
    }
    let page = PageRequest::new(p.page, p.per_page)?;
    let query = SearchQuery {
        q: p.q,
        vehicle_id: p.vehicle_id,
        year: p.year,
        make_id: p.make,
        model_id: p.model,
        engine: p.engine,
        category_id: p.category,
        brand_id: p.brand,
    };
    let mut resolved = search::resolve(&state.platform, &query, page).await?;
    let in_stock = p.in_stock.unwrap_or(false);
    if in_stock {
        resolved.part_ids = Some(stock_views::parts_in_stock(&ctx.db, p.branch_id).await?);
    }
    let mut headers = HeaderMap::new();
    let sql: Arc<dyn CatalogSearch> = Arc::new(SqlSearch::new(state.platform.clone()));
    let primary = match state.catalog_search() {
        Some(meili) if !in_stock => meili,
        _ => sql.clone(),
    };
    let (backend, result) = match primary.search(&resolved).await {
        Err(SearchError::Unavailable(why)) if primary.name() != sql.name() => {
            tracing::warn!(backend = primary.name(), error = %why, "search fell back to SQL");
            state.search_metrics.fallbacks.inc();
            headers.insert(
                SEARCH_FALLBACK.clone(),
                HeaderValue::from_str(&format!("{}-unavailable", primary.name()))
                    .unwrap_or(HeaderValue::from_static("unavailable")),
            );
            (sql.name(), sql.search(&resolved).await)
        }
        other => (primary.name(), other),
    };
    let SearchPage {
        items,
        page,
        per_page,
        total,
        total_exact,
    } = result.map_err(|e| match e {
        SearchError::Domain(d) => d.into(),
        SearchError::Unavailable(why) => {
            crate::error::ApiError::Internal(format!("search unavailable: {why}"))
        }
    })?;
    state
        .search_metrics
        .searches
        .with_label_values(&[backend])
        .inc();
    headers.insert(SEARCH_BACKEND.clone(), HeaderValue::from_static(backend));
    let ids: Vec<i64> = items.iter().map(|h| h.id).collect();
    let mut stock = stock_views::stock_of_parts(&ctx.db, &ids, here).await?;
    Ok((
        headers,
        Json(PartPage {
            items: items
                .into_iter()
                .map(|h| {
                    let s = stock.remove(&h.id).map(Into::into);
                    PartHit {
                        stock: s,
                        ..h.into()
                    }
                })
                .collect(),
            page,
            per_page,
            total,
            total_exact,
            backend: backend.to_owned(),
        }),
    ))
}

/// The branch whose stock a search calls "here": the one asked for, which the user must be able
/// to see, or the user's only branch.
async fn counter_branch(ctx: &TenantCtx, asked: Option<Uuid>) -> ApiResult<Option<Uuid>> {
    match asked {
        Some(id) => {
            crate::routes::org::branches::visible_branch(ctx, id).await?;
            Ok(Some(id))
        }
        None => Ok(match ctx.principal.branch_scope.as_deref() {
            Some([only]) => Some(*only),
            _ => None,
        }),
    }
}

/// A vehicle of the catalog.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogVehicle {
    /// Vehicle id (the `vehicle_id` of searches).
    pub id: i32,
    /// Year.
    pub year: i16,
    /// Maker id.
    pub make_id: i32,
    /// Maker.
    pub make: String,
    /// Model id.
    pub model_id: i32,
    /// Model.
    pub model: String,
    /// Submodel.
    pub submodel: Option<String>,
    /// Displacement in litres.
    pub liters: Option<String>,
    /// Cylinders.
    pub cylinders: Option<i16>,
    /// Fuel.
    pub fuel: Option<String>,
    /// Aspiration.
    pub aspiration: Option<String>,
    /// Label for a picker, e.g. `1.6L L4 gasolina`.
    pub engine: String,
}

impl From<VehicleView> for CatalogVehicle {
    fn from(v: VehicleView) -> Self {
        Self {
            id: v.id,
            year: v.year,
            make_id: v.make_id,
            make: v.make,
            model_id: v.model_id,
            model: v.model,
            submodel: v.submodel,
            liters: v.liters,
            cylinders: v.cylinders,
            fuel: v.fuel,
            aspiration: v.aspiration,
            engine: v.engine,
        }
    }
}

/// A vehicle a part fits.
#[derive(Debug, Serialize, ToSchema)]
pub struct Fitment {
    /// The vehicle.
    pub vehicle: CatalogVehicle,
    /// Position.
    pub position: Option<String>,
    /// Units per vehicle.
    pub qty: i16,
    /// ACES qualifiers.
    #[schema(value_type = Option<Object>)]
    pub qualifiers: Option<serde_json::Value>,
    /// Note.
    pub note: Option<String>,
}

/// Another number of a part.
#[derive(Debug, Serialize, ToSchema)]
pub struct OtherNumber {
    /// `oe`, `aftermarket`, `supersedes`, `superseded_by`.
    pub kind: String,
    /// Brand.
    pub brand: String,
    /// Number as printed.
    pub number: String,
}

/// A part with fitment and interchange.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartView {
    /// Part id.
    pub id: i64,
    /// Number as printed.
    pub number: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Brand id.
    pub brand_id: i32,
    /// Brand.
    pub brand: String,
    /// Category id.
    pub category_id: Option<i32>,
    /// Category.
    pub category: Option<String>,
    /// Attributes.
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Value>,
    /// SAT ClaveProdServ.
    pub sat_product_key: Option<String>,
    /// SAT ClaveUnidad.
    pub sat_unit_key: Option<String>,
    /// Reference retail price in MXN, decimal string (`"450.00"`).
    #[schema(value_type = Option<String>, example = "450.00")]
    pub retail_price: Option<Money>,
    /// Image references.
    #[schema(value_type = Option<Object>)]
    pub image_refs: Option<serde_json::Value>,
    /// Vehicles it fits (newest first, at most 500).
    pub fitment: Vec<Fitment>,
    /// Vehicles it fits in all.
    pub fitment_total: u64,
    /// Other numbers it is known by.
    pub interchange: Vec<OtherNumber>,
}

impl From<PartDetail> for PartView {
    fn from(p: PartDetail) -> Self {
        Self {
            id: p.id,
            number: p.number,
            name: p.name,
            description: p.description,
            brand_id: p.brand_id,
            brand: p.brand,
            category_id: p.category_id,
            category: p.category,
            attributes: p.attributes,
            sat_product_key: p.sat_product_key,
            sat_unit_key: p.sat_unit_key,
            retail_price: p.retail_price_cents.map(Money),
            image_refs: p.image_refs,
            fitment: p
                .fitment
                .into_iter()
                .map(|f: FitmentView| Fitment {
                    vehicle: f.vehicle.into(),
                    position: f.position,
                    qty: f.qty,
                    qualifiers: f.qualifiers,
                    note: f.note,
                })
                .collect(),
            fitment_total: p.fitment_total,
            interchange: p
                .interchange
                .into_iter()
                .map(|n: NumberView| OtherNumber {
                    kind: n.kind,
                    brand: n.brand,
                    number: n.number,
                })
                .collect(),
        }
    }
}

/// A part with the vehicles it fits and its other numbers.
#[utoipa::path(
    get, path = "/pos/api/catalog/parts/{id}", tag = "catalog", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Part id")),
    responses((status = 200, body = PartView), (status = 404, body = ErrorBody))
)]
pub async fn get_part(
    state: axum::extract::State<AppState>,
    _who: Principal,
    AppPath(id): AppPath<i64>,
) -> ApiResult<Json<PartView>> {
    Ok(Json(lookup::part(&state.platform, id).await?.into()))
}

/// A maker or model.
#[derive(Debug, Serialize, ToSchema)]
pub struct NamedItem {
    /// Id.
    pub id: i32,
    /// Name.
    pub name: String,
}

impl From<Named> for NamedItem {
    fn from(n: Named) -> Self {
        Self {
            id: n.id,
            name: n.name,
        }
    }
}

/// Years with vehicles, newest first (first step of the cascade).
#[utoipa::path(
    get, path = "/pos/api/vehicles/years", tag = "vehicles", security(("bearer" = [])),
    responses((status = 200, body = YearPage))
)]
pub async fn years(
    state: axum::extract::State<AppState>,
    _who: Principal,
) -> ApiResult<(HeaderMap, Json<YearPage>)> {
    let years = lookup::years(&state.platform).await?;
    Ok((
        cacheable(),
        Json(YearPage::whole(years.into_iter().map(ModelYear).collect())),
    ))
}

/// A model year of the cascade, as a bare number (`2015`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
pub struct ModelYear(pub i16);

/// The cascade's years, answered whole as one page.
pub type YearPage = crate::page::Page<ModelYear>;

impl crate::page::Listed for ModelYear {
    const PAGE: &'static str = "YearPage";
    const PAGE_DOC: &'static str = "Model years with vehicles in the catalog.";
    const ITEMS_DOC: &'static str = "Years, newest first.";
}

/// A maker of the cascade.
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
pub struct MakeItem(pub NamedItem);

/// The cascade's makers of a year, answered whole as one page.
pub type MakePage = crate::page::Page<MakeItem>;

impl crate::page::Listed for MakeItem {
    const PAGE: &'static str = "MakePage";
    const PAGE_DOC: &'static str = "Makers with vehicles in a model year.";
    const ITEMS_DOC: &'static str = "Makers by name.";
}

/// A model of the cascade.
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
pub struct ModelItem(pub NamedItem);

/// The cascade's models of a maker in a year, answered whole as one page.
pub type ModelPage = crate::page::Page<ModelItem>;

impl crate::page::Listed for ModelItem {
    const PAGE: &'static str = "ModelPage";
    const PAGE_DOC: &'static str = "Models of a maker in a model year.";
    const ITEMS_DOC: &'static str = "Models by name.";
}

/// The cascade's engines of a model in a year, answered whole as one page.
pub type EnginePage = crate::page::Page<CatalogVehicle>;

impl crate::page::Listed for CatalogVehicle {
    const PAGE: &'static str = "EnginePage";
    const PAGE_DOC: &'static str = "Engines (catalog vehicles) of a model in a model year.";
    const ITEMS_DOC: &'static str = "Vehicles, each with the `id` searches take as `vehicle_id`.";
}

/// A model year the cascade knows how to ask for: 1900 to 2100.
fn model_year(year: i16) -> ApiResult<i16> {
    if (1900..=2100).contains(&year) {
        Ok(year)
    } else {
        Err(crate::error::ApiError::invalid(
            "year",
            "a model year is from 1900 to 2100",
        ))
    }
}

/// The year of the cascade.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct YearParams {
    /// Model year (1900–2100).
    #[param(minimum = 1900, maximum = 2100)]
    pub year: i16,
}

/// Makers with vehicles in a year.
#[utoipa::path(
    get, path = "/pos/api/vehicles/makes", tag = "vehicles", security(("bearer" = [])),
    params(YearParams),
    responses((status = 200, body = MakePage))
)]
pub async fn makes(
    state: axum::extract::State<AppState>,
    _who: Principal,
    AppQuery(p): AppQuery<YearParams>,
) -> ApiResult<(HeaderMap, Json<MakePage>)> {
    let makes = lookup::makes(&state.platform, model_year(p.year)?).await?;
    Ok((
        cacheable(),
        Json(MakePage::whole(
            makes.into_iter().map(|m| MakeItem(m.into())).collect(),
        )),
    ))
}

/// Year and maker of the cascade.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MakeParams {
    /// Model year (1900–2100).
    #[param(minimum = 1900, maximum = 2100)]
    pub year: i16,
    /// Maker: its id (`"12"`) or its name (`"Nissan"`, any case or accents).
    #[param(example = "Nissan")]
    pub make: String,
}

/// Models of a maker in a year.
#[utoipa::path(
    get, path = "/pos/api/vehicles/models", tag = "vehicles", security(("bearer" = [])),
    params(MakeParams),
    responses((status = 200, body = ModelPage), (status = 404, body = ErrorBody))
)]
pub async fn models(
    state: axum::extract::State<AppState>,
    _who: Principal,
    AppQuery(p): AppQuery<MakeParams>,
) -> ApiResult<(HeaderMap, Json<ModelPage>)> {
    let make = lookup::make_id(&state.platform, "make", &p.make).await?;
    let models = lookup::models(&state.platform, model_year(p.year)?, make).await?;
    Ok((
        cacheable(),
        Json(ModelPage::whole(
            models.into_iter().map(|m| ModelItem(m.into())).collect(),
        )),
    ))
}

/// Year, maker and model of the cascade.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ModelParams {
    /// Model year (1900–2100).
    #[param(minimum = 1900, maximum = 2100)]
    pub year: i16,
    /// Maker: its id or its name.
    #[param(example = "Nissan")]
    pub make: String,
    /// Model of that maker: its id or its name (`"Versa"`).
    #[param(example = "Versa")]
    pub model: String,
}

/// Engines (vehicles) of a model in a year: the last step, whose `id` is the `vehicle_id` of
/// searches.
#[utoipa::path(
    get, path = "/pos/api/vehicles/engines", tag = "vehicles", security(("bearer" = [])),
    params(ModelParams),
    responses((status = 200, body = EnginePage), (status = 404, body = ErrorBody))
)]
pub async fn engines(
    state: axum::extract::State<AppState>,
    _who: Principal,
    AppQuery(p): AppQuery<ModelParams>,
) -> ApiResult<(HeaderMap, Json<EnginePage>)> {
    let make = lookup::make_id(&state.platform, "make", &p.make).await?;
    let model = lookup::model_id(&state.platform, "model", make, &p.model).await?;
    let v = lookup::engines(&state.platform, model_year(p.year)?, make, model).await?;
    Ok((
        cacheable(),
        Json(EnginePage::whole(v.into_iter().map(Into::into).collect())),
    ))
}

/// One catalog vehicle.
#[utoipa::path(
    get, path = "/pos/api/vehicles/catalog/{id}", tag = "vehicles", security(("bearer" = [])),
    params(("id" = i32, Path, description = "Vehicle id")),
    responses((status = 200, body = CatalogVehicle), (status = 404, body = ErrorBody))
)]
pub async fn get_vehicle(
    state: axum::extract::State<AppState>,
    _who: Principal,
    AppPath(id): AppPath<i32>,
) -> ApiResult<(HeaderMap, Json<CatalogVehicle>)> {
    Ok((
        cacheable(),
        Json(lookup::vehicle(&state.platform, id).await?.into()),
    ))
}

/// A part category of the catalog.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryItem {
    /// Id, the `category_id` of searches.
    pub id: i32,
    /// Spanish name, as the counter says it.
    pub name: String,
    /// English name (ACES PCdb).
    pub name_en: Option<String>,
}

/// A page of categories.
pub type CategoryPage = crate::page::Page<CategoryItem>;

impl crate::page::Listed for CategoryItem {
    const PAGE: &'static str = "CategoryPage";
    const PAGE_DOC: &'static str = "The catalog's part categories.";
    const ITEMS_DOC: &'static str = "Categories by name.";
}

/// A page of brands.
pub type BrandPage = crate::page::Page<NamedItem>;

impl crate::page::Listed for NamedItem {
    const PAGE: &'static str = "BrandPage";
    const PAGE_DOC: &'static str = "The catalog's part brands.";
    const ITEMS_DOC: &'static str = "Brands by name.";
}

/// Every part category of the catalog, by name (for a category filter of searches).
#[utoipa::path(
    get, path = "/pos/api/catalog/categories", tag = "catalog", security(("bearer" = [])),
    responses((status = 200, body = CategoryPage), (status = 401, body = ErrorBody))
)]
pub async fn categories(
    state: axum::extract::State<AppState>,
    _who: Principal,
) -> ApiResult<(HeaderMap, Json<CategoryPage>)> {
    let items: Vec<CategoryItem> = lookup::categories(&state.platform)
        .await?
        .into_iter()
        .map(|c| CategoryItem {
            id: c.id,
            name: c.name,
            name_en: c.name_en,
        })
        .collect();
    Ok((cacheable(), Json(CategoryPage::whole(items))))
}

/// Every part brand of the catalog, by name (for a brand filter of searches).
#[utoipa::path(
    get, path = "/pos/api/catalog/brands", tag = "catalog", security(("bearer" = [])),
    responses((status = 200, body = BrandPage), (status = 401, body = ErrorBody))
)]
pub async fn brands(
    state: axum::extract::State<AppState>,
    _who: Principal,
) -> ApiResult<(HeaderMap, Json<BrandPage>)> {
    let items: Vec<NamedItem> = lookup::brands(&state.platform)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok((cacheable(), Json(BrandPage::whole(items))))
}
