//! The cron table: a tick is claimed once across scheduler replicas and fans out one job per
//! active tenant; the nightly clean-up deletes old job bookkeeping and nothing else.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use entities::{jobs::tables::job_run, jobs::tables::outbox, jobs::tables::processed_job};
use entities::{jobs::tables::schedule_tick, org::tables::tenant};
use jobs::maintenance::{Cleanup, Retention};
use jobs::noop::Noop;
use jobs::{Envelope, Job};
use schedules::{Schedule, Scheduler};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use tests::{TestApp, TestTenant, shape_tests};
use workers::relay::RelayConfig;
use workers::runtime::{Outcome, Runtime};

shape_tests!(
    two_schedulers_firing_the_same_tick_enqueue_one_cleanup_per_active_tenant,
    the_nightly_cleanup_deletes_old_bookkeeping_and_keeps_unsent_recent_and_failed_rows,
    the_scheduler_runs_on_apalis_cron_until_told_to_stop,
    two_schedulers_on_apalis_cron_enqueue_each_tick_once,
    two_schedulers_firing_the_global_invoice_tick_enqueue_one_run_per_active_tenant,
);

fn scheduler(app: &TestApp, replica: &str, retention: Retention) -> Scheduler {
    Scheduler::new(
        app.app.platform.clone(),
        app.app.tenants.clone(),
        app.app.waker.clone(),
        retention,
    )
    .with_replica(replica)
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn cleanups(app: &TestApp, t: &TestTenant) -> Vec<outbox::Model> {
    outbox::Entity::find()
        .filter(outbox::Column::JobName.eq(Cleanup::NAME))
        .order_by_asc(outbox::Column::Id)
        .all(&app.tenant_db(t).await)
        .await
        .unwrap()
}

async fn two_schedulers_firing_the_same_tick_enqueue_one_cleanup_per_active_tenant(app: TestApp) {
    let acme = app.tenant("acme").await;
    let beta = app.tenant("beta").await;
    let gone = app.tenant("gone").await;
    let mut m = gone.tenant.clone().into_active_model();
    m.status = Set(tenant::STATUS_SUSPENDED.into());
    m.update(&app.app.platform).await.unwrap();

    let retention = Retention {
        sent_outbox_days: 7,
        ..Retention::default()
    };
    let (a, b) = (
        scheduler(&app, "replica-a", retention),
        scheduler(&app, "replica-b", retention),
    );
    // 03:30 in Mexico City; each replica's apalis-cron fires it, at about the same time.
    let tick = at("2026-11-25T09:30:00Z");
    let (fa, fb) = tokio::join!(
        a.fire(Schedule::NightlyCleanup, tick),
        b.fire(Schedule::NightlyCleanup, tick)
    );
    let (fa, fb) = (fa.unwrap(), fb.unwrap());
    assert!(
        fa.claimed ^ fb.claimed,
        "exactly one replica claims: {fa:?} {fb:?}"
    );
    let (winner, won) = if fa.claimed {
        ("replica-a", &fa)
    } else {
        ("replica-b", &fb)
    };
    let loser = if fa.claimed { &fb } else { &fa };
    assert!(loser.enqueued.is_empty() && loser.failed.is_empty());
    let mut enqueued = won.enqueued.clone();
    enqueued.sort();
    let mut active = vec![acme.tenant.id, beta.tenant.id];
    active.sort();
    assert_eq!(
        enqueued, active,
        "every active tenant, not the suspended one"
    );

    let ticks = schedule_tick::Entity::find()
        .all(&app.app.platform)
        .await
        .unwrap();
    assert_eq!(ticks.len(), 1);
    assert_eq!(
        (
            ticks[0].schedule.as_str(),
            ticks[0].tick,
            ticks[0].fired_by.as_str()
        ),
        ("nightly-cleanup", tick, winner)
    );

    for t in [&acme, &beta] {
        let rows = cleanups(&app, t).await;
        assert_eq!(rows.len(), 1, "one clean-up for {}", t.tenant.slug);
        assert_eq!(rows[0].queue, "maintenance");
        let job: Cleanup = serde_json::from_value(rows[0].payload.clone()).unwrap();
        assert_eq!(
            job,
            Cleanup {
                tenant_id: t.tenant.id,
                tick,
                retention
            }
        );
    }
    assert!(cleanups(&app, &gone).await.is_empty());

    // A late replica (or a double fire; the tick's sub-seconds do not matter) changes nothing.
    let late = b
        .fire(
            Schedule::NightlyCleanup,
            tick + chrono::Duration::milliseconds(400),
        )
        .await
        .unwrap();
    assert!(!late.claimed);
    assert_eq!(cleanups(&app, &acme).await.len(), 1);

    // The relay hands the jobs to the maintenance queue.
    let report = app.relay(RelayConfig::default()).sweep().await.unwrap();
    assert_eq!(report.pushed.get("maintenance"), Some(&2));

    // The next night is a new tick.
    let next = Schedule::NightlyCleanup.next_after(tick).unwrap().unwrap();
    assert_eq!(next, at("2026-11-26T09:30:00Z"));
    assert!(
        b.fire(Schedule::NightlyCleanup, next)
            .await
            .unwrap()
            .claimed
    );
    assert_eq!(cleanups(&app, &acme).await.len(), 2);
    assert_eq!(cleanups(&app, &beta).await.len(), 2);
}

fn days_ago(days: i64) -> DateTime<Utc> {
    entities::now() - chrono::Duration::days(days)
}

fn outbox_row(
    queue: &str,
    created: DateTime<Utc>,
    sent: Option<DateTime<Utc>>,
) -> outbox::ActiveModel {
    outbox::ActiveModel {
        job_name: Set("noop".into()),
        queue: Set(queue.into()),
        payload: Set(serde_json::json!({})),
        created_at: Set(created),
        available_at: Set(created),
        sent_at: Set(sent),
        attempt: Set(0),
        relay_attempts: Set(0),
        last_error: Set(None),
        ..Default::default()
    }
}

fn run_row(
    key: &str,
    outbox_id: i64,
    status: &str,
    started: DateTime<Utc>,
    finished: Option<DateTime<Utc>>,
) -> job_run::ActiveModel {
    job_run::ActiveModel {
        push_key: Set(key.into()),
        job_name: Set("noop".into()),
        queue: Set("maintenance".into()),
        outbox_id: Set(outbox_id),
        attempt: Set(0),
        starts: Set(1),
        status: Set(status.parse().unwrap()),
        last_error: Set(None),
        started_at: Set(started),
        heartbeat_at: Set(None),
        finished_at: Set(finished),
    }
}

fn mark(key: &str, at: DateTime<Utc>) -> processed_job::ActiveModel {
    processed_job::ActiveModel {
        key: Set(key.into()),
        job_name: Set("noop".into()),
        processed_at: Set(at),
    }
}

async fn the_nightly_cleanup_deletes_old_bookkeeping_and_keeps_unsent_recent_and_failed_rows(
    app: TestApp,
) {
    let t = app.tenant("acme").await;
    let db = app.tenant_db(&t).await;
    let fired = scheduler(&app, "replica-a", Retention::default())
        .fire(Schedule::NightlyCleanup, at("2026-11-25T09:30:00Z"))
        .await
        .unwrap();
    assert_eq!(fired.enqueued, [t.tenant.id]);
    let job = cleanups(&app, &t).await.remove(0);

    // Defaults: sent outbox rows 14 days, marks 30, finished runs 30, failed runs 90.
    let txn = entities::db::begin_write(&db).await.unwrap();
    let ins = |m: outbox::ActiveModel| {
        let txn = &txn;
        async move { m.insert(txn).await.unwrap().id }
    };
    let kept_unsent = ins(outbox_row("notify", days_ago(60), None)).await;
    let kept_recent = ins(outbox_row("notify", days_ago(3), Some(days_ago(2)))).await;
    let kept_dead = ins(outbox_row("cfdi", days_ago(21), Some(days_ago(20)))).await;
    let kept_running = ins(outbox_row("cfdi", days_ago(21), Some(days_ago(20)))).await;
    let gone_cfdi = ins(outbox_row("cfdi", days_ago(21), Some(days_ago(20)))).await;
    // More old sent rows than one batch, in two queues.
    let old: Vec<outbox::ActiveModel> = (0..2_300)
        .map(|i| {
            outbox_row(
                if i % 2 == 0 { "maintenance" } else { "notify" },
                days_ago(16),
                Some(days_ago(15)),
            )
        })
        .collect();
    for chunk in old.chunks(500) {
        outbox::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await
            .unwrap();
    }
    // The highest id is an old sent row: deleting it must not let SQLite hand its id out again
    // (the id is the job's idempotency key, and its mark outlives the row).
    let gone_last = ins(outbox_row("notify", days_ago(16), Some(days_ago(15)))).await;

    for r in [
        run_row(
            "k:done-old",
            gone_cfdi,
            "done",
            days_ago(41),
            Some(days_ago(40)),
        ),
        run_row(
            "k:retrying-old",
            gone_cfdi,
            "retrying",
            days_ago(41),
            Some(days_ago(40)),
        ),
        run_row(
            "k:done-recent",
            kept_recent,
            "done",
            days_ago(5),
            Some(days_ago(5)),
        ),
        run_row(
            "k:dead",
            kept_dead,
            "dead",
            days_ago(20),
            Some(days_ago(20)),
        ),
        run_row(
            "k:dead-ancient",
            1_000_000,
            "dead",
            days_ago(101),
            Some(days_ago(100)),
        ),
        run_row(
            "k:quarantined",
            1_000_001,
            "quarantined",
            days_ago(60),
            Some(days_ago(60)),
        ),
        run_row("k:running", kept_running, "running", days_ago(100), None),
    ] {
        r.insert(&txn).await.unwrap();
    }
    let old_marks: Vec<processed_job::ActiveModel> = (0..2_100)
        .map(|i| mark(&format!("old:{i}"), days_ago(31)))
        .collect();
    for chunk in old_marks.chunks(500) {
        processed_job::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&txn)
            .await
            .unwrap();
    }
    mark("recent", days_ago(29)).insert(&txn).await.unwrap();
    txn.commit().await.unwrap();

    // The clean-up job, as a worker receives it, through the real runtime and handlers.
    let rt = Runtime::new(
        app.app.platform.clone(),
        app.app.tenants.clone(),
        workers::handlers::all(workers::services::Services::none()),
    );
    let env = Envelope {
        name: job.job_name.clone(),
        tenant_id: t.tenant.id,
        outbox_id: job.id,
        attempt: 0,
        payload: job.payload.clone(),
        due_at_us: None,
        requeued: 0,
    };
    let outcome = rt.execute(serde_json::to_value(&env).unwrap()).await;
    assert_eq!(outcome, Outcome::Done);

    let mut left: Vec<i64> = outbox::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    left.sort_unstable();
    let mut expected = vec![job.id, kept_unsent, kept_recent, kept_dead, kept_running];
    expected.sort_unstable();
    assert_eq!(
        left, expected,
        "sent rows older than 14 days are gone, the rest stay"
    );

    let mut runs: Vec<String> = job_run::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.push_key)
        .collect();
    runs.sort();
    let mut expected_runs = vec![
        "k:dead".to_owned(),
        "k:done-recent".into(),
        "k:quarantined".into(),
        "k:running".into(),
        env.push_key(),
    ];
    expected_runs.sort();
    assert_eq!(runs, expected_runs);

    let mut marks: Vec<String> = processed_job::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.key)
        .collect();
    marks.sort();
    let mut expected_marks = vec!["recent".to_owned(), env.key()];
    expected_marks.sort();
    assert_eq!(marks, expected_marks);

    // A job enqueued after the clean-up gets a new id, never a deleted one.
    let next = jobs::outbox::enqueue(
        &db,
        &Noop {
            tenant_id: t.tenant.id,
            n: 1,
        },
    )
    .await
    .unwrap();
    assert!(
        next > gone_last,
        "id {next} reused (highest before: {gone_last})"
    );

    // Run again: nothing more to delete, nothing kept is touched.
    let again =
        workers::handlers::maintenance::cleanup(&db, &Retention::default(), entities::now())
            .await
            .unwrap();
    assert_eq!(
        again,
        workers::handlers::maintenance::CleanupReport::default()
    );
    assert_eq!(outbox::Entity::find().count(&db).await.unwrap(), 6);
}

async fn the_scheduler_runs_on_apalis_cron_until_told_to_stop(app: TestApp) {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let app = Arc::new(app);
    let running = {
        let app = app.clone();
        tokio::spawn(async move { app.app.run_scheduler(stopped).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !running.is_finished(),
        "the scheduler waits for its next tick"
    );
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .expect("the scheduler stops on shutdown")
        .unwrap()
        .unwrap();
}

async fn two_schedulers_on_apalis_cron_enqueue_each_tick_once(app: TestApp) {
    let t = app.tenant("acme").await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut replicas = Vec::new();
    for name in ["replica-a", "replica-b"] {
        let s = Arc::new(scheduler(&app, name, Retention::default()));
        // The real apalis-cron plumbing, firing every second instead of at 03:30.
        let every_second = cron::Schedule::from_str("* * * * * *").unwrap();
        replicas.push(tokio::spawn(s.run_with(
            vec![(Schedule::NightlyCleanup, every_second)],
            ops::app::stopped(stopped.clone()),
        )));
    }
    let started = std::time::Instant::now();
    while schedule_tick::Entity::find()
        .count(&app.app.platform)
        .await
        .unwrap()
        < 3
    {
        assert!(
            started.elapsed() < tests::run::PATIENCE,
            "no ticks from apalis-cron"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.send(true).unwrap();
    for r in replicas {
        tokio::time::timeout(Duration::from_secs(10), r)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
    let ticks: Vec<DateTime<Utc>> = schedule_tick::Entity::find()
        .order_by_asc(schedule_tick::Column::Tick)
        .all(&app.app.platform)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.tick)
        .collect();
    let jobs: Vec<DateTime<Utc>> = cleanups(&app, &t)
        .await
        .into_iter()
        .map(|r| serde_json::from_value::<Cleanup>(r.payload).unwrap().tick)
        .collect();
    // Both replicas fired every tick; each tick has one row and one job.
    assert_eq!(jobs, ticks);
    assert!(ticks.windows(2).all(|w| w[0] < w[1]));
    assert!(ticks.iter().all(|t| t.timestamp_subsec_nanos() == 0));
}

async fn two_schedulers_firing_the_global_invoice_tick_enqueue_one_run_per_active_tenant(
    app: TestApp,
) {
    let acme = app.tenant("gacme").await;
    let beta = app.tenant("gbeta").await;
    let gone = app.tenant("ggone").await;
    let mut m = gone.tenant.clone().into_active_model();
    m.status = Set(tenant::STATUS_SUSPENDED.into());
    m.update(&app.app.platform).await.unwrap();
    let (a, b) = (
        scheduler(&app, "replica-a", Retention::default()),
        scheduler(&app, "replica-b", Retention::default()),
    );
    // 01:15 in Mexico City.
    let tick = at("2026-11-25T07:15:00Z");
    assert_eq!(
        Schedule::GlobalInvoice
            .next_after(at("2026-11-24T20:00:00Z"))
            .unwrap(),
        Some(tick)
    );
    let (fa, fb) = tokio::join!(
        a.fire(Schedule::GlobalInvoice, tick),
        b.fire(Schedule::GlobalInvoice, tick)
    );
    let (fa, fb) = (fa.unwrap(), fb.unwrap());
    assert!(fa.claimed ^ fb.claimed, "{fa:?} {fb:?}");
    let won = if fa.claimed { &fa } else { &fb };
    let mut enqueued = won.enqueued.clone();
    enqueued.sort();
    let mut active = vec![acme.tenant.id, beta.tenant.id];
    active.sort();
    assert_eq!(enqueued, active);
    let runs = |t: &TestTenant| {
        let t = t.clone();
        let app = &app;
        async move {
            outbox::Entity::find()
                .filter(outbox::Column::JobName.eq(jobs::invoicing::GlobalInvoice::NAME))
                .all(&app.tenant_db(&t).await)
                .await
                .unwrap()
        }
    };
    for t in [&acme, &beta] {
        let rows = runs(t).await;
        assert_eq!(rows.len(), 1, "one run for {}", t.tenant.slug);
        assert_eq!(rows[0].queue, "cfdi");
        let job: jobs::invoicing::GlobalInvoice =
            serde_json::from_value(rows[0].payload.clone()).unwrap();
        assert_eq!(
            job,
            jobs::invoicing::GlobalInvoice {
                tenant_id: t.tenant.id,
                branch_id: None,
                from: None,
                to: None,
                requested_by: None,
            }
        );
    }
    assert!(runs(&gone).await.is_empty());
    // The nightly clean-up's claim is its own: the same instant does not collide.
    assert!(
        a.fire(Schedule::NightlyCleanup, tick)
            .await
            .unwrap()
            .claimed
    );

    // A business without fiscal settings owes no global invoice: the run is done at once.
    let rows = runs(&acme).await;
    let rt = Runtime::new(
        app.app.platform.clone(),
        app.app.tenants.clone(),
        workers::handlers::all(workers::services::Services::none()),
    );
    let env = Envelope {
        name: rows[0].job_name.clone(),
        tenant_id: acme.tenant.id,
        outbox_id: rows[0].id,
        attempt: 0,
        payload: rows[0].payload.clone(),
        due_at_us: None,
        requeued: 0,
    };
    let outcome = rt.execute(serde_json::to_value(&env).unwrap()).await;
    assert_eq!(outcome, Outcome::Done);
}
