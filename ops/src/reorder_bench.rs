//! `nexus bench reorder`: the nightly velocity and reorder run (`purchasing.nightly_reorder`'s
//! work) over a synthetic business: `items` items at `warehouses` warehouses, a reorder rule for
//! each pair (nine in ten computed, one pinned by hand), stock for each, and `lines` sale rows in
//! the ledger spread over the last 364 days. It times the run, reads the process's peak memory
//! during it, and times the grouped scan of the ledger alone, the floor the run cannot go below
//! on this database.

use std::time::Instant;

use anyhow::{Context, Result};
use entities::inventory::tables::{item, stock, stock_ledger};
use entities::org::branches::{self, Actor, NewBranch, NewWarehouse};
use entities::org::tenants::NewTenant;
use entities::purchasing::tables::reorder_rule;
use entities::purchasing::{reorder, velocity};
use sea_orm::{ConnectionTrait, EntityTrait, Set, Statement};
use serde::Serialize;
use uuid::Uuid;

use crate::app;
use crate::config::Config;
use crate::provision::{self, TenantSpec};

/// What one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct ReorderBench {
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    /// Items.
    pub items: u64,
    /// Warehouses.
    pub warehouses: u64,
    /// Sale rows in the ledger.
    pub sale_lines: u64,
    /// Rules (items × warehouses).
    pub rules: u64,
    /// Seconds to load the data (not part of the run).
    pub load_s: f64,
    /// Seconds of the run: velocity of every rule, levels of the computed ones, alerts.
    pub run_s: f64,
    /// Of which the velocity and its writes.
    pub velocity_s: f64,
    /// Seconds of the ledger's grouped scan alone (the same query, nothing else).
    pub scan_s: f64,
    /// run / scan.
    pub ratio_to_scan: f64,
    /// Peak resident memory during the run, MiB (the process's high-water mark, reset first).
    pub peak_rss_mib: f64,
    /// Rules whose levels changed.
    pub changed: u64,
    /// Alerts raised.
    pub raised: u64,
}

/// A small deterministic generator: the same data every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Resets the process's peak resident set (Linux: `echo 5 > /proc/self/clear_refs`), so the peak
/// read after the run is the run's.
/// A new tenant named `<prefix><random>` in the configured shape, for a bench to fill: the app,
/// the tenant's database and its engine's name (`sqlite` or `postgres`).
///
/// # Errors
/// When the app cannot start or the tenant cannot be made.
pub(crate) async fn scratch_tenant(
    cfg: Config,
    prefix: &str,
) -> Result<(app::App, sea_orm::DatabaseConnection, &'static str)> {
    let app = app::build(cfg, prometheus::Registry::new(), false).await?;
    let slug = format!("{prefix}{}", &Uuid::now_v7().simple().to_string()[20..]);
    let created = provision::create_tenant(
        &app.platform,
        &app.tenants,
        TenantSpec {
            tenant: NewTenant {
                slug: slug.clone(),
                name: format!("Bench {prefix}"),
                rfc: "ACM010101ABC".into(),
                db_url: None,
            },
            owner_email: format!("owner@{slug}.bench"),
            owner_name: "Bench".into(),
            owner_password: Uuid::now_v7().to_string(),
        },
    )
    .await
    .context("creating the bench tenant")?;
    let db = app.tenants.connection(&created.tenant).await?;
    let database = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => "postgres",
        _ => "sqlite",
    };
    Ok((app, db, database))
}

pub(crate) fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The process's peak resident set, MiB (`VmHWM`).
#[expect(clippy::cast_precision_loss, reason = "kibibytes fit f64 exactly")]
pub(crate) fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0.0, |kb| kb as f64 / 1024.0)
}

/// Loads the synthetic business into a new tenant, then runs and times the nightly work.
///
/// # Errors
/// When a database fails.
#[allow(clippy::too_many_lines)]
pub async fn run(cfg: Config, items: u64, warehouses: u64, lines: u64) -> Result<ReorderBench> {
    let (app, db, database) = scratch_tenant(cfg, "reorder").await?;
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
    let mut whs = Vec::new();
    for w in 0..warehouses {
        whs.push(
            branches::create_warehouse(
                &db,
                &actor,
                branch.id,
                NewWarehouse {
                    code: format!("W{w}"),
                    name: format!("Bodega {w}"),
                },
            )
            .await?
            .id,
        );
    }
    let now = entities::now();
    let mut rng = Lcg(42);
    let mut ids = Vec::with_capacity(usize::try_from(items).unwrap_or(0));
    for chunk in 0..items.div_ceil(1000) {
        let txn = entities::db::begin_write(&db).await?;
        let mut rows = Vec::with_capacity(1000);
        let mut stocks = Vec::with_capacity(3000);
        let mut rules = Vec::with_capacity(3000);
        for i in chunk * 1000..((chunk + 1) * 1000).min(items) {
            let id = Uuid::now_v7();
            ids.push(id);
            rows.push(item::ActiveModel {
                id: Set(id),
                sku: Set(format!("RB-{i:06}")),
                catalog_part_id: Set(None),
                name: Set(format!("Pieza {i}")),
                description: Set(None),
                brand: Set(None),
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
            });
            for (w, wh) in whs.iter().enumerate() {
                stocks.push(stock::ActiveModel {
                    item_id: Set(id),
                    warehouse_id: Set(*wh),
                    branch_id: Set(branch.id),
                    qty: Set(i64::try_from(rng.below(30)).unwrap_or(0)),
                    reserved: Set(0),
                    updated_at: Set(now),
                });
                let pinned = (i + w as u64).is_multiple_of(10);
                rules.push(reorder_rule::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    warehouse_id: Set(*wh),
                    item_id: Set(id),
                    min_qty: Set(5),
                    max_qty: Set(20),
                    multiple: Set(1),
                    lead_days: Set(5),
                    preferred_supplier_id: Set(None),
                    mode: Set(if pinned {
                        reorder_rule::Mode::Manual
                    } else {
                        reorder_rule::Mode::Computed
                    }),
                    snoozed_until: Set(None),
                    velocity_milli: Set(None),
                    computed_at: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                });
            }
        }
        item::Entity::insert_many(rows).exec(&txn).await?;
        stock::Entity::insert_many(stocks).exec(&txn).await?;
        for part in rules.chunks(1000) {
            reorder_rule::Entity::insert_many(part.to_vec())
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
    }
    let mut written = 0;
    while written < lines {
        let txn = entities::db::begin_write(&db).await?;
        for _ in 0..20 {
            let n = (lines - written).min(1000);
            if n == 0 {
                break;
            }
            let rows: Vec<stock_ledger::ActiveModel> = (0..n)
                .map(|_| {
                    // A skewed demand: a tenth of the items sell half the lines.
                    let hot = rng.below(2) == 0;
                    let pick = if hot {
                        rng.below(items / 10 + 1)
                    } else {
                        rng.below(items)
                    };
                    let i = usize::try_from(pick).unwrap_or(0).min(ids.len() - 1);
                    let w = usize::try_from(rng.below(warehouses)).unwrap_or(0);
                    let ago = i64::try_from(rng.below(364 * 24 * 60)).unwrap_or(0);
                    stock_ledger::ActiveModel {
                        item_id: Set(ids[i]),
                        warehouse_id: Set(whs[w]),
                        branch_id: Set(branch.id),
                        delta: Set(-1 - i64::try_from(rng.below(3)).unwrap_or(0)),
                        balance_after: Set(0),
                        reason: Set("sale".into()),
                        ref_type: Set("sale".into()),
                        ref_id: Set(Uuid::now_v7().to_string()),
                        note: Set(None),
                        actor_user_id: Set(None),
                        created_at: Set(now - chrono::Duration::minutes(ago)),
                        ..Default::default()
                    }
                })
                .collect();
            stock_ledger::Entity::insert_many(rows).exec(&txn).await?;
            written += n;
        }
        txn.commit().await?;
    }
    if database == "postgres" {
        db.execute_unprepared("ANALYZE").await?;
    }
    let load_s = loaded.elapsed().as_secs_f64();

    // The floor: the ledger's grouped scan alone, as the run issues it.
    let scan = Instant::now();
    let cut = now - chrono::Duration::days(364);
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            if database == "postgres" {
                "SELECT item_id, warehouse_id, CAST(SUM(-delta) AS BIGINT) FROM stock_ledger \
                 WHERE reason IN ('sale', 'return', 'cancellation') AND created_at >= $1 \
                 GROUP BY item_id, warehouse_id"
            } else {
                "SELECT item_id, warehouse_id, CAST(SUM(-delta) AS BIGINT) FROM stock_ledger \
                 WHERE reason IN ('sale', 'return', 'cancellation') AND created_at >= ?1 \
                 GROUP BY item_id, warehouse_id"
            },
            [cut.into()],
        ))
        .await?;
    let scan_s = scan.elapsed().as_secs_f64();
    drop(rows);

    reset_peak();
    let started = Instant::now();
    let txn = entities::db::begin_write(&db).await?;
    let v = velocity::run(&txn, entities::now()).await?;
    let velocity_s = started.elapsed().as_secs_f64();
    let a = reorder::generate_alerts(&txn, None).await?;
    txn.commit().await?;
    let run_s = started.elapsed().as_secs_f64();
    let peak_rss_mib = peak_mib();
    app.tenants.close_all().await;
    Ok(ReorderBench {
        database,
        items,
        warehouses,
        sale_lines: lines,
        rules: items * warehouses,
        load_s,
        run_s,
        velocity_s,
        scan_s,
        ratio_to_scan: run_s / scan_s.max(f64::EPSILON),
        peak_rss_mib,
        changed: v.changed,
        raised: a.raised,
    })
}
