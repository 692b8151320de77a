//! Job kinds for the process-level fault tests, run by the `nexus_test_worker` binary beside
//! every production kind:
//!
//! - `test.sleep` records each start (a row per start, so duplicate runs can be counted), sleeps
//!   its payload's milliseconds, then commits its effect row and the processed mark in one
//!   transaction ([`JobCtx::mark_done`]), so an effect exists at most once whatever the deliveries;
//! - `test.abort` records its start and aborts the process, as a native crash or an OOM kill
//!   would.
//!
//! Their tables live in the tenant database and are made by [`create_tables`] (test-only, no
//! migration). The effect table has no unique key on purpose: a duplicate effect must show.

use std::time::Duration;

use jobs::{Job, Queue};
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use workers::runtime::{Handlers, JobCtx, JobError, RetryPolicy};

/// Sleeps `ms`, then commits an effect.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sleep {
    /// The tenant.
    pub tenant_id: Uuid,
    /// How long the job works.
    pub ms: u64,
}

impl Job for Sleep {
    const NAME: &'static str = "test.sleep";
    const QUEUE: Queue = Queue::Maintenance;
    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}

/// Aborts the process that runs it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Abort {
    /// The tenant.
    pub tenant_id: Uuid,
}

impl Job for Abort {
    const NAME: &'static str = "test.abort";
    const QUEUE: Queue = Queue::Maintenance;
    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}

/// Every production handler, with the process's external services, plus the two test kinds.
#[must_use]
pub fn handlers(services: workers::services::Services) -> Handlers {
    workers::handlers::all(services)
        .with::<Sleep, _, _>(RetryPolicy::default(), sleep)
        .with::<Abort, _, _>(RetryPolicy::default(), abort)
}

/// Creates `test_starts` and `test_effects` in a tenant database.
///
/// # Errors
/// Database errors.
pub async fn create_tables(db: &DatabaseConnection) -> Result<(), DbErr> {
    for t in ["test_starts", "test_effects"] {
        db.execute_unprepared(&format!(
            "CREATE TABLE {t} (job_key TEXT NOT NULL, pid BIGINT NOT NULL)"
        ))
        .await?;
    }
    Ok(())
}

/// Rows and distinct job keys of a test table.
///
/// # Errors
/// Database errors.
pub async fn counts(db: &DatabaseConnection, table: &str) -> Result<(i64, i64), DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT count(*) AS n, count(DISTINCT job_key) AS d FROM {table}"),
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(table.to_owned()))?;
    Ok((row.try_get("", "n")?, row.try_get("", "d")?))
}

async fn record(db: &impl ConnectionTrait, table: &str, key: &str) -> Result<(), DbErr> {
    let stmt = Query::insert()
        .into_table(Alias::new(table))
        .columns([Alias::new("job_key"), Alias::new("pid")])
        .values_panic([key.into(), i64::from(std::process::id()).into()])
        .to_owned();
    db.execute(&stmt).await.map(|_| ())
}

async fn sleep(job: Sleep, ctx: JobCtx) -> Result<(), JobError> {
    record(&ctx.db, "test_starts", &ctx.key).await?;
    tokio::time::sleep(Duration::from_millis(job.ms)).await;
    let txn = entities::db::begin_write(&ctx.db).await?;
    if !ctx.mark_done(&txn).await? {
        // Another delivery committed the effect: nothing to do.
        txn.rollback().await?;
        return Ok(());
    }
    record(&txn, "test_effects", &ctx.key).await?;
    txn.commit().await?;
    Ok(())
}

async fn abort(_job: Abort, ctx: JobCtx) -> Result<(), JobError> {
    record(&ctx.db, "test_starts", &ctx.key).await?;
    std::process::abort()
}
