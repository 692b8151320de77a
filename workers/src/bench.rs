//! `nexus bench queue`: the queue backend's speed with Nexus's settings, measured the same way as
//! the BullMQ and Celery scripts in `bench/queue/` (see there).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use apalis::prelude::*;
use jobs::backend::Engine;
use jobs::{Envelope, Queue, QueueBackend};
use serde::Serialize;

/// The figures of one run.
#[derive(Debug, Clone, Serialize)]
pub struct QueueBench {
    /// `redis` or `sqlite`.
    pub backend: &'static str,
    /// Jobs per phase.
    pub jobs: usize,
    /// Pushes one call per job, jobs/s.
    pub enqueue_per_s: f64,
    /// Pushes in chunks of 1,000, jobs/s.
    pub enqueue_bulk_per_s: f64,
    /// One worker process draining the bulk-pushed jobs, jobs/s.
    pub drain_per_s: f64,
    /// Push of one job to an idle worker until its handler starts, median of 50, ms.
    pub idle_latency_ms: f64,
}

/// Why the benchmark stopped.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The backend failed.
    #[error(transparent)]
    Backend(#[from] jobs::BackendError),
    /// Jobs did not finish in time.
    #[error("{0}")]
    Stalled(String),
}

const QUEUE: Queue = Queue::Maintenance;

fn micros_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

fn envelope(n: u64) -> Envelope {
    Envelope {
        name: "noop".into(),
        tenant_id: uuid::Uuid::nil(),
        outbox_id: i64::try_from(n).unwrap_or(i64::MAX),
        attempt: 0,
        payload: serde_json::json!({"n": n, "t": micros_now()}),
        due_at_us: None,
        requeued: 0,
    }
}

#[derive(Default)]
struct Seen {
    count: AtomicUsize,
    latencies_us: Mutex<Vec<u64>>,
}

/// A no-op handler that counts and, for latency, notes how long the job waited.
async fn count(raw: serde_json::Value, seen: Data<Arc<Seen>>) -> Result<(), BoxDynError> {
    if let Some(t) = raw
        .pointer("/payload/t")
        .and_then(serde_json::Value::as_u64)
    {
        let waited = micros_now().saturating_sub(t);
        if let Ok(mut l) = seen.latencies_us.lock() {
            l.push(waited);
        }
    }
    seen.count.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

async fn wait_for(seen: &Seen, n: usize, limit: Duration) -> Result<(), BenchError> {
    let start = Instant::now();
    while seen.count.load(Ordering::SeqCst) < n {
        if start.elapsed() > limit {
            return Err(BenchError::Stalled(format!(
                "{} of {n} jobs ran in {limit:?}",
                seen.count.load(Ordering::SeqCst)
            )));
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    Ok(())
}

/// Runs the benchmark in `backend`'s namespace (which it purges before and after). `jobs` is
/// capped at 7,000: past ~8,000 due jobs apalis-redis fails every fetch, which is why Nexus
/// feeds queues through a bounded window.
///
/// # Errors
/// Backend failures, or jobs that do not finish within two minutes.
pub async fn queue(
    backend: QueueBackend,
    jobs: usize,
    poll: Duration,
) -> Result<QueueBench, BenchError> {
    let jobs = jobs.clamp(1, 7_000);
    backend.purge().await?;

    let t = Instant::now();
    for n in 0..jobs as u64 {
        backend.push(QUEUE, vec![envelope(n)]).await?;
    }
    let enqueue_per_s = jobs as f64 / t.elapsed().as_secs_f64();
    backend.purge().await?;

    let all: Vec<Envelope> = (0..jobs as u64).map(|n| envelope(1_000_000 + n)).collect();
    let t = Instant::now();
    for chunk in all.chunks(1_000) {
        backend.push(QUEUE, chunk.to_vec()).await?;
    }
    let enqueue_bulk_per_s = jobs as f64 / t.elapsed().as_secs_f64();

    let seen = Arc::new(Seen::default());
    let name = format!(
        "{}-bench-{}",
        backend.namespace,
        uuid::Uuid::now_v7().simple()
    );
    let measure = async {
        let t = Instant::now();
        wait_for(&seen, jobs, Duration::from_secs(120)).await?;
        let drain_per_s = jobs as f64 / t.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_millis(500)).await;
        if let Ok(mut l) = seen.latencies_us.lock() {
            l.clear();
        }
        for i in 0..50u64 {
            let before = seen.count.load(Ordering::SeqCst);
            backend.push(QUEUE, vec![envelope(2_000_000 + i)]).await?;
            wait_for(&seen, before + 1, Duration::from_secs(10)).await?;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut l = seen
            .latencies_us
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default();
        l.sort_unstable();
        let idle_latency_ms = l.get(l.len() / 2).copied().unwrap_or(0) as f64 / 1000.0;
        Ok::<_, BenchError>((drain_per_s, idle_latency_ms))
    };
    let (drain_per_s, idle_latency_ms) = match &backend.engine {
        Engine::Redis(conn) => {
            let worker = WorkerBuilder::new(name)
                .backend(
                    backend
                        .redis_storage::<serde_json::Value>(conn, QUEUE, 200)
                        .poll_with_strategy(crate::pool::Ticker::new(QUEUE, poll)),
                )
                .data(seen.clone())
                .concurrency(100)
                .build(count);
            tokio::select! {
                r = measure => r?,
                r = worker.run() => return Err(BenchError::Stalled(format!("the worker stopped: {:?}", r.err()))),
            }
        }
        Engine::Sqlite(pool) => {
            let worker = WorkerBuilder::new(name)
                .backend(
                    backend
                        .sqlite_storage::<serde_json::Value>(pool, QUEUE, 200)
                        .poll_with_strategy(crate::pool::Ticker::new(QUEUE, poll)),
                )
                .data(seen.clone())
                .concurrency(100)
                .build(count);
            tokio::select! {
                r = measure => r?,
                r = worker.run() => return Err(BenchError::Stalled(format!("the worker stopped: {:?}", r.err()))),
            }
        }
    };
    backend.purge().await?;
    Ok(QueueBench {
        backend: backend.name(),
        jobs,
        enqueue_per_s,
        enqueue_bulk_per_s,
        drain_per_s,
        idle_latency_ms,
    })
}
