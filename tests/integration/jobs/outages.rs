//! A tenant's database down: its deliveries are acknowledged at once and wait in the outbox
//! (never in a worker slot, never retried and buried by apalis), the other tenants' jobs run,
//! and every deferred job runs exactly once when the database is back. Rows the queue lost are
//! counted for operators and pushed again however long ago they were sent.

use std::sync::Arc;
use std::time::Duration;

use entities::registry::TenantRegistry;
use entities::{jobs::tables::job_run, jobs::tables::outbox, jobs::tables::processed_job};
use jobs::noop::Noop;
use jobs::{Envelope, Queue};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use tests::run::{start_workers, wait_until};
use tests::{TestApp, TestTenant, shape_tests};
use workers::relay::RelayConfig;
use workers::runtime::{Outcome, Runtime};

shape_tests!(
    a_down_tenants_deliveries_are_deferred_at_once_and_run_once_when_it_is_back,
    with_real_pools_a_down_tenant_buries_nothing_and_the_others_jobs_run,
    rows_the_queue_lost_long_ago_are_counted_and_pushed_again,
);

/// A runtime with a registry of its own, as in a worker process: the test's reads through the
/// shared registry cannot heal the runtime's view of a broken database.
fn worker_runtime(app: &TestApp) -> Arc<Runtime> {
    let own = TenantRegistry::new(
        app.app.tenants.location().clone(),
        5,
        Duration::from_secs(300),
    );
    Arc::new(Runtime::new(
        app.app.platform.clone(),
        Arc::new(own),
        workers::handlers::all(workers::services::Services::none()),
    ))
}

/// A connection of the test's own to a tenant's database, which breaking the tenant's URL in
/// the platform does not touch.
async fn direct(app: &TestApp, t: &TestTenant) -> DatabaseConnection {
    let url = app.app.tenants.location().url_for(&t.tenant);
    entities::db::connect(&url, 2).await.unwrap()
}

/// Commits `n` noop jobs of the tenant in one transaction.
async fn commit_noops(db: &DatabaseConnection, t: &TestTenant, n: u64) {
    let txn = entities::db::begin_write(db).await.unwrap();
    for n in 0..n {
        jobs::outbox::enqueue(
            &txn,
            &Noop {
                tenant_id: t.tenant.id,
                n,
            },
        )
        .await
        .unwrap();
    }
    txn.commit().await.unwrap();
}

/// Commits `n` noop jobs and marks them sent, as the relay does before a push; answers the
/// envelopes a worker receives.
async fn sent_noops(db: &DatabaseConnection, t: &TestTenant, n: u64) -> Vec<Envelope> {
    commit_noops(db, t, n).await;
    let rows = outbox::unsent(Queue::Maintenance.name())
        .all(db)
        .await
        .unwrap();
    let pairs: Vec<(i64, i32)> = rows.iter().map(|r| (r.id, r.attempt)).collect();
    outbox::mark_sent(db, &pairs, entities::now())
        .await
        .unwrap();
    rows.into_iter()
        .map(|r| Envelope::of_outbox_row(r, t.tenant.id))
        .collect()
}

async fn processed(db: &DatabaseConnection) -> u64 {
    processed_job::Entity::find().count(db).await.unwrap()
}

/// Every run of the tenant is done and started once.
async fn all_done_once(db: &DatabaseConnection, n: usize) {
    let runs = job_run::Entity::find().all(db).await.unwrap();
    assert_eq!(runs.len(), n, "{runs:?}");
    let odd: Vec<_> = runs
        .iter()
        .filter(|r| r.status != "done" || r.starts != 1)
        .collect();
    assert!(odd.is_empty(), "a job ran twice or did not finish: {odd:?}");
}

async fn a_down_tenants_deliveries_are_deferred_at_once_and_run_once_when_it_is_back(app: TestApp) {
    let (up, down) = (app.tenant("acme").await, app.tenant("zz-caida").await);
    let down_db = direct(&app, &down).await;
    let envelopes = sent_noops(&down_db, &down, 5).await;
    app.break_tenant_database(&down).await;
    let rt = worker_runtime(&app);
    let deliver = |env: &Envelope| rt.execute(serde_json::to_value(env).unwrap());

    // The first delivery finds the database down and opens the tenant's breaker; the others are
    // deferred without a connection attempt (their reason says so).
    let Outcome::Deferred(first) = deliver(&envelopes[0]).await else {
        panic!("the first delivery of a down tenant is deferred");
    };
    assert!(!first.contains("is down"), "{first}");
    for env in &envelopes[1..] {
        let outcome = deliver(env).await;
        assert!(
            matches!(&outcome, Outcome::Deferred(r) if r.contains("is down")),
            "{outcome:?}"
        );
    }
    let down_now = rt.down_tenants();
    assert_eq!(down_now.len(), 1);
    assert_eq!(
        (down_now[0].tenant_id, down_now[0].deferred),
        (down.tenant.id, 5)
    );
    // Nothing was recorded: no run, no mark, and the rows are still marked sent.
    assert_eq!(job_run::Entity::find().count(&down_db).await.unwrap(), 0);
    assert_eq!(
        outbox::unsent(Queue::Maintenance.name())
            .count(&down_db)
            .await
            .unwrap(),
        0
    );

    // Another tenant's job runs meanwhile.
    let up_db = app.tenant_db(&up).await;
    let up_env = sent_noops(&up_db, &up, 1).await;
    assert_eq!(deliver(&up_env[0]).await, Outcome::Done);

    // While it stays down, probes fail and put nothing back.
    wait_until("a failed probe", Duration::from_secs(10), || async {
        rt.recover_tenants().await;
        rt.down_tenants()[0].failed_probes >= 1
    })
    .await;
    assert_eq!(
        outbox::unsent(Queue::Maintenance.name())
            .count(&down_db)
            .await
            .unwrap(),
        0
    );

    // Back: the next probe puts the five rows back in line, and each runs once.
    app.restore_tenant_database(&down).await;
    wait_until(
        "the probe to find it back",
        Duration::from_secs(10),
        || async {
            rt.recover_tenants().await;
            rt.down_tenants().is_empty()
        },
    )
    .await;
    assert_eq!(
        outbox::unsent(Queue::Maintenance.name())
            .count(&down_db)
            .await
            .unwrap(),
        5
    );
    app.run_pending_jobs(&rt).await;
    assert_eq!(processed(&down_db).await, 5);
    all_done_once(&down_db, 5).await;
}

async fn with_real_pools_a_down_tenant_buries_nothing_and_the_others_jobs_run(app: TestApp) {
    let (up, down) = (app.tenant("acme").await, app.tenant("zz-caida").await);
    let down_db = direct(&app, &down).await;
    // Forty jobs already in the queue when the database goes down.
    let envelopes = sent_noops(&down_db, &down, 40).await;
    app.break_tenant_database(&down).await;
    app.queues
        .push(Queue::Maintenance, envelopes)
        .await
        .unwrap();
    let rt = worker_runtime(&app);
    let _stop = start_workers(&app, rt.clone());

    wait_until("all forty deferred", Duration::from_secs(30), || async {
        rt.down_tenants().first().is_some_and(|d| d.deferred == 40)
    })
    .await;
    // The other tenant's jobs run while it is down.
    let up_db = app.tenant_db(&up).await;
    commit_noops(&up_db, &up, 10).await;
    app.app.waker.wake(up.tenant.id);
    wait_until(
        "the other tenant's ten jobs",
        Duration::from_secs(30),
        || async { processed(&up_db).await == 10 },
    )
    .await;
    // Nothing was handed to apalis to retry or bury.
    let counts = app.queues.counts(Queue::Maintenance).await.unwrap();
    assert_eq!(counts.dead, 0, "{counts:?}");

    app.restore_tenant_database(&down).await;
    wait_until(
        "the forty deferred jobs, once the database is back",
        Duration::from_secs(60),
        || async { processed(&down_db).await == 40 },
    )
    .await;
    all_done_once(&down_db, 40).await;
    all_done_once(&up_db, 10).await;
    assert!(rt.down_tenants().is_empty());
}

async fn rows_the_queue_lost_long_ago_are_counted_and_pushed_again(app: TestApp) {
    let t = app.tenant("acme").await;
    let db = app.tenant_db(&t).await;
    let envelopes = sent_noops(&db, &t, 3).await;
    // One row was sent three hours ago and never ran (lost during a long outage by a worker that
    // died with it deferred); one was sent now; one ran.
    outbox::Entity::update_many()
        .col_expr(
            outbox::Column::SentAt,
            sea_orm::sea_query::Expr::value(entities::now() - chrono::Duration::hours(3)),
        )
        .filter(outbox::Column::Id.eq(envelopes[0].outbox_id))
        .exec(&db)
        .await
        .unwrap();
    let rt = worker_runtime(&app);
    assert_eq!(
        rt.execute(serde_json::to_value(&envelopes[2]).unwrap())
            .await,
        Outcome::Done
    );

    let (p, r) = (&app.app.platform, &app.app.tenants);
    let stats = workers::admin::stats(p, r, &app.queues).await.unwrap();
    assert_eq!(
        stats.queues["maintenance"].unstarted, 1,
        "only the old row: the new one may still be waiting in the queue"
    );

    // A relay's first look reads every sent row, not only the last hour's.
    let report = app.relay(RelayConfig::default()).sweep().await.unwrap();
    assert_eq!(report.repushed, 1);
    assert_eq!(report.total(), 1, "pushed again in the same pass");
    let stats = workers::admin::stats(p, r, &app.queues).await.unwrap();
    assert_eq!(stats.queues["maintenance"].unstarted, 0, "pushed just now");
    assert_eq!(
        rt.execute(serde_json::to_value(&envelopes[0]).unwrap())
            .await,
        Outcome::Done
    );
    all_done_once(&db, 2).await;
    // The row sent just now is left to the queue.
    let fresh = outbox::Entity::find_by_id(envelopes[1].outbox_id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert!(fresh.sent_at.is_some());
}
