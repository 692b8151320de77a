//! Worker pools: one apalis worker per queue, with Nexus's settings, run under one monitor.

use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::*;
use jobs::backend::Engine;
use jobs::{Queue, QueueBackend};

use crate::runtime::{Outcome, Runtime};

/// Settings of the pools of one process.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// The queues this process serves.
    pub queues: Vec<Queue>,
    /// Jobs run at once per queue.
    pub concurrency: usize,
    /// How often an idle worker looks for new jobs.
    pub poll: Duration,
    /// Jobs fetched per round trip.
    pub batch: usize,
    /// How long shutdown waits for running jobs before handing them back.
    pub shutdown_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            queues: Queue::ALL.to_vec(),
            concurrency: 20,
            poll: Duration::from_millis(50),
            batch: 100,
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

/// Why the pools stopped.
#[derive(Debug, thiserror::Error)]
#[error("worker pools: {0}")]
pub struct PoolError(String);

/// A queue idle this long is polled at [`IDLE_POLL`] instead of its configured interval.
const IDLE_AFTER: Duration = Duration::from_secs(5);
/// How often an idle queue is polled; a push from this process wakes it at once anyway.
const IDLE_POLL: Duration = Duration::from_millis(250);

/// When a worker looks for jobs: at once after a push from this process (the relay, or the
/// bench), every `busy` while the queue has work, every [`IDLE_POLL`] once it has been idle for
/// [`IDLE_AFTER`] (eight queues polling every 50 ms cost 14 % of a core on an idle store).
///
/// Written because apalis 1.0's `IntervalStrategy` re-arms its timer without polling it, so no
/// wake-up is registered: an idle worker then sleeps until something else wakes it (its
/// heartbeat, 5 s), which is how "an interval poller goes quiet after a burst"
/// (`docs/jobs.md`). Every timer and signal here is polled as soon as it is made.
pub(crate) struct Ticker {
    queue: Queue,
    busy: Duration,
    idle: Duration,
    sleep: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
    sleeping_for: Duration,
    pushed: std::pin::Pin<Box<tokio::sync::futures::Notified<'static>>>,
}

impl Ticker {
    pub(crate) fn new(queue: Queue, busy: Duration) -> Self {
        Self {
            queue,
            busy,
            idle: IDLE_POLL.max(busy),
            sleep: None,
            sleeping_for: Duration::ZERO,
            pushed: Box::pin(jobs::backend::pushed(queue).notified()),
        }
    }
}

impl PollStrategy for Ticker {
    fn poll_drive(
        &mut self,
        cx: &mut std::task::Context<'_>,
        _: &PollSnapshot,
    ) -> std::task::Poll<Option<()>> {
        use std::task::Poll;
        if self.pushed.as_mut().poll(cx).is_ready() {
            let mut next = Box::pin(jobs::backend::pushed(self.queue).notified());
            // Registers interest now: a push before the next poll must not be missed.
            let _ = next.as_mut().poll(cx);
            self.pushed = next;
            return Poll::Ready(Some(()));
        }
        let every = if crate::activity::idle_for(self.queue) >= IDLE_AFTER {
            self.idle
        } else {
            self.busy
        };
        if every < self.sleeping_for {
            // Busy again: do not finish a long idle sleep first.
            self.sleep = None;
        }
        if self.sleep.is_none() {
            self.sleeping_for = every;
        }
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(every)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                let mut next = Box::pin(tokio::time::sleep(every));
                // Registers the waker for the next tick; a fresh timer is never ready at once.
                let _ = next.as_mut().poll(cx);
                self.sleep = Some(next);
                self.sleeping_for = every;
                Poll::Ready(Some(()))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The apalis handler of every queue: the payload stays raw JSON so that a malformed one reaches
/// our runtime (and dies there with a reason) instead of stopping the worker.
async fn handle(raw: serde_json::Value, rt: Data<Arc<Runtime>>) -> Result<(), BoxDynError> {
    match rt.execute(raw).await {
        // Deferred: the outbox row runs once its tenant's database answers. Handing the error to
        // apalis instead would have it retried on apalis's terms, then buried with no run
        // recorded.
        Outcome::Done | Outcome::Skipped | Outcome::Retrying { .. } | Outcome::Deferred(_) => {
            Ok(())
        }
        Outcome::Dead(reason) | Outcome::Quarantined(reason) => {
            tracing::warn!("job dead: {reason}");
            Err(AbortError::new(reason).into())
        }
    }
}

/// A worker name unique to this process start and restart, as apalis needs.
fn worker_name(backend: &QueueBackend, queue: Queue, run: &str, restarts: usize) -> String {
    format!(
        "{}-{}-{}-{run}-{restarts}",
        backend.namespace,
        queue.name(),
        std::process::id()
    )
}

/// Runs the pools until `shutdown` completes, then lets running jobs finish (up to the timeout)
/// and hands fetched-but-unstarted ones back to the queue.
///
/// # Errors
/// When the monitor fails.
pub async fn run<S>(
    backend: QueueBackend,
    runtime: Arc<Runtime>,
    cfg: PoolConfig,
    shutdown: S,
) -> Result<(), PoolError>
where
    S: std::future::Future<Output = ()> + Send,
{
    let run = uuid::Uuid::now_v7().simple().to_string();
    // Down tenants are probed beside the workers, never inside a delivery.
    let probes = {
        let rt = runtime.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Runtime::PROBE_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                rt.recover_tenants().await;
            }
        })
    };
    let mut monitor = Monitor::new()
        .shutdown_timeout(cfg.shutdown_timeout)
        .should_restart(|ctx, e| {
            // A worker stops on a backend error (Redis gone, a poll failure): start it again so a
            // queue never goes quiet while jobs wait.
            tracing::warn!("worker {} stopped ({e}); restarting it", ctx.name());
            true
        });
    for q in cfg.queues.iter().copied() {
        let (rt, c, poll, batch, name_backend, run) = (
            runtime.clone(),
            cfg.concurrency,
            cfg.poll,
            cfg.batch,
            backend.clone(),
            run.clone(),
        );
        match &backend.engine {
            Engine::Redis(conn) => {
                let storage = backend.redis_storage::<serde_json::Value>(conn, q, batch);
                monitor = monitor.register(move |restarts| {
                    WorkerBuilder::new(worker_name(&name_backend, q, &run, restarts))
                        .backend(storage.clone().poll_with_strategy(Ticker::new(q, poll)))
                        .data(rt.clone())
                        .concurrency(c)
                        .build(handle)
                });
            }
            Engine::Sqlite(pool) => {
                let storage = backend.sqlite_storage::<serde_json::Value>(pool, q, batch);
                monitor = monitor.register(move |restarts| {
                    WorkerBuilder::new(worker_name(&name_backend, q, &run, restarts))
                        .backend(storage.clone().poll_with_strategy(Ticker::new(q, poll)))
                        .data(rt.clone())
                        .concurrency(c)
                        .build(handle)
                });
            }
        }
    }
    let ran = monitor
        .run_with_signal(async {
            shutdown.await;
            Ok(())
        })
        .await
        .map_err(|e| PoolError(e.to_string()));
    probes.abort();
    ran
}
