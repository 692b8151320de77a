//! `nexus bench fleets`: the daily due-maintenance run (`fleets.maintenance_due`'s work) over a
//! synthetic fleet business: `vehicles` fleet units of four models, a reading a week for a year
//! (`readings_per_vehicle`), two make-and-model plans (oil every 10,000 km or 6 months, tune-up
//! every 40,000 km or 12 months) started on every unit, and a contract per unit. It times the
//! run and reads the process's peak memory during it, beside the floor: the grouped scans of
//! the readings alone (current reading and pace of every vehicle).

use std::time::Instant;

use anyhow::Result;
use entities::customers::tables::customer;
use entities::fleets::tables::{contract, fleet, fleet_vehicle, plan, plan_state, reading};
use entities::vehicles::tables::customer_vehicle;
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use serde::Serialize;
use uuid::Uuid;

use crate::config::Config;
use crate::reorder_bench::{peak_mib, reset_peak, scratch_tenant};

/// What one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct FleetsBench {
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    /// Fleet units.
    pub vehicles: u64,
    /// Odometer readings loaded.
    pub readings: u64,
    /// Plan states (units × plans).
    pub states: u64,
    /// Seconds to load the data (not part of the run).
    pub load_s: f64,
    /// Seconds of the run: every state judged, events recorded, states marked.
    pub run_s: f64,
    /// Seconds of the readings' grouped scans alone.
    pub scan_s: f64,
    /// run / scan.
    pub ratio_to_scan: f64,
    /// Peak resident memory during the run, MiB.
    pub peak_rss_mib: f64,
    /// `maintenance_due` events recorded.
    pub maintenance_due: u64,
    /// `contract_expiring` events recorded.
    pub contract_expiring: u64,
}

const MODELS: [(&str, &str); 4] = [
    ("Nissan", "NP300"),
    ("Nissan", "Versa"),
    ("Chevrolet", "Aveo"),
    ("Volkswagen", "Vento"),
];

/// Loads the synthetic fleet into a new tenant, then runs and times the daily work.
///
/// # Errors
/// When a database fails.
#[allow(clippy::too_many_lines)]
pub async fn run(cfg: Config, vehicles: u64, readings_per_vehicle: u64) -> Result<FleetsBench> {
    let (app, db, database) = scratch_tenant(cfg, "fleets").await?;
    let loaded = Instant::now();
    let now = entities::now();
    let today = entities::today();
    let customer_id = Uuid::now_v7();
    customer::Entity::insert(customer::ActiveModel {
        id: Set(customer_id),
        name: Set("Transportes Bench".into()),
        rfc: Set(None),
        tax_regime: Set(None),
        zip: Set(None),
        email: Set(None),
        whatsapp_phone: Set(None),
        price_list: Set("flotilla".into()),
        credit_limit_cents: Set(0),
        balance_cents: Set(0),
        store_credit_cents: Set(0),
        loyalty_points_cents: Set(0),
        loyalty_tier: Set("bronze".into()),
        referral_code: Set(None),
        notes: Set(None),
        search_text: Set(None),
        is_active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec(&db)
    .await?;
    fleet::Entity::insert(fleet::ActiveModel {
        customer_id: Set(customer_id),
        contact_name: Set(None),
        contact_phone: Set(None),
        notes: Set(None),
        is_active: Set(true),
        created_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec(&db)
    .await?;
    let year_ago = today - chrono::Duration::days(364);
    let mut plans = Vec::new();
    for (make, model) in MODELS {
        for (name, km, months) in [("Aceite", 10_000, 6), ("Afinación", 40_000, 12)] {
            let id = Uuid::now_v7();
            plans.push((
                (make, model, id, km, months),
                plan::ActiveModel {
                    id: Set(id),
                    name: Set(name.into()),
                    vehicle_id: Set(None),
                    make: Set(Some(make.into())),
                    model: Set(Some(model.into())),
                    make_key: Set(Some(make.to_lowercase())),
                    model_key: Set(Some(model.to_lowercase())),
                    item_id: Set(None),
                    interval_km: Set(Some(km)),
                    interval_months: Set(Some(months)),
                    warn_km: Set(None),
                    warn_days: Set(None),
                    is_active: Set(true),
                    created_by: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                },
            ));
        }
    }
    plan::Entity::insert_many(plans.iter().map(|(_, p)| p.clone()))
        .exec(&db)
        .await?;
    let mut seed: u64 = 42;
    let mut rnd = |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n.max(1)
    };
    let mut loaded_readings = 0;
    let mut states = 0;
    for chunk in 0..vehicles.div_ceil(500) {
        let txn = entities::db::begin_write(&db).await?;
        let (mut cvs, mut units, mut rs, mut ss, mut cs) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for i in chunk * 500..((chunk + 1) * 500).min(vehicles) {
            let id = Uuid::now_v7();
            let (make, model) = MODELS[usize::try_from(i % 4).unwrap_or(0)];
            cvs.push(customer_vehicle::ActiveModel {
                id: Set(id),
                plate: Set(Some(format!("BN{i:07}"))),
                vin: Set(None),
                catalog_vehicle_id: Set(None),
                customer_id: Set(Some(customer_id)),
                year: Set(Some(2020)),
                make: Set(Some(make.into())),
                model: Set(Some(model.into())),
                engine: Set(None),
                notes: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            });
            units.push(fleet_vehicle::ActiveModel {
                vehicle_id: Set(id),
                customer_id: Set(customer_id),
                unit_no: Set(Some(format!("U-{i}"))),
                driver_id: Set(None),
                cost_centre_id: Set(None),
                is_active: Set(true),
                created_at: Set(now),
                updated_at: Set(now),
            });
            // 50 to 250 km a day, read once a week for the year.
            let start = i64::try_from(20_000 + rnd(80_000)).unwrap_or(0);
            let per_day = i64::try_from(50 + rnd(200)).unwrap_or(50);
            let step = 364 / i64::try_from(readings_per_vehicle.max(1)).unwrap_or(52);
            for r in 0..i64::try_from(readings_per_vehicle).unwrap_or(0) {
                let day = r * step;
                rs.push(reading::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    vehicle_id: Set(id),
                    km: Set(start + day * per_day),
                    read_on: Set(year_ago + chrono::Duration::days(day)),
                    kind: Set(reading::Kind::Reading),
                    source: Set(reading::Source::Manual),
                    source_id: Set(None),
                    flagged: Set(false),
                    note: Set(None),
                    recorded_by: Set(None),
                    created_at: Set(now),
                });
            }
            for ((pm, pmodel, plan_id, km, months), _) in &plans {
                if (*pm, *pmodel) != (make, model) {
                    continue;
                }
                let (km, months) = (*km, *months);
                // Last done somewhere in the last interval: some due now, most later.
                let ago = i64::try_from(rnd(u64::try_from(months).unwrap_or(6) * 31)).unwrap_or(0);
                let done_on = today - chrono::Duration::days(ago);
                let last_km = start + (364 - ago).max(0) * per_day;
                let due = entities::rules::maintenance::next_due(
                    Some(last_km),
                    done_on,
                    Some(km),
                    Some(months),
                );
                ss.push(plan_state::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    vehicle_id: Set(id),
                    plan_id: Set(*plan_id),
                    last_done_km: Set(Some(last_km)),
                    last_done_on: Set(done_on),
                    next_due_km: Set(due.km),
                    next_due_on: Set(due.on),
                    notified_due: Set(None),
                    notified_on: Set(None),
                    updated_at: Set(now),
                });
            }
            cs.push(contract::ActiveModel {
                id: Set(Uuid::now_v7()),
                customer_id: Set(customer_id),
                vehicle_id: Set(Some(id)),
                kind: Set(contract::Kind::Insurance),
                provider: Set(None),
                reference: Set(None),
                starts_on: Set(year_ago),
                expires_on: Set(
                    today + chrono::Duration::days(i64::try_from(rnd(365)).unwrap_or(0))
                ),
                cost_cents: Set(850_000),
                closed_at: Set(None),
                reminded_days: Set(None),
                created_by: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            });
        }
        loaded_readings += rs.len() as u64;
        states += ss.len() as u64;
        customer_vehicle::Entity::insert_many(cvs)
            .exec(&txn)
            .await?;
        fleet_vehicle::Entity::insert_many(units).exec(&txn).await?;
        for part in rs.chunks(1000) {
            reading::Entity::insert_many(part.to_vec())
                .exec(&txn)
                .await?;
        }
        plan_state::Entity::insert_many(ss).exec(&txn).await?;
        contract::Entity::insert_many(cs).exec(&txn).await?;
        txn.commit().await?;
    }
    if database == "postgres" {
        db.execute_unprepared("ANALYZE").await?;
    }
    let load_s = loaded.elapsed().as_secs_f64();

    // The floor: the readings' grouped scans alone, as the run issues them.
    let scan = Instant::now();
    let odo = entities::fleets::readings::odometers(&db, today).await?;
    let scan_s = scan.elapsed().as_secs_f64();
    drop(odo);

    reset_peak();
    let started = Instant::now();
    let txn = entities::db::begin_write(&db).await?;
    let n = entities::fleets::due::record_due(&txn, today).await?;
    txn.commit().await?;
    let run_s = started.elapsed().as_secs_f64();
    let peak_rss_mib = peak_mib();
    app.tenants.close_all().await;
    Ok(FleetsBench {
        database,
        vehicles,
        readings: loaded_readings,
        states,
        load_s,
        run_s,
        scan_s,
        ratio_to_scan: run_s / scan_s.max(f64::EPSILON),
        peak_rss_mib,
        maintenance_due: n.maintenance as u64,
        contract_expiring: n.contracts as u64,
    })
}
