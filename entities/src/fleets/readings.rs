//! Odometer readings. An ordinary reading is never below the vehicle's current one (Odoo took
//! lower ones and gave negative distances): it is refused with `odometer_below_current` and
//! nothing is written. A manager records a `rollover` or a `correction`, with a note, audited:
//! it becomes the new base, and later readings are compared with it. A service order's
//! reception never waits on the odometer: a lower reading there is kept **flagged** for review
//! and is never the current one. The current reading is the highest unflagged one since the
//! vehicle's last base.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::counter::tables::sale;
use crate::fleets::tables::reading::{self, Kind, Source};
use crate::org::seller::Seller;
use crate::rules::maintenance::{PACE_WINDOW_DAYS, Pace};
use crate::vehicles::tables::customer_vehicle;
use crate::{Error, Page, PageRequest, Result};

/// The highest reading an odometer shows.
pub const MAX_KM: i64 = 3_000_000;

/// A reading to record by hand.
#[derive(Debug, Clone)]
pub struct NewReading {
    /// Kilometres shown.
    pub km: i64,
    /// The day it was read (today when absent).
    pub read_on: Option<NaiveDate>,
    /// `reading`, or a manager's `rollover` or `correction`.
    pub kind: Kind,
    /// Why (required for a rollover or a correction).
    pub note: Option<String>,
}

fn check_km(field: &str, km: i64) -> Result<i64> {
    if (0..=MAX_KM).contains(&km) {
        Ok(km)
    } else {
        Err(Error::validation(
            field,
            format!("{field} is 0 to {MAX_KM} km"),
        ))
    }
}

/// The registered vehicle, or 404 `vehicle`.
///
/// # Errors
/// [`Error::NotFound`] `vehicle`.
pub async fn vehicle(db: &impl ConnectionTrait, id: Uuid) -> Result<customer_vehicle::Model> {
    customer_vehicle::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "vehicle" })
}

/// The vehicle's last base (rollover or correction), when it has one.
async fn last_base(db: &impl ConnectionTrait, vehicle_id: Uuid) -> Result<Option<reading::Model>> {
    Ok(reading::Entity::find()
        .filter(reading::Column::VehicleId.eq(vehicle_id))
        .filter(reading::Column::Kind.ne(Kind::Reading))
        .order_by_desc(reading::Column::CreatedAt)
        .order_by_desc(reading::Column::Id)
        .one(db)
        .await?)
}

/// The vehicle's current reading: the highest unflagged one since its last base.
///
/// # Errors
/// Database errors.
pub async fn current(db: &impl ConnectionTrait, vehicle_id: Uuid) -> Result<Option<i64>> {
    Ok(current_of(db, &[vehicle_id])
        .await?
        .get(&vehicle_id)
        .copied())
}

/// The current readings of some vehicles (those with none are absent).
///
/// # Errors
/// Database errors.
pub async fn current_of(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<HashMap<Uuid, i64>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(Uuid, i64)> = reading::Entity::find()
            .select_only()
            .column(reading::Column::VehicleId)
            .column_as(reading::Column::Km.max(), "km")
            .filter(reading::Column::VehicleId.is_in(chunk.iter().copied()))
            .filter(reading::Column::Flagged.eq(false))
            .group_by(reading::Column::VehicleId)
            .into_tuple()
            .all(db)
            .await?;
        out.extend(rows);
        rebase(db, Some(chunk), &mut out, None).await?;
    }
    Ok(out)
}

/// Replaces, for the vehicles with a base among `only` (all when none), the plain maximum with
/// the maximum since the base, and their pace with the one since the base: a rollover is rare,
/// so these are read one vehicle at a time.
async fn rebase(
    db: &impl ConnectionTrait,
    only: Option<&[Uuid]>,
    current: &mut HashMap<Uuid, i64>,
    mut paces: Option<(&mut HashMap<Uuid, Pace>, NaiveDate)>,
) -> Result<()> {
    let mut q = reading::Entity::find()
        .select_only()
        .column(reading::Column::VehicleId)
        .filter(reading::Column::Kind.ne(Kind::Reading))
        .distinct();
    if let Some(ids) = only {
        q = q.filter(reading::Column::VehicleId.is_in(ids.iter().copied()));
    }
    let based: Vec<Uuid> = q.into_tuple().all(db).await?;
    for v in based {
        let Some(base) = last_base(db, v).await? else {
            continue;
        };
        let since: Vec<reading::Model> = reading::Entity::find()
            .filter(reading::Column::VehicleId.eq(v))
            .filter(reading::Column::Flagged.eq(false))
            .filter(reading::Column::CreatedAt.gte(base.created_at))
            .all(db)
            .await?;
        let max = since.iter().map(|r| r.km).max().unwrap_or(base.km);
        current.insert(v, max);
        if let Some((paces, today)) = paces.as_mut() {
            let pts: Vec<(NaiveDate, i64)> = since.iter().map(|r| (r.read_on, r.km)).collect();
            match crate::rules::maintenance::pace(&pts, *today) {
                Some(p) => paces.insert(v, p),
                None => paces.remove(&v),
            };
        }
    }
    Ok(())
}

/// Every vehicle's current reading and pace on `today`, in a few grouped queries: what the
/// daily job reads for thousands of vehicles at once.
///
/// The pace is the distance between the lowest and the highest unflagged reading of the last
/// [`PACE_WINDOW_DAYS`] days over the days between the first and the last of them; readings
/// only go up between bases, so these are the first and the last reading (as
/// [`crate::rules::maintenance::pace`] computes for a vehicle with a base).
///
/// # Errors
/// Database errors.
pub async fn odometers(
    db: &impl ConnectionTrait,
    today: NaiveDate,
) -> Result<(HashMap<Uuid, i64>, HashMap<Uuid, Pace>)> {
    let mut current: HashMap<Uuid, i64> = reading::Entity::find()
        .select_only()
        .column(reading::Column::VehicleId)
        .column_as(reading::Column::Km.max(), "km")
        .filter(reading::Column::Flagged.eq(false))
        .group_by(reading::Column::VehicleId)
        .into_tuple::<(Uuid, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let since = today - chrono::Duration::days(PACE_WINDOW_DAYS);
    let rows: Vec<(Uuid, i64, i64, NaiveDate, NaiveDate)> = reading::Entity::find()
        .select_only()
        .column(reading::Column::VehicleId)
        .column_as(reading::Column::Km.min(), "lo")
        .column_as(reading::Column::Km.max(), "hi")
        .column_as(reading::Column::ReadOn.min(), "first_on")
        .column_as(reading::Column::ReadOn.max(), "last_on")
        .filter(reading::Column::Flagged.eq(false))
        .filter(reading::Column::ReadOn.gte(since))
        .filter(reading::Column::ReadOn.lte(today))
        .group_by(reading::Column::VehicleId)
        .into_tuple()
        .all(db)
        .await?;
    let mut paces = HashMap::new();
    for (v, lo, hi, first, last) in rows {
        let (km, days) = (hi - lo, (last - first).num_days());
        if km > 0 && days > 0 {
            paces.insert(v, Pace { km, days });
        }
    }
    rebase(db, None, &mut current, Some((&mut paces, today))).await?;
    Ok((current, paces))
}

/// Records a reading by hand, audited when it is a rollover or a correction.
///
/// # Errors
/// [`Error::NotFound`] `vehicle`; [`Error::Validation`] on `km`, `read_on`, `note`;
/// [`Error::Forbidden`] a rollover or correction below manager; [`Error::Conflict`]
/// `odometer_below_current` for an ordinary reading below the current one.
pub async fn record(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    vehicle_id: Uuid,
    r: NewReading,
) -> Result<reading::Model> {
    vehicle(txn, vehicle_id).await?;
    let km = check_km("km", r.km)?;
    let read_on = crate::fleets::past_day("read_on", r.read_on.unwrap_or_else(crate::today))?;
    let note = crate::rules::text::optional("note", r.note, 500)?;
    let current = current(txn, vehicle_id).await?;
    if r.kind == Kind::Reading {
        refuse_below(current, km)?;
    } else {
        crate::fleets::require_manager(seller, "a rollover or a correction of the odometer")?;
        if note.is_none() {
            return Err(Error::validation(
                "note",
                "say why the odometer is rolled over or corrected",
            ));
        }
    }
    let row = insert(
        txn,
        vehicle_id,
        km,
        read_on,
        (r.kind, Source::Manual, None),
        false,
        note,
        Some(seller.user_id),
    )
    .await?;
    if r.kind != Kind::Reading {
        seller
            .entry(
                &format!("odometer.{}", r.kind.as_str()),
                "vehicle",
                vehicle_id,
            )
            .details(json!({"km": km, "previous_km": current, "note": row.note}))
            .record_tenant(txn)
            .await?;
    }
    Ok(row)
}

fn refuse_below(current: Option<i64>, km: i64) -> Result<()> {
    match current {
        Some(c) if km < c => Err(Error::conflict(
            "odometer_below_current",
            format!(
                "{km} km is below the vehicle's current reading of {c} km: an odometer only goes up (a manager records a rollover or a correction)"
            ),
        )),
        _ => Ok(()),
    }
}

#[allow(clippy::too_many_arguments)]
async fn insert(
    txn: &impl ConnectionTrait,
    vehicle_id: Uuid,
    km: i64,
    read_on: NaiveDate,
    (kind, source, source_id): (Kind, Source, Option<Uuid>),
    flagged: bool,
    note: Option<String>,
    by: Option<Uuid>,
) -> Result<reading::Model> {
    Ok(reading::ActiveModel {
        id: Set(Uuid::now_v7()),
        vehicle_id: Set(vehicle_id),
        km: Set(km),
        read_on: Set(read_on),
        kind: Set(kind),
        source: Set(source),
        source_id: Set(source_id),
        flagged: Set(flagged),
        note: Set(note),
        recorded_by: Set(by),
        created_at: Set(crate::now()),
    }
    .insert(txn)
    .await?)
}

/// The reading of a service order's reception, in its transaction. Never refuses: a reading
/// below the current one is kept flagged (the car is in the workshop either way; a manager
/// reviews the flag).
///
/// # Errors
/// Database errors.
pub async fn from_reception(
    txn: &impl ConnectionTrait,
    by: Uuid,
    vehicle_id: Uuid,
    km: i64,
    order_id: Uuid,
) -> Result<reading::Model> {
    let current = current(txn, vehicle_id).await?;
    let flagged = current.is_some_and(|c| km < c);
    insert(
        txn,
        vehicle_id,
        km,
        crate::today(),
        (Kind::Reading, Source::Reception, Some(order_id)),
        flagged,
        flagged.then(|| format!("below the current {} km at reception", current.unwrap_or(0))),
        Some(by),
    )
    .await
}

/// The reading of a fleet log, refused below the current one.
///
/// # Errors
/// [`Error::Conflict`] `odometer_below_current`.
pub(crate) async fn from_log(
    txn: &impl ConnectionTrait,
    by: Uuid,
    vehicle_id: Uuid,
    km: i64,
    on: NaiveDate,
    log_id: Uuid,
) -> Result<()> {
    refuse_below(current(txn, vehicle_id).await?, km)?;
    insert(
        txn,
        vehicle_id,
        km,
        on,
        (Kind::Reading, Source::Log, Some(log_id)),
        false,
        None,
        Some(by),
    )
    .await?;
    Ok(())
}

/// Stores on a counter sale the vehicle it was for and its odometer, in the checkout's
/// transaction, and records the reading. The vehicle must be the sale's customer's.
///
/// # Errors
/// [`Error::Validation`] `vehicle_id` without a customer, `odometer` without a vehicle or out of
/// range; [`Error::Missing`] `vehicle_not_found`; [`Error::Conflict`]
/// `vehicle_of_another_customer`, `odometer_below_current`.
pub async fn on_sale(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    sale_id: Uuid,
    customer_id: Option<Uuid>,
    vehicle_id: Option<Uuid>,
    odometer: Option<i64>,
) -> Result<()> {
    let Some(vehicle_id) = vehicle_id else {
        if odometer.is_some() {
            return Err(Error::validation(
                "odometer",
                "an odometer reading goes with the vehicle_id it was read on",
            ));
        }
        return Ok(());
    };
    let Some(customer_id) = customer_id else {
        return Err(Error::validation(
            "vehicle_id",
            "a sale for a vehicle names the vehicle's customer",
        ));
    };
    let v = customer_vehicle::Entity::find_by_id(vehicle_id)
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
            "the vehicle is not registered to the sale's customer",
        ));
    }
    if let Some(km) = odometer {
        let km = check_km("odometer", km)?;
        refuse_below(current(txn, vehicle_id).await?, km)?;
        insert(
            txn,
            vehicle_id,
            km,
            crate::today(),
            (Kind::Reading, Source::Sale, Some(sale_id)),
            false,
            None,
            Some(seller.user_id),
        )
        .await?;
    }
    sale::Entity::update_many()
        .col_expr(sale::Column::VehicleId, Expr::value(Some(vehicle_id)))
        .col_expr(sale::Column::OdometerKm, Expr::value(odometer))
        .filter(sale::Column::Id.eq(sale_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// A vehicle's readings, newest first; `flagged` filters.
///
/// # Errors
/// [`Error::NotFound`] `vehicle`.
pub async fn list(
    db: &impl ConnectionTrait,
    vehicle_id: Uuid,
    flagged: Option<bool>,
    page: PageRequest,
) -> Result<Page<reading::Model>> {
    vehicle(db, vehicle_id).await?;
    let mut q = reading::Entity::find()
        .filter(reading::Column::VehicleId.eq(vehicle_id))
        .order_by_desc(reading::Column::CreatedAt)
        .order_by_desc(reading::Column::Id);
    if let Some(f) = flagged {
        q = q.filter(reading::Column::Flagged.eq(f));
    }
    page.fetch(db, q).await
}

/// One vehicle's current reading and pace on `today`, from its readings since its last base.
///
/// # Errors
/// Database errors.
pub async fn odometer_of(
    db: &impl ConnectionTrait,
    vehicle_id: Uuid,
    today: NaiveDate,
) -> Result<(Option<i64>, Option<Pace>)> {
    let mut q = reading::Entity::find()
        .filter(reading::Column::VehicleId.eq(vehicle_id))
        .filter(reading::Column::Flagged.eq(false));
    if let Some(b) = last_base(db, vehicle_id).await? {
        q = q.filter(reading::Column::CreatedAt.gte(b.created_at));
    }
    let rows = q.all(db).await?;
    let current = rows.iter().map(|r| r.km).max();
    let pts: Vec<(NaiveDate, i64)> = rows.iter().map(|r| (r.read_on, r.km)).collect();
    Ok((current, crate::rules::maintenance::pace(&pts, today)))
}
