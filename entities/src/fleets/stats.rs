//! Stats of a fleet unit and of a whole fleet over a period: spend by kind and by month, the
//! distance driven (the highest unflagged reading of the period less the lowest), the cost per
//! km (spend over distance, in centavos rounded half up) and the upcoming work.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::fleets::plans::{self, Upcoming};
use crate::fleets::tables::log::{self, Kind};
use crate::fleets::tables::{fleet_vehicle, plan_state, reading};
use crate::{Error, Result};

/// The longest period a stats request covers, days (two years).
pub const MAX_PERIOD_DAYS: i64 = 731;

/// Spend by kind, centavos.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spend {
    /// Services.
    pub service_cents: i64,
    /// Fuel.
    pub fuel_cents: i64,
    /// Other costs.
    pub other_cents: i64,
}

impl Spend {
    /// Everything.
    #[must_use]
    pub const fn total_cents(&self) -> i64 {
        self.service_cents + self.fuel_cents + self.other_cents
    }

    fn add(&mut self, kind: Kind, cents: i64) {
        match kind {
            Kind::Service => self.service_cents += cents,
            Kind::Fuel => self.fuel_cents += cents,
            Kind::Other => self.other_cents += cents,
        }
    }
}

/// The stats of a unit or a fleet.
#[derive(Debug, Clone)]
pub struct Stats {
    /// First day counted.
    pub from: NaiveDate,
    /// Last day counted.
    pub to: NaiveDate,
    /// Spend in the period.
    pub spend: Spend,
    /// Spend per month (`2025-06`), months with none left out.
    pub months: Vec<(String, Spend)>,
    /// Kilometres driven in the period (summed over the units).
    pub km_driven: i64,
    /// Spend per km driven, centavos rounded half up; none without distance.
    pub cost_per_km_cents: Option<i64>,
    /// Litres of fuel, in millilitres.
    pub fuel_ml: i64,
    /// The plans' standings, most urgent first (a fleet's: urgent or worse only).
    pub upcoming: Vec<Upcoming>,
}

/// The period asked, a year to today by default.
///
/// # Errors
/// [`Error::Validation`] on `from` after `to` or a period past [`MAX_PERIOD_DAYS`].
pub fn period(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<(NaiveDate, NaiveDate)> {
    let to = to.unwrap_or_else(crate::today);
    let from = from.unwrap_or_else(|| to - chrono::Duration::days(364));
    if from > to {
        return Err(Error::validation("from", "from is on or before to"));
    }
    if (to - from).num_days() >= MAX_PERIOD_DAYS {
        return Err(Error::validation(
            "from",
            "a stats period is at most two years",
        ));
    }
    Ok((from, to))
}

/// Centavos per km rounded half up.
#[must_use]
pub fn per_km(cents: i64, km: i64) -> Option<i64> {
    (km > 0).then(|| (cents * 2 + km) / (km * 2))
}

async fn compute(
    db: &impl ConnectionTrait,
    vehicles: &[Uuid],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(Spend, Vec<(String, Spend)>, i64, i64)> {
    let mut spend = Spend::default();
    let mut months: BTreeMap<String, Spend> = BTreeMap::new();
    let mut fuel_ml = 0;
    let mut km = 0;
    for chunk in vehicles.chunks(500) {
        let rows: Vec<(Kind, NaiveDate, i64, Option<i64>)> = log::Entity::find()
            .select_only()
            .column(log::Column::Kind)
            .column(log::Column::SpentOn)
            .column(log::Column::AmountCents)
            .column(log::Column::FuelMl)
            .filter(log::Column::VehicleId.is_in(chunk.iter().copied()))
            .filter(log::Column::SpentOn.gte(from))
            .filter(log::Column::SpentOn.lte(to))
            .into_tuple()
            .all(db)
            .await?;
        for (kind, on, cents, ml) in rows {
            spend.add(kind, cents);
            months
                .entry(format!("{:04}-{:02}", on.year(), on.month()))
                .or_default()
                .add(kind, cents);
            fuel_ml += ml.unwrap_or(0);
        }
        let ranges: Vec<(Uuid, i64, i64)> = reading::Entity::find()
            .select_only()
            .column(reading::Column::VehicleId)
            .column_as(reading::Column::Km.min(), "lo")
            .column_as(reading::Column::Km.max(), "hi")
            .filter(reading::Column::VehicleId.is_in(chunk.iter().copied()))
            .filter(reading::Column::Flagged.eq(false))
            .filter(reading::Column::Kind.eq(reading::Kind::Reading))
            .filter(reading::Column::ReadOn.gte(from))
            .filter(reading::Column::ReadOn.lte(to))
            .group_by(reading::Column::VehicleId)
            .into_tuple()
            .all(db)
            .await?;
        km += ranges.iter().map(|(_, lo, hi)| hi - lo).sum::<i64>();
    }
    Ok((spend, months.into_iter().collect(), km, fuel_ml))
}

/// A unit's stats over the period.
///
/// # Errors
/// [`Error::NotFound`] `fleet_vehicle`; [`Error::Validation`] on the period.
pub async fn of_vehicle(
    db: &impl ConnectionTrait,
    vehicle_id: Uuid,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Stats> {
    crate::fleets::logs::unit(db, vehicle_id).await?;
    let (from, to) = period(from, to)?;
    let (spend, months, km_driven, fuel_ml) = compute(db, &[vehicle_id], from, to).await?;
    Ok(Stats {
        from,
        to,
        cost_per_km_cents: per_km(spend.total_cents(), km_driven),
        spend,
        months,
        km_driven,
        fuel_ml,
        upcoming: plans::of_vehicle(db, vehicle_id, crate::today()).await?,
    })
}

/// A fleet's stats over the period, over all its units; the upcoming work is the plans urgent
/// or worse today.
///
/// # Errors
/// [`Error::NotFound`] `fleet`; [`Error::Validation`] on the period.
pub async fn of_fleet(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Stats> {
    crate::fleets::profiles::get(db, customer_id).await?;
    let (from, to) = period(from, to)?;
    let units: Vec<Uuid> = fleet_vehicle::Entity::find()
        .select_only()
        .column(fleet_vehicle::Column::VehicleId)
        .filter(fleet_vehicle::Column::CustomerId.eq(customer_id))
        .into_tuple()
        .all(db)
        .await?;
    let (spend, months, km_driven, fuel_ml) = compute(db, &units, from, to).await?;
    let today = crate::today();
    let mut states = Vec::new();
    let mut odo: HashMap<Uuid, (Option<i64>, Option<crate::rules::maintenance::Pace>)> =
        HashMap::new();
    for chunk in units.chunks(500) {
        states.extend(
            plan_state::Entity::find()
                .filter(plan_state::Column::VehicleId.is_in(chunk.iter().copied()))
                .all(db)
                .await?,
        );
    }
    for v in states
        .iter()
        .map(|s| s.vehicle_id)
        .collect::<std::collections::HashSet<_>>()
    {
        odo.insert(v, crate::fleets::readings::odometer_of(db, v, today).await?);
    }
    let upcoming = plans::upcoming(
        db,
        states,
        |v| odo.get(&v).copied().unwrap_or((None, None)),
        today,
    )
    .await?
    .into_iter()
    .filter(|u| u.standing.urgency.warns())
    .collect();
    Ok(Stats {
        from,
        to,
        cost_per_km_cents: per_km(spend.total_cents(), km_driven),
        spend,
        months,
        km_driven,
        fuel_ml,
        upcoming,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cost_per_km_rounds_half_up_and_needs_distance() {
        // $1,234.56 over 1 000 km: 123.456 centavos, 123.
        assert_eq!(per_km(123_456, 1_000), Some(123));
        // 250 centavos over 100 km: 2.5, rounded up to 3.
        assert_eq!(per_km(250, 100), Some(3));
        assert_eq!(per_km(249, 100), Some(2));
        assert_eq!(per_km(500, 0), None);
    }
}
