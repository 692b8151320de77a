//! Cost logs of fleet units: services (a delivered service order writes its own), fuel and
//! other costs, in integer centavos. A log with an odometer is also a reading, refused below
//! the current one like any reading.

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::fleets::tables::fleet_vehicle;
use crate::fleets::tables::log::{self, Kind};
use crate::org::seller::Seller;
use crate::{Error, Page, PageRequest, Result};

/// The largest single cost, centavos ($10,000,000.00).
pub const MAX_AMOUNT_CENTS: i64 = 1_000_000_000;

/// A delivered service order, as the fleet sees it.
#[derive(Debug, Clone)]
pub struct DeliveredOrder {
    /// The order.
    pub order_id: Uuid,
    /// Its registered vehicle.
    pub vehicle_id: Uuid,
    /// The odometer at reception.
    pub odometer_km: Option<i64>,
    /// The items of its billable lines (parts and labour).
    pub item_ids: Vec<Uuid>,
    /// What it was charged, IVA included, centavos.
    pub total_cents: i64,
    /// Its folio, for the log.
    pub folio: String,
}

/// A log to record.
#[derive(Debug, Clone)]
pub struct NewLog {
    /// Service, fuel or other.
    pub kind: Kind,
    /// The day of the cost.
    pub spent_on: NaiveDate,
    /// IVA included, centavos (0 to [`MAX_AMOUNT_CENTS`]).
    pub amount_cents: i64,
    /// The odometer then.
    pub odometer_km: Option<i64>,
    /// Fuel loaded, millilitres (fuel logs only).
    pub fuel_ml: Option<i64>,
    /// What it was.
    pub description: Option<String>,
}

/// A fleet unit, or 404 `fleet_vehicle`.
///
/// # Errors
/// [`Error::NotFound`] `fleet_vehicle`.
pub async fn unit(db: &impl ConnectionTrait, vehicle_id: Uuid) -> Result<fleet_vehicle::Model> {
    fleet_vehicle::Entity::find_by_id(vehicle_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "fleet_vehicle",
        })
}

/// Records a cost of a fleet unit (and its odometer as a reading), audited.
///
/// # Errors
/// [`Error::NotFound`] `fleet_vehicle`; [`Error::Validation`] naming the field;
/// [`Error::Conflict`] `odometer_below_current`.
pub async fn create(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    vehicle_id: Uuid,
    n: NewLog,
) -> Result<log::Model> {
    let u = unit(txn, vehicle_id).await?;
    let spent_on = crate::fleets::past_day("spent_on", n.spent_on)?;
    if !(0..=MAX_AMOUNT_CENTS).contains(&n.amount_cents) {
        return Err(Error::validation("amount", "amount is 0.00 to 10000000.00"));
    }
    if n.odometer_km
        .is_some_and(|k| !(0..=crate::fleets::readings::MAX_KM).contains(&k))
    {
        return Err(Error::validation(
            "odometer_km",
            "odometer_km is 0 to 3000000",
        ));
    }
    match (n.kind, n.fuel_ml) {
        (Kind::Fuel, Some(ml)) if !(1..=2_000_000).contains(&ml) => {
            return Err(Error::validation(
                "fuel_ml",
                "fuel_ml is 1 to 2000000 (2 000 litres)",
            ));
        }
        (Kind::Service | Kind::Other, Some(_)) => {
            return Err(Error::validation("fuel_ml", "only a fuel log has fuel_ml"));
        }
        _ => {}
    }
    let row = log::ActiveModel {
        id: Set(Uuid::now_v7()),
        vehicle_id: Set(vehicle_id),
        customer_id: Set(u.customer_id),
        kind: Set(n.kind),
        spent_on: Set(spent_on),
        amount_cents: Set(n.amount_cents),
        odometer_km: Set(n.odometer_km),
        fuel_ml: Set(n.fuel_ml),
        description: Set(crate::rules::text::optional(
            "description",
            n.description,
            500,
        )?),
        service_order_id: Set(None),
        created_by: Set(Some(seller.user_id)),
        created_at: Set(crate::now()),
    }
    .insert(txn)
    .await?;
    if let Some(km) = row.odometer_km {
        crate::fleets::readings::from_log(txn, seller.user_id, vehicle_id, km, spent_on, row.id)
            .await?;
    }
    seller
        .entry("fleet.log_added", "vehicle", vehicle_id)
        .details(
            json!({"log_id": row.id, "kind": row.kind.as_str(), "amount_cents": row.amount_cents}),
        )
        .record_tenant(txn)
        .await?;
    Ok(row)
}

/// The service log of a delivered order of a fleet unit, once per order; nothing for a vehicle
/// that is not a fleet unit.
///
/// # Errors
/// Database errors.
pub(crate) async fn from_service_order(
    txn: &impl ConnectionTrait,
    o: &DeliveredOrder,
    on: NaiveDate,
) -> Result<()> {
    let Some(u) = fleet_vehicle::Entity::find_by_id(o.vehicle_id)
        .one(txn)
        .await?
    else {
        return Ok(());
    };
    let seen = log::Entity::find()
        .filter(log::Column::ServiceOrderId.eq(o.order_id))
        .one(txn)
        .await?;
    if seen.is_some() {
        return Ok(());
    }
    log::ActiveModel {
        id: Set(Uuid::now_v7()),
        vehicle_id: Set(o.vehicle_id),
        customer_id: Set(u.customer_id),
        kind: Set(Kind::Service),
        spent_on: Set(on),
        amount_cents: Set(o.total_cents),
        // The reception already recorded the reading.
        odometer_km: Set(o.odometer_km),
        fuel_ml: Set(None),
        description: Set(Some(format!("Orden de servicio {}", o.folio))),
        service_order_id: Set(Some(o.order_id)),
        created_by: Set(None),
        created_at: Set(crate::now()),
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Filters of the log list.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// One kind.
    pub kind: Option<Kind>,
    /// On or after.
    pub from: Option<NaiveDate>,
    /// On or before.
    pub to: Option<NaiveDate>,
}

/// A unit's logs, newest first.
///
/// # Errors
/// [`Error::NotFound`] `fleet_vehicle`.
pub async fn list(
    db: &impl ConnectionTrait,
    vehicle_id: Uuid,
    f: LogFilter,
    page: PageRequest,
) -> Result<Page<log::Model>> {
    unit(db, vehicle_id).await?;
    let mut q = log::Entity::find()
        .filter(log::Column::VehicleId.eq(vehicle_id))
        .order_by_desc(log::Column::SpentOn)
        .order_by_desc(log::Column::Id);
    if let Some(k) = f.kind {
        q = q.filter(log::Column::Kind.eq(k));
    }
    if let Some(d) = f.from {
        q = q.filter(log::Column::SpentOn.gte(d));
    }
    if let Some(d) = f.to {
        q = q.filter(log::Column::SpentOn.lte(d));
    }
    page.fetch(db, q).await
}
