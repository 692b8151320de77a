//! The business's registered vehicles: validation (plate and VIN normalised), CRUD, look-up by
//! plate, and the audit trail of every change.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::error::OnUnique;
use crate::org::audit::Entry;
use crate::org::branches::Actor;
use crate::rules::plate::Plate;
use crate::rules::vin::Vin;
use crate::vehicles::tables::customer_vehicle::{self, Column, Entity};
use crate::{Error, Page, PageRequest, Result};

/// Oldest model year accepted in a description.
pub const MIN_YEAR: i32 = 1900;
/// Newest model year accepted in a description.
pub const MAX_YEAR: i32 = 2100;

/// Fields of a new vehicle; at least the plate or the VIN.
#[derive(Debug, Clone, Default)]
pub struct NewVehicle {
    /// Plate as typed (normalised here).
    pub plate: Option<String>,
    /// VIN as typed (normalised here).
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
}

/// Changes to a vehicle; `None` leaves a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct VehiclePatch {
    /// New plate, or none.
    pub plate: Option<Option<String>>,
    /// New VIN, or none.
    pub vin: Option<Option<String>>,
    /// New catalog vehicle, or none.
    pub catalog_vehicle_id: Option<Option<i64>>,
    /// New owner, or none.
    pub customer_id: Option<Option<Uuid>>,
    /// New year, or none.
    pub year: Option<Option<i32>>,
    /// New make, or none.
    pub make: Option<Option<String>>,
    /// New model, or none.
    pub model: Option<Option<String>>,
    /// New engine, or none.
    pub engine: Option<Option<String>>,
    /// New notes, or none.
    pub notes: Option<Option<String>>,
}

/// Filters of the vehicle list.
#[derive(Debug, Clone, Default)]
pub struct VehicleFilter {
    /// Plates starting with this (normalised like a plate).
    pub plate_prefix: Option<String>,
    /// VINs starting with this (upper-cased).
    pub vin_prefix: Option<String>,
    /// Vehicles of this customer.
    pub customer_id: Option<Uuid>,
}

fn blank_to_none(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// A plate as stored: normalised, or none when blank.
pub(crate) fn check_plate(v: Option<String>) -> Result<Option<String>> {
    blank_to_none(v)
        .map(|p| Ok(Plate::parse(&p)?.into_string()))
        .transpose()
}

/// A VIN as stored: checked and upper-cased, or none when blank.
pub(crate) fn check_vin(v: Option<String>) -> Result<Option<String>> {
    blank_to_none(v)
        .map(|s| Ok(Vin::parse(&s)?.as_str().to_owned()))
        .transpose()
}

fn check_year(y: Option<i32>) -> Result<Option<i32>> {
    match y {
        Some(y) if !(MIN_YEAR..=MAX_YEAR).contains(&y) => Err(Error::validation(
            "year",
            format!("year must be between {MIN_YEAR} and {MAX_YEAR}"),
        )),
        other => Ok(other),
    }
}

fn check_catalog_id(v: Option<i64>) -> Result<Option<i64>> {
    match v {
        Some(id) if id <= 0 => Err(Error::validation(
            "catalog_vehicle_id",
            "catalog_vehicle_id must be a positive id",
        )),
        other => Ok(other),
    }
}

fn need_plate_or_vin(plate: Option<&String>, vin: Option<&String>) -> Result<()> {
    if plate.is_none() && vin.is_none() {
        return Err(Error::validation(
            "plate",
            "a vehicle needs its plate or its VIN (NIV, on the tarjeta de circulación)",
        ));
    }
    Ok(())
}

/// Refuses a plate or VIN another vehicle of the tenant has, with a code that says which.
async fn check_unique(
    db: &impl ConnectionTrait,
    id: Option<Uuid>,
    plate: Option<&String>,
    vin: Option<&String>,
) -> Result<()> {
    let other = |col: Column, v: &String| {
        let mut q = Entity::find().filter(col.eq(v.clone()));
        if let Some(id) = id {
            q = q.filter(Column::Id.ne(id));
        }
        q
    };
    if let Some(p) = plate
        && other(Column::Plate, p).count(db).await? > 0
    {
        return Err(Error::conflict(
            "plate_registered",
            format!("another vehicle has plate {p}"),
        ));
    }
    if let Some(v) = vin
        && other(Column::Vin, v).count(db).await? > 0
    {
        return Err(Error::conflict(
            "vin_registered",
            format!("another vehicle has VIN {v}"),
        ));
    }
    Ok(())
}

fn entry(actor: &Actor, action: &str, id: Uuid) -> Entry {
    Entry::new(action)
        .actor(actor.user_id)
        .target("vehicle", id)
        .request(None, actor.request_id.clone())
}

/// Registers a vehicle.
///
/// # Errors
/// [`Error::Validation`] naming the field; [`Error::Conflict`] `plate_registered` or
/// `vin_registered`; [`Error::NotFound`] `customer`.
pub async fn create_vehicle(
    db: &DatabaseConnection,
    actor: &Actor,
    new: NewVehicle,
) -> Result<customer_vehicle::Model> {
    let plate = check_plate(new.plate)?;
    let vin = check_vin(new.vin)?;
    need_plate_or_vin(plate.as_ref(), vin.as_ref())?;
    check_customer(db, new.customer_id).await?;
    let now = crate::now();
    let am = customer_vehicle::ActiveModel {
        id: Set(Uuid::now_v7()),
        plate: Set(plate),
        vin: Set(vin),
        catalog_vehicle_id: Set(check_catalog_id(new.catalog_vehicle_id)?),
        customer_id: Set(new.customer_id),
        year: Set(check_year(new.year)?),
        make: Set(crate::rules::text::optional("make", new.make, 100)?),
        model: Set(crate::rules::text::optional("model", new.model, 100)?),
        engine: Set(crate::rules::text::optional("engine", new.engine, 100)?),
        notes: Set(crate::rules::text::optional("notes", new.notes, 2000)?),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let txn = crate::db::begin_write(db).await?;
    check_unique(
        &txn,
        None,
        am.plate.as_ref().as_ref(),
        am.vin.as_ref().as_ref(),
    )
    .await?;
    let v = am.insert(&txn).await.on_unique(
        "vehicle_registered",
        "another vehicle has this plate or VIN",
    )?;
    entry(actor, "vehicle.created", v.id)
        .details(json!({"plate": v.plate, "vin": v.vin}))
        .record_tenant(&txn)
        .await?;
    txn.commit().await?;
    Ok(v)
}

/// Finds a vehicle.
///
/// # Errors
/// [`Error::NotFound`].
pub async fn get_vehicle(db: &impl ConnectionTrait, id: Uuid) -> Result<customer_vehicle::Model> {
    Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "vehicle" })
}

/// Finds the vehicle with a plate (already normalised by [`Plate::parse`]).
///
/// # Errors
/// Database errors.
pub async fn find_by_plate(
    db: &impl ConnectionTrait,
    plate: &Plate,
) -> Result<Option<customer_vehicle::Model>> {
    Ok(Entity::find()
        .filter(Column::Plate.eq(plate.as_str()))
        .one(db)
        .await?)
}

/// Normalises a search prefix: upper-case letters and digits, separators dropped where the
/// value is written with them (a plate; a VIN never is).
fn prefix(field: &str, v: Option<String>, max: usize, separators: bool) -> Result<Option<String>> {
    let Some(v) = v else { return Ok(None) };
    let p: String = v
        .chars()
        .filter(|c| !(separators && (c.is_whitespace() || *c == '-' || *c == '.')))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    // Letters and digits only, so the prefix cannot carry LIKE wildcards.
    if p.len() > max || !p.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::validation(
            field,
            format!("{field} must be up to {max} letters and digits"),
        ));
    }
    Ok(Some(p).filter(|p| !p.is_empty()))
}

/// Lists vehicles, most recently registered first.
///
/// # Errors
/// [`Error::Validation`] for a bad prefix; database errors.
pub async fn list_vehicles(
    db: &impl ConnectionTrait,
    page: PageRequest,
    filter: VehicleFilter,
) -> Result<Page<customer_vehicle::Model>> {
    let mut q = Entity::find()
        .order_by_desc(Column::CreatedAt)
        .order_by_desc(Column::Id);
    if let Some(p) = prefix(
        "plate",
        filter.plate_prefix,
        crate::rules::plate::MAX_LEN,
        true,
    )? {
        q = q.filter(Column::Plate.starts_with(p));
    }
    if let Some(v) = prefix("vin", filter.vin_prefix, crate::rules::vin::VIN_LEN, false)? {
        q = q.filter(Column::Vin.starts_with(v));
    }
    if let Some(c) = filter.customer_id {
        q = q.filter(Column::CustomerId.eq(c));
    }
    page.fetch(db, q).await
}

/// Applies a patch to a vehicle.
///
/// # Errors
/// [`Error::NotFound`], [`Error::Validation`], [`Error::Conflict`] `plate_registered` or
/// `vin_registered`.
pub async fn update_vehicle(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    patch: VehiclePatch,
) -> Result<customer_vehicle::Model> {
    let txn = crate::db::begin_write(db).await?;
    let current = get_vehicle(&txn, id).await?;
    let mut plate = current.plate.clone();
    let mut vin = current.vin.clone();
    let mut am: customer_vehicle::ActiveModel = current.into();
    let mut changed = serde_json::Map::new();
    let both_given = patch.plate.is_some() && patch.vin.is_some();
    if let Some(p) = patch.plate {
        plate = check_plate(p)?;
        changed.insert("plate".into(), json!(plate));
        am.plate = Set(plate.clone());
    }
    if let Some(v) = patch.vin {
        vin = check_vin(v)?;
        changed.insert("vin".into(), json!(vin));
        am.vin = Set(vin.clone());
    }
    // Clearing both in one request is bad input; clearing the one the vehicle still had
    // conflicts with the record.
    need_plate_or_vin(plate.as_ref(), vin.as_ref()).map_err(|e| {
        if both_given {
            e
        } else {
            Error::conflict(
                "plate_or_vin_needed",
                "plate: the vehicle would keep neither its plate nor its VIN; give the other first",
            )
        }
    })?;
    if let Some(c) = patch.catalog_vehicle_id {
        let c = check_catalog_id(c)?;
        changed.insert("catalog_vehicle_id".into(), json!(c));
        am.catalog_vehicle_id = Set(c);
    }
    if let Some(c) = patch.customer_id {
        check_customer(db, c).await?;
        changed.insert("customer_id".into(), json!(c));
        am.customer_id = Set(c);
    }
    if let Some(y) = patch.year {
        let y = check_year(y)?;
        changed.insert("year".into(), json!(y));
        am.year = Set(y);
    }
    for (field, value, max, slot) in [
        ("make", patch.make, 100, &mut am.make),
        ("model", patch.model, 100, &mut am.model),
        ("engine", patch.engine, 100, &mut am.engine),
        ("notes", patch.notes, 2000, &mut am.notes),
    ] {
        if let Some(v) = value {
            let v = crate::rules::text::optional(field, v, max)?;
            changed.insert(field.into(), json!(v));
            *slot = Set(v);
        }
    }
    check_unique(&txn, Some(id), plate.as_ref(), vin.as_ref()).await?;
    am.updated_at = Set(crate::now());
    let v = am.update(&txn).await.on_unique(
        "vehicle_registered",
        "another vehicle has this plate or VIN",
    )?;
    entry(actor, "vehicle.updated", id)
        .details(changed.into())
        .record_tenant(&txn)
        .await?;
    txn.commit().await?;
    Ok(v)
}

/// Deletes a vehicle.
///
/// # Errors
/// [`Error::NotFound`].
pub async fn delete_vehicle(db: &DatabaseConnection, actor: &Actor, id: Uuid) -> Result<()> {
    let txn = crate::db::begin_write(db).await?;
    let v = get_vehicle(&txn, id).await?;
    Entity::delete_by_id(id).exec(&txn).await?;
    entry(actor, "vehicle.deleted", id)
        .details(json!({"plate": v.plate, "vin": v.vin}))
        .record_tenant(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// A vehicle's owner must be a customer of this business.
async fn check_customer(db: &impl ConnectionTrait, id: Option<Uuid>) -> Result<()> {
    if let Some(id) = id {
        crate::customers::tables::customer::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or(Error::NotFound { entity: "customer" })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plates_and_vins_are_stored_normalised() {
        assert_eq!(
            check_plate(Some(" abc-123-a ".into())).unwrap().as_deref(),
            Some("ABC123A")
        );
        assert_eq!(
            check_vin(Some("1hgcm82633a004352".into()))
                .unwrap()
                .as_deref(),
            Some("1HGCM82633A004352")
        );
        assert_eq!(check_plate(Some("  ".into())).unwrap(), None);
    }

    #[test]
    fn a_bad_plate_or_vin_names_its_field() {
        assert!(matches!(
            check_plate(Some("HOLA".into())),
            Err(Error::Validation { field, .. }) if field == "plate"
        ));
        assert!(matches!(
            check_vin(Some("1HGCM82633AOO4352".into())),
            Err(Error::Validation { field, .. }) if field == "vin"
        ));
    }

    #[test]
    fn a_vehicle_needs_a_plate_or_a_vin() {
        assert!(need_plate_or_vin(None, None).is_err());
        assert!(need_plate_or_vin(Some(&"ABC123".into()), None).is_ok());
    }

    #[test]
    fn search_prefixes_cannot_carry_wildcards() {
        assert_eq!(
            prefix("plate", Some("abc-1".into()), 10, true)
                .unwrap()
                .as_deref(),
            Some("ABC1")
        );
        assert!(prefix("plate", Some("AB%".into()), 10, true).is_err());
        assert!(prefix("plate", Some("A_".into()), 10, true).is_err());
        assert_eq!(prefix("plate", Some(" ".into()), 10, true).unwrap(), None);
        assert!(prefix("vin", Some("0.5".into()), 17, false).is_err());
    }
}
