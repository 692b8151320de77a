//! Process-level faults, bounded in time, on loopback (issue 3): worker processes killed with
//! SIGKILL mid-job, a job that aborts its process, Redis stopped under load, a 50,000-job
//! backlog. The workers are real `nexus_test_worker` processes (a `nexus worker` with the test job
//! kinds of `tests::faults`), with a 1 s × 3 heartbeat so a dead worker's jobs come back within
//! seconds. Every process is killed when its handle drops.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use entities::{jobs::tables::job_run, jobs::tables::outbox, jobs::tables::processed_job};
use jobs::noop::Noop;
use jobs::{Job, Queue};
use rand::Rng;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, NotSet, PaginatorTrait, QueryFilter, Set,
};
use tests::faults::{Abort, Sleep, counts, create_tables};
use tests::procs::{Proc, RedisServer};
use tests::{Shape, TestApp, TestTenant, shape_tests};
use workers::runtime::{Runtime, Status};

const WORKER: &str = env!("CARGO_BIN_EXE_nexus_test_worker");

/// The fault tests start several processes each. Most of their time is spent waiting (for
/// heartbeats to lapse, a process to die, Redis to come back), so a few run at once; more, and
/// two cores thrash.
static FAULT_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(3);

/// Worker processes as a supervisor keeps them: started, killed, and restarted.
struct Workers {
    vars: HashMap<String, String>,
    queues: String,
    logs: PathBuf,
    procs: Vec<Proc>,
    started: usize,
}

impl Workers {
    fn start(app: &TestApp, n: usize, concurrency: usize) -> Self {
        Self::start_on(app, n, concurrency, "maintenance", &[])
    }

    /// Workers of `queues` (comma-separated) with extra environment variables.
    fn start_on(
        app: &TestApp,
        n: usize,
        concurrency: usize,
        queues: &str,
        extra: &[(&str, &str)],
    ) -> Self {
        let mut vars = app.vars.clone();
        for (k, v) in extra {
            vars.insert((*k).into(), (*v).into());
        }
        for (k, v) in [
            ("NEXUS_QUEUE_HEARTBEAT", "1"),
            ("NEXUS_QUEUE_MISSED_HEARTBEATS", "3"),
            ("RUST_LOG", "warn"),
        ] {
            vars.insert(k.into(), v.into());
        }
        vars.insert("NEXUS_WORKER_CONCURRENCY".into(), concurrency.to_string());
        let mut w = Self {
            vars,
            queues: queues.to_owned(),
            logs: app.dir.path().to_owned(),
            procs: Vec::new(),
            started: 0,
        };
        for _ in 0..n {
            let p = w.spawn();
            w.procs.push(p);
        }
        w
    }

    fn spawn(&mut self) -> Proc {
        self.started += 1;
        let log = self.logs.join(format!("worker-{}.log", self.started));
        Proc::spawn(WORKER.as_ref(), &[self.queues.as_str()], &self.vars, &log)
    }

    /// SIGKILLs worker `i` and starts a new process in its place.
    fn kill_and_replace(&mut self, i: usize) {
        self.procs[i].kill();
        self.procs[i] = self.spawn();
    }

    /// Restarts every worker that has exited; returns how many.
    fn restart_exited(&mut self) -> usize {
        let mut n = 0;
        for i in 0..self.procs.len() {
            if let Some(status) = self.procs[i].exited() {
                eprintln!("worker slot {i} exited by itself ({status}); restarting it");
                self.procs[i] = self.spawn();
                n += 1;
            }
        }
        n
    }

    /// The log of every process started, in start order (exited and killed ones included).
    fn all_logs(&self) -> impl Iterator<Item = (PathBuf, String)> + '_ {
        (1..=self.started).map(|i| {
            let path = self.logs.join(format!("worker-{i}.log"));
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            (path, text)
        })
    }

    /// Lines containing `needle` in the logs of every process started.
    fn count_in_logs(&self, needle: &str) -> usize {
        self.all_logs()
            .map(|(_, text)| text.lines().filter(|l| l.contains(needle)).count())
            .sum()
    }

    /// The last lines of every process's log, so a failure shows why one exited by itself.
    fn logs(&self) -> String {
        self.all_logs()
            .map(|(path, text)| {
                let lines: Vec<&str> = text.lines().collect();
                let tail = lines[lines.len().saturating_sub(15)..].join("\n");
                format!("--- {} ---\n{tail}", path.display())
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Polls `count` every 100 ms until it reaches `target`; panics, with the workers' logs, once it
/// has not grown for `stall`. The limit is on progress, not on total time: a loaded 2-core
/// machine running the rest of the suite is slow, not stuck, and speed is measured in `bench/`,
/// not asserted here.
async fn wait_for<F, Fut>(
    what: &str,
    target: i64,
    stall: Duration,
    workers: &mut Workers,
    mut count: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = i64>,
{
    let (mut best, mut moved) = (i64::MIN, Instant::now());
    loop {
        let n = count().await;
        if n >= target {
            return;
        }
        if n > best {
            (best, moved) = (n, Instant::now());
        }
        assert!(
            moved.elapsed() < stall,
            "stuck at {best} of {target} for {stall:?} waiting for {what}\n{}",
            workers.logs()
        );
        workers.restart_exited();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs whose end is recorded as done.
async fn done_runs(db: &DatabaseConnection) -> i64 {
    let n = job_run::Entity::find()
        .filter(job_run::Column::Status.eq(Status::Done))
        .count(db)
        .await
        .unwrap();
    i64::try_from(n).unwrap()
}

async fn enqueue_sleeps(db: &DatabaseConnection, t: &TestTenant, n: usize, ms: (u64, u64)) {
    let txn = entities::db::begin_write(db).await.unwrap();
    for _ in 0..n {
        let ms = rand::rng().random_range(ms.0..=ms.1);
        jobs::outbox::enqueue(
            &txn,
            &Sleep {
                tenant_id: t.tenant.id,
                ms,
            },
        )
        .await
        .unwrap();
    }
    txn.commit().await.unwrap();
}

/// Effects: (rows, distinct jobs).
async fn effects(db: &DatabaseConnection) -> (i64, i64) {
    counts(db, "test_effects").await.unwrap()
}

/// Lost jobs, duplicate effects and duplicate runs, checked and printed.
async fn report(what: &str, app: &TestApp, db: &DatabaseConnection, jobs: i64, took: Duration) {
    let (rows, distinct) = effects(db).await;
    let (starts, started) = counts(db, "test_starts").await.unwrap();
    let lost = jobs - distinct;
    let duplicate_effects = rows - distinct;
    let duplicate_runs = starts - started;
    eprintln!(
        "{what} ({:?}): {jobs} jobs in {took:.1?}: lost {lost}, duplicate effects \
         {duplicate_effects}, duplicate runs {duplicate_runs} (starts {starts})",
        app.shape
    );
    assert_eq!(lost, 0, "lost jobs");
    assert_eq!(duplicate_effects, 0, "an effect committed twice");
    let marks = processed_job::Entity::find().count(db).await.unwrap();
    assert_eq!(
        i64::try_from(marks).unwrap(),
        jobs,
        "one processed mark per job"
    );
}

/// Runs that did not end as done (after every effect is in).
async fn unfinished_runs(db: &DatabaseConnection) -> Vec<job_run::Model> {
    job_run::Entity::find()
        .filter(job_run::Column::Status.ne(Status::Done))
        .all(db)
        .await
        .unwrap()
}

shape_tests!(
    workers_killed_mid_job_lose_no_job_and_commit_no_effect_twice,
    a_job_that_aborts_its_process_is_quarantined_after_three_starts_and_the_rest_finish,
    a_backlog_of_50000_committed_jobs_runs_once_each_when_the_workers_start,
    a_worker_killed_while_facturapi_stamps_leaves_the_invoice_stamped_once,
);

async fn workers_killed_mid_job_lose_no_job_and_commit_no_effect_twice(app: TestApp) {
    let _slot = FAULT_SLOTS.acquire().await.expect("fault slots");
    let t = app.tenant("acme").await;
    let db = app.tenant_db(&t).await;
    create_tables(&db).await.unwrap();
    const JOBS: i64 = 2_000;
    enqueue_sleeps(&db, &t, 2_000, (50, 300)).await;
    let start = Instant::now();
    let mut w = Workers::start(&app, 3, 20);
    // Kill a worker with a quarter of the jobs done, another at 60 %, each mid-job (20 run at
    // once in each process), and start a new process in its place as a supervisor would.
    for (victim, at) in [(0, JOBS / 4), (1, JOBS * 3 / 5)] {
        wait_for(
            &format!("{at} effects"),
            at,
            Duration::from_secs(60),
            &mut w,
            || async { effects(&db).await.1 },
        )
        .await;
        w.kill_and_replace(victim);
        eprintln!("SIGKILLed worker {victim} at {:?}", start.elapsed());
    }
    wait_for(
        "every job's effect",
        JOBS,
        Duration::from_secs(60),
        &mut w,
        || async { effects(&db).await.1 },
    )
    .await;
    let took = start.elapsed();
    // A run whose worker died after its effect committed stays `running` until its heartbeat
    // lapses and the job comes back to a live worker, which finds the mark and closes the run.
    wait_for(
        "every run's end",
        JOBS,
        Duration::from_secs(60),
        &mut w,
        || done_runs(&db),
    )
    .await;
    // A moment for late duplicates to show.
    tokio::time::sleep(Duration::from_secs(2)).await;
    report("SIGKILL mid-job", &app, &db, JOBS, took).await;
    assert_eq!(
        w.started,
        5,
        "no worker died but the two killed\n{}",
        w.logs()
    );
    let odd = unfinished_runs(&db).await;
    assert!(
        odd.is_empty(),
        "{} runs not done, e.g. {:?}",
        odd.len(),
        &odd[..odd.len().min(3)]
    );
}

async fn a_job_that_aborts_its_process_is_quarantined_after_three_starts_and_the_rest_finish(
    app: TestApp,
) {
    let _slot = FAULT_SLOTS.acquire().await.expect("fault slots");
    let t = app.tenant("acme").await;
    let db = app.tenant_db(&t).await;
    create_tables(&db).await.unwrap();
    enqueue_sleeps(&db, &t, 150, (10, 50)).await;
    let abort = jobs::outbox::enqueue(
        &db,
        &Abort {
            tenant_id: t.tenant.id,
        },
    )
    .await
    .unwrap();
    enqueue_sleeps(&db, &t, 150, (10, 50)).await;
    let start = Instant::now();
    let mut w = Workers::start(&app, 3, 10);
    let abort_run = || async {
        job_run::Entity::find()
            .filter(job_run::Column::OutboxId.eq(abort))
            .one(&db)
            .await
            .unwrap()
    };
    wait_for(
        "the aborting job's quarantine and every other job",
        301,
        Duration::from_secs(60),
        &mut w,
        || async {
            let quarantined = abort_run()
                .await
                .is_some_and(|r| r.status == Status::Quarantined);
            effects(&db).await.1 + i64::from(quarantined)
        },
    )
    .await;
    let took = start.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    w.restart_exited();
    let run = abort_run().await.unwrap();
    let key = format!("{}:{abort}", t.tenant.id);
    let aborted = tests::faults::counts(&db, "test_starts").await.unwrap();
    let abort_starts = starts_of(&db, &key).await;
    eprintln!(
        "abort ({:?}): quarantined after {abort_starts} starts in {took:.1?}, {} worker processes \
         started in all; starts of all jobs {aborted:?}; reason: {}",
        app.shape,
        w.started,
        run.last_error.clone().unwrap_or_default()
    );
    assert_eq!(
        i64::from(Runtime::MAX_STARTS),
        abort_starts,
        "the aborting job ran MAX_STARTS times, no more"
    );
    assert_eq!(run.starts, Runtime::MAX_STARTS + 1);
    assert!(
        w.started >= 3 + usize::try_from(Runtime::MAX_STARTS).unwrap(),
        "each start killed a worker"
    );
    let set_aside = job_run::Entity::find()
        .filter(job_run::Column::Status.ne(Status::Done))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(set_aside, 1, "only the aborting job is set aside");
    report("abort", &app, &db, 300, took).await;
    // The job is not marked processed; its outbox row carries the reason.
    let row = outbox::Entity::find_by_id(abort)
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.last_error.unwrap_or_default().contains("quarantined"));
}

async fn starts_of(db: &DatabaseConnection, key: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let sql = format!("SELECT count(*) AS n FROM test_starts WHERE job_key = '{key}'");
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

async fn a_backlog_of_50000_committed_jobs_runs_once_each_when_the_workers_start(app: TestApp) {
    let _slot = FAULT_SLOTS.acquire().await.expect("fault slots");
    const JOBS: u64 = 50_000;
    let t = app.tenant("acme").await;
    let db = app.tenant_db(&t).await;
    let start = Instant::now();
    let txn = entities::db::begin_write(&db).await.unwrap();
    let now = entities::now();
    for chunk in 0..JOBS / 1_000 {
        let rows = (0..1_000).map(|i| outbox::ActiveModel {
            id: NotSet,
            job_name: Set(Noop::NAME.into()),
            queue: Set(Noop::QUEUE.name().into()),
            payload: Set(serde_json::to_value(Noop {
                tenant_id: t.tenant.id,
                n: chunk * 1_000 + i,
            })
            .unwrap()),
            created_at: Set(now),
            available_at: Set(now),
            sent_at: Set(None),
            attempt: Set(0),
            relay_attempts: Set(0),
            last_error: Set(None),
        });
        outbox::Entity::insert_many(rows).exec(&txn).await.unwrap();
    }
    txn.commit().await.unwrap();
    eprintln!(
        "backlog: {JOBS} outbox rows committed in {:.1?}",
        start.elapsed()
    );
    assert_eq!(app.queues.waiting(Queue::Maintenance).await.unwrap(), 0);
    let start = Instant::now();
    let mut w = Workers::start(&app, 2, 20);
    let last = std::cell::Cell::new(Instant::now());
    let (last, db_ref) = (&last, &db);
    wait_for(
        "50,000 processed marks",
        i64::try_from(JOBS).unwrap(),
        Duration::from_secs(60),
        &mut w,
        || async move {
            let n = processed_job::Entity::find().count(db_ref).await.unwrap();
            if last.get().elapsed() > Duration::from_secs(10) {
                eprintln!("backlog: {n} done after {:.0?}", start.elapsed());
                last.set(Instant::now());
            }
            i64::try_from(n).unwrap()
        },
    )
    .await;
    let took = start.elapsed();
    eprintln!(
        "backlog ({:?}, {}): {JOBS} jobs drained in {took:.1?} = {:.0} jobs/s",
        app.shape,
        app.queues.name(),
        JOBS as f64 / took.as_secs_f64()
    );
    let odd = unfinished_runs(&db).await;
    assert!(
        odd.is_empty(),
        "{} runs not done, e.g. {:?}",
        odd.len(),
        &odd[..odd.len().min(3)]
    );
    let runs = job_run::Entity::find().count(&db).await.unwrap();
    assert_eq!(runs, JOBS, "one run per job");
    let twice = job_run::Entity::find()
        .filter(job_run::Column::Starts.ne(1))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(twice, 0, "no job started twice");
}

/// A distributed app on a private `redis-server` (a test may stop it) with the tenant `acme`;
/// `None`, with a note, where PostgreSQL or `redis-server` is missing.
async fn on_private_redis() -> Option<(tempfile::TempDir, RedisServer, TestApp, TestTenant)> {
    if std::env::var("NEXUS_TEST_POSTGRES_URL").is_err() {
        eprintln!("note: skipped: NEXUS_TEST_POSTGRES_URL not set");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let Some(redis) = RedisServer::start(dir.path()).await else {
        eprintln!("note: skipped: redis-server is not installed");
        return None;
    };
    let app = TestApp::with_redis(Shape::Distributed, Some(redis.url())).await;
    let t = app.tenant("acme").await;
    Some((dir, redis, app, t))
}

/// Redis stopped under load, then restarted on the same port: the API keeps answering and
/// committing, the outbox holds the work, and every job runs once Redis is back. Distributed
/// shape only (the embedded one has no Redis), on a private `redis-server`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_under_load_loses_no_job_and_the_api_keeps_committing() {
    let _slot = FAULT_SLOTS.acquire().await.expect("fault slots");
    let Some((_dir, mut redis, app, t)) = on_private_redis().await else {
        return;
    };
    let token = app.token(&t.owner_email).await;
    let db = app.tenant_db(&t).await;
    create_tables(&db).await.unwrap();
    enqueue_sleeps(&db, &t, 600, (20, 100)).await;
    let start = Instant::now();
    let mut w = Workers::start(&app, 2, 10);
    wait_for(
        "150 effects",
        150,
        Duration::from_secs(60),
        &mut w,
        || async { effects(&db).await.1 },
    )
    .await;
    redis.stop();
    let down = Instant::now();
    eprintln!("redis stopped at {:?}", start.elapsed());
    // While it is down the API answers and commits, and new jobs wait in the outbox.
    for i in 0..5 {
        let r = app.get("/healthz", None).await;
        assert_eq!(r.status, http::StatusCode::OK, "{}", r.text());
        let r = app
            .session(&token).post("/pos/api/branches", serde_json::json!({"code": format!("out-{i}"), "name": format!("Sucursal {i}"), "iva_rate": "0.16"}))
            .await;
        assert_eq!(r.status, http::StatusCode::CREATED, "{}", r.text());
        enqueue_sleeps(&db, &t, 40, (20, 100)).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        w.restart_exited();
    }
    let unsent = outbox::Entity::find()
        .filter(outbox::Column::SentAt.is_null())
        .count(&db)
        .await
        .unwrap();
    eprintln!(
        "redis down for {:.1?}; {unsent} outbox rows wait",
        down.elapsed()
    );
    assert!(unsent >= 200, "the jobs of the outage wait in the outbox");
    redis.restart().await;
    eprintln!("redis restarted at {:?}", start.elapsed());
    wait_for(
        "every job after the restart",
        800,
        Duration::from_secs(60),
        &mut w,
        || async { effects(&db).await.1 },
    )
    .await;
    let took = start.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    report("redis restart", &app, &db, 800, took).await;
    assert_eq!(
        w.started,
        2,
        "the worker processes outlive the outage\n{}",
        w.logs()
    );
    eprintln!(
        "worker restarts logged while Redis was down: {}",
        w.count_in_logs("restarting it")
    );
    drop(w);
    drop(app);
    redis.stop();
}

/// The `cfdi` worker is SIGKILLed after Facturapi stamped the invoice and before the answer came
/// back (the fake withholds it): the replacement finds the invoice by `external_id` instead of
/// stamping again.
async fn a_worker_killed_while_facturapi_stamps_leaves_the_invoice_stamped_once(app: TestApp) {
    use tests::fakes::facturapi::{FacturapiFake, Mode};
    let _slot = FAULT_SLOTS.acquire().await.expect("fault slots");
    let fake = FacturapiFake::start().await;
    fake.set_hang(Duration::from_secs(20));
    fake.push_modes(Mode::TimeoutAfterStamp, 1);
    let f = tests::cfdi::fiscal_shop(&app, "killed").await;
    let sale = f.sell(&app).await;
    let id = f.invoice(&app, &sale).await;
    let mut w = Workers::start_on(
        &app,
        1,
        4,
        "cfdi",
        &[("NEXUS_FACTURAPI_URL", fake.url.as_str())],
    );
    wait_for(
        "Facturapi to stamp the invoice",
        1,
        Duration::from_secs(60),
        &mut w,
        || async { i64::from(fake.stamp_count(&id) == 1) },
    )
    .await;
    // Facturapi has stamped it; its answer is still withheld: the worker dies mid-call.
    w.kill_and_replace(0);
    let start = Instant::now();
    let v = tests::cfdi::invoice_when(&app, &f.s.owner, &id, "valid").await;
    eprintln!(
        "killed mid-call ({:?}): valid {:.1?} after the kill, calls {}",
        app.shape,
        start.elapsed(),
        v["calls"]
    );
    assert_eq!(fake.stamp_count(&id), 1, "stamped once: {v}");
    let creates = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.external_id.as_deref() == Some(id.as_str()))
        .count();
    assert_eq!(
        creates, 1,
        "the replacement asked by external_id instead of creating again"
    );
    // The run ends after the invoice is valid (its files are fetched first).
    let run = || async {
        job_run::Entity::find()
            .filter(job_run::Column::JobName.eq("cfdi.stamp"))
            .one(&f.s.db)
            .await
            .unwrap()
            .unwrap()
    };
    wait_for(
        "the stamp run's end",
        1,
        Duration::from_secs(60),
        &mut w,
        || async { i64::from(run().await.status == Status::Done) },
    )
    .await;
    assert_eq!(run().await.starts, 2, "one start on each worker");
}

/// Redis killed under load and restarted **empty** (no persistence, or a failover to an empty
/// replica), with jobs waiting in it and jobs running (their worker killed): the outbox is the
/// one source of truth, so the relay pushes again every sent row whose run never started or
/// whose lease lapsed, and every job runs once, none left running. Distributed shape only, on a
/// private `redis-server`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_empty_with_jobs_waiting_and_running_runs_every_job_once() {
    let _slot = FAULT_SLOTS.acquire().await.expect("fault slots");
    let Some((dir, mut redis, app, t)) = on_private_redis().await else {
        return;
    };
    let db = app.tenant_db(&t).await;
    create_tables(&db).await.unwrap();
    enqueue_sleeps(&db, &t, 300, (100, 300)).await;
    let start = Instant::now();
    let mut w = Workers::start_on(
        &app,
        1,
        8,
        "maintenance",
        &[("NEXUS_OUTBOX_REPUSH_SECS", "3")],
    );
    wait_for(
        "40 effects",
        40,
        Duration::from_secs(60),
        &mut w,
        || async { effects(&db).await.1 },
    )
    .await;
    // Most jobs wait in Redis, some run. Kill it and bring it back with nothing in it.
    redis.stop();
    for entry in std::fs::read_dir(dir.path()).unwrap().flatten() {
        let name = entry.file_name();
        if name.to_string_lossy() != "redis.log" {
            let p = entry.path();
            let _ = if p.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
        }
    }
    redis.restart().await;
    eprintln!("redis restarted empty at {:?}", start.elapsed());
    // The worker process lives through the restart, as in production: it must go on taking
    // jobs (its apalis worker re-registers with the empty Redis), and the jobs Redis lost are
    // pushed again from the outbox.
    wait_for(
        "every job after the empty restart",
        300,
        Duration::from_secs(60),
        &mut w,
        || async { effects(&db).await.1 },
    )
    .await;
    let took = start.elapsed();
    // Runs that are finishing, or whose worker died, record their end.
    wait_for(
        "every run's end",
        300,
        Duration::from_secs(60),
        &mut w,
        || done_runs(&db),
    )
    .await;
    report("redis restarted empty", &app, &db, 300, took).await;
    let running = job_run::Entity::find()
        .filter(job_run::Column::Status.eq(Status::Running))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(running, 0, "no run left running");
    drop(w);
    drop(app);
    redis.stop();
}
