//! Maintenance plans and each vehicle's state on them. A plan is of one fleet unit or of every
//! unit of a make and model (matched in any case); each unit it applies to has a state: the
//! base (when the work was last done, km and day) and the next due point from it
//! ([`crate::rules::maintenance::next_due`]). A plan that names a service item is done by a
//! delivered service order with that item ([`on_delivered`]); any plan is done by hand
//! ([`done`]).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::fleets::due;
use crate::fleets::logs::DeliveredOrder;
use crate::fleets::tables::{fleet_vehicle, plan, plan_state};
use crate::org::seller::Seller;
use crate::rules::maintenance::{self, Due, Standing};
use crate::vehicles::tables::customer_vehicle;
use crate::{Error, Page, PageRequest, Result};

/// The longest interval, km.
pub const MAX_INTERVAL_KM: i64 = 1_000_000;
/// The longest interval, months.
pub const MAX_INTERVAL_MONTHS: i32 = 120;

/// A plan to create.
#[derive(Debug, Clone, Default)]
pub struct NewPlan {
    /// `Cambio de aceite y filtro`.
    pub name: String,
    /// One fleet unit's plan (or `make` and `model`).
    pub vehicle_id: Option<Uuid>,
    /// Every unit of this make…
    pub make: Option<String>,
    /// …and model.
    pub model: Option<String>,
    /// The service item whose delivery does the work.
    pub item_id: Option<Uuid>,
    /// Every this many km…
    pub interval_km: Option<i64>,
    /// …or this many months, whichever comes first.
    pub interval_months: Option<i32>,
    /// Warn this many km before (the business's `urgent_km` otherwise).
    pub warn_km: Option<i64>,
    /// Warn this many days before (the business's `urgent_days` otherwise).
    pub warn_days: Option<i32>,
    /// A vehicle plan's base: the km the work was last done at (the current reading otherwise).
    pub last_done_km: Option<i64>,
    /// A vehicle plan's base: the day it was last done (today otherwise).
    pub last_done_on: Option<NaiveDate>,
}

fn check_intervals(p: &NewPlan) -> Result<()> {
    if p.interval_km.is_none() && p.interval_months.is_none() {
        return Err(Error::validation(
            "interval_km",
            "a plan repeats every interval_km, every interval_months, or both",
        ));
    }
    if p.interval_km
        .is_some_and(|k| !(1..=MAX_INTERVAL_KM).contains(&k))
    {
        return Err(Error::validation(
            "interval_km",
            format!("interval_km is 1 to {MAX_INTERVAL_KM}"),
        ));
    }
    if p.interval_months
        .is_some_and(|m| !(1..=MAX_INTERVAL_MONTHS).contains(&m))
    {
        return Err(Error::validation(
            "interval_months",
            format!("interval_months is 1 to {MAX_INTERVAL_MONTHS}"),
        ));
    }
    if let Some(w) = p.warn_km
        && !(1..=p.interval_km.unwrap_or(MAX_INTERVAL_KM)).contains(&w)
    {
        return Err(Error::validation(
            "warn_km",
            "warn_km is 1 to the plan's interval_km",
        ));
    }
    if p.warn_days.is_some_and(|d| !(1..=365).contains(&d)) {
        return Err(Error::validation("warn_days", "warn_days is 1 to 365"));
    }
    Ok(())
}

/// Creates a plan (managers and up), audited, and starts it for the units it applies to.
///
/// # Errors
/// [`Error::Forbidden`]; [`Error::Validation`] naming the field; [`Error::Missing`]
/// `vehicle_not_found` (not a fleet unit), `item_not_found`.
pub async fn create(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    p: NewPlan,
) -> Result<plan::Model> {
    crate::fleets::require_manager(seller, "a maintenance plan")?;
    let name = crate::rules::text::required("name", &p.name, 120)?;
    check_intervals(&p)?;
    let make = crate::rules::text::optional("make", p.make.clone(), 60)?;
    let model = crate::rules::text::optional("model", p.model.clone(), 60)?;
    match (p.vehicle_id, &make, &model) {
        (Some(_), None, None) | (None, Some(_), Some(_)) => {}
        (Some(_), _, _) => {
            return Err(Error::validation(
                "vehicle_id",
                "a plan is of one vehicle or of a make and model, not both",
            ));
        }
        (None, _, _) => {
            return Err(Error::validation(
                "vehicle_id",
                "name the vehicle_id, or the make and the model, the plan is for",
            ));
        }
    }
    if let Some(v) = p.vehicle_id
        && fleet_vehicle::Entity::find_by_id(v)
            .one(txn)
            .await?
            .is_none()
    {
        return Err(Error::missing(
            "vehicle_id",
            "vehicle_not_found",
            "no fleet unit with this id: add the vehicle to its fleet first",
        ));
    }
    if p.vehicle_id.is_none() && (p.last_done_km.is_some() || p.last_done_on.is_some()) {
        return Err(Error::validation(
            "last_done_km",
            "a make-and-model plan starts on each unit at its current reading; set a unit's last service with done",
        ));
    }
    if let Some(i) = p.item_id {
        crate::inventory::adjustments::check_item(txn, "item_id", i).await?;
    }
    let now = crate::now();
    let row = plan::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        vehicle_id: Set(p.vehicle_id),
        make_key: Set(make.as_deref().map(str::to_lowercase)),
        model_key: Set(model.as_deref().map(str::to_lowercase)),
        make: Set(make),
        model: Set(model),
        item_id: Set(p.item_id),
        interval_km: Set(p.interval_km),
        interval_months: Set(p.interval_months),
        warn_km: Set(p.warn_km),
        warn_days: Set(p.warn_days),
        is_active: Set(true),
        created_by: Set(Some(seller.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?;
    if let Some(v) = row.vehicle_id {
        let km = match p.last_done_km {
            Some(k) if !(0..=crate::fleets::readings::MAX_KM).contains(&k) => {
                return Err(Error::validation(
                    "last_done_km",
                    "last_done_km is 0 to 3000000",
                ));
            }
            Some(k) => Some(k),
            None => crate::fleets::readings::current(txn, v).await?,
        };
        let on =
            crate::fleets::past_day("last_done_on", p.last_done_on.unwrap_or_else(crate::today))?;
        insert_states(txn, &row, &[(v, km)], on).await?;
    } else {
        start_model_plans(txn, None).await?;
    }
    seller
        .entry("maintenance_plan.created", "maintenance_plan", row.id)
        .details(json!({"name": row.name, "vehicle_id": row.vehicle_id, "make": row.make, "model": row.model, "interval_km": row.interval_km, "interval_months": row.interval_months}))
        .record_tenant(txn)
        .await?;
    Ok(row)
}

async fn insert_states(
    txn: &impl ConnectionTrait,
    p: &plan::Model,
    units: &[(Uuid, Option<i64>)],
    on: NaiveDate,
) -> Result<()> {
    let now = crate::now();
    let rows: Vec<plan_state::ActiveModel> = units
        .iter()
        .map(|&(v, km)| {
            let due = maintenance::next_due(km, on, p.interval_km, p.interval_months);
            plan_state::ActiveModel {
                id: Set(Uuid::now_v7()),
                vehicle_id: Set(v),
                plan_id: Set(p.id),
                last_done_km: Set(km),
                last_done_on: Set(on),
                next_due_km: Set(due.km),
                next_due_on: Set(due.on),
                notified_due: Set(None),
                notified_on: Set(None),
                updated_at: Set(now),
            }
        })
        .collect();
    for chunk in rows.chunks(500) {
        plan_state::Entity::insert_many(chunk.to_vec())
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// Starts every active make-and-model plan on the fleet units it applies to and is not yet
/// started on (one unit's, or every unit's), based at the unit's current reading and today.
///
/// # Errors
/// Database errors.
pub async fn start_model_plans(txn: &impl ConnectionTrait, unit: Option<Uuid>) -> Result<()> {
    let plans = plan::Entity::find()
        .filter(plan::Column::IsActive.eq(true))
        .filter(plan::Column::MakeKey.is_not_null())
        .all(txn)
        .await?;
    if plans.is_empty() {
        return Ok(());
    }
    let mut q = fleet_vehicle::Entity::find().filter(fleet_vehicle::Column::IsActive.eq(true));
    if let Some(u) = unit {
        q = q.filter(fleet_vehicle::Column::VehicleId.eq(u));
    }
    let unit_ids: Vec<Uuid> = q
        .all(txn)
        .await?
        .into_iter()
        .map(|u| u.vehicle_id)
        .collect();
    let mut by_model: HashMap<(String, String), Vec<Uuid>> = HashMap::new();
    for chunk in unit_ids.chunks(500) {
        for v in customer_vehicle::Entity::find()
            .filter(customer_vehicle::Column::Id.is_in(chunk.iter().copied()))
            .all(txn)
            .await?
        {
            if let (Some(make), Some(model)) = (v.make, v.model) {
                by_model
                    .entry((make.trim().to_lowercase(), model.trim().to_lowercase()))
                    .or_default()
                    .push(v.id);
            }
        }
    }
    let today = crate::today();
    for p in plans {
        let key = (
            p.make_key.clone().unwrap_or_default(),
            p.model_key.clone().unwrap_or_default(),
        );
        let Some(vs) = by_model.get(&key) else {
            continue;
        };
        let started: HashSet<Uuid> = plan_state::Entity::find()
            .filter(plan_state::Column::PlanId.eq(p.id))
            .all(txn)
            .await?
            .into_iter()
            .map(|s| s.vehicle_id)
            .collect();
        let todo: Vec<Uuid> = vs
            .iter()
            .copied()
            .filter(|v| !started.contains(v))
            .collect();
        let current = crate::fleets::readings::current_of(txn, &todo).await?;
        let units: Vec<(Uuid, Option<i64>)> =
            todo.iter().map(|v| (*v, current.get(v).copied())).collect();
        insert_states(txn, &p, &units, today).await?;
    }
    Ok(())
}

/// Filters of the plan list.
#[derive(Debug, Clone, Default)]
pub struct PlanFilter {
    /// One vehicle's own plans.
    pub vehicle_id: Option<Uuid>,
    /// Plans of a make (any case).
    pub make: Option<String>,
    /// Active or not.
    pub active: Option<bool>,
}

/// Plans, newest first.
///
/// # Errors
/// Database errors.
pub async fn list(
    db: &impl ConnectionTrait,
    f: PlanFilter,
    page: PageRequest,
) -> Result<Page<plan::Model>> {
    let mut q = plan::Entity::find()
        .order_by_desc(plan::Column::CreatedAt)
        .order_by_desc(plan::Column::Id);
    if let Some(v) = f.vehicle_id {
        q = q.filter(plan::Column::VehicleId.eq(v));
    }
    if let Some(m) = f.make {
        let m = crate::rules::text::required("make", &m, 60)?;
        q = q.filter(plan::Column::MakeKey.eq(m.to_lowercase()));
    }
    if let Some(a) = f.active {
        q = q.filter(plan::Column::IsActive.eq(a));
    }
    page.fetch(db, q).await
}

/// A vehicle's state on one plan, with where it stands today.
#[derive(Debug, Clone)]
pub struct Upcoming {
    /// The plan.
    pub plan: plan::Model,
    /// The vehicle's state on it.
    pub state: plan_state::Model,
    /// The vehicle's current reading.
    pub current_km: Option<i64>,
    /// Urgency, metric, projection and alert date.
    pub standing: Standing,
}

/// A vehicle's plans with their urgency on `today`, most urgent first (then by alert date).
///
/// # Errors
/// [`Error::NotFound`] `vehicle`.
pub async fn of_vehicle(
    db: &impl ConnectionTrait,
    vehicle_id: Uuid,
    today: NaiveDate,
) -> Result<Vec<Upcoming>> {
    crate::fleets::readings::vehicle(db, vehicle_id).await?;
    let (current, pace) = crate::fleets::readings::odometer_of(db, vehicle_id, today).await?;
    let states = plan_state::Entity::find()
        .filter(plan_state::Column::VehicleId.eq(vehicle_id))
        .all(db)
        .await?;
    upcoming(db, states, |_| (current, pace), today).await
}

/// The standings of `states`, with each vehicle's reading and pace from `odo`; inactive plans
/// left out; most urgent first, then by alert date.
///
/// # Errors
/// Database errors.
pub async fn upcoming(
    db: &impl ConnectionTrait,
    states: Vec<plan_state::Model>,
    odo: impl Fn(Uuid) -> (Option<i64>, Option<maintenance::Pace>),
    today: NaiveDate,
) -> Result<Vec<Upcoming>> {
    let settings = due::settings(db).await?;
    let ids: HashSet<Uuid> = states.iter().map(|s| s.plan_id).collect();
    let plans: HashMap<Uuid, plan::Model> = plan::Entity::find()
        .filter(plan::Column::Id.is_in(ids))
        .filter(plan::Column::IsActive.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut out: Vec<Upcoming> = states
        .into_iter()
        .filter_map(|s| {
            let p = plans.get(&s.plan_id)?.clone();
            let (current_km, pace) = odo(s.vehicle_id);
            let standing = maintenance::standing(
                Due {
                    km: s.next_due_km,
                    on: s.next_due_on,
                },
                today,
                current_km,
                pace,
                due::thresholds(&settings, &p),
            );
            Some(Upcoming {
                plan: p,
                state: s,
                current_km,
                standing,
            })
        })
        .collect();
    out.sort_by_key(|u| {
        (
            u.standing.urgency,
            u.standing.alert_on.unwrap_or(NaiveDate::MAX),
            u.state.id,
        )
    });
    Ok(out)
}

async fn state_of(
    db: &impl ConnectionTrait,
    vehicle_id: Uuid,
    plan_id: Uuid,
) -> Result<plan_state::Model> {
    plan_state::Entity::find()
        .filter(plan_state::Column::VehicleId.eq(vehicle_id))
        .filter(plan_state::Column::PlanId.eq(plan_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "maintenance_plan",
        })
}

async fn advance(
    txn: &impl ConnectionTrait,
    s: plan_state::Model,
    p: &plan::Model,
    km: Option<i64>,
    on: NaiveDate,
) -> Result<plan_state::Model> {
    let due = maintenance::next_due(km, on, p.interval_km, p.interval_months);
    let mut am: plan_state::ActiveModel = s.into();
    am.last_done_km = Set(km);
    am.last_done_on = Set(on);
    am.next_due_km = Set(due.km);
    am.next_due_on = Set(due.on);
    am.updated_at = Set(crate::now());
    Ok(am.update(txn).await?)
}

/// Records that a plan's work was done on a vehicle (at `km`, the current reading by default,
/// on `on`, today by default): the base moves and the next due point with it, audited.
///
/// # Errors
/// [`Error::NotFound`] `maintenance_plan` (not started on the vehicle); [`Error::Validation`]
/// on `km`, `done_on`.
pub async fn done(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    vehicle_id: Uuid,
    plan_id: Uuid,
    km: Option<i64>,
    on: Option<NaiveDate>,
) -> Result<plan_state::Model> {
    let s = state_of(txn, vehicle_id, plan_id).await?;
    let p = plan::Entity::find_by_id(plan_id)
        .one(txn)
        .await?
        .ok_or(Error::NotFound {
            entity: "maintenance_plan",
        })?;
    let on = crate::fleets::past_day("done_on", on.unwrap_or_else(crate::today))?;
    let km = match km {
        Some(k) if !(0..=crate::fleets::readings::MAX_KM).contains(&k) => {
            return Err(Error::validation("km", "km is 0 to 3000000"));
        }
        Some(k) => Some(k),
        None => crate::fleets::readings::current(txn, vehicle_id).await?,
    };
    let s = advance(txn, s, &p, km, on).await?;
    seller
        .entry("maintenance_plan.done", "vehicle", vehicle_id)
        .details(json!({"plan_id": plan_id, "km": km, "on": on, "next_due_km": s.next_due_km, "next_due_on": s.next_due_on}))
        .record_tenant(txn)
        .await?;
    Ok(s)
}

/// In the delivery's transaction: advances every plan of the vehicle whose service item the
/// order delivered (based at the reception's odometer, or the current reading, and today) and,
/// when the vehicle is a fleet unit, writes the order's service log once. Answers the plans
/// advanced.
///
/// # Errors
/// Database errors.
pub async fn on_delivered(txn: &impl ConnectionTrait, o: &DeliveredOrder) -> Result<Vec<Uuid>> {
    let today = crate::today();
    let states = plan_state::Entity::find()
        .filter(plan_state::Column::VehicleId.eq(o.vehicle_id))
        .all(txn)
        .await?;
    let mut advanced = Vec::new();
    if !states.is_empty() && !o.item_ids.is_empty() {
        let plans: HashMap<Uuid, plan::Model> = plan::Entity::find()
            .filter(plan::Column::Id.is_in(states.iter().map(|s| s.plan_id)))
            .filter(plan::Column::IsActive.eq(true))
            .filter(plan::Column::ItemId.is_in(o.item_ids.iter().copied()))
            .all(txn)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let km = match o.odometer_km {
            Some(k) => Some(k),
            None => crate::fleets::readings::current(txn, o.vehicle_id).await?,
        };
        for s in states {
            if let Some(p) = plans.get(&s.plan_id) {
                advanced.push(p.id);
                advance(txn, s, p, km, today).await?;
            }
        }
    }
    crate::fleets::logs::from_service_order(txn, o, today).await?;
    Ok(advanced)
}
