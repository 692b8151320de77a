//! What operators do with jobs: counts, the failed list, retry and discard. Behind `nexus jobs`
//! and the operator console.

use std::collections::BTreeMap;

use entities::registry::TenantRegistry;
use entities::{jobs::tables::job_run, jobs::tables::outbox};
use entities::{org::tables::tenant, org::tenants};
use jobs::{Queue, QueueBackend};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::runtime::Status;

/// Why an operator command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// A database failed.
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// Platform or tenant lookup failed.
    #[error(transparent)]
    Domain(#[from] entities::Error),
    /// The queue backend failed.
    #[error(transparent)]
    Backend(#[from] jobs::BackendError),
    /// The run does not exist (or the key is not a run key).
    #[error("{0}")]
    NotFound(String),
    /// The run exists but is not failed.
    #[error("{0}")]
    Invalid(String),
}

/// Counts of one queue.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct QueueStats {
    /// Jobs pushed and not yet fetched.
    pub waiting: u64,
    /// What the backend holds, by state.
    pub backend: jobs::backend::QueueCounts,
    /// Outbox rows not yet pushed (all tenants).
    pub outbox: u64,
    /// Outbox rows pushed more than [`UNSTARTED_AFTER`] ago (within a day) whose run never
    /// started, or whose worker died: jobs still waiting in a deep queue, or lost by it (Redis
    /// restarted empty) and about to be pushed again by the relay. Should fall to zero.
    pub unstarted: u64,
    /// Runs by status (all tenants).
    pub runs: BTreeMap<String, u64>,
}

/// A tenant whose database could not be read for an operator view, and why: the view shows the
/// others and names it, instead of failing for every tenant.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unreachable {
    /// The tenant's slug.
    pub tenant: String,
    /// The error.
    pub error: String,
}

/// Per-queue counts over every tenant, and the tenants that could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Counts per queue.
    pub queues: BTreeMap<&'static str, QueueStats>,
    /// Tenants left out.
    pub unreachable: Vec<Unreachable>,
}

/// Per-queue counts over every tenant; a tenant whose database fails is listed in
/// [`Stats::unreachable`] and the others are counted.
///
/// # Errors
/// The platform database or the queue backend failed.
pub async fn stats(
    platform: &DatabaseConnection,
    registry: &TenantRegistry,
    backend: &QueueBackend,
) -> Result<Stats, AdminError> {
    let mut out: BTreeMap<&'static str, QueueStats> = BTreeMap::new();
    for q in Queue::ALL {
        let counts = backend.counts(q).await?;
        let s = out.entry(q.name()).or_default();
        s.waiting = counts.waiting;
        s.backend = counts;
    }
    let mut unreachable = Vec::new();
    for t in tenants::list(platform).await? {
        if let Err(e) = count_tenant(registry, &t, &mut out).await {
            unreachable.push(Unreachable {
                tenant: t.slug.clone(),
                error: e.to_string(),
            });
        }
    }
    Ok(Stats {
        queues: out,
        unreachable,
    })
}

/// How long after its push a job with no run counts as [`QueueStats::unstarted`].
pub const UNSTARTED_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

async fn count_tenant(
    registry: &TenantRegistry,
    t: &tenant::Model,
    out: &mut BTreeMap<&'static str, QueueStats>,
) -> Result<(), AdminError> {
    {
        let db = registry.connection(t).await?;
        let now = entities::now();
        let before = now - chrono::Duration::from_std(UNSTARTED_AFTER).unwrap_or_default();
        let lease_before =
            now - chrono::Duration::from_std(crate::relay::LEASE_LAPSED).unwrap_or_default();
        for q in Queue::ALL {
            let s = out.entry(q.name()).or_default();
            s.outbox += outbox::unsent(q.name()).count(&db).await?;
            s.unstarted += outbox::count_unstarted(
                &db,
                q.name(),
                now - chrono::Duration::days(1),
                before,
                lease_before,
            )
            .await?;
            let rows: Vec<(String, i64)> = job_run::Entity::find()
                .select_only()
                .column(job_run::Column::Status)
                .column_as(job_run::Column::PushKey.count(), "n")
                .filter(job_run::Column::Queue.eq(q.name()))
                .group_by(job_run::Column::Status)
                .into_tuple()
                .all(&db)
                .await?;
            for (st, n) in rows {
                *s.runs.entry(st).or_default() += u64::try_from(n).unwrap_or(0);
            }
        }
    }
    Ok(())
}

/// A failed run, with its tenant.
#[derive(Debug, Clone)]
pub struct FailedRun {
    /// The tenant's slug.
    pub tenant: String,
    /// The run.
    pub run: job_run::Model,
}

/// Dead and quarantined runs, and the tenants that could not be read.
#[derive(Debug, Clone, Default)]
pub struct Failed {
    /// Newest first.
    pub runs: Vec<FailedRun>,
    /// Tenants left out.
    pub unreachable: Vec<Unreachable>,
}

/// Dead and quarantined runs, newest first, at most `limit`, optionally of one tenant; a tenant
/// whose database fails is listed in [`Failed::unreachable`] and the others are read.
///
/// # Errors
/// The platform database failed; an unknown tenant slug.
pub async fn failed(
    platform: &DatabaseConnection,
    registry: &TenantRegistry,
    tenant_slug: Option<&str>,
    limit: u64,
) -> Result<Failed, AdminError> {
    let ts: Vec<tenant::Model> = match tenant_slug {
        Some(slug) => vec![tenants::find_by_slug(platform, slug).await?],
        None => tenants::list(platform).await?,
    };
    let mut out = Vec::new();
    let mut unreachable = Vec::new();
    for t in ts {
        let runs = async {
            let db = registry.connection(&t).await?;
            Ok::<_, AdminError>(
                job_run::Entity::find()
                    .filter(job_run::Column::Status.is_in([Status::Dead, Status::Quarantined]))
                    .order_by_desc(job_run::Column::StartedAt)
                    .limit(limit)
                    .all(&db)
                    .await?,
            )
        }
        .await;
        match runs {
            Ok(runs) => out.extend(runs.into_iter().map(|run| FailedRun {
                tenant: t.slug.clone(),
                run,
            })),
            Err(e) => unreachable.push(Unreachable {
                tenant: t.slug.clone(),
                error: e.to_string(),
            }),
        }
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.run.started_at));
    out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(Failed {
        runs: out,
        unreachable,
    })
}

async fn failed_run(
    platform: &DatabaseConnection,
    registry: &TenantRegistry,
    push_key: &str,
) -> Result<(DatabaseConnection, job_run::Model), AdminError> {
    let bad = || {
        AdminError::NotFound(format!(
            "`{push_key}` is not a run key (tenant:outbox_id:attempt)"
        ))
    };
    let tenant_id: uuid::Uuid = push_key
        .split(':')
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    let t = tenants::find(platform, tenant_id)
        .await
        .map_err(|_| bad())?;
    let db = registry.connection(&t).await?;
    let run = job_run::Entity::find_by_id(push_key.to_owned())
        .one(&db)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("no run `{push_key}`")))?;
    if run.status != Status::Dead && run.status != Status::Quarantined {
        return Err(AdminError::Invalid(format!(
            "run `{push_key}` is {}, not dead or quarantined",
            run.status
        )));
    }
    Ok((db, run))
}

/// Runs a failed job again, as a new run (a new attempt, so the backend does not take it for a
/// duplicate); the relay pushes it on its next pass. Returns the new run's key.
///
/// # Errors
/// [`AdminError::NotFound`] when the run is unknown, [`AdminError::Invalid`] when it is not failed.
pub async fn retry(
    platform: &DatabaseConnection,
    registry: &TenantRegistry,
    push_key: &str,
) -> Result<String, AdminError> {
    let (db, run) = failed_run(platform, registry, push_key).await?;
    let next = run.attempt + 1;
    let txn = entities::db::begin_write(&db).await?;
    outbox::requeue(&txn, run.outbox_id, next, entities::now(), None).await?;
    set_status(&txn, push_key, Status::Retried).await?;
    txn.commit().await?;
    let tenant = push_key.split(':').next().unwrap_or_default();
    Ok(format!("{tenant}:{}:{next}", run.outbox_id))
}

/// Gives up on a failed run for good: it leaves the failed list.
///
/// # Errors
/// [`AdminError::NotFound`] when the run is unknown, [`AdminError::Invalid`] when it is not failed.
pub async fn discard(
    platform: &DatabaseConnection,
    registry: &TenantRegistry,
    push_key: &str,
) -> Result<(), AdminError> {
    let (db, _) = failed_run(platform, registry, push_key).await?;
    set_status(&db, push_key, Status::Discarded).await
}

async fn set_status(
    db: &impl sea_orm::ConnectionTrait,
    push_key: &str,
    st: Status,
) -> Result<(), AdminError> {
    job_run::Entity::update_many()
        .col_expr(job_run::Column::Status, Expr::value(st))
        .filter(job_run::Column::PushKey.eq(push_key))
        .exec(db)
        .await?;
    Ok(())
}
