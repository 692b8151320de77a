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

/// The apalis handler of every queue: the payload stays raw JSON so that a malformed one reaches
/// our runtime (and dies there with a reason) instead of stopping the worker.
async fn handle(raw: serde_json::Value, rt: Data<Arc<Runtime>>) -> Result<(), BoxDynError> {
    match rt.execute(raw).await {
        Ok(Outcome::Done | Outcome::Skipped | Outcome::Retrying { .. }) => Ok(()),
        Ok(Outcome::Dead(reason) | Outcome::Quarantined(reason)) => {
            tracing::warn!("job dead: {reason}");
            Err(AbortError::new(reason).into())
        }
        // Nothing could be recorded (the tenant database is down): let the backend deliver it
        // again.
        Err(e) => Err(e.into()),
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
                        .backend(storage.clone().poll_with_interval(poll))
                        .data(rt.clone())
                        .concurrency(c)
                        .build(handle)
                });
            }
            Engine::Sqlite(pool) => {
                let storage = backend.sqlite_storage::<serde_json::Value>(pool, q, batch);
                monitor = monitor.register(move |restarts| {
                    WorkerBuilder::new(worker_name(&name_backend, q, &run, restarts))
                        .backend(storage.clone().poll_with_interval(poll))
                        .data(rt.clone())
                        .concurrency(c)
                        .build(handle)
                });
            }
        }
    }
    monitor
        .run_with_signal(async {
            shutdown.await;
            Ok(())
        })
        .await
        .map_err(|e| PoolError(e.to_string()))
}
