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

/// Polls `f` every 20 ms until it is true; panics naming `what` after `limit`.
pub async fn wait_until<F, Fut>(what: &str, limit: Duration, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !f().await {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
