//! Checkout beyond the happy path: thousands of random carts (totals are sums of rounded lines,
//! money round-trips exactly through storage), a constant number of statements per checkout,
//! the stock cache dropped by a sale, Redis down during checkout, and PostgreSQL connections
//! killed in the middle of checkouts.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use entities::Role;
use entities::counter::sales::{self, LineInput, Method, NewSale, PaymentInput, Seller};
use entities::db::begin_write;
use entities::rules::money::{Rate, line_amounts};
use entities::{
    counter::tables::payment, counter::tables::sale, counter::tables::sale_line,
    inventory::tables::stock_ledger, jobs::tables::outbox,
};
use http::StatusCode;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Statement};
use serde_json::json;
use tests::procs::RedisServer;
use tests::shop::{Shop, cash};
use tests::{Shape, TestApp, shape_tests};
use uuid::Uuid;

shape_tests!(
    thousands_of_random_carts_total_the_sum_of_their_rounded_lines_and_round_trip_exactly,
    statements_per_checkout_do_not_grow_with_the_number_of_lines,
    a_sale_drops_the_cached_stock_of_what_it_sold,
    eight_concurrent_checkouts_beside_adjustments_shipments_and_price_changes_get_no_server_error,
);

/// Random carts checked out through the domain layer (the API adds nothing to the arithmetic),
/// each read back from storage and compared field by field with what was computed.
const RANDOM_CARTS: usize = 1_500;

fn owner_seller(user: Uuid) -> Seller {
    Seller {
        user_id: user,
        role: Role::Owner,
        branch_scope: None,
        request_id: None,
        authorized_by: None,
    }
}

async fn thousands_of_random_carts_total_the_sum_of_their_rounded_lines_and_round_trip_exactly(
    app: TestApp,
) {
    let s = Shop::open(&app, "azar").await;
    let mut rng = StdRng::seed_from_u64(20_261_125);
    let mut items = Vec::new();
    for i in 0..40 {
        let price: i64 = rng.random_range(1..=5_000_000);
        let retail = rng
            .random_bool(0.5)
            .then(|| price + rng.random_range(0..=price));
        let id = s.item(&format!("R{i}"), price, retail, 0).await;
        if i % 7 == 0 {
            // A USD price in this branch.
            s.price(
                id,
                "mostrador",
                s.branch,
                rng.random_range(1..=200_000),
                "USD",
            )
            .await;
        }
        s.stock(id, s.wh, 1_000_000).await;
        s.stock(id, s.border_wh, 1_000_000).await;
        items.push(id);
    }
    let seller = owner_seller(Uuid::now_v7());
    let mut lines_checked = 0usize;
    for n in 0..RANDOM_CARTS {
        let (branch, wh, iva) = if rng.random_bool(0.5) {
            (s.branch, s.wh, 1600)
        } else {
            (s.border, s.border_wh, 800)
        };
        let count = rng.random_range(1..=20);
        let lines: Vec<LineInput> = (0..count)
            .map(|_| LineInput {
                item_id: items[rng.random_range(0..items.len())],
                warehouse_id: wh,
                qty: rng.random_range(1..=50),
                discount_bp: if rng.random_bool(0.3) {
                    rng.random_range(0..=10_000)
                } else {
                    0
                },
                fixed_price: None,
            })
            .collect();
        let rate = Rate(rng.random_range(15_000_000..=22_000_000));
        let txn = begin_write(&s.db).await.unwrap();
        // Price first to know the total, then pay it exactly plus some change in cash.
        let b = entities::org::tables::branch::Entity::find_by_id(branch)
            .one(&txn)
            .await
            .unwrap()
            .unwrap();
        let (_, totals) = sales::price_lines(&txn, &b, "mostrador", rate, &lines, Role::Owner)
            .await
            .unwrap();
        let out = sales::checkout(
            &txn,
            &seller,
            NewSale {
                branch_id: branch,
                customer_id: None,
                price_list: None,
                lines: lines.clone(),
                payments: vec![
                    PaymentInput {
                        method: Method::Card,
                        amount_minor: totals.total.0 / 2,
                        reference: None,
                    },
                    PaymentInput {
                        method: Method::Cash,
                        amount_minor: totals.total.0 - totals.total.0 / 2
                            + rng.random_range(1..=50_000),
                        reference: None,
                    },
                ]
                .into_iter()
                .filter(|p| p.amount_minor > 0)
                .collect(),
                note: None,
                quote_id: None,
                fixed_rate: Some(rate),
                drawer_session_id: None,
            },
            rate,
        )
        .await
        .unwrap_or_else(|e| panic!("cart {n}: {e}"));
        txn.commit().await.unwrap();

        let stored = sales::get_sale(&s.db, out.doc.sale.id).await.unwrap();
        assert_eq!(
            stored.sale, out.doc.sale,
            "cart {n}: the sale round-trips exactly"
        );
        assert_eq!(stored.lines.len(), lines.len());
        let mut sums = [0i64; 6];
        for (l, w) in stored.lines.iter().zip(&out.doc.lines) {
            assert_eq!(
                (
                    l.unit_price_cents,
                    l.qty,
                    l.discount_cents,
                    l.base_cents,
                    l.tax_cents,
                    l.total_cents,
                    l.savings_cents
                ),
                (
                    w.unit_price_cents,
                    w.qty,
                    w.discount_cents,
                    w.base_cents,
                    w.tax_cents,
                    w.total_cents,
                    w.savings_cents
                ),
                "cart {n}: line {} round-trips exactly",
                l.line_no
            );
            assert_eq!(l.iva_rate_bp, iva);
            let again = line_amounts(
                "l",
                l.unit_price_cents,
                l.qty,
                lines[(l.line_no - 1) as usize].discount_bp,
                iva,
                l.retail_unit_cents,
            )
            .unwrap();
            assert_eq!(
                again.total.0, l.total_cents,
                "cart {n}: a line is what the rule says"
            );
            assert_eq!(l.base_cents + l.tax_cents, l.total_cents);
            for (k, v) in [
                l.base_cents,
                l.discount_cents,
                l.tax_cents,
                l.total_cents,
                l.retail_unit_cents * l.qty,
                l.savings_cents,
            ]
            .into_iter()
            .enumerate()
            {
                sums[k] += v;
            }
            lines_checked += 1;
        }
        let sale = &stored.sale;
        assert_eq!(
            [
                sale.subtotal_cents,
                sale.discount_cents,
                sale.tax_cents,
                sale.total_cents,
                sale.retail_total_cents,
                sale.savings_cents
            ],
            sums,
            "cart {n}: document totals are sums of the rounded lines"
        );
        let paid: i64 = stored.payments.iter().map(|p| p.amount_mxn_cents).sum();
        assert_eq!(paid, sale.paid_cents);
        assert_eq!(sale.paid_cents - sale.change_cents, sale.total_cents);
    }
    // The database's own sums over the integer columns agree with the documents (no float).
    let db = &s.db;
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT CAST((SELECT SUM(total_cents) FROM sales) AS BIGINT), \
             CAST((SELECT SUM(total_cents) FROM sale_lines) AS BIGINT)",
        ))
        .await
        .unwrap()
        .unwrap();
    let (a, b): (i64, i64) = (
        row.try_get_by_index(0).unwrap(),
        row.try_get_by_index(1).unwrap(),
    );
    assert_eq!(a, b);
    assert!(lines_checked > RANDOM_CARTS * 5);
    eprintln!("{RANDOM_CARTS} random carts, {lines_checked} lines checked");
}

async fn statements_per_checkout_do_not_grow_with_the_number_of_lines(app: TestApp) {
    let s = Shop::open(&app, "cuenta").await;
    let mut items = Vec::new();
    for i in 0..20 {
        let id = s.item(&format!("Q{i}"), 10_000 + i, Some(12_000), 5).await;
        s.stock(id, s.wh, 1_000).await;
        items.push(id);
    }
    let mut db = s.db.clone();
    let statements = Arc::new(AtomicUsize::new(0));
    let counter = statements.clone();
    db.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::Relaxed);
    });
    let seller = owner_seller(Uuid::now_v7());
    let mut counts = Vec::new();
    for n in [1usize, 5, 20] {
        let lines: Vec<LineInput> = items[..n]
            .iter()
            .map(|i| LineInput {
                item_id: *i,
                warehouse_id: s.wh,
                qty: 1,
                discount_bp: 0,
                fixed_price: None,
            })
            .collect();
        statements.store(0, Ordering::Relaxed);
        let txn = begin_write(&db).await.unwrap();
        sales::checkout(
            &txn,
            &seller,
            NewSale {
                branch_id: s.branch,
                customer_id: None,
                price_list: None,
                lines,
                payments: vec![PaymentInput {
                    method: Method::Cash,
                    amount_minor: 10_000_000,
                    reference: None,
                }],
                note: None,
                quote_id: None,
                fixed_rate: None,
                drawer_session_id: None,
            },
            Rate(17_000_000),
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
        counts.push((n, statements.load(Ordering::Relaxed)));
    }
    eprintln!("statements per checkout by lines: {counts:?}");
    assert!(
        counts.iter().all(|(_, c)| *c == counts[0].1),
        "statements grow with lines: {counts:?}"
    );
    // 16, and one look at whether anyone wants to be told of each sale (`new_sale`'s rule).
    assert!(counts[0].1 <= 17, "{counts:?}");
}

async fn a_sale_drops_the_cached_stock_of_what_it_sold(app: TestApp) {
    let s = Shop::open(&app, "cache").await;
    let a = s.item("A", 10_000, None, 0).await;
    s.stock(a, s.wh, 5).await;
    let path = format!("/pos/api/items/{a}/stock");
    let first = app.session(&s.owner).get(&path).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    let second = app.session(&s.owner).get(&path).await;
    assert_eq!(second.headers["x-cache"], "hit");
    let r = app
        .session(&s.owner).post("/pos/api/sales", json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 2}], "payments": cash("200")}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let after = app.session(&s.owner).get(&path).await;
    assert_eq!(
        after.headers["x-cache"], "miss",
        "the sale dropped the cached view"
    );
    assert_eq!(after.json["on_hand"], 3);
}

/// Redis stopped during the day: sales still succeed (nothing on the write path touches Redis),
/// the stock view falls back to the database, and the sale's jobs wait in the outbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_sales_succeed_and_their_jobs_wait_in_the_outbox() {
    if std::env::var("NEXUS_TEST_POSTGRES_URL").is_err() {
        eprintln!("note: skipped: NEXUS_TEST_POSTGRES_URL not set");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let Some(mut redis) = RedisServer::start(dir.path()).await else {
        eprintln!("note: skipped: redis-server is not installed");
        return;
    };
    let app = TestApp::with_redis(Shape::Distributed, Some(redis.url())).await;
    let s = Shop::open(&app, "sinredis").await;
    let a = s.item("A", 10_000, None, 3).await;
    s.stock(a, s.wh, 5).await;
    let path = format!("/pos/api/items/{a}/stock");
    app.session(&s.owner).get(&path).await;
    redis.stop();
    for i in 0..3 {
        let r = app
            .session(&s.owner).post("/pos/api/sales", json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 1}], "payments": cash("100")}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "sale {i}: {}", r.text());
    }
    // A relay sweeping while Redis is down fails to hand the jobs over and keeps them.
    let (stop_relay, stopped) = tokio::sync::watch::channel(false);
    let relay = Arc::new(app.relay(workers::relay::RelayConfig {
        sweep_every: Duration::from_millis(50),
        ..workers::relay::RelayConfig::default()
    }));
    let relay_task = tokio::spawn(relay.run(stopped));
    tokio::time::sleep(Duration::from_millis(700)).await;
    let _ = stop_relay.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(5), relay_task).await;
    let v = app.session(&s.owner).get(&path).await;
    assert_eq!(v.status, StatusCode::OK);
    assert_eq!(
        v.json["on_hand"], 2,
        "read from the database, not a stale cache"
    );
    let waiting = outbox::Entity::find()
        .filter(outbox::Column::SentAt.is_null())
        .count(&s.db)
        .await
        .unwrap();
    assert_eq!(
        waiting, 4,
        "three sale_completed and one low_stock wait for Redis"
    );
}

/// PostgreSQL connections killed while checkouts run: every sale that exists is whole (lines,
/// payments, ledger and its job), every 201 has its sale, and stock + sold = initial.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_postgres_connection_killed_mid_checkout_leaves_no_partial_sale() {
    let Some(app) = TestApp::distributed().await else {
        return;
    };
    let s = Shop::open(&app, "corte").await;
    let mut parts = Vec::new();
    for i in 0..5 {
        let id = s.item(&format!("K{i}"), 10_000, None, 0).await;
        s.stock(id, s.wh, 1_000).await;
        parts.push(id);
    }
    let tenant_db: String =
        s.db.query_one_raw(Statement::from_string(
            s.db.get_database_backend(),
            "SELECT current_database()",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap();
    let admin = sea_orm::Database::connect(std::env::var("NEXUS_TEST_POSTGRES_URL").unwrap())
        .await
        .unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let kills = Arc::new(AtomicUsize::new(0));
    let killer = {
        let (stop, kills, db_name) = (stop.clone(), kills.clone(), tenant_db.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let r = admin
                    .query_all_raw(Statement::from_sql_and_values(
                        sea_orm::DatabaseBackend::Postgres,
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                         WHERE datname = $1 AND pid <> pg_backend_pid() \
                           AND state IN ('active', 'idle in transaction')",
                        [db_name.clone().into()],
                    ))
                    .await
                    .map(|rows| rows.len())
                    .unwrap_or(0);
                kills.fetch_add(r, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        })
    };
    let app = Arc::new(app);
    let mut tasks = Vec::new();
    for i in 0..60usize {
        let lines: Vec<_> = (0..3)
            .map(|k| json!({"item_id": parts[(i + k) % 5], "warehouse_id": s.wh, "qty": 1 + k}))
            .collect();
        let body = json!({"branch_id": s.branch, "lines": lines, "payments": cash("1000")});
        let (app, token) = (app.clone(), s.owner.clone());
        tasks.push(tokio::spawn(async move {
            // Spread over ~0.5 s so that some checkouts are cut and others finish.
            tokio::time::sleep(Duration::from_millis(8 * i as u64)).await;
            app.session(&token).post("/pos/api/sales", body).await
        }));
    }
    let mut created = Vec::new();
    let mut failed = 0;
    for t in tasks {
        let r = t.await.unwrap();
        match r.status {
            StatusCode::CREATED => {
                created.push(r.json["id"].as_str().unwrap().parse::<Uuid>().unwrap())
            }
            s if s.is_server_error() => failed += 1,
            other => panic!("unexpected {other}: {}", r.text()),
        }
    }
    stop.store(true, Ordering::Relaxed);
    killer.await.unwrap();
    eprintln!(
        "{} sold, {failed} failed, {} backends killed",
        created.len(),
        kills.load(Ordering::Relaxed)
    );
    assert!(
        kills.load(Ordering::Relaxed) > 0,
        "the killer must have hit something"
    );

    let sales = sale::Entity::find().all(&s.db).await.unwrap();
    for id in &created {
        assert!(sales.iter().any(|x| x.id == *id), "a 201 without its sale");
    }
    for x in &sales {
        let lines = sale_line::Entity::find()
            .filter(sale_line::Column::SaleId.eq(x.id))
            .all(&s.db)
            .await
            .unwrap();
        assert_eq!(lines.len(), 3, "sale {} is whole", x.folio);
        assert_eq!(
            lines.iter().map(|l| l.total_cents).sum::<i64>(),
            x.total_cents
        );
        let pays = payment::Entity::find()
            .filter(payment::Column::SaleId.eq(x.id))
            .count(&s.db)
            .await
            .unwrap();
        assert_eq!(pays, 1);
        let moves = stock_ledger::Entity::find()
            .filter(stock_ledger::Column::RefId.eq(x.id.to_string()))
            .count(&s.db)
            .await
            .unwrap();
        assert_eq!(moves, 3);
    }
    let jobs = outbox::Entity::find()
        .filter(outbox::Column::JobName.eq("sales.sale_completed"))
        .count(&s.db)
        .await
        .unwrap();
    assert_eq!(
        jobs as usize,
        sales.len(),
        "one job per sale, none for a rolled-back one"
    );
    for p in &parts {
        let sold: i64 = sale_line::Entity::find()
            .filter(sale_line::Column::ItemId.eq(*p))
            .all(&s.db)
            .await
            .unwrap()
            .iter()
            .map(|l| l.qty)
            .sum();
        assert_eq!(s.on_hand(*p, s.wh).await + sold, 1_000);
        assert_eq!(s.ledger_sum(*p, s.wh).await, 1_000 - sold);
    }
}

/// Eight cashiers checking out at once while a manager loops over adjustments, transfers shipped
/// and price changes: every answer is a success or a 4xx, never a 500 ("database is locked" on
/// SQLite came from read-then-write transactions that began deferred).
async fn eight_concurrent_checkouts_beside_adjustments_shipments_and_price_changes_get_no_server_error(
    app: TestApp,
) {
    let s = Shop::open(&app, "carrera").await;
    let a = s.item("CON-1", 10_000, None, 0).await;
    let b = s.item("CON-2", 5_000, None, 0).await;
    s.stock(a, s.wh, 10_000).await;
    s.stock(b, s.wh, 10_000).await;
    let manager = s.token(&app, Role::Manager).await;
    let app = Arc::new(app);
    let errors = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (app, errors) = (app.clone(), errors.clone());
        let cashier = s.token(&app, Role::Cashier).await;
        let (branch, wh) = (s.branch, s.wh);
        tasks.push(tokio::spawn(async move {
            for _ in 0..6 {
                let r = app
                    .session(&cashier).post("/pos/api/sales", json!({"branch_id": branch, "lines": [{"item_id": a, "warehouse_id": wh, "qty": 1}, {"item_id": b, "warehouse_id": wh, "qty": 2}], "payments": cash("300")}))
                    .await;
                if r.status.is_server_error() {
                    errors.fetch_add(1, Ordering::Relaxed);
                    eprintln!("checkout: {} {}", r.status, r.text());
                }
            }
        }));
    }
    {
        let (app, errors, manager) = (app.clone(), errors.clone(), manager.clone());
        let (wh, border_wh) = (s.wh, s.border_wh);
        tasks.push(tokio::spawn(async move {
            for i in 0..12_i64 {
                let rs = [
                    app.session(&manager).post("/pos/api/inventory/adjustments", json!({"warehouse_id": wh, "reason": "found", "lines": [{"item_id": a, "delta": 1}]}))
                    .await,
                    app.session(&manager).put(&format!("/pos/api/items/{b}/prices"), json!({"prices": [{"price_list": "taller", "amount": format!("{}.00", 40 + i), "currency": "MXN"}]}))
                    .await,
                ];
                let t = app
                    .session(&manager).post("/pos/api/inventory/transfers", json!({"from_warehouse_id": wh, "to_warehouse_id": border_wh, "lines": [{"item_id": a, "qty": 1}]}))
                    .await;
                let shipped = match t.json["id"].as_str() {
                    Some(id) => {
                        app.session(&manager).post(&format!("/pos/api/inventory/transfers/{id}/ship"), json!({}))
                        .await
                    }
                    None => t,
                };
                for r in rs.iter().chain([&shipped]) {
                    if r.status.is_server_error() {
                        errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("manager: {} {}", r.status, r.text());
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        errors.load(Ordering::Relaxed),
        0,
        "server errors under concurrent writes"
    );
}
