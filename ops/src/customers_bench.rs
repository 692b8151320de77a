//! `nexus bench customers`: the nightly customers pass (`customers.nightly`'s work: expire
//! points, move tiers, compute every customer's analytics) over a synthetic business of
//! `customers` customers with a year of sales (`sales_per_customer` on average, one line each,
//! over 200 items of 20 brands) and a points lot each, some past their day. It times each step
//! and reads the process's peak memory, beside the floor: the grouped scan of the sales alone
//! (the totals per customer the analytics start from).

use std::time::Instant;

use anyhow::Result;
use entities::counter::tables::{sale, sale_line};
use entities::customers::tables::{customer, loyalty_entry, loyalty_setting};
use entities::inventory::tables::item;
use entities::org::branches::{self, Actor, NewBranch, NewWarehouse};
use sea_orm::{ConnectionTrait, EntityTrait, Set, Statement};
use serde::Serialize;
use uuid::Uuid;

use crate::config::Config;
use crate::reorder_bench::{peak_mib, reset_peak, scratch_tenant};

/// What one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct CustomersBench {
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    /// Customers.
    pub customers: u64,
    /// Sales loaded (one line each).
    pub sales: u64,
    /// Seconds to load the data (not part of the run).
    pub load_s: f64,
    /// Seconds to expire the lots past their day.
    pub expire_s: f64,
    /// Seconds to move tiers.
    pub tiers_s: f64,
    /// Seconds to compute and write every customer's stats.
    pub analytics_s: f64,
    /// The three together.
    pub run_s: f64,
    /// Seconds of the sales' grouped scan alone.
    pub scan_s: f64,
    /// run / scan.
    pub ratio_to_scan: f64,
    /// Peak resident memory during the run, MiB.
    pub peak_rss_mib: f64,
    /// Lots expired.
    pub expired: u64,
    /// Tier changes.
    pub tier_changes: u64,
    /// Stats rows written.
    pub stats: u64,
}

/// Loads the synthetic business into a new tenant, then runs and times the nightly pass.
///
/// # Errors
/// When a database fails.
#[allow(clippy::too_many_lines)]
pub async fn run(cfg: Config, customers: u64, sales_per_customer: u64) -> Result<CustomersBench> {
    let (app, db, database) = scratch_tenant(cfg, "customers").await?;
    let actor = Actor::default();
    let loaded = Instant::now();
    let branch = branches::create_branch(
        &db,
        &actor,
        NewBranch {
            code: "B1".into(),
            name: "Matriz".into(),
            ..Default::default()
        },
    )
    .await?;
    let wh = branches::create_warehouse(
        &db,
        &actor,
        branch.id,
        NewWarehouse {
            code: "W1".into(),
            name: "Bodega".into(),
        },
    )
    .await?
    .id;
    let now = entities::now();
    let today = entities::today();
    let items: Vec<Uuid> = (0..200).map(|_| Uuid::now_v7()).collect();
    item::Entity::insert_many(items.iter().enumerate().map(|(i, id)| item::ActiveModel {
        id: Set(*id),
        sku: Set(format!("CB-{i:04}")),
        catalog_part_id: Set(None),
        name: Set(format!("Pieza {i}")),
        description: Set(None),
        brand: Set(Some(format!("Marca {}", i % 20))),
        part_number: Set(None),
        sat_product_key: Set(None),
        sat_unit_key: Set(None),
        cost_cents: Set(10_000),
        avg_cost_cents: Set(10_000),
        retail_price_cents: Set(None),
        min_qty: Set(0),
        max_qty: Set(None),
        kind: Set(item::Kind::Part),
        core_charge_cents: Set(0),
        is_active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    }))
    .exec(&db)
    .await?;
    loyalty_setting::Entity::insert(loyalty_setting::ActiveModel {
        enabled: Set(true),
        ..entities::customers::loyalty::default_settings().into()
    })
    .exec(&db)
    .await?;
    let mut seed: u64 = 42;
    let mut rnd = |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n.max(1)
    };
    let mut loaded_sales = 0u64;
    let mut folio = 0u64;
    for chunk in 0..customers.div_ceil(500) {
        let txn = entities::db::begin_write(&db).await?;
        let (mut cs, mut lots, mut ss, mut ls) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for i in chunk * 500..((chunk + 1) * 500).min(customers) {
            let id = Uuid::now_v7();
            let points = i64::try_from(1_000 + rnd(9_000)).unwrap_or(1_000);
            cs.push(customer::ActiveModel {
                id: Set(id),
                name: Set(format!("Cliente {i}")),
                rfc: Set(None),
                tax_regime: Set(None),
                zip: Set(None),
                email: Set(None),
                whatsapp_phone: Set(None),
                price_list: Set("mostrador".into()),
                credit_limit_cents: Set(0),
                balance_cents: Set(0),
                store_credit_cents: Set(0),
                loyalty_points_cents: Set(points),
                loyalty_tier: Set(if i % 10 == 0 { "gold" } else { "bronze" }.into()),
                referral_code: Set(None),
                notes: Set(None),
                search_text: Set(None),
                is_active: Set(true),
                created_at: Set(now),
                updated_at: Set(now),
            });
            // One lot each; about one in twelve is past its day.
            let expires = today + chrono::Duration::days(i64::try_from(rnd(365)).unwrap_or(0) - 30);
            lots.push(loyalty_entry::ActiveModel {
                id: sea_orm::NotSet,
                customer_id: Set(id),
                kind: Set(loyalty_entry::Kind::Earn),
                points_cents: Set(points),
                remaining_cents: Set(points),
                expires_on: Set(Some(expires)),
                sale_id: Set(None),
                ref_key: Set(Some(format!("bench:{id}"))),
                actor_id: Set(None),
                note: Set(None),
                created_at: Set(now),
            });
            for _ in 0..(1 + rnd(sales_per_customer * 2)) {
                let sale_id = Uuid::now_v7();
                folio += 1;
                let at = now - chrono::Duration::hours(i64::try_from(rnd(365 * 24)).unwrap_or(0));
                let total = i64::try_from(20_000 + rnd(500_000)).unwrap_or(20_000);
                let it = items[usize::try_from(rnd(200)).unwrap_or(0)];
                ss.push(sale::ActiveModel {
                    id: Set(sale_id),
                    folio: Set(format!("B1-{folio:08}")),
                    branch_id: Set(branch.id),
                    customer_id: Set(Some(id)),
                    cashier_id: Set(Uuid::nil()),
                    status: Set(sale::Status::Completed),
                    price_list: Set("mostrador".into()),
                    exchange_rate_micros: Set(17_000_000),
                    subtotal_cents: Set(total * 100 / 116),
                    discount_cents: Set(0),
                    tax_cents: Set(total - total * 100 / 116),
                    total_cents: Set(total),
                    retail_total_cents: Set(total),
                    savings_cents: Set(0),
                    paid_cents: Set(total),
                    change_cents: Set(0),
                    refunded_cents: Set(0),
                    drawer_session_id: Set(None),
                    quote_id: Set(None),
                    service_order_id: Set(None),
                    vehicle_id: Set(None),
                    odometer_km: Set(None),
                    note: Set(None),
                    cancelled_at: Set(None),
                    created_at: Set(at),
                });
                ls.push(sale_line::ActiveModel {
                    id: sea_orm::NotSet,
                    sale_id: Set(sale_id),
                    warehouse_id: Set(wh),
                    line_no: Set(1),
                    kind: Set(sale_line::Kind::Part),
                    item_id: Set(it),
                    sku: Set("CB".into()),
                    name: Set("Pieza".into()),
                    qty: Set(1),
                    unit_price_cents: Set(total),
                    retail_unit_cents: Set(total),
                    discount_cents: Set(0),
                    base_cents: Set(total * 100 / 116),
                    tax_cents: Set(total - total * 100 / 116),
                    total_cents: Set(total),
                    savings_cents: Set(0),
                    iva_rate_bp: Set(1600),
                    returned_qty: Set(0),
                });
            }
        }
        loaded_sales += ss.len() as u64;
        customer::Entity::insert_many(cs).exec(&txn).await?;
        loyalty_entry::Entity::insert_many(lots)
            .exec_without_returning(&txn)
            .await?;
        for part in ss.chunks(1000) {
            sale::Entity::insert_many(part.to_vec()).exec(&txn).await?;
        }
        for part in ls.chunks(1000) {
            sale_line::Entity::insert_many(part.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
    }
    if database == "postgres" {
        db.execute_unprepared("ANALYZE").await?;
    }
    let load_s = loaded.elapsed().as_secs_f64();

    // The floor: the sales' grouped scan alone, the first read of the analytics.
    let scan = Instant::now();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT customer_id, CAST(SUM(total_cents - refunded_cents) AS BIGINT) AS lifetime, \
             CAST(COUNT(*) AS BIGINT) AS orders, MIN(created_at) AS first_at, \
             MAX(created_at) AS last_at FROM sales WHERE customer_id IS NOT NULL \
             AND status <> 'cancelled' GROUP BY customer_id",
        ))
        .await?;
    let scan_s = scan.elapsed().as_secs_f64();
    drop(rows);

    reset_peak();
    let started = Instant::now();
    let expired = entities::customers::loyalty::expire(&db, today).await?;
    let expire_s = started.elapsed().as_secs_f64();
    let t = Instant::now();
    let tier_changes = entities::customers::loyalty::refresh_tiers(&db, today).await?;
    let tiers_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let stats = entities::customers::analytics::compute(&db, &app.platform, today).await?;
    let analytics_s = t.elapsed().as_secs_f64();
    let run_s = started.elapsed().as_secs_f64();
    let peak_rss_mib = peak_mib();
    app.tenants.close_all().await;
    Ok(CustomersBench {
        database,
        customers,
        sales: loaded_sales,
        load_s,
        expire_s,
        tiers_s,
        analytics_s,
        run_s,
        scan_s,
        ratio_to_scan: run_s / scan_s.max(f64::EPSILON),
        peak_rss_mib,
        expired,
        tier_changes,
        stats,
    })
}
