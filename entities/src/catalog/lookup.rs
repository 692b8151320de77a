//! Reads of the catalog for the counter: the year → make → model → engine cascade and a part
//! with its fitment and numbers.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Statement, Value,
};
use serde::Serialize;

use super::docs::ph;
use crate::{Error, Result};

/// A maker or model in the cascade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Named {
    /// Id.
    pub id: i32,
    /// Name.
    pub name: String,
}

/// A vehicle at the end of the cascade: one engine (and submodel) of a year's model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VehicleView {
    /// Vehicle id, the `vehicle_id` of searches.
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
    /// Displacement in litres as text (`"1.6"`).
    pub liters: Option<String>,
    /// Cylinders.
    pub cylinders: Option<i16>,
    /// Fuel.
    pub fuel: Option<String>,
    /// Aspiration.
    pub aspiration: Option<String>,
    /// A label for a picker: `"1.6L L4 gasolina"`.
    pub engine: String,
}

fn liters(x10: Option<i16>) -> Option<String> {
    x10.map(|x| format!("{}.{}", x / 10, x % 10))
}

fn engine_label(v: &VehicleView) -> String {
    let mut parts = Vec::new();
    if let Some(l) = &v.liters {
        parts.push(format!("{l}L"));
    }
    if let Some(c) = v.cylinders {
        parts.push(format!("{}{c}", if c > 6 { "V" } else { "L" }));
    }
    if let Some(f) = &v.fuel {
        parts.push(f.clone());
    }
    if let Some(a) = v.aspiration.as_deref().filter(|a| *a != "natural") {
        parts.push(a.to_owned());
    }
    if let Some(s) = &v.submodel {
        parts.push(s.clone());
    }
    parts.join(" ")
}

async fn rows(
    db: &impl ConnectionTrait,
    sql: String,
    values: Vec<Value>,
) -> Result<Vec<sea_orm::QueryResult>> {
    let backend = db.get_database_backend();
    Ok(db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?)
}

/// The years that have vehicles, newest first.
///
/// # Errors
/// Database errors.
pub async fn years(db: &impl ConnectionTrait) -> Result<Vec<i16>> {
    rows(
        db,
        "SELECT DISTINCT year FROM catalog_vehicles ORDER BY year DESC".into(),
        vec![],
    )
    .await?
    .iter()
    .map(|r| Ok(r.try_get("", "year")?))
    .collect()
}

fn named(rows: Vec<sea_orm::QueryResult>) -> Result<Vec<Named>> {
    rows.iter()
        .map(|r| {
            Ok(Named {
                id: r.try_get("", "id")?,
                name: r.try_get("", "name")?,
            })
        })
        .collect()
}

/// A maker named by id (`"12"`) or by name (`"Nissan"`, any case and accents), as the counter
/// types it.
///
/// # Errors
/// [`Error::Validation`] on `field` when no maker has that id or name.
pub async fn make_id(db: &impl ConnectionTrait, field: &str, given: &str) -> Result<i32> {
    let given = given.trim();
    if let Ok(id) = given.parse::<i32>() {
        return Ok(id);
    }
    let folded = crate::catalog::text::fold(given);
    crate::catalog::make::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .find(|m| crate::catalog::text::fold(&m.name) == folded)
        .map(|m| m.id)
        .ok_or_else(|| {
            Error::missing(
                field,
                "make_not_found",
                format!("no maker is named {given:?}"),
            )
        })
}

/// A model of a maker named by id or by name.
///
/// # Errors
/// [`Error::Validation`] on `field` when the maker has no model with that id or name.
pub async fn model_id(
    db: &impl ConnectionTrait,
    field: &str,
    make_id: i32,
    given: &str,
) -> Result<i32> {
    let given = given.trim();
    if let Ok(id) = given.parse::<i32>() {
        return Ok(id);
    }
    let folded = crate::catalog::text::fold(given);
    crate::catalog::model::Entity::find()
        .filter(crate::catalog::model::Column::MakeId.eq(make_id))
        .all(db)
        .await?
        .into_iter()
        .find(|m| crate::catalog::text::fold(&m.name) == folded)
        .map(|m| m.id)
        .ok_or_else(|| {
            Error::missing(
                field,
                "model_not_found",
                format!("this maker has no model named {given:?}"),
            )
        })
}

/// The catalog's part categories, by name.
///
/// # Errors
/// Database errors.
pub async fn categories(db: &impl ConnectionTrait) -> Result<Vec<crate::catalog::category::Model>> {
    Ok(crate::catalog::category::Entity::find()
        .order_by_asc(crate::catalog::category::Column::Name)
        .all(db)
        .await?)
}

/// The catalog's part brands, by name.
///
/// # Errors
/// Database errors.
pub async fn brands(db: &impl ConnectionTrait) -> Result<Vec<Named>> {
    Ok(crate::catalog::brand::Entity::find()
        .order_by_asc(crate::catalog::brand::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(|b| Named {
            id: b.id,
            name: b.name,
        })
        .collect())
}

/// The makers with vehicles in a year, by name.
///
/// # Errors
/// Database errors.
pub async fn makes(db: &impl ConnectionTrait, year: i16) -> Result<Vec<Named>> {
    let b = db.get_database_backend();
    named(
        rows(
            db,
            format!(
                "SELECT DISTINCT m.id, m.name FROM catalog_vehicles v \
                 JOIN catalog_makes m ON m.id = v.make_id WHERE v.year = {} ORDER BY m.name",
                ph(b, 1)
            ),
            vec![year.into()],
        )
        .await?,
    )
}

/// The models of a maker in a year, by name.
///
/// # Errors
/// Database errors.
pub async fn models(db: &impl ConnectionTrait, year: i16, make_id: i32) -> Result<Vec<Named>> {
    let b = db.get_database_backend();
    named(
        rows(
            db,
            format!(
                "SELECT DISTINCT m.id, m.name FROM catalog_vehicles v \
                 JOIN catalog_models m ON m.id = v.model_id \
                 WHERE v.year = {} AND v.make_id = {} ORDER BY m.name",
                ph(b, 1),
                ph(b, 2)
            ),
            vec![year.into(), make_id.into()],
        )
        .await?,
    )
}

const VEHICLE_SELECT: &str = "SELECT v.id, v.year, v.make_id, mk.name AS make, v.model_id, \
     md.name AS model, v.submodel, v.liters_x10, v.cylinders, v.fuel, v.aspiration \
     FROM catalog_vehicles v JOIN catalog_makes mk ON mk.id = v.make_id \
     JOIN catalog_models md ON md.id = v.model_id";

fn vehicles_of(rows: &[sea_orm::QueryResult]) -> Result<Vec<VehicleView>> {
    rows.iter()
        .map(|r| {
            let mut v = VehicleView {
                id: r.try_get("", "id")?,
                year: r.try_get("", "year")?,
                make_id: r.try_get("", "make_id")?,
                make: r.try_get("", "make")?,
                model_id: r.try_get("", "model_id")?,
                model: r.try_get("", "model")?,
                submodel: r.try_get("", "submodel")?,
                liters: liters(r.try_get("", "liters_x10")?),
                cylinders: r.try_get("", "cylinders")?,
                fuel: r.try_get("", "fuel")?,
                aspiration: r.try_get("", "aspiration")?,
                engine: String::new(),
            };
            v.engine = engine_label(&v);
            Ok(v)
        })
        .collect()
}

/// The vehicles (engines, submodels) of a model in a year.
///
/// # Errors
/// Database errors.
pub async fn engines(
    db: &impl ConnectionTrait,
    year: i16,
    make_id: i32,
    model_id: i32,
) -> Result<Vec<VehicleView>> {
    let b = db.get_database_backend();
    vehicles_of(
        &rows(
            db,
            format!(
                "{VEHICLE_SELECT} WHERE v.year = {} AND v.make_id = {} AND v.model_id = {} \
                 ORDER BY v.liters_x10, v.cylinders, v.submodel, v.id",
                ph(b, 1),
                ph(b, 2),
                ph(b, 3)
            ),
            vec![year.into(), make_id.into(), model_id.into()],
        )
        .await?,
    )
}

/// One vehicle.
///
/// # Errors
/// [`Error::NotFound`]; database errors.
pub async fn vehicle(db: &impl ConnectionTrait, id: i32) -> Result<VehicleView> {
    let b = db.get_database_backend();
    vehicles_of(
        &rows(
            db,
            format!("{VEHICLE_SELECT} WHERE v.id = {}", ph(b, 1)),
            vec![id.into()],
        )
        .await?,
    )?
    .pop()
    .ok_or(Error::NotFound { entity: "vehicle" })
}

/// A vehicle a part fits, with the application's details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FitmentView {
    /// The vehicle.
    pub vehicle: VehicleView,
    /// Position, when the application names one.
    pub position: Option<String>,
    /// Units per vehicle.
    pub qty: i16,
    /// Qualifiers.
    pub qualifiers: Option<serde_json::Value>,
    /// Note.
    pub note: Option<String>,
}

/// Another number of the part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NumberView {
    /// `oe`, `aftermarket`, `supersedes`, `superseded_by`.
    pub kind: String,
    /// Brand of that number.
    pub brand: String,
    /// The number as printed.
    pub number: String,
}

/// A part with everything the counter shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartDetail {
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
    pub attributes: Option<serde_json::Value>,
    /// SAT ClaveProdServ.
    pub sat_product_key: Option<String>,
    /// SAT ClaveUnidad.
    pub sat_unit_key: Option<String>,
    /// Reference retail price in centavos.
    pub retail_price_cents: Option<i64>,
    /// Image references.
    pub image_refs: Option<serde_json::Value>,
    /// Vehicles it fits, newest first (at most [`MAX_FITMENT_SHOWN`]).
    pub fitment: Vec<FitmentView>,
    /// How many vehicles it fits in all.
    pub fitment_total: u64,
    /// Other numbers it is known by.
    pub interchange: Vec<NumberView>,
}

/// Most fitment rows a part's detail lists.
pub const MAX_FITMENT_SHOWN: u64 = 500;

/// A part with its fitment and numbers.
///
/// # Errors
/// [`Error::NotFound`]; database errors.
pub async fn part(db: &impl ConnectionTrait, id: i64) -> Result<PartDetail> {
    let b = db.get_database_backend();
    let p = rows(
        db,
        format!(
            "SELECT p.id, p.number, p.name, p.description, p.brand_id, b.name AS brand, \
             p.category_id, c.name AS category, p.attributes, p.sat_product_key, p.sat_unit_key, \
             p.retail_price_cents, p.image_refs FROM catalog_parts p \
             JOIN catalog_brands b ON b.id = p.brand_id \
             LEFT JOIN catalog_categories c ON c.id = p.category_id WHERE p.id = {}",
            ph(b, 1)
        ),
        vec![id.into()],
    )
    .await?
    .pop()
    .ok_or(Error::NotFound { entity: "part" })?;
    let fit_rows = rows(
        db,
        format!(
            "SELECT v.id, v.year, v.make_id, mk.name AS make, v.model_id, md.name AS model, \
             v.submodel, v.liters_x10, v.cylinders, v.fuel, v.aspiration, f.position, f.qty, \
             f.qualifiers, f.note FROM catalog_fitment f \
             JOIN catalog_vehicles v ON v.id = f.vehicle_id \
             JOIN catalog_makes mk ON mk.id = v.make_id \
             JOIN catalog_models md ON md.id = v.model_id \
             WHERE f.part_id = {} ORDER BY v.year DESC, mk.name, md.name, v.id LIMIT {MAX_FITMENT_SHOWN}",
            ph(b, 1)
        ),
        vec![id.into()],
    )
    .await?;
    let vehicles = vehicles_of(&fit_rows)?;
    let mut fitment = Vec::with_capacity(vehicles.len());
    for (vehicle, r) in vehicles.into_iter().zip(&fit_rows) {
        let position: String = r.try_get("", "position")?;
        fitment.push(FitmentView {
            vehicle,
            position: (!position.is_empty()).then_some(position),
            qty: r.try_get("", "qty")?,
            qualifiers: r.try_get("", "qualifiers")?,
            note: r.try_get("", "note")?,
        });
    }
    let fitment_total: i64 = rows(
        db,
        format!(
            "SELECT count(*) AS n FROM catalog_fitment WHERE part_id = {}",
            ph(b, 1)
        ),
        vec![id.into()],
    )
    .await?
    .first()
    .map(|r| r.try_get("", "n"))
    .transpose()?
    .unwrap_or(0);
    let interchange = rows(
        db,
        format!(
            "SELECT kind, brand, number FROM catalog_interchange WHERE part_id = {} \
             ORDER BY kind, brand, number",
            ph(b, 1)
        ),
        vec![id.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(NumberView {
            kind: r.try_get("", "kind")?,
            brand: r.try_get("", "brand")?,
            number: r.try_get("", "number")?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    Ok(PartDetail {
        id: p.try_get("", "id")?,
        number: p.try_get("", "number")?,
        name: p.try_get("", "name")?,
        description: p.try_get("", "description")?,
        brand_id: p.try_get("", "brand_id")?,
        brand: p.try_get("", "brand")?,
        category_id: p.try_get("", "category_id")?,
        category: p.try_get("", "category")?,
        attributes: p.try_get("", "attributes")?,
        sat_product_key: p.try_get("", "sat_product_key")?,
        sat_unit_key: p.try_get("", "sat_unit_key")?,
        retail_price_cents: p.try_get("", "retail_price_cents")?,
        image_refs: p.try_get("", "image_refs")?,
        fitment,
        fitment_total: u64::try_from(fitment_total).unwrap_or(0),
        interchange,
    })
}

/// The catalog vehicles of a year's make and model, by name as a decoder gives them (`NISSAN`,
/// `Sentra`; case and accents do not matter), narrowed to a displacement when one is given and
/// matches. Empty when the catalog does not know the model.
///
/// # Errors
/// Database errors.
pub async fn vehicles_by_names(
    db: &impl ConnectionTrait,
    make: &str,
    model: &str,
    year: i16,
    liters: Option<&str>,
) -> Result<Vec<VehicleView>> {
    use super::text::fold;
    let b = db.get_database_backend();
    let all = vehicles_of(
        &rows(
            db,
            format!(
                "{VEHICLE_SELECT} WHERE v.year = {} AND lower(mk.name) = lower({}) ORDER BY v.id",
                ph(b, 1),
                ph(b, 2)
            ),
            vec![year.into(), make.trim().into()],
        )
        .await?,
    )?;
    let model = fold(model.trim());
    let of_model: Vec<VehicleView> = all
        .into_iter()
        .filter(|v| fold(&v.model) == model)
        .collect();
    let liters = liters.and_then(|l| l.trim().parse::<f64>().ok());
    let narrowed: Vec<VehicleView> = match liters {
        Some(l) => of_model
            .iter()
            .filter(|v| {
                v.liters
                    .as_deref()
                    .and_then(|x| x.parse::<f64>().ok())
                    .is_some_and(|x| (x - l).abs() < 0.05)
            })
            .cloned()
            .collect(),
        None => Vec::new(),
    };
    Ok(if narrowed.is_empty() {
        of_model
    } else {
        narrowed
    })
}

/// Most vehicles [`vehicles_by_maker_year`] answers: every engine of a maker's year fits in it
/// (a Nissan year is about 40), and a picker longer than that is not a shortcut any more.
pub const MAKER_YEAR_LIMIT: u64 = 200;

/// The catalog vehicles of a maker in a model year, by model and engine, when all a VIN says
/// locally is its year and its manufacturer (`"Nissan Mexicana"` from WMI `3N1`). The catalog
/// maker is the one whose name the manufacturer's name is or starts with as a whole word, so
/// `"Nissan Mexicana"` finds Nissan and `"General Motors"` finds nothing (its brands are many).
///
/// # Errors
/// Database errors.
pub async fn vehicles_by_maker_year(
    db: &impl ConnectionTrait,
    manufacturer: &str,
    year: i16,
) -> Result<Vec<VehicleView>> {
    use super::text::fold;
    use sea_orm::EntityTrait;
    let folded = fold(manufacturer.trim());
    let makes = crate::catalog::make::Entity::find().all(db).await?;
    let Some(make) = makes
        .iter()
        .filter(|m| {
            let name = fold(&m.name);
            !name.is_empty()
                && (folded == name
                    || folded
                        .strip_prefix(name.as_str())
                        .is_some_and(|rest| rest.starts_with(' ')))
        })
        // "Mercedes-Benz" before "Mercedes" when both would match.
        .max_by_key(|m| m.name.len())
    else {
        return Ok(Vec::new());
    };
    let b = db.get_database_backend();
    vehicles_of(
        &rows(
            db,
            format!(
                "{VEHICLE_SELECT} WHERE v.year = {} AND v.make_id = {} \
                 ORDER BY md.name, v.liters_x10, v.cylinders, v.submodel, v.id LIMIT {MAKER_YEAR_LIMIT}",
                ph(b, 1),
                ph(b, 2)
            ),
            vec![year.into(), make.id.into()],
        )
        .await?,
    )
}

/// One catalog vehicle, or `None` when no vehicle has the id.
///
/// # Errors
/// Database errors.
pub async fn find_vehicle(db: &impl ConnectionTrait, id: i64) -> Result<Option<VehicleView>> {
    let Ok(id) = i32::try_from(id) else {
        return Ok(None);
    };
    match vehicle(db, id).await {
        Ok(v) => Ok(Some(v)),
        Err(Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Checks that a reference to the shared catalog names a part that exists (a tenant's item
/// linked to it).
///
/// # Errors
/// [`Error::Validation`] naming `field`; database errors.
pub async fn require_part(db: &impl ConnectionTrait, field: &str, id: i64) -> Result<()> {
    part_with_brand(db, field, id).await.map(|_| ())
}

/// A catalog part and its brand's name, for an item that copies them.
///
/// # Errors
/// [`Error::Validation`] naming `field` when there is no such part; database errors.
pub async fn part_with_brand(
    db: &impl ConnectionTrait,
    field: &str,
    id: i64,
) -> Result<(crate::catalog::part::Model, Option<String>)> {
    use sea_orm::EntityTrait;
    let part = crate::catalog::part::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| no_part(field, id))?;
    let brand = crate::catalog::brand::Entity::find_by_id(part.brand_id)
        .one(db)
        .await?
        .map(|b| b.name);
    Ok((part, brand))
}

/// The refusal of a reference to a catalog part that does not exist.
#[must_use]
pub fn no_part(field: &str, id: i64) -> Error {
    Error::missing(
        field,
        "catalog_part_not_found",
        format!("no catalog part has id {id}"),
    )
}

/// The catalog parts among `ids` that exist, each with its brand's name, in two queries: what
/// [`part_with_brand`] gives for one part, for a batch of them (an import's rows). A missing id
/// is simply absent from the answer; [`no_part`] says so.
///
/// # Errors
/// Database errors.
pub async fn parts_with_brands(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, (crate::catalog::part::Model, Option<String>)>> {
    use crate::catalog::{brand, part};
    if ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let parts = part::Entity::find()
        .filter(part::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    let mut brand_ids: Vec<i32> = parts.iter().map(|p| p.brand_id).collect();
    brand_ids.sort_unstable();
    brand_ids.dedup();
    let brands: std::collections::HashMap<i32, String> = brand::Entity::find()
        .filter(brand::Column::Id.is_in(brand_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.id, b.name))
        .collect();
    Ok(parts
        .into_iter()
        .map(|p| {
            let b = brands.get(&p.brand_id).cloned();
            (p.id, (p, b))
        })
        .collect())
}
