//! `nexus bench jobs`: Nexus's whole job path (outbox commit, relay, worker pools, runtime with
//! its start counter and processed mark) on the configured shape, as the queue benchmark cannot
//! show it (that one measures the backend alone).

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use entities::jobs::tables::processed_job;
use entities::org::tenants::NewTenant;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde::Serialize;

use crate::app;
use crate::config::Config;
use crate::provision::{self, TenantSpec};

/// What one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineBench {
    /// `redis` or `sqlite`.
    pub backend: &'static str,
    /// Jobs run.
    pub jobs: u64,
    /// Outbox rows committed per second (1,000 per transaction).
    pub commit_per_s: f64,
    /// Jobs per second from the workers' start until every processed mark is written.
    pub end_to_end_per_s: f64,
}

/// Commits `jobs` no-op jobs for a fresh tenant while no worker runs, then starts the relay and
/// every pool and times until all are processed.
///
/// # Errors
/// When a database or the queue backend fails, or the jobs do not finish within 10 minutes.
pub async fn run(mut cfg: Config, jobs: u64) -> Result<PipelineBench> {
    cfg.queue_namespace = format!("{}-benchjobs", cfg.queue_namespace);
    let backend = app::queue_backend(&cfg).await?;
    backend.purge().await?;
    let app = app::build(cfg, prometheus::Registry::new(), true).await?;
    let slug = format!("bench{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    let created = provision::create_tenant(
        &app.platform,
        &app.tenants,
        TenantSpec {
            tenant: NewTenant {
                slug: slug.clone(),
                name: "Bench".into(),
                rfc: "ACM010101ABC".into(),
                db_url: None,
            },
            owner_email: format!("owner@{slug}.bench"),
            owner_name: "Bench".into(),
            owner_password: uuid::Uuid::now_v7().to_string(),
        },
    )
    .await
    .context("creating the bench tenant")?;
    let tenant = created.tenant;
    let db = app.tenants.connection(&tenant).await?;

    let started = Instant::now();
    let mut n = 0u64;
    while n < jobs {
        let txn = entities::db::begin_write(&db).await?;
        for _ in 0..1_000.min(jobs - n) {
            jobs::outbox::enqueue(
                &txn,
                &jobs::noop::Noop {
                    tenant_id: tenant.id,
                    n,
                },
            )
            .await?;
            n += 1;
        }
        txn.commit().await?;
    }
    let commit_per_s = secs_rate(jobs, started.elapsed());

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let relay = app.spawn_relay(stopped.clone())?;
    let pools = {
        let stopped = stopped.clone();
        let app_ref = &app;
        async move {
            app_ref
                .run_workers(jobs::Queue::ALL.to_vec(), stopped)
                .await
        }
    };
    let wait = async {
        loop {
            let done = processed_job::Entity::find().count(&db).await?;
            if done >= jobs {
                return Ok::<_, anyhow::Error>(started.elapsed());
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(600),
                "{done} of {jobs} jobs ran in 10 minutes"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::pin!(pools);
    let took = tokio::select! {
        r = wait => r?,
        r = &mut pools => {
            r?;
            anyhow::bail!("the worker pools stopped early");
        }
    };
    let _ = stop.send(true);
    pools.await?;
    let _ = relay.await;
    let backend_name = backend.name();
    backend.purge().await?;
    app.tenants.close_all().await;
    Ok(PipelineBench {
        backend: backend_name,
        jobs,
        commit_per_s,
        end_to_end_per_s: secs_rate(jobs, took),
    })
}

#[expect(clippy::cast_precision_loss, reason = "job counts fit f64 exactly")]
fn secs_rate(n: u64, took: Duration) -> f64 {
    n as f64 / took.as_secs_f64().max(f64::EPSILON)
}
