//! `/pos/api/fleets`: fleet customers (a fleet profile on a customer), their cost centres,
//! drivers, units (registered vehicles of the customer), contracts and stats, and
//! `/pos/api/fleet-contracts/{id}/close`.

use axum::Json;
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, NaiveDate, Utc};
use entities::PageRequest;
use entities::fleets::contracts::{self, ContractFilter, NewContract};
use entities::fleets::profiles::{
    self, FleetInput, FleetRow, NewDriver, NewUnit, UnitFilter, UnitRow,
};
use entities::fleets::tables::{contract, cost_centre, driver};
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
use crate::state::AppState;

/// The fleet routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_fleets, create_fleet))
        .routes(routes!(get_fleet, update_fleet))
        .routes(routes!(list_cost_centres, create_cost_centre))
        .routes(routes!(list_drivers, create_driver))
        .routes(routes!(list_fleet_vehicles, add_fleet_vehicle))
        .routes(routes!(list_contracts, create_contract))
        .routes(routes!(close_contract))
}

/// A page number and size.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A fleet customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct FleetView {
    /// The customer's id (the fleet's).
    pub id: Uuid,
    /// The customer's name.
    pub name: String,
    /// The fleet manager.
    pub contact_name: Option<String>,
    /// Their phone.
    pub contact_phone: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// Whether the fleet is served.
    pub is_active: bool,
    /// Units, active or not.
    pub units: u64,
    /// Made a fleet.
    pub created_at: DateTime<Utc>,
}

impl From<FleetRow> for FleetView {
    fn from(r: FleetRow) -> Self {
        Self {
            id: r.fleet.customer_id,
            name: r.name,
            contact_name: r.fleet.contact_name,
            contact_phone: r.fleet.contact_phone,
            notes: r.fleet.notes,
            is_active: r.fleet.is_active,
            units: r.units,
            created_at: r.fleet.created_at,
        }
    }
}

/// A page of fleets.
pub type FleetPage = crate::page::Page<FleetView>;

impl crate::page::Listed for FleetView {
    const PAGE: &'static str = "FleetPage";
    const PAGE_DOC: &'static str = "A page of fleets.";
    const ITEMS_DOC: &'static str = "Fleets, oldest first.";
}

/// Filters and page of the fleet list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FleetQuery {
    /// Served or not.
    pub active: Option<bool>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A customer to make a fleet.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFleetRequest {
    /// The existing customer.
    pub customer_id: Uuid,
    /// The fleet manager.
    #[schema(max_length = 120)]
    pub contact_name: Option<String>,
    /// Their phone.
    #[schema(max_length = 20)]
    pub contact_phone: Option<String>,
    /// Notes.
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
}

/// Changes to a fleet.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFleetRequest {
    /// The fleet manager.
    #[schema(max_length = 120)]
    pub contact_name: Option<String>,
    /// Their phone.
    #[schema(max_length = 20)]
    pub contact_phone: Option<String>,
    /// Notes.
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
    /// Whether the fleet is served.
    pub is_active: Option<bool>,
}

async fn view(db: &impl sea_orm::ConnectionTrait, id: Uuid) -> ApiResult<FleetView> {
    let f = profiles::get(db, id).await?;
    let name = entities::customers::records::get_customer(db, id)
        .await?
        .name;
    let units = profiles::units(
        db,
        id,
        UnitFilter::default(),
        PageRequest::new(Some(1), Some(1))?,
    )
    .await?
    .total;
    Ok(FleetRow {
        fleet: f,
        name,
        units,
    }
    .into())
}

/// Fleets, oldest first, with their unit counts.
#[utoipa::path(
    get, path = "/pos/api/fleets", tag = "fleets", security(("bearer" = [])),
    params(FleetQuery),
    responses((status = 200, body = FleetPage), (status = 422, body = ErrorBody))
)]
pub async fn list_fleets(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<FleetQuery>,
) -> ApiResult<Json<FleetPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = profiles::list(&ctx.db, q.active, page).await?;
    Ok(Json(FleetPage::from_rows(rows, Into::into)))
}

/// Makes an existing customer a fleet. Honours `Idempotency-Key`.
#[utoipa::path(
    post, path = "/pos/api/fleets", tag = "fleets", security(("bearer" = [])),
    request_body = CreateFleetRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    responses(
        (status = 201, body = FleetView),
        (status = 404, description = "`customer_not_found`", body = ErrorBody),
        (status = 409, description = "`fleet_exists`, `customer_inactive`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn create_fleet(
    ctx: TenantCtx,
    headers: HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: CreateFleetRequest = crate::extract::body_as(&raw)?;
    let seller = ctx.seller();
    create_once(&ctx, &headers, "fleets.create", &raw, async |txn| {
        profiles::create(
            txn,
            &seller,
            req.customer_id,
            FleetInput {
                contact_name: req.contact_name,
                contact_phone: req.contact_phone,
                notes: req.notes,
                is_active: None,
            },
        )
        .await?;
        view(txn, req.customer_id).await
    })
    .await
}

/// One fleet.
#[utoipa::path(
    get, path = "/pos/api/fleets/{id}", tag = "fleets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The fleet's customer id")),
    responses((status = 200, body = FleetView), (status = 404, body = ErrorBody))
)]
pub async fn get_fleet(ctx: TenantCtx, AppPath(id): AppPath<Uuid>) -> ApiResult<Json<FleetView>> {
    Ok(Json(view(&ctx.db, id).await?))
}

/// Changes a fleet's contact, notes or whether it is served.
#[utoipa::path(
    patch, path = "/pos/api/fleets/{id}", tag = "fleets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The fleet's customer id")),
    request_body = UpdateFleetRequest,
    responses((status = 200, body = FleetView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn update_fleet(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<UpdateFleetRequest>,
) -> ApiResult<Json<FleetView>> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    profiles::update(
        &txn,
        &ctx.seller(),
        id,
        FleetInput {
            contact_name: req.contact_name,
            contact_phone: req.contact_phone,
            notes: req.notes,
            is_active: req.is_active,
        },
    )
    .await?;
    let v = view(&txn, id).await?;
    txn.commit().await?;
    Ok(Json(v))
}

/// A cost centre of a fleet.
#[derive(Debug, Serialize, ToSchema)]
pub struct CostCentreView {
    /// Id.
    pub id: Uuid,
    /// Upper case, unique in the fleet.
    pub code: String,
    /// Name.
    pub name: String,
}

impl From<cost_centre::Model> for CostCentreView {
    fn from(c: cost_centre::Model) -> Self {
        Self {
            id: c.id,
            code: c.code,
            name: c.name,
        }
    }
}

/// A page of cost centres.
pub type CostCentrePage = crate::page::Page<CostCentreView>;

impl crate::page::Listed for CostCentreView {
    const PAGE: &'static str = "CostCentrePage";
    const PAGE_DOC: &'static str = "A page of a fleet's cost centres.";
    const ITEMS_DOC: &'static str = "Cost centres by code.";
}

/// A cost centre to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCostCentreRequest {
    /// Code, unique in the fleet (folded to upper case).
    #[schema(min_length = 1, max_length = 20)]
    pub code: String,
    /// Name.
    #[schema(min_length = 1, max_length = 120)]
    pub name: String,
}

/// A fleet's cost centres by code.
#[utoipa::path(
    get, path = "/pos/api/fleets/{id}/cost-centres", tag = "fleets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The fleet's customer id"), PageQuery),
    responses((status = 200, body = CostCentrePage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn list_cost_centres(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<PageQuery>,
) -> ApiResult<Json<CostCentrePage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = profiles::cost_centres(&ctx.db, id, page).await?;
    Ok(Json(CostCentrePage::from_rows(rows, Into::into)))
}

/// Adds a cost centre to a fleet. Honours `Idempotency-Key`.
#[utoipa::path(
    post, path = "/pos/api/fleets/{id}/cost-centres", tag = "fleets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The fleet's customer id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    request_body = CreateCostCentreRequest,
    responses(
        (status = 201, body = CostCentreView),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`cost_centre_exists`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn create_cost_centre(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    headers: HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: CreateCostCentreRequest = crate::extract::body_as(&raw)?;
    let seller = ctx.seller();
    create_once(&ctx, &headers, "fleets.cost_centre", &raw, async |txn| {
        let c = profiles::add_cost_centre(txn, &seller, id, &req.code, &req.name).await?;
        Ok(CostCentreView::from(c))
    })
    .await
}

/// A fleet's driver.
#[derive(Debug, Serialize, ToSchema)]
pub struct DriverView {
    /// Id.
    pub id: Uuid,
    /// Full name.
    pub name: String,
    /// Phone.
    pub phone: Option<String>,
    /// Licence number.
    pub license_no: Option<String>,
    /// When the licence expires.
    pub license_expires_on: Option<NaiveDate>,
    /// Still driving for the fleet.
    pub is_active: bool,
}

impl From<driver::Model> for DriverView {
    fn from(d: driver::Model) -> Self {
        Self {
            id: d.id,
            name: d.name,
            phone: d.phone,
            license_no: d.license_no,
            license_expires_on: d.license_expires_on,
            is_active: d.is_active,
        }
    }
}

/// A page of drivers.
pub type DriverPage = crate::page::Page<DriverView>;

impl crate::page::Listed for DriverView {
    const PAGE: &'static str = "DriverPage";
    const PAGE_DOC: &'static str = "A page of a fleet's drivers.";
    const ITEMS_DOC: &'static str = "Drivers by name.";
}

/// A driver to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDriverRequest {
    /// Full name.
    #[schema(min_length = 1, max_length = 120)]
    pub name: String,
    /// Phone.
    #[schema(max_length = 20)]
    pub phone: Option<String>,
    /// Licence number.
    #[schema(max_length = 30)]
    pub license_no: Option<String>,
    /// When the licence expires.
    pub license_expires_on: Option<NaiveDate>,
}

/// A fleet's drivers by name.
#[utoipa::path(
    get, path = "/pos/api/fleets/{id}/drivers", tag = "fleets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The fleet's customer id"), PageQuery),
    responses((status = 200, body = DriverPage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn list_drivers(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<PageQuery>,
) -> ApiResult<Json<DriverPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = profiles::drivers(&ctx.db, id, page).await?;
    Ok(Json(DriverPage::from_rows(rows, Into::into)))
}

/// Adds a driver to a fleet. Honours `Idempotency-Key`.
#[utoipa::path(
    post, path = "/pos/api/fleets/{id}/drivers", tag = "fleets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The fleet's customer id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    request_body = CreateDriverRequest,
    responses((status = 201, body = DriverView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn create_driver(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    headers: HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: CreateDriverRequest = crate::extract::body_as(&raw)?;
    let seller = ctx.seller();
    create_once(&ctx, &headers, "fleets.driver", &raw, async |txn| {
        let d = profiles::add_driver(
            txn,
            &seller,
            id,
            NewDriver {
                name: req.name,
                phone: req.phone,
                license_no: req.license_no,
                license_expires_on: req.license_expires_on,
            },
        )
        .await?;
        Ok(DriverView::from(d))
    })
    .await
}

/// A fleet unit: a registered vehicle of the fleet's customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct FleetVehicleView {
    /// The registered vehicle's id.
    pub vehicle_id: Uuid,
    /// The fleet's unit number.
    pub unit_no: Option<String>,
    /// Plate.
    pub plate: Option<String>,
    /// VIN.
    pub vin: Option<String>,
    /// Model year.
    pub year: Option<i32>,
    /// Make.
    pub make: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Usual driver.
    pub driver_id: Option<Uuid>,
    /// Cost centre.
    pub cost_centre_id: Option<Uuid>,
    /// Current odometer reading, km.
    pub odometer_km: Option<i64>,
    /// Still in the fleet.
    pub is_active: bool,
}

impl From<UnitRow> for FleetVehicleView {
    fn from(r: UnitRow) -> Self {
        Self {
            vehicle_id: r.unit.vehicle_id,
            unit_no: r.unit.unit_no,
            plate: r.vehicle.plate,
            vin: r.vehicle.vin,
            year: r.vehicle.year,
            make: r.vehicle.make,
            model: r.vehicle.model,
            driver_id: r.unit.driver_id,
            cost_centre_id: r.unit.cost_centre_id,
            odometer_km: r.odometer_km,
            is_active: r.unit.is_active,
        }
    }
}

/// A page of fleet units.
pub type FleetVehiclePage = crate::page::Page<FleetVehicleView>;

impl crate::page::Listed for FleetVehicleView {
    const PAGE: &'static str = "FleetVehiclePage";
    const PAGE_DOC: &'static str = "A page of a fleet's units.";
    const ITEMS_DOC: &'static str = "Units in the order they were added.";
}

/// Filters and page of the unit list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FleetVehicleQuery {
    /// One driver's.
    pub driver_id: Option<Uuid>,
    /// One cost centre's.
    pub cost_centre_id: Option<Uuid>,
    /// Still in the fleet or not.
    pub active: Option<bool>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A registered vehicle to add to the fleet.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddFleetVehicleRequest {
    /// The registered vehicle (the fleet's customer's).
    pub vehicle_id: Uuid,
    /// The fleet's unit number (número económico).
    #[schema(max_length = 20)]
    pub unit_no: Option<String>,
    /// Usual driver, of this fleet.
    pub driver_id: Option<Uuid>,
    /// Cost centre, of this fleet.
    pub cost_centre_id: Option<Uuid>,
}

/// A fleet's units with their current odometer.
#[utoipa::path(
    get, path = "/pos/api/fleets/{id}/vehicles", tag = "fleets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The fleet's customer id"), FleetVehicleQuery),
    responses((status = 200, body = FleetVehiclePage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn list_fleet_vehicles(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<FleetVehicleQuery>,
) -> ApiResult<Json<FleetVehiclePage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = profiles::units(
        &ctx.db,
        id,
        UnitFilter {
            driver_id: q.driver_id,
            cost_centre_id: q.cost_centre_id,
            active: q.active,
        },
        page,
    )
    .await?;
    Ok(Json(FleetVehiclePage::from_rows(rows, Into::into)))
}

/// Adds one of the customer's registered vehicles to their fleet; the make-and-model plans that
/// match it start on it. Honours `Idempotency-Key`.
#[utoipa::path(
    post, path = "/pos/api/fleets/{id}/vehicles", tag = "fleets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The fleet's customer id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    request_body = AddFleetVehicleRequest,
    responses(
        (status = 201, body = FleetVehicleView),
        (status = 404, description = "`fleet`, `vehicle_not_found`, `driver_not_found`, `cost_centre_not_found`", body = ErrorBody),
        (status = 409, description = "`vehicle_of_another_customer`, `unit_exists`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn add_fleet_vehicle(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    headers: HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: AddFleetVehicleRequest = crate::extract::body_as(&raw)?;
    let seller = ctx.seller();
    create_once(&ctx, &headers, "fleets.vehicle", &raw, async |txn| {
        let u = profiles::add_unit(
            txn,
            &seller,
            id,
            NewUnit {
                vehicle_id: req.vehicle_id,
                unit_no: req.unit_no,
                driver_id: req.driver_id,
                cost_centre_id: req.cost_centre_id,
            },
        )
        .await?;
        let vehicle = entities::fleets::readings::vehicle(txn, u.vehicle_id).await?;
        let odometer_km = entities::fleets::readings::current(txn, u.vehicle_id).await?;
        Ok(FleetVehicleView::from(UnitRow {
            unit: u,
            vehicle,
            odometer_km,
        }))
    })
    .await
}

/// A fleet contract.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContractView {
    /// Id.
    pub id: Uuid,
    /// The fleet's customer id.
    pub fleet_id: Uuid,
    /// The unit it is for; none for the whole fleet.
    pub vehicle_id: Option<Uuid>,
    /// `insurance`, `verificacion`, `tenencia`, `leasing` or `other`.
    pub kind: String,
    /// Insurer, government, lessor.
    pub provider: Option<String>,
    /// Policy or folio number.
    pub reference: Option<String>,
    /// First day in force.
    pub starts_on: NaiveDate,
    /// Last day in force.
    pub expires_on: NaiveDate,
    /// Cost, MXN.
    #[schema(value_type = String, example = "8500.00")]
    pub cost: Money,
    /// `future`, `active`, `expired` or `closed`, today.
    pub status: String,
    /// The last notice told, days before the end.
    pub reminded_days: Option<i32>,
}

impl From<contract::Model> for ContractView {
    fn from(c: contract::Model) -> Self {
        Self {
            status: contracts::status(&c, entities::today()).to_owned(),
            id: c.id,
            fleet_id: c.customer_id,
            vehicle_id: c.vehicle_id,
            kind: c.kind.to_string(),
            provider: c.provider,
            reference: c.reference,
            starts_on: c.starts_on,
            expires_on: c.expires_on,
            cost: Money(c.cost_cents),
            reminded_days: c.reminded_days,
        }
    }
}

/// A page of contracts.
pub type ContractPage = crate::page::Page<ContractView>;

impl crate::page::Listed for ContractView {
    const PAGE: &'static str = "ContractPage";
    const PAGE_DOC: &'static str = "A page of a fleet's contracts.";
    const ITEMS_DOC: &'static str = "Contracts by end date.";
}

/// Filters and page of the contract list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ContractQuery {
    /// One unit's.
    pub vehicle_id: Option<Uuid>,
    /// One kind.
    #[param(pattern = "^(insurance|verificacion|tenencia|leasing|other)$")]
    pub kind: Option<String>,
    /// Open and ending within this many days.
    #[param(minimum = 0, maximum = 3650)]
    pub expiring_within_days: Option<i64>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A contract to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContractRequest {
    /// `insurance`, `verificacion`, `tenencia`, `leasing` or `other`.
    #[schema(pattern = "^(insurance|verificacion|tenencia|leasing|other)$")]
    pub kind: String,
    /// The unit, of this fleet (the whole fleet when absent).
    pub vehicle_id: Option<Uuid>,
    /// Insurer, government, lessor.
    #[schema(max_length = 120)]
    pub provider: Option<String>,
    /// Policy or folio number.
    #[schema(max_length = 60)]
    pub reference: Option<String>,
    /// First day in force.
    pub starts_on: NaiveDate,
    /// Last day in force (a year after the start when absent).
    pub expires_on: Option<NaiveDate>,
    /// Cost, MXN (`"8500.00"`).
    #[schema(value_type = Option<crate::formats::Amount>, example = "8500.00")]
    pub cost: Option<String>,
}

const CONTRACT_KINDS: &str = "insurance, verificacion, tenencia, leasing or other";

/// A fleet's contracts by end date.
#[utoipa::path(
    get, path = "/pos/api/fleets/{id}/contracts", tag = "fleets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The fleet's customer id"), ContractQuery),
    responses((status = 200, body = ContractPage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn list_contracts(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<ContractQuery>,
) -> ApiResult<Json<ContractPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let kind = q
        .kind
        .as_deref()
        .map(|k| parse_text("kind", k, CONTRACT_KINDS))
        .transpose()?;
    if q.expiring_within_days
        .is_some_and(|d| !(0..=3650).contains(&d))
    {
        return Err(entities::Error::validation(
            "expiring_within_days",
            "expiring_within_days is 0 to 3650",
        )
        .into());
    }
    let rows = contracts::list(
        &ctx.db,
        id,
        ContractFilter {
            vehicle_id: q.vehicle_id,
            kind,
            expiring_within_days: q.expiring_within_days,
        },
        page,
    )
    .await?;
    Ok(Json(ContractPage::from_rows(rows, Into::into)))
}

/// Records a fleet's contract; `contract_expiring` events follow at the business's notices.
/// Honours `Idempotency-Key`.
#[utoipa::path(
    post, path = "/pos/api/fleets/{id}/contracts", tag = "fleets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The fleet's customer id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    request_body = CreateContractRequest,
    responses(
        (status = 201, body = ContractView),
        (status = 404, description = "`fleet`, `vehicle_not_found`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn create_contract(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    headers: HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: CreateContractRequest = crate::extract::body_as(&raw)?;
    let kind = parse_text("kind", &req.kind, CONTRACT_KINDS)?;
    let cost = req
        .cost
        .as_deref()
        .map(|c| Money::parse("cost", c))
        .transpose()?
        .map_or(0, |m| m.0);
    let seller = ctx.seller();
    create_once(&ctx, &headers, "fleets.contract", &raw, async |txn| {
        let c = contracts::create(
            txn,
            &seller,
            id,
            NewContract {
                kind,
                vehicle_id: req.vehicle_id,
                provider: req.provider,
                reference: req.reference,
                starts_on: req.starts_on,
                expires_on: req.expires_on,
                cost_cents: cost,
            },
        )
        .await?;
        Ok(ContractView::from(c))
    })
    .await
}

/// Closes a contract (renewed or cancelled): no more reminders.
#[utoipa::path(
    put, path = "/pos/api/fleet-contracts/{id}/close", tag = "fleets", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Contract id")),
    responses(
        (status = 200, body = ContractView),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`contract_closed`", body = ErrorBody),
    )
)]
pub async fn close_contract(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<ContractView>> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    let c = contracts::close(&txn, &ctx.seller(), id).await?;
    txn.commit().await?;
    Ok(Json(c.into()))
}
