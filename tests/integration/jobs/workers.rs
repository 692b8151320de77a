//! Worker pools and the job runtime: every job once, our retry policy, dead jobs with a reason,
//! malformed payloads, quarantine, duplicate deliveries.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use entities::{jobs::tables::job_run, jobs::tables::outbox, jobs::tables::processed_job};
use jobs::noop::Noop;
use jobs::{Envelope, Job, Queue};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use tests::run::{start_workers, wait_until};
use tests::{TestApp, TestTenant, shape_tests};
use uuid::Uuid;
use workers::relay::RelayConfig;
use workers::runtime::{Handlers, JobCtx, JobError, Outcome, RetryPolicy, Runtime};

shape_tests!(
    every_committed_job_runs_exactly_once,
    a_failing_job_is_retried_on_our_schedule_then_dead_and_the_worker_keeps_going,
    a_permanent_failure_is_dead_at_once_with_its_reason,
    malformed_payloads_and_unknown_jobs_die_with_a_reason_and_the_worker_keeps_going,
    a_run_started_too_often_without_finishing_is_quarantined,
    a_second_delivery_of_a_done_job_does_nothing,
    a_delivery_of_a_run_whose_lease_is_renewed_waits_for_it_and_counts_no_crash,
    after_a_burst_of_failures_a_new_job_starts_within_a_second,
);

#[derive(Debug, Serialize, Deserialize)]
struct Flaky {
    tenant_id: Uuid,
}

impl Job for Flaky {
    const NAME: &'static str = "test_flaky";
    const QUEUE: Queue = Queue::Maintenance;
    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Broken {
    tenant_id: Uuid,
}

impl Job for Broken {
    const NAME: &'static str = "test_broken";
    const QUEUE: Queue = Queue::Maintenance;
    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}

fn quick() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base: Duration::from_millis(20),
        max: Duration::from_millis(50),
    }
}

fn handlers(calls: Arc<AtomicUsize>) -> Handlers {
    let c = calls.clone();
    workers::handlers::all(workers::services::Services::none())
        .with::<Flaky, _, _>(quick(), move |_job: Flaky, _ctx: JobCtx| {
            let c = c.clone();
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                Err(JobError::transient("the provider answered 503"))
            }
        })
        .with::<Broken, _, _>(quick(), move |_job: Broken, _ctx: JobCtx| async move {
            Err(JobError::permanent("the customer's RFC is not valid"))
        })
}

fn runtime(app: &TestApp, calls: Arc<AtomicUsize>) -> Arc<Runtime> {
    Arc::new(Runtime::new(
        app.app.platform.clone(),
        app.app.tenants.clone(),
        handlers(calls),
    ))
}

/// Commits a batch of jobs in one transaction.
async fn commit_all<J: Job>(db: &sea_orm::DatabaseConnection, batch: impl IntoIterator<Item = J>) {
    let txn = entities::db::begin_write(db).await.unwrap();
    for job in batch {
        jobs::outbox::enqueue(&txn, &job).await.unwrap();
    }
    txn.commit().await.unwrap();
}

/// Enqueues a job and returns the envelope a worker receives for it.
async fn enqueued<J: Job>(db: &sea_orm::DatabaseConnection, job: &J) -> Envelope {
    let outbox_id = jobs::outbox::enqueue(db, job).await.unwrap();
    Envelope {
        name: J::NAME.into(),
        tenant_id: job.tenant_id(),
        outbox_id,
        attempt: 0,
        payload: serde_json::to_value(job).unwrap(),
        due_at_us: None,
        requeued: 0,
    }
}

/// Delivers an envelope to the runtime, as a worker does.
async fn deliver(rt: &Runtime, env: &Envelope) -> Outcome {
    rt.execute(serde_json::to_value(env).unwrap()).await
}

async fn processed(app: &TestApp, t: &TestTenant) -> u64 {
    processed_job::Entity::find()
        .count(&app.tenant_db(t).await)
        .await
        .unwrap()
}

async fn runs(app: &TestApp, t: &TestTenant) -> Vec<job_run::Model> {
    job_run::Entity::find()
        .order_by_asc(job_run::Column::StartedAt)
        .all(&app.tenant_db(t).await)
        .await
        .unwrap()
}

async fn every_committed_job_runs_exactly_once(app: TestApp) {
    let t = app.tenant("acme").await;
    let db = app.tenant_db(&t).await;
    commit_all(
        &db,
        (0..200).map(|n| Noop {
            tenant_id: t.tenant.id,
            n,
        }),
    )
    .await;
    let _stop = start_workers(&app, runtime(&app, Arc::default()));
    wait_until("200 noop jobs", Duration::from_secs(60), || async {
        processed(&app, &t).await == 200
    })
    .await;
    let all = runs(&app, &t).await;
    assert_eq!(all.len(), 200);
    let odd: Vec<_> = all
        .iter()
        .filter(|r| r.status != "done" || r.starts != 1)
        .collect();
    assert!(odd.is_empty(), "a job ran twice or failed: {odd:?}");
    let unsent = outbox::Entity::find()
        .filter(outbox::Column::SentAt.is_null())
        .count(&db)
        .await
        .unwrap();
    assert_eq!(unsent, 0);

    // The backend keeps finished jobs until vacuumed; recent ones stay, old ones go in batches.
    let q = Queue::Maintenance;
    wait_until(
        "the backend to acknowledge all 200",
        Duration::from_secs(10),
        || async { app.queues.counts(q).await.unwrap().done == 200 },
    )
    .await;
    let kept = app
        .queues
        .vacuum_finished(q, Duration::from_secs(3600), 1000)
        .await
        .unwrap();
    assert_eq!(kept, 0, "nothing finished an hour ago");
    let first = app
        .queues
        .vacuum_finished(q, Duration::ZERO, 150)
        .await
        .unwrap();
    assert_eq!(first, 150);
    let rest = app
        .queues
        .vacuum_finished(q, Duration::ZERO, 1000)
        .await
        .unwrap();
    assert_eq!(rest, 50);
    assert_eq!(app.queues.counts(q).await.unwrap().done, 0);
}

async fn a_failing_job_is_retried_on_our_schedule_then_dead_and_the_worker_keeps_going(
    app: TestApp,
) {
    let t = app.tenant("acme").await;
    let db = app.tenant_db(&t).await;
    let id = jobs::outbox::enqueue(
        &db,
        &Flaky {
            tenant_id: t.tenant.id,
        },
    )
    .await
    .unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let _stop = start_workers(&app, runtime(&app, calls.clone()));
    wait_until("the flaky job to die", Duration::from_secs(30), || async {
        runs(&app, &t).await.iter().any(|r| r.status == "dead")
    })
    .await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "max_attempts runs, no more"
    );
    let all = runs(&app, &t).await;
    let statuses: Vec<(&str, i32)> = all.iter().map(|r| (r.status.as_str(), r.attempt)).collect();
    assert_eq!(statuses, [("retrying", 0), ("retrying", 1), ("dead", 2)]);
    assert!(
        all[2]
            .last_error
            .as_deref()
            .unwrap()
            .contains("gave up after 3 runs: the provider answered 503")
    );
    let row = outbox::Entity::find_by_id(id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.attempt, 2);
    // After the burst of failures the worker still takes new work.
    let start = Instant::now();
    jobs::outbox::enqueue(
        &db,
        &Noop {
            tenant_id: t.tenant.id,
            n: 1,
        },
    )
    .await
    .unwrap();
    app.app.waker.wake(t.tenant.id);
    wait_until(
        "a job after the failures",
        Duration::from_secs(10),
        || async { processed(&app, &t).await == 1 },
    )
    .await;
    eprintln!(
        "a job after a burst of failures ran within {:?}",
        start.elapsed()
    );
}

async fn a_permanent_failure_is_dead_at_once_with_its_reason(app: TestApp) {
    let t = app.tenant("acme").await;
    let db = app.tenant_db(&t).await;
    let id = jobs::outbox::enqueue(
        &db,
        &Broken {
            tenant_id: t.tenant.id,
        },
    )
    .await
    .unwrap();
    let _stop = start_workers(&app, runtime(&app, Arc::default()));
    wait_until("the broken job to die", Duration::from_secs(30), || async {
        !runs(&app, &t).await.is_empty() && runs(&app, &t).await[0].status == "dead"
    })
    .await;
    let all = runs(&app, &t).await;
    assert_eq!(all.len(), 1, "no retry of a permanent failure");
    assert_eq!(
        all[0].last_error.as_deref(),
        Some("the customer's RFC is not valid")
    );
    let row = outbox::Entity::find_by_id(id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.last_error.as_deref(),
        Some("the customer's RFC is not valid")
    );
    assert_eq!(processed(&app, &t).await, 0);
}

async fn malformed_payloads_and_unknown_jobs_die_with_a_reason_and_the_worker_keeps_going(
    app: TestApp,
) {
    let t = app.tenant("acme").await;
    let db = app.tenant_db(&t).await;
    app.queues
        .push_raw(
            Queue::Maintenance,
            vec![
                serde_json::json!({"not": "an envelope"}),
                serde_json::json!("just a string"),
            ],
        )
        .await
        .unwrap();
    let unknown = Envelope {
        name: "no_such_job".into(),
        tenant_id: t.tenant.id,
        outbox_id: 999,
        attempt: 0,
        payload: serde_json::json!({}),
        due_at_us: None,
        requeued: 0,
    };
    app.queues
        .push(Queue::Maintenance, vec![unknown])
        .await
        .unwrap();
    let rt = runtime(&app, Arc::default());
    assert!(
        matches!(rt.execute(serde_json::json!([1, 2])).await, Outcome::Dead(r) if r.starts_with("malformed envelope"))
    );
    let _stop = start_workers(&app, rt);
    jobs::outbox::enqueue(
        &db,
        &Noop {
            tenant_id: t.tenant.id,
            n: 1,
        },
    )
    .await
    .unwrap();
    wait_until(
        "the good job after the bad ones",
        Duration::from_secs(30),
        || async { processed(&app, &t).await == 1 },
    )
    .await;
    wait_until("the unknown job's run", Duration::from_secs(30), || async {
        runs(&app, &t)
            .await
            .iter()
            .any(|r| r.job_name == "no_such_job" && r.status == "dead")
    })
    .await;
    let dead = runs(&app, &t)
        .await
        .into_iter()
        .find(|r| r.job_name == "no_such_job")
        .unwrap();
    assert_eq!(
        dead.last_error.as_deref(),
        Some("no handler for job `no_such_job`")
    );
}

/// Records attempt 0 of `env` as `running` since `started_at`, started `starts` times, its lease
/// last renewed at `heartbeat_at`: what a worker leaves behind while it runs, or when it dies.
async fn running_run(
    db: &sea_orm::DatabaseConnection,
    env: &Envelope,
    starts: i32,
    started_at: chrono::DateTime<chrono::Utc>,
    heartbeat_at: Option<chrono::DateTime<chrono::Utc>>,
) {
    job_run::ActiveModel {
        push_key: Set(env.push_key()),
        job_name: Set(env.name.clone()),
        queue: Set("maintenance".into()),
        outbox_id: Set(env.outbox_id),
        attempt: Set(0),
        starts: Set(starts),
        status: Set("running".parse().unwrap()),
        last_error: Set(None),
        started_at: Set(started_at),
        heartbeat_at: Set(heartbeat_at),
        finished_at: Set(None),
    }
    .insert(db)
    .await
    .unwrap();
}

async fn a_run_started_too_often_without_finishing_is_quarantined(app: TestApp) {
    let t = app.tenant("acme").await;
    let db = app.tenant_db(&t).await;
    let env = enqueued(
        &db,
        &Flaky {
            tenant_id: t.tenant.id,
        },
    )
    .await;
    // Three workers died running it: three starts, never finished, the lease long run out.
    running_run(
        &db,
        &env,
        3,
        entities::now() - chrono::Duration::minutes(1),
        None,
    )
    .await;
    let calls = Arc::new(AtomicUsize::new(0));
    let rt = runtime(&app, calls.clone());
    let outcome = rt.execute(serde_json::to_value(&env).unwrap()).await;
    assert!(
        matches!(outcome, Outcome::Quarantined(ref r) if r.contains("started 3 times")),
        "{outcome:?}"
    );
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "a quarantined job is not run again"
    );
    let run = job_run::Entity::find_by_id(env.push_key())
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.status, "quarantined");
    // Delivered again later, it stays set aside.
    assert_eq!(deliver(&rt, &env).await, Outcome::Skipped);
}

async fn a_delivery_of_a_run_whose_lease_is_renewed_waits_for_it_and_counts_no_crash(app: TestApp) {
    let t = app.tenant("acme").await;
    let db = app.tenant_db(&t).await;
    let env = enqueued(
        &db,
        &Flaky {
            tenant_id: t.tenant.id,
        },
    )
    .await;
    // Another worker runs it and renews its lease (a worker wrongly taken for dead had its jobs
    // handed out again while it still ran them).
    let now = entities::now();
    running_run(&db, &env, 1, now, Some(now)).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let rt = runtime(&app, calls.clone());
    let second = tokio::spawn({
        let (rt, env) = (rt.clone(), env.clone());
        async move { deliver(&rt, &env).await }
    });
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(
        !second.is_finished(),
        "the second delivery waits for the live one"
    );
    // The live delivery finishes: effect mark and run end.
    processed_job::ActiveModel {
        key: Set(env.key()),
        job_name: Set(env.name.clone()),
        processed_at: Set(entities::now()),
    }
    .insert(&db)
    .await
    .unwrap();
    job_run::Entity::update_many()
        .col_expr(
            job_run::Column::Status,
            sea_orm::sea_query::Expr::value("done"),
        )
        .filter(job_run::Column::PushKey.eq(env.push_key()))
        .exec(&db)
        .await
        .unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(10), second)
        .await
        .expect("the waiting delivery ends once the run is done")
        .unwrap();
    assert_eq!(outcome, Outcome::Skipped);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "the job ran once, elsewhere"
    );
    let run = job_run::Entity::find_by_id(env.push_key())
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.starts, 1, "no crash was counted");
}

async fn a_second_delivery_of_a_done_job_does_nothing(app: TestApp) {
    let t = app.tenant("acme").await;
    let db = app.tenant_db(&t).await;
    let env = enqueued(
        &db,
        &Noop {
            tenant_id: t.tenant.id,
            n: 7,
        },
    )
    .await;
    let rt = runtime(&app, Arc::default());
    assert_eq!(deliver(&rt, &env).await, Outcome::Done);
    assert_eq!(deliver(&rt, &env).await, Outcome::Skipped);
    // A retry run of the same job (a new push key) is skipped as well: the effect is done.
    let retry = Envelope { attempt: 1, ..env };
    assert_eq!(deliver(&rt, &retry).await, Outcome::Skipped);
    assert_eq!(processed(&app, &t).await, 1);
    assert_eq!(runs(&app, &t).await.len(), 1);
}

shape_tests!(operators_list_retry_and_discard_failed_jobs);

async fn operators_list_retry_and_discard_failed_jobs(app: TestApp) {
    use workers::admin;
    let t = app.tenant("acme").await;
    let db = app.tenant_db(&t).await;
    let rt = runtime(&app, Arc::default());
    let mut ids = Vec::new();
    for _ in 0..2 {
        ids.push(
            jobs::outbox::enqueue(
                &db,
                &Broken {
                    tenant_id: t.tenant.id,
                },
            )
            .await
            .unwrap(),
        );
    }
    // The relay pushed both; the workers ran them (here: the runtime directly) and they died.
    assert_eq!(
        app.relay(RelayConfig::default())
            .sweep()
            .await
            .unwrap()
            .total(),
        2
    );
    let mut keys = Vec::new();
    for id in ids {
        let env = Envelope {
            name: Broken::NAME.into(),
            tenant_id: t.tenant.id,
            outbox_id: id,
            attempt: 0,
            payload: serde_json::to_value(Broken {
                tenant_id: t.tenant.id,
            })
            .unwrap(),
            due_at_us: None,
            requeued: 0,
        };
        assert!(matches!(deliver(&rt, &env).await, Outcome::Dead(_)));
        keys.push((id, env.push_key()));
    }
    let (p, r) = (&app.app.platform, &app.app.tenants);
    let failed = admin::failed(p, r, Some("acme"), 50).await.unwrap().runs;
    assert_eq!(failed.len(), 2);
    assert_eq!(
        failed[0].run.last_error.as_deref(),
        Some("the customer's RFC is not valid")
    );
    let stats = admin::stats(p, r, &app.queues).await.unwrap();
    assert_eq!(stats.queues["maintenance"].runs.get("dead"), Some(&2));

    // A tenant whose database cannot be opened is named, and the others are still shown.
    {
        let down = app.tenant("zz-caida").await;
        app.break_tenant_database(&down).await;
        let stats = admin::stats(p, r, &app.queues).await.unwrap();
        assert_eq!(stats.queues["maintenance"].runs.get("dead"), Some(&2));
        assert_eq!(stats.unreachable.len(), 1);
        assert_eq!(stats.unreachable[0].tenant, "zz-caida");
        let all = admin::failed(p, r, None, 50).await.unwrap();
        assert_eq!(all.runs.len(), 2);
        assert_eq!(all.unreachable.len(), 1);
        app.restore_tenant_database(&down).await;
    }

    // Retry: the job goes back to the outbox as a new run, and leaves the failed list.
    let (id, key) = &keys[0];
    let next = admin::retry(p, r, key).await.unwrap();
    assert_eq!(next, format!("{}:{id}:1", t.tenant.id));
    let row = outbox::Entity::find_by_id(*id)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.attempt, row.sent_at), (1, None));
    let report = app.relay(RelayConfig::default()).sweep().await.unwrap();
    assert_eq!(report.total(), 1, "the relay pushes the retried job");
    // Discard: the other leaves the list for good.
    admin::discard(p, r, &keys[1].1).await.unwrap();
    assert!(admin::failed(p, r, None, 50).await.unwrap().runs.is_empty());
    // Bad input changes nothing.
    assert!(
        admin::retry(p, r, &keys[1].1).await.is_err(),
        "a discarded run is not failed any more"
    );
    assert!(admin::retry(p, r, "not-a-key").await.is_err());
    assert!(
        admin::discard(p, r, &format!("{}:424242:0", t.tenant.id))
            .await
            .is_err()
    );
    assert!(admin::failed(p, r, Some("nope"), 50).await.is_err());
}

shape_tests!(
    a_handler_that_marks_its_own_effect_done_ends_its_run_done,
    a_delivery_after_a_crash_between_effect_and_run_end_closes_the_run,
);

#[derive(Debug, Serialize, Deserialize)]
struct SelfMarking {
    tenant_id: Uuid,
}

impl Job for SelfMarking {
    const NAME: &'static str = "test_self_marking";
    const QUEUE: Queue = Queue::Maintenance;
    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}

/// A runtime whose `test_self_marking` handler writes the processed mark in its own transaction.
fn self_marking_runtime(app: &TestApp) -> Runtime {
    let handlers = workers::handlers::all(workers::services::Services::none())
        .with::<SelfMarking, _, _>(
            RetryPolicy::default(),
            |_job: SelfMarking, ctx: JobCtx| async move {
                let txn = entities::db::begin_write(&ctx.db).await?;
                assert!(ctx.mark_done(&txn).await?, "the first mark is written");
                txn.commit().await?;
                Ok(())
            },
        );
    Runtime::new(app.app.platform.clone(), app.app.tenants.clone(), handlers)
}

async fn a_handler_that_marks_its_own_effect_done_ends_its_run_done(app: TestApp) {
    let t = app.tenant("acme").await;
    let db = app.tenant_db(&t).await;
    let env = enqueued(
        &db,
        &SelfMarking {
            tenant_id: t.tenant.id,
        },
    )
    .await;
    let rt = self_marking_runtime(&app);
    // On PostgreSQL the runtime's own mark used to fail the transaction that ends the run.
    assert_eq!(deliver(&rt, &env).await, Outcome::Done);
    let all = runs(&app, &t).await;
    assert_eq!(all.len(), 1);
    assert_eq!((all[0].status.as_str(), all[0].starts), ("done", 1));
    assert_eq!(processed(&app, &t).await, 1);
}

async fn a_delivery_after_a_crash_between_effect_and_run_end_closes_the_run(app: TestApp) {
    let t = app.tenant("acme").await;
    let db = app.tenant_db(&t).await;
    let env = enqueued(
        &db,
        &SelfMarking {
            tenant_id: t.tenant.id,
        },
    )
    .await;
    // A worker started the run, its handler committed effect and mark, and it died before the
    // run's end was recorded; its lease ran out long ago.
    running_run(
        &db,
        &env,
        1,
        entities::now() - chrono::Duration::minutes(1),
        None,
    )
    .await;
    processed_job::ActiveModel {
        key: Set(env.key()),
        job_name: Set(env.name.clone()),
        processed_at: Set(entities::now()),
    }
    .insert(&db)
    .await
    .unwrap();
    let rt = self_marking_runtime(&app);
    assert_eq!(deliver(&rt, &env).await, Outcome::Skipped);
    let all = runs(&app, &t).await;
    assert_eq!((all[0].status.as_str(), all[0].starts), ("done", 1));
    assert!(all[0].finished_at.is_some());
}

async fn after_a_burst_of_failures_a_new_job_starts_within_a_second(app: TestApp) {
    let t = app.tenant("acme").await;
    let db = app.tenant_db(&t).await;
    commit_all(
        &db,
        (0..40).map(|_| Broken {
            tenant_id: t.tenant.id,
        }),
    )
    .await;
    let _stop = start_workers(&app, runtime(&app, Arc::default()));
    wait_until("40 dead jobs", Duration::from_secs(30), || async {
        runs(&app, &t)
            .await
            .iter()
            .filter(|r| r.status == "dead")
            .count()
            == 40
    })
    .await;
    // The queue stays idle a while after the burst: an interval poller was seen to go quiet here.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let enqueued_at = entities::now();
    jobs::outbox::enqueue(
        &db,
        &Noop {
            tenant_id: t.tenant.id,
            n: 7,
        },
    )
    .await
    .unwrap();
    app.app.waker.wake(t.tenant.id);
    wait_until("the new job", Duration::from_secs(10), || async {
        processed(&app, &t).await == 1
    })
    .await;
    let run = runs(&app, &t)
        .await
        .into_iter()
        .find(|r| r.job_name == Noop::NAME)
        .unwrap();
    let waited = run.started_at - enqueued_at;
    let sent = outbox::Entity::find_by_id(run.outbox_id)
        .one(&db)
        .await
        .unwrap()
        .unwrap()
        .sent_at
        .unwrap();
    eprintln!(
        "pushed {} after commit, started {waited} after commit",
        sent - enqueued_at
    );
    assert!(
        waited < chrono::Duration::seconds(1),
        "the job started {waited} after it was committed"
    );
}
