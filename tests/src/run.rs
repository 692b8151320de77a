//! Running the job machinery inside a test: the relay and worker pools, and waiting for effects.

use std::sync::Arc;
use std::time::{Duration, Instant};

use workers::pool::PoolConfig;
use workers::relay::RelayConfig;
use workers::runtime::Runtime;

use crate::TestApp;

/// Starts a relay (fast sweeps) and the pools (on a runtime of their own, as in a worker
/// process); stops both when the returned sender is dropped or sent `true`.
#[must_use]
pub fn start_workers(app: &TestApp, rt: Arc<Runtime>) -> tokio::sync::watch::Sender<bool> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let relay = Arc::new(app.relay(RelayConfig {
        sweep_every: Duration::from_millis(50),
        ..RelayConfig::default()
    }));
    tokio::spawn(relay.run(stopped.clone()));
    let backend = app.queues.clone();
    let cfg = PoolConfig {
        poll: Duration::from_millis(20),
        concurrency: 10,
        ..PoolConfig::default()
    };
    std::thread::spawn(move || {
        let rt_tokio = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("worker runtime");
        rt_tokio.block_on(async move {
            let _ = workers::pool::run(backend, rt, cfg, ops::app::stopped(stopped)).await;
        });
        // Never shut down: PostgreSQL connections opened here go back to the pool the test
        // shares, and a later query of the test may take one; the I/O driver of a runtime being
        // shut down would fail it ("A Tokio 1.x context was found, but it is being shutdown").
        // The runtime's idle threads live until the test process ends.
        std::mem::forget(rt_tokio);
    });
    stop
}

/// The least a test waits for something that should happen before it calls it stuck. The whole
/// suite runs at once on two cores in CI, where a step that takes a second alone can take a
/// minute; a limit only decides how soon a hung test fails, never whether a slow one passes
/// (speed is measured in `bench/`).
pub const PATIENCE: Duration = Duration::from_secs(120);

/// `limit`, or [`PATIENCE`] when that is longer.
#[must_use]
pub fn patience(limit: Duration) -> Duration {
    limit.max(PATIENCE)
}

/// Polls `f` every 20 ms until it is true; panics naming `what` after `limit` (at least
/// [`PATIENCE`]).
pub async fn wait_until<F, Fut>(what: &str, limit: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let limit = patience(limit);
    let start = Instant::now();
    while !f().await {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl TestApp {
    /// Runs every due job of every tenant in the test's own task, as the relay and a worker
    /// would, until none is due: each outbox row is marked sent and delivered to `rt` (its run
    /// recorded, its effect and processed mark written by the handler), and jobs those jobs
    /// enqueue run in the next round. Deterministic: no pools, no polling, no sleeps. A job
    /// retried later (its row due in the future) is left for a later call. Answers how many
    /// deliveries ran.
    ///
    /// Tests about the queues themselves (relay, pools, crashes) start real ones instead
    /// ([`start_workers`]).
    pub async fn run_pending_jobs(&self, rt: &Runtime) -> usize {
        use entities::jobs::tables::outbox;
        // Rows picked up and skipped by a handler still count: the loop ends only when a round
        // finds nothing due.
        use sea_orm::{EntityTrait, QueryFilter, QueryOrder};
        let mut ran = 0;
        // A bound, so a job that enqueues itself forever fails the test instead of hanging it.
        for _ in 0..50 {
            let mut round = 0;
            for t in entities::org::tenants::list(&self.app.platform)
                .await
                .expect("tenants")
            {
                let db = self.app.tenants.connection(&t).await.expect("tenant db");
                let due = outbox::Entity::find()
                    .filter(
                        sea_orm::Condition::all()
                            .add(sea_orm::ColumnTrait::is_null(&outbox::Column::SentAt))
                            .add(sea_orm::ColumnTrait::lte(
                                &outbox::Column::AvailableAt,
                                entities::now(),
                            )),
                    )
                    .order_by_asc(outbox::Column::Id)
                    .all(&db)
                    .await
                    .expect("due outbox rows");
                for row in due {
                    outbox::mark_sent(&db, &[(row.id, row.attempt)], entities::now())
                        .await
                        .expect("mark sent");
                    let env = jobs::Envelope::of_outbox_row(row, t.id);
                    let outcome = rt
                        .execute(serde_json::to_value(&env).expect("envelope"))
                        .await;
                    // A test's tenant database does not go down unless the test breaks it.
                    assert!(
                        !matches!(outcome, workers::runtime::Outcome::Deferred(_)),
                        "delivery deferred: {outcome:?}"
                    );
                    round += 1;
                }
            }
            if round == 0 {
                return ran;
            }
            ran += round;
        }
        panic!("jobs kept enqueuing jobs for 50 rounds ({ran} deliveries)");
    }
}

/// Where [`TestApp::drive_jobs`] keeps the runtime it delivers through.
pub(crate) type DriverSlot = Arc<std::sync::Mutex<Option<Arc<Runtime>>>>;

/// While alive, [`TestApp::run_jobs`] delivers through its runtime; dropping it stops that, as
/// stopping the workers would.
#[must_use = "the jobs are driven only while the guard lives"]
pub struct Driving {
    slot: DriverSlot,
}

impl Drop for Driving {
    fn drop(&mut self) {
        *self
            .slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
}

impl TestApp {
    /// Has the test run its jobs itself through `rt`: [`TestApp::run_jobs`] (and the waits of
    /// the harness, such as `tests::cfdi::invoice_when`) deliver every due job in the test's own
    /// task, so when they return nothing is in flight and an assertion that something happened
    /// once is final. Jobs due later (a retry after `Retry-After`) run when their time comes.
    pub fn drive_jobs(&self, rt: Arc<Runtime>) -> Driving {
        *self
            .driver
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(rt);
        Driving {
            slot: self.driver.clone(),
        }
    }

    /// Runs every due job through the runtime of [`TestApp::drive_jobs`]; `None` when the
    /// test drives none (real workers, if any, do the work).
    pub async fn run_jobs(&self) -> Option<usize> {
        let rt = self
            .driver
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()?;
        Some(self.run_pending_jobs(&rt).await)
    }

    /// Runs due jobs (when the test drives them) and checks `f`, until it holds; panics naming
    /// `what` after `limit` (at least [`PATIENCE`]). Between rounds it sleeps only while a job
    /// waits for its time.
    pub async fn wait_until<F, Fut>(&self, what: &str, limit: Duration, mut f: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let limit = patience(limit);
        let start = Instant::now();
        loop {
            self.run_jobs().await;
            if f().await {
                return;
            }
            assert!(start.elapsed() < limit, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
