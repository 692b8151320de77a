//! Fleet customers (a fleet profile on an existing customer), their cost centres, drivers and
//! units. A unit is one of the customer's registered vehicles; adding it starts every
//! make-and-model plan that matches it ([`crate::fleets::plans::start_model_plans`]).

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::customers::tables::customer;
use crate::error::OnUnique;
use crate::fleets::tables::{cost_centre, driver, fleet, fleet_vehicle};
use crate::org::seller::Seller;
use crate::rules::text::{optional, required};
use crate::vehicles::tables::customer_vehicle;
use crate::{Error, Page, PageRequest, Result};

/// A fleet profile to create or change.
#[derive(Debug, Clone, Default)]
pub struct FleetInput {
    /// The fleet manager's name.
    pub contact_name: Option<String>,
    /// Their phone.
    pub contact_phone: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// Whether the fleet is served (on change only).
    pub is_active: Option<bool>,
}

/// A fleet by its customer's id.
///
/// # Errors
/// [`Error::NotFound`] `fleet`.
pub async fn get(db: &impl ConnectionTrait, customer_id: Uuid) -> Result<fleet::Model> {
    fleet::Entity::find_by_id(customer_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "fleet" })
}

/// Makes a customer a fleet, audited.
///
/// # Errors
/// [`Error::Missing`] `customer_not_found`; [`Error::Conflict`] `customer_inactive`,
/// `fleet_exists`; [`Error::Validation`] naming the field.
pub async fn create(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    customer_id: Uuid,
    input: FleetInput,
) -> Result<fleet::Model> {
    let c = customer::Entity::find_by_id(customer_id)
        .one(txn)
        .await?
        .ok_or_else(|| {
            Error::missing(
                "customer_id",
                "customer_not_found",
                "no customer with this id",
            )
        })?;
    if !c.is_active {
        return Err(Error::conflict(
            "customer_inactive",
            "the customer is inactive",
        ));
    }
    let now = crate::now();
    let f = fleet::ActiveModel {
        customer_id: Set(customer_id),
        contact_name: Set(optional("contact_name", input.contact_name, 120)?),
        contact_phone: Set(optional("contact_phone", input.contact_phone, 20)?),
        notes: Set(optional("notes", input.notes, 2000)?),
        is_active: Set(true),
        created_by: Set(Some(seller.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await
    .on_unique("fleet_exists", "this customer already is a fleet")?;
    seller
        .entry("fleet.created", "fleet", customer_id)
        .details(json!({"customer": c.name}))
        .record_tenant(txn)
        .await?;
    Ok(f)
}

/// Changes a fleet's contact, notes or whether it is served, audited.
///
/// # Errors
/// [`Error::NotFound`] `fleet`; [`Error::Validation`] naming the field.
pub async fn update(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    customer_id: Uuid,
    input: FleetInput,
) -> Result<fleet::Model> {
    let mut am: fleet::ActiveModel = get(txn, customer_id).await?.into();
    if input.contact_name.is_some() {
        am.contact_name = Set(optional("contact_name", input.contact_name, 120)?);
    }
    if input.contact_phone.is_some() {
        am.contact_phone = Set(optional("contact_phone", input.contact_phone, 20)?);
    }
    if input.notes.is_some() {
        am.notes = Set(optional("notes", input.notes, 2000)?);
    }
    if let Some(a) = input.is_active {
        am.is_active = Set(a);
    }
    am.updated_at = Set(crate::now());
    let f = am.update(txn).await?;
    seller
        .entry("fleet.updated", "fleet", customer_id)
        .details(json!({"is_active": f.is_active}))
        .record_tenant(txn)
        .await?;
    Ok(f)
}

/// A fleet with its customer's name and how many units it has.
#[derive(Debug, Clone)]
pub struct FleetRow {
    /// The profile.
    pub fleet: fleet::Model,
    /// The customer's name.
    pub name: String,
    /// Units, active or not.
    pub units: u64,
}

/// Fleets by customer name, with their unit counts; `active` filters.
///
/// # Errors
/// Database errors.
pub async fn list(
    db: &impl ConnectionTrait,
    active: Option<bool>,
    page: PageRequest,
) -> Result<Page<FleetRow>> {
    let mut q = fleet::Entity::find().order_by_asc(fleet::Column::CreatedAt);
    if let Some(a) = active {
        q = q.filter(fleet::Column::IsActive.eq(a));
    }
    let p = page.fetch(db, q).await?;
    let ids: Vec<Uuid> = p.items.iter().map(|f| f.customer_id).collect();
    let names: std::collections::HashMap<Uuid, String> = customer::Entity::find()
        .filter(customer::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let mut counts: std::collections::HashMap<Uuid, u64> = std::collections::HashMap::new();
    for u in fleet_vehicle::Entity::find()
        .filter(fleet_vehicle::Column::CustomerId.is_in(ids))
        .all(db)
        .await?
    {
        *counts.entry(u.customer_id).or_default() += 1;
    }
    Ok(Page {
        items: p
            .items
            .into_iter()
            .map(|f| FleetRow {
                name: names.get(&f.customer_id).cloned().unwrap_or_default(),
                units: counts.get(&f.customer_id).copied().unwrap_or(0),
                fleet: f,
            })
            .collect(),
        page: p.page,
        per_page: p.per_page,
        total: p.total,
    })
}

/// Adds a cost centre to a fleet (code folded to upper case, unique in the fleet), audited.
///
/// # Errors
/// [`Error::NotFound`] `fleet`; [`Error::Validation`]; [`Error::Conflict`]
/// `cost_centre_exists`.
pub async fn add_cost_centre(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    customer_id: Uuid,
    code: &str,
    name: &str,
) -> Result<cost_centre::Model> {
    get(txn, customer_id).await?;
    let code = required("code", code, 20)?.to_uppercase();
    let c = cost_centre::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(customer_id),
        code: Set(code),
        name: Set(required("name", name, 120)?),
        created_at: Set(crate::now()),
    }
    .insert(txn)
    .await
    .on_unique(
        "cost_centre_exists",
        "the fleet has a cost centre with this code",
    )?;
    seller
        .entry("fleet.cost_centre_added", "fleet", customer_id)
        .details(json!({"cost_centre_id": c.id, "code": c.code}))
        .record_tenant(txn)
        .await?;
    Ok(c)
}

/// A fleet's cost centres by code.
///
/// # Errors
/// [`Error::NotFound`] `fleet`.
pub async fn cost_centres(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
    page: PageRequest,
) -> Result<Page<cost_centre::Model>> {
    get(db, customer_id).await?;
    let q = cost_centre::Entity::find()
        .filter(cost_centre::Column::CustomerId.eq(customer_id))
        .order_by_asc(cost_centre::Column::Code);
    page.fetch(db, q).await
}

/// A driver to add.
#[derive(Debug, Clone)]
pub struct NewDriver {
    /// Full name.
    pub name: String,
    /// Phone.
    pub phone: Option<String>,
    /// Licence number.
    pub license_no: Option<String>,
    /// When the licence expires.
    pub license_expires_on: Option<chrono::NaiveDate>,
}

/// Adds a driver to a fleet, audited.
///
/// # Errors
/// [`Error::NotFound`] `fleet`; [`Error::Validation`] naming the field.
pub async fn add_driver(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    customer_id: Uuid,
    d: NewDriver,
) -> Result<driver::Model> {
    get(txn, customer_id).await?;
    let row = driver::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(customer_id),
        name: Set(required("name", &d.name, 120)?),
        phone: Set(optional("phone", d.phone, 20)?),
        license_no: Set(optional("license_no", d.license_no, 30)?),
        license_expires_on: Set(d.license_expires_on),
        is_active: Set(true),
        created_at: Set(crate::now()),
    }
    .insert(txn)
    .await?;
    seller
        .entry("fleet.driver_added", "fleet", customer_id)
        .details(json!({"driver_id": row.id, "name": row.name}))
        .record_tenant(txn)
        .await?;
    Ok(row)
}

/// A fleet's drivers by name.
///
/// # Errors
/// [`Error::NotFound`] `fleet`.
pub async fn drivers(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
    page: PageRequest,
) -> Result<Page<driver::Model>> {
    get(db, customer_id).await?;
    let q = driver::Entity::find()
        .filter(driver::Column::CustomerId.eq(customer_id))
        .order_by_asc(driver::Column::Name)
        .order_by_asc(driver::Column::Id);
    page.fetch(db, q).await
}

/// A unit to add to a fleet.
#[derive(Debug, Clone)]
pub struct NewUnit {
    /// The registered vehicle (the fleet customer's).
    pub vehicle_id: Uuid,
    /// The fleet's unit number.
    pub unit_no: Option<String>,
    /// Its usual driver (of this fleet).
    pub driver_id: Option<Uuid>,
    /// Its cost centre (of this fleet).
    pub cost_centre_id: Option<Uuid>,
}

/// Adds one of the customer's registered vehicles to their fleet and starts the make-and-model
/// plans that match it, audited.
///
/// # Errors
/// [`Error::NotFound`] `fleet`; [`Error::Missing`] `vehicle_not_found`, `driver_not_found`,
/// `cost_centre_not_found` (also another fleet's); [`Error::Conflict`]
/// `vehicle_of_another_customer`, `unit_exists`.
pub async fn add_unit(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    customer_id: Uuid,
    u: NewUnit,
) -> Result<fleet_vehicle::Model> {
    get(txn, customer_id).await?;
    let v = customer_vehicle::Entity::find_by_id(u.vehicle_id)
        .one(txn)
        .await?
        .ok_or_else(|| {
            Error::missing(
                "vehicle_id",
                "vehicle_not_found",
                "no registered vehicle with this id",
            )
        })?;
    if v.customer_id != Some(customer_id) {
        return Err(Error::conflict(
            "vehicle_of_another_customer",
            "the vehicle is not registered to this fleet's customer",
        ));
    }
    check_driver(txn, customer_id, u.driver_id).await?;
    check_cost_centre(txn, customer_id, u.cost_centre_id).await?;
    let now = crate::now();
    let row = fleet_vehicle::ActiveModel {
        vehicle_id: Set(v.id),
        customer_id: Set(customer_id),
        unit_no: Set(optional("unit_no", u.unit_no, 20)?),
        driver_id: Set(u.driver_id),
        cost_centre_id: Set(u.cost_centre_id),
        is_active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await
    .on_unique("unit_exists", "the vehicle already is a unit of the fleet")?;
    crate::fleets::plans::start_model_plans(txn, Some(v.id)).await?;
    seller
        .entry("fleet.unit_added", "fleet", customer_id)
        .details(json!({"vehicle_id": v.id, "unit_no": row.unit_no}))
        .record_tenant(txn)
        .await?;
    Ok(row)
}

async fn check_driver(db: &impl ConnectionTrait, fleet: Uuid, id: Option<Uuid>) -> Result<()> {
    let Some(id) = id else { return Ok(()) };
    match driver::Entity::find_by_id(id).one(db).await? {
        Some(d) if d.customer_id == fleet => Ok(()),
        _ => Err(Error::missing(
            "driver_id",
            "driver_not_found",
            "no driver of this fleet with this id",
        )),
    }
}

async fn check_cost_centre(db: &impl ConnectionTrait, fleet: Uuid, id: Option<Uuid>) -> Result<()> {
    let Some(id) = id else { return Ok(()) };
    match cost_centre::Entity::find_by_id(id).one(db).await? {
        Some(c) if c.customer_id == fleet => Ok(()),
        _ => Err(Error::missing(
            "cost_centre_id",
            "cost_centre_not_found",
            "no cost centre of this fleet with this id",
        )),
    }
}

/// A unit with its vehicle.
#[derive(Debug, Clone)]
pub struct UnitRow {
    /// The unit.
    pub unit: fleet_vehicle::Model,
    /// The registered vehicle.
    pub vehicle: customer_vehicle::Model,
    /// Its current odometer reading.
    pub odometer_km: Option<i64>,
}

/// Filters of the unit list.
#[derive(Debug, Clone, Default)]
pub struct UnitFilter {
    /// One driver's.
    pub driver_id: Option<Uuid>,
    /// One cost centre's.
    pub cost_centre_id: Option<Uuid>,
    /// Active or not.
    pub active: Option<bool>,
}

/// A fleet's units in the order they were added, with their vehicles and current readings.
///
/// # Errors
/// [`Error::NotFound`] `fleet`.
pub async fn units(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
    f: UnitFilter,
    page: PageRequest,
) -> Result<Page<UnitRow>> {
    get(db, customer_id).await?;
    let mut q = fleet_vehicle::Entity::find()
        .filter(fleet_vehicle::Column::CustomerId.eq(customer_id))
        .order_by_asc(fleet_vehicle::Column::CreatedAt)
        .order_by_asc(fleet_vehicle::Column::VehicleId);
    if let Some(d) = f.driver_id {
        q = q.filter(fleet_vehicle::Column::DriverId.eq(d));
    }
    if let Some(c) = f.cost_centre_id {
        q = q.filter(fleet_vehicle::Column::CostCentreId.eq(c));
    }
    if let Some(a) = f.active {
        q = q.filter(fleet_vehicle::Column::IsActive.eq(a));
    }
    let p = page.fetch(db, q).await?;
    let ids: Vec<Uuid> = p.items.iter().map(|u| u.vehicle_id).collect();
    let vehicles: std::collections::HashMap<Uuid, customer_vehicle::Model> =
        customer_vehicle::Entity::find()
            .filter(customer_vehicle::Column::Id.is_in(ids.clone()))
            .all(db)
            .await?
            .into_iter()
            .map(|v| (v.id, v))
            .collect();
    let current = crate::fleets::readings::current_of(db, &ids).await?;
    let mut items = Vec::with_capacity(p.items.len());
    for u in p.items {
        if let Some(v) = vehicles.get(&u.vehicle_id) {
            items.push(UnitRow {
                odometer_km: current.get(&u.vehicle_id).copied(),
                vehicle: v.clone(),
                unit: u,
            });
        }
    }
    Ok(Page {
        items,
        page: p.page,
        per_page: p.per_page,
        total: p.total,
    })
}
