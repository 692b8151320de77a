//! `/pos/api/vehicles`: identifying a customer's vehicle at the counter, by VIN (decoded at once
//! here, enriched from NHTSA vPIC by a job) or by plate (looked up in the business's own
//! records: there is no public plate registry), and the registry of the business's vehicles.
//!
//! Everyone reads; every role but viewer registers and changes vehicles; owners, admins and
//! managers delete them.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use entities::PageRequest;
use entities::rules::plate::{Plate, PlateKind};
use entities::rules::vin::{Vin, VinDecode, warning};
use entities::vehicles::registered::{self, NewVehicle, VehicleFilter, VehiclePatch};
use entities::vehicles::tables::customer_vehicle;
use entities::vehicles::tables::vin_decode;
use entities::vehicles::vin_decodes::{self, Claim, Status, VpicData};
use jobs::vehicles::EnrichVin;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery, double_option};
use crate::state::AppState;

/// Longest a VIN look-up waits for its enrichment.
pub const MAX_WAIT: Duration = Duration::from_secs(5);
/// The longest `wait_ms` taken (ten minutes); longer asks are refused rather than capped, since
/// they are surely mistakes, and everything up to it waits [`MAX_WAIT`] at most.
const MAX_WAIT_ASKED: u64 = 600_000;
/// How often a waiting look-up reads the cache.
const POLL_EVERY: Duration = Duration::from_millis(100);
/// A `pending` decode with no news for this long lost its job (the request that claimed it
/// died before committing the job): the next look-up enqueues again.
const STALE_PENDING: chrono::Duration = chrono::Duration::minutes(10);
/// vPIC learns new VINs over time: an unavailable decode is asked again after this long.
const RETRY_UNAVAILABLE: chrono::Duration = chrono::Duration::hours(24);
/// Why enrichment is unavailable when no decoder is configured.
pub const NOT_CONFIGURED: &str = "VIN enrichment is not configured on this server \
    (NEXUS_VPIC_URL is off): only the local decode of the VIN is available";

/// The vehicle routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(lookup_vin))
        .routes(routes!(lookup_plate))
        .routes(routes!(list_vehicles, create_vehicle))
        .routes(routes!(get_vehicle, update_vehicle, delete_vehicle))
}

/// State of the enrichment of a VIN from NHTSA vPIC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnrichmentStatus {
    /// A job is asking vPIC; look again (or pass `wait_ms`).
    Pending,
    /// vPIC answered; `data` holds it.
    Done,
    /// Nothing more is coming: `reason` says why.
    Unavailable,
}

/// What NHTSA vPIC says of a VIN (unknown fields are absent).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VpicView {
    /// Make, e.g. `VOLKSWAGEN`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub make: Option<String>,
    /// Manufacturer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manufacturer: Option<String>,
    /// Model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Model year.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_year: Option<i32>,
    /// Series.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    /// Trim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trim: Option<String>,
    /// Body class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_class: Option<String>,
    /// Vehicle type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vehicle_type: Option<String>,
    /// Engine cylinders.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine_cylinders: Option<i32>,
    /// Displacement in litres, as a decimal string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub displacement_l: Option<String>,
    /// Primary fuel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fuel_type: Option<String>,
    /// Drive type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drive_type: Option<String>,
    /// Country of the assembly plant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plant_country: Option<String>,
    /// vPIC's error codes (`[0]`: clean decode; 1: check digit; 5, 6, 14: partial).
    pub error_codes: Vec<u16>,
    /// vPIC's error text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_text: Option<String>,
}

impl From<VpicData> for VpicView {
    fn from(d: VpicData) -> Self {
        Self {
            make: d.make,
            manufacturer: d.manufacturer,
            model: d.model,
            model_year: d.model_year,
            series: d.series,
            trim: d.trim,
            body_class: d.body_class,
            vehicle_type: d.vehicle_type,
            engine_cylinders: d.engine_cylinders,
            displacement_l: d.displacement_l,
            fuel_type: d.fuel_type,
            drive_type: d.drive_type,
            plant_country: d.plant_country,
            error_codes: d.error_codes,
            error_text: d.error_text,
        }
    }
}

/// The enrichment of a VIN.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EnrichmentView {
    /// Where it stands.
    pub status: EnrichmentStatus,
    /// vPIC's data (also on an unavailable decode when vPIC said something, if not enough).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<VpicView>,
    /// Why it is unavailable, or why the last try failed while pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl EnrichmentView {
    fn unavailable(reason: &str) -> Self {
        Self {
            status: EnrichmentStatus::Unavailable,
            data: None,
            reason: Some(reason.to_owned()),
        }
    }
}

impl From<vin_decode::Model> for EnrichmentView {
    fn from(row: vin_decode::Model) -> Self {
        let status = match row.status {
            Status::Done => EnrichmentStatus::Done,
            Status::Unavailable => EnrichmentStatus::Unavailable,
            _ => EnrichmentStatus::Pending,
        };
        let data = row
            .decoded
            .and_then(|v| serde_json::from_value::<VpicData>(v).ok())
            .map(Into::into);
        Self {
            status,
            data,
            reason: row.last_error,
        }
    }
}

/// A VIN decoded: what the VIN itself says, at once, and what vPIC adds.
#[derive(Debug, Serialize, ToSchema)]
pub struct VinLookup {
    /// The normalised VIN.
    pub vin: String,
    /// World manufacturer identifier (positions 1–3).
    pub wmi: String,
    /// Vehicle descriptor section (positions 4–8).
    pub vds: String,
    /// Region of manufacture.
    pub region: Option<String>,
    /// Country of manufacture.
    pub country: Option<String>,
    /// Maker, from Nexus's table of manufacturer identifiers.
    pub manufacturer: Option<String>,
    /// A low-volume maker (position 3 is `9`).
    pub low_volume_manufacturer: bool,
    /// Position 9 as written.
    pub check_digit: String,
    /// The check digit positions 1–8 and 10–17 give.
    pub expected_check_digit: String,
    /// Whether they agree (a mismatch is a warning: Mexico-only VINs often do not).
    pub check_digit_valid: bool,
    /// Model year chosen from position 10 (with position 7 or the stated `year`).
    pub model_year: Option<i32>,
    /// Every model year position 10 allows.
    pub model_year_candidates: Vec<i32>,
    /// Assembly plant code (position 11).
    pub plant_code: String,
    /// Serial number (positions 12–17).
    pub serial: String,
    /// `check_digit_mismatch`, `model_year_unknown`, `model_year_mismatch`,
    /// `model_year_ambiguous`, `unknown_manufacturer`.
    pub warnings: Vec<String>,
    /// The vPIC enrichment.
    pub enrichment: EnrichmentView,
    /// The shared catalog's vehicles this VIN may be: their ids are the `vehicle_id` of a catalog
    /// search. With vPIC's make, model and year, the model's engines (narrowed by displacement);
    /// without them (vPIC off, pending or silent), every engine of the maker's model year the VIN
    /// itself gives, for the counter to pick the model from. Empty when neither is known: then
    /// use the cascade.
    pub catalog_vehicles: Vec<crate::routes::catalog::search::CatalogVehicle>,
    /// How `catalog_vehicles` was found: `vpic` (make, model and year from vPIC), `maker_year`
    /// (maker and model year from the VIN alone: pick the model) or `none`.
    #[schema(example = "vpic")]
    pub catalog_match: CatalogMatch,
}

/// How a VIN led to catalog vehicles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CatalogMatch {
    /// vPIC's make, model and year.
    Vpic,
    /// The maker and model year decoded from the VIN itself.
    MakerYear,
    /// Nothing matched.
    None,
}

impl VinLookup {
    fn new(d: VinDecode, enrichment: EnrichmentView) -> Self {
        Self {
            vin: d.vin.to_string(),
            wmi: d.wmi,
            vds: d.vds,
            region: d.region.map(str::to_owned),
            country: d.country.map(str::to_owned),
            manufacturer: d.manufacturer.map(str::to_owned),
            low_volume_manufacturer: d.low_volume_manufacturer,
            check_digit: d.check_digit.to_string(),
            expected_check_digit: d.expected_check_digit.to_string(),
            check_digit_valid: d.check_digit_valid,
            model_year: d.model_year,
            model_year_candidates: d.model_year_candidates,
            plant_code: d.plant_code.to_string(),
            serial: d.serial,
            warnings: d.warnings.into_iter().map(str::to_owned).collect(),
            enrichment,
            catalog_vehicles: Vec::new(),
            catalog_match: CatalogMatch::None,
        }
    }
}

/// The catalog vehicles of a VIN: by vPIC's make and model when the enrichment is done and the
/// catalog knows them, else by the maker and model year the VIN itself gives.
async fn catalog_vehicles(
    state: &AppState,
    e: &EnrichmentView,
    decode: &VinDecode,
) -> ApiResult<(
    Vec<crate::routes::catalog::search::CatalogVehicle>,
    CatalogMatch,
)> {
    let local_year = decode.model_year;
    if let Some(data) = e
        .data
        .as_ref()
        .filter(|_| e.status == EnrichmentStatus::Done)
    {
        let year = data
            .model_year
            .or(local_year)
            .and_then(|y| i16::try_from(y).ok());
        if let (Some(make), Some(model), Some(year)) =
            (data.make.as_deref(), data.model.as_deref(), year)
        {
            let found = entities::catalog::lookup::vehicles_by_names(
                &state.platform,
                make,
                model,
                year,
                data.displacement_l.as_deref(),
            )
            .await?;
            if !found.is_empty() {
                return Ok((
                    found.into_iter().map(Into::into).collect(),
                    CatalogMatch::Vpic,
                ));
            }
        }
    }
    // An ambiguous year (position 10 alone, two candidates) would list the wrong decade.
    let year = local_year
        .filter(|_| !decode.warnings.contains(&warning::MODEL_YEAR_AMBIGUOUS))
        .and_then(|y| i16::try_from(y).ok());
    if let (Some(maker), Some(year)) = (decode.manufacturer, year) {
        let found =
            entities::catalog::lookup::vehicles_by_maker_year(&state.platform, maker, year).await?;
        if !found.is_empty() {
            return Ok((
                found.into_iter().map(Into::into).collect(),
                CatalogMatch::MakerYear,
            ));
        }
    }
    Ok((Vec::new(), CatalogMatch::None))
}

/// The catalog vehicle a registration names, so it can take its year, make, model and engine.
async fn named_catalog_vehicle(
    state: &AppState,
    id: i64,
) -> ApiResult<entities::catalog::lookup::VehicleView> {
    entities::catalog::lookup::find_vehicle(&state.platform, id)
        .await?
        .ok_or_else(|| {
            entities::Error::missing(
                "catalog_vehicle_id",
                "catalog_vehicle_not_found",
                format!("no catalog vehicle has id {id}"),
            )
            .into()
        })
}

/// Options of a VIN look-up.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VinQuery {
    /// The model year the customer states (or the tarjeta de circulación shows): chooses
    /// between the two years of position 10's 30-year cycle and is sent to vPIC.
    #[param(minimum = 1900, maximum = 2100)]
    pub year: Option<i32>,
    /// Wait up to this many milliseconds (at most 5000) for a pending enrichment to finish.
    #[param(minimum = 0, maximum = 600000)]
    pub wait_ms: Option<u64>,
}

/// A registered vehicle.
#[derive(Debug, Serialize, ToSchema)]
pub struct VehicleView {
    /// Vehicle id.
    pub id: Uuid,
    /// Normalised plate, e.g. `ABC123A`.
    pub plate: Option<String>,
    /// The plate's format: `private_car`, `private_truck`, `federal` or `other`.
    pub plate_kind: Option<String>,
    /// Normalised VIN.
    pub vin: Option<String>,
    /// A vehicle of the shared catalog.
    pub catalog_vehicle_id: Option<i64>,
    /// The owner.
    pub customer_id: Option<Uuid>,
    /// Model year.
    pub year: Option<i32>,
    /// Make.
    pub make: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Engine.
    pub engine: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// Registered.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Last change.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<customer_vehicle::Model> for VehicleView {
    fn from(v: customer_vehicle::Model) -> Self {
        let plate_kind = v
            .plate
            .as_deref()
            .and_then(|p| Plate::parse(p).ok())
            .map(|p| PlateKind::as_str(p.kind()).to_owned());
        Self {
            id: v.id,
            plate: v.plate,
            plate_kind,
            vin: v.vin,
            catalog_vehicle_id: v.catalog_vehicle_id,
            customer_id: v.customer_id,
            year: v.year,
            make: v.make,
            model: v.model,
            engine: v.engine,
            notes: v.notes,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

/// A page of registered vehicles.
pub type VehiclePage = crate::page::Page<VehicleView>;

impl crate::page::Listed for VehicleView {
    const PAGE: &'static str = "VehiclePage";
    const PAGE_DOC: &'static str = "A page of registered vehicles.";
    const ITEMS_DOC: &'static str = "Vehicles of this page, most recently registered first.";
}

/// Filters and page of the vehicle list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VehicleQuery {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    /// Plates starting with this (separators and case ignored).
    #[param(pattern = "^[ .-]*([A-Za-z0-9][ .-]*){0,10}$")]
    pub plate: Option<String>,
    /// VINs starting with this.
    #[param(pattern = "^[A-Za-z0-9]{0,17}$")]
    pub vin: Option<String>,
    /// Vehicles of this customer.
    pub customer_id: Option<Uuid>,
}

/// A vehicle to register: its plate, its VIN, or both.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVehicleRequest {
    /// Plate as written (`abc-123-a` is stored `ABC123A`).
    #[schema(pattern = "^(|[A-HJ-NPR-Za-hj-npr-z]{3}-?[0-9]{3,4}(-?[A-HJ-NPR-Za-hj-npr-z])?)$")]
    pub plate: Option<String>,
    /// VIN (NIV) from the tarjeta de circulación.
    #[schema(pattern = "^(|[A-HJ-NPR-Za-hj-npr-z0-9]{17})$")]
    pub vin: Option<String>,
    /// A vehicle of the shared catalog.
    #[schema(minimum = 1)]
    pub catalog_vehicle_id: Option<i64>,
    /// The owner.
    pub customer_id: Option<Uuid>,
    /// Model year.
    #[schema(minimum = 1900, maximum = 2100)]
    pub year: Option<i32>,
    /// Make.
    #[schema(max_length = 100)]
    pub make: Option<String>,
    /// Model.
    #[schema(max_length = 100)]
    pub model: Option<String>,
    /// Engine, e.g. `1.6L 4 cil`.
    #[schema(max_length = 100)]
    pub engine: Option<String>,
    /// Notes.
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
}

/// Changes to a vehicle; absent fields stay, `null` clears one (the plate or the VIN must
/// remain).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateVehicleRequest {
    /// New plate or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(pattern = "^(|[A-HJ-NPR-Za-hj-npr-z]{3}-?[0-9]{3,4}(-?[A-HJ-NPR-Za-hj-npr-z])?)$", value_type = Option<String>)]
    pub plate: Option<Option<String>>,
    /// New VIN or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(pattern = "^(|[A-HJ-NPR-Za-hj-npr-z0-9]{17})$", value_type = Option<String>)]
    pub vin: Option<Option<String>>,
    /// New catalog vehicle or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(minimum = 1, value_type = Option<i64>)]
    pub catalog_vehicle_id: Option<Option<i64>>,
    /// New owner or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub customer_id: Option<Option<Uuid>>,
    /// New year or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(minimum = 1900, maximum = 2100, value_type = Option<i32>)]
    pub year: Option<Option<i32>>,
    /// New make or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 100, value_type = Option<String>)]
    pub make: Option<Option<String>>,
    /// New model or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 100, value_type = Option<String>)]
    pub model: Option<Option<String>>,
    /// New engine or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 100, value_type = Option<String>)]
    pub engine: Option<Option<String>>,
    /// New notes or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 2000, value_type = Option<String>)]
    pub notes: Option<Option<String>>,
}

/// Records the enrichment job in the tenant's outbox (its own short transaction: the decode
/// cache it fills is in the platform database).
async fn enqueue_enrichment(ctx: &TenantCtx, job: &EnrichVin) -> ApiResult<()> {
    let internal =
        |e: &dyn std::fmt::Display| ApiError::Internal(format!("enqueue enrich_vin: {e}"));
    let txn = entities::db::begin_write(&ctx.db)
        .await
        .map_err(|e| internal(&e))?;
    jobs::outbox::enqueue(&txn, job)
        .await
        .map_err(|e| internal(&e))?;
    txn.commit().await.map_err(|e| internal(&e))?;
    Ok(())
}

/// The enrichment of a VIN from the cache, claiming it and enqueueing its job on a miss.
async fn enrichment(
    state: &AppState,
    ctx: &TenantCtx,
    vin: &Vin,
    model_year: Option<i32>,
) -> ApiResult<EnrichmentView> {
    if !state.config.vin_enrichment {
        return Ok(EnrichmentView::unavailable(NOT_CONFIGURED));
    }
    let claim = vin_decodes::claim(
        &state.platform,
        vin.as_str(),
        model_year,
        entities::now(),
        STALE_PENDING,
        RETRY_UNAVAILABLE,
    )
    .await?;
    let row = match claim {
        Claim::Existing(row) => row,
        Claim::Claimed(row) => {
            let job = EnrichVin {
                tenant_id: ctx.principal.tenant.id,
                vin: vin.as_str().to_owned(),
                model_year,
            };
            if let Err(e) = enqueue_enrichment(ctx, &job).await {
                // Give the claim back so the next look-up tries again at once.
                if let Err(release) = vin_decodes::release(&state.platform, vin.as_str()).await {
                    tracing::warn!("vin_decodes claim of {vin} not released: {release}");
                }
                return Err(e);
            }
            state.waker.wake(ctx.principal.tenant.id);
            row
        }
    };
    Ok(row.into())
}

/// Decodes a VIN: at once from the VIN itself (check digit, model year, maker), plus the NHTSA
/// vPIC enrichment from the shared cache, asked for in the background on a miss.
#[utoipa::path(
    get, path = "/pos/api/vehicles/vin/{vin}", tag = "vehicles", security(("bearer" = [])),
    params(("vin" = String, Path, pattern = "^[A-HJ-NPR-Z0-9]{17}$", description = "The VIN (NIV): 17 letters and digits, no I, O or Q"), VinQuery),
    responses(
        (status = 200, description = "Decoded; a wrong check digit is a warning", body = VinLookup),
        (status = 400, description = "`invalid_vin`: wrong length, I/O/Q or other characters, with the position", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 422, description = "`year` out of range", body = ErrorBody),
    )
)]
pub async fn lookup_vin(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppPath(vin): AppPath<String>,
    AppQuery(q): AppQuery<VinQuery>,
) -> ApiResult<Json<VinLookup>> {
    let vin = Vin::parse(&vin).map_err(|e| ApiError::BadRequest {
        code: "invalid_vin",
        message: e.to_string(),
    })?;
    if let Some(y) = q.year
        && !(registered::MIN_YEAR..=registered::MAX_YEAR).contains(&y)
    {
        return Err(ApiError::invalid(
            "year",
            format!(
                "year must be between {} and {}",
                registered::MIN_YEAR,
                registered::MAX_YEAR
            ),
        ));
    }
    let decode = vin.decode(q.year);
    // vPIC decodes better with a year, but a guessed one would mislead it.
    let year_for_vpic = q.year.or(decode
        .model_year
        .filter(|_| !decode.warnings.contains(&warning::MODEL_YEAR_AMBIGUOUS)));
    let mut enrichment = enrichment(&state, &ctx, &vin, year_for_vpic).await?;
    if q.wait_ms.is_some_and(|w| w > MAX_WAIT_ASKED) {
        return Err(ApiError::invalid(
            "wait_ms",
            format!("wait_ms: at most {MAX_WAIT_ASKED} (waits are capped at 5 s)"),
        ));
    }
    let wait = Duration::from_millis(q.wait_ms.unwrap_or(0)).min(MAX_WAIT);
    if enrichment.status == EnrichmentStatus::Pending && !wait.is_zero() {
        let deadline = tokio::time::Instant::now() + wait;
        while enrichment.status == EnrichmentStatus::Pending
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(POLL_EVERY.min(deadline - tokio::time::Instant::now())).await;
            if let Some(row) = vin_decodes::find(&state.platform, vin.as_str()).await? {
                enrichment = row.into();
            }
        }
    }
    let (vehicles, how) = catalog_vehicles(&state, &enrichment, &decode).await?;
    let mut answer = VinLookup::new(decode, enrichment);
    answer.catalog_vehicles = vehicles;
    answer.catalog_match = how;
    Ok(Json(answer))
}

/// Finds the registered vehicle with a plate (normalised: `abc-123-a` finds `ABC123A`).
#[utoipa::path(
    get, path = "/pos/api/vehicles/plate/{plate}", tag = "vehicles", security(("bearer" = [])),
    params(("plate" = String, Path, pattern = "^[A-HJ-NPR-Z]{3}-?[0-9]{3,4}(-?[A-HJ-NPR-Z])?$", description = "The plate, with or without separators (`ABC-123-A`); any case")),
    responses(
        (status = 200, body = VehicleView),
        (status = 400, description = "`invalid_plate`", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "`plate_not_found`: ask for the VIN", body = ErrorBody),
    )
)]
pub async fn lookup_plate(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppPath(plate): AppPath<String>,
) -> ApiResult<Json<VehicleView>> {
    let plate = Plate::parse(&plate).map_err(|e| ApiError::BadRequest {
        code: "invalid_plate",
        message: e.to_string(),
    })?;
    match registered::find_by_plate(&ctx.db, &plate).await? {
        Some(v) => {
            let mut view = VehicleView::from(v);
            // Registered with only the catalog id (before registrations copied its
            // description): the counter still needs year, make and model to talk about it.
            if let Some(id) = view.catalog_vehicle_id
                && (view.year.is_none() || view.make.is_none() || view.model.is_none())
                && let Some(c) =
                    entities::catalog::lookup::find_vehicle(&state.platform, id).await?
            {
                view.year = view.year.or(Some(i32::from(c.year)));
                view.make = view.make.or(Some(c.make));
                view.model = view.model.or(Some(c.model));
                view.engine = view.engine.or(Some(c.engine));
            }
            Ok(Json(view))
        }
        None => Err(ApiError::NotFoundWith {
            code: "plate_not_found",
            message: format!(
                "no vehicle with plate {plate} is registered in this business; there is no public \
                 plate registry, so ask for the VIN (NIV, on the tarjeta de circulación) and look \
                 it up at /pos/api/vehicles/vin/{{vin}}"
            ),
        }),
    }
}

/// Lists the registered vehicles.
#[utoipa::path(
    get, path = "/pos/api/vehicles/registered", tag = "vehicles", security(("bearer" = [])),
    params(VehicleQuery),
    responses((status = 200, body = VehiclePage), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn list_vehicles(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<VehicleQuery>,
) -> ApiResult<Json<VehiclePage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = registered::list_vehicles(
        &ctx.db,
        page,
        VehicleFilter {
            plate_prefix: q.plate,
            vin_prefix: q.vin,
            customer_id: q.customer_id,
        },
    )
    .await?;
    Ok(Json(VehiclePage::from_rows(rows, Into::into)))
}

/// Registers a vehicle (every role but viewer).
#[utoipa::path(
    post, path = "/pos/api/vehicles/registered", tag = "vehicles", security(("bearer" = [])),
    request_body = CreateVehicleRequest,
    responses(
        (status = 201, body = VehicleView),
        (status = 403, body = ErrorBody),
        (status = 409, description = "`plate_registered` or `vin_registered`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn create_vehicle(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppJson(req): AppJson<CreateVehicleRequest>,
) -> ApiResult<(StatusCode, Json<VehicleView>)> {
    let cv = match req.catalog_vehicle_id {
        Some(id) => Some(named_catalog_vehicle(&state, id).await?),
        None => None,
    };
    let new = NewVehicle {
        plate: req.plate,
        vin: req.vin,
        catalog_vehicle_id: req.catalog_vehicle_id,
        customer_id: req.customer_id,
        year: req.year.or(cv.as_ref().map(|c| i32::from(c.year))),
        make: req.make.or(cv.as_ref().map(|c| c.make.clone())),
        model: req.model.or(cv.as_ref().map(|c| c.model.clone())),
        engine: req.engine.or(cv.map(|c| c.engine)),
        notes: req.notes,
    };
    let v = registered::create_vehicle(&ctx.db, &ctx.actor(), new).await?;
    Ok((StatusCode::CREATED, Json(v.into())))
}

/// One registered vehicle.
#[utoipa::path(
    get, path = "/pos/api/vehicles/registered/{id}", tag = "vehicles", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Vehicle id")),
    responses((status = 200, body = VehicleView), (status = 404, body = ErrorBody))
)]
pub async fn get_vehicle(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<VehicleView>> {
    Ok(Json(registered::get_vehicle(&ctx.db, id).await?.into()))
}

/// Changes a registered vehicle (every role but viewer).
#[utoipa::path(
    patch, path = "/pos/api/vehicles/registered/{id}", tag = "vehicles", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Vehicle id")),
    request_body = UpdateVehicleRequest,
    responses(
        (status = 200, body = VehicleView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn update_vehicle(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<UpdateVehicleRequest>,
) -> ApiResult<Json<VehicleView>> {
    let cv = match req.catalog_vehicle_id {
        Some(Some(id)) => Some(named_catalog_vehicle(&state, id).await?),
        _ => None,
    };
    // A new catalog vehicle brings its description along, unless the request says otherwise.
    let patch = VehiclePatch {
        plate: req.plate,
        vin: req.vin,
        catalog_vehicle_id: req.catalog_vehicle_id,
        customer_id: req.customer_id,
        year: req.year.or(cv.as_ref().map(|c| Some(i32::from(c.year)))),
        make: req.make.or(cv.as_ref().map(|c| Some(c.make.clone()))),
        model: req.model.or(cv.as_ref().map(|c| Some(c.model.clone()))),
        engine: req.engine.or(cv.map(|c| Some(c.engine))),
        notes: req.notes,
    };
    Ok(Json(
        registered::update_vehicle(&ctx.db, &ctx.actor(), id, patch)
            .await?
            .into(),
    ))
}

/// Deletes a registered vehicle (owner, admin, manager).
#[utoipa::path(
    delete, path = "/pos/api/vehicles/registered/{id}", tag = "vehicles", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Vehicle id")),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn delete_vehicle(ctx: TenantCtx, AppPath(id): AppPath<Uuid>) -> ApiResult<StatusCode> {
    registered::delete_vehicle(&ctx.db, &ctx.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
