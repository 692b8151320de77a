//! `nexus worker` with the test-only job kinds of [`tests::faults`]: the outbox relay and worker
//! pools, built from the same environment variables, so the fault tests can kill real processes.
//!
//! Usage: `nexus_test_worker [queues]` (comma-separated; `maintenance` when absent).

use std::process::ExitCode;

use anyhow::{Context, Result};
use jobs::Queue;

fn main() -> ExitCode {
    let cfg = match ops::config::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    ops::telemetry::init(cfg.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cfg)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn queues() -> Result<Vec<Queue>> {
    let arg = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "maintenance".into());
    arg.split(',')
        .map(|n| Queue::from_name(n.trim()).with_context(|| format!("unknown queue `{n}`")))
        .collect()
}

/// Exits when the process that started this one is gone: the test's Drop paths kill workers,
/// but a test binary killed outright (a CI timeout) runs none, and a worker must not outlive it.
fn exit_with_parent() {
    let parent = std::os::unix::process::parent_id();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            if std::os::unix::process::parent_id() != parent {
                eprintln!("nexus_test_worker: the test process is gone; exiting");
                std::process::exit(1);
            }
        }
    });
}

async fn run(cfg: ops::config::Config) -> Result<()> {
    exit_with_parent();
    let queues = queues()?;
    let app = ops::app::build(cfg, prometheus::Registry::new(), false).await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let relay = app.spawn_relay(stopped.clone())?;
    let work = app.run_workers_with(
        tests::faults::handlers(app.services.clone()),
        queues,
        stopped,
    );
    tokio::pin!(work);
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("listening for SIGTERM")?;
    eprintln!("nexus_test_worker {} ready", std::process::id());
    let result = tokio::select! {
        r = &mut work => r,
        _ = term.recv() => {
            let _ = stop.send(true);
            work.await
        }
    };
    let _ = stop.send(true);
    let _ = relay.await;
    app.tenants.close_all().await;
    result
}
