//! The nightly clean-up of a tenant's job bookkeeping: sent outbox rows, processed marks and
//! finished runs past their retention. Deletes go in batches of [`BATCH`] rows, one statement
//! (and so one short transaction) each, so a huge table never holds one long lock and the API's
//! writes interleave.

use chrono::{DateTime, Duration, Utc};
use entities::{jobs::tables::job_run, jobs::tables::outbox, jobs::tables::processed_job};
use jobs::Queue;
use jobs::maintenance::Retention;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, DeleteMany, EntityTrait, QueryFilter, QuerySelect,
    QueryTrait,
};

use crate::runtime::Status;

/// Rows deleted per statement.
pub const BATCH: u64 = 1_000;

/// What one clean-up deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CleanupReport {
    /// Sent outbox rows.
    pub outbox: u64,
    /// Processed-job marks.
    pub marks: u64,
    /// Runs that ended well or were retried.
    pub finished_runs: u64,
    /// Dead, quarantined and discarded runs.
    pub failed_runs: u64,
}

fn days_before(now: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    now - Duration::days(i64::from(days))
}

/// Runs a `DELETE … WHERE key IN (SELECT key … LIMIT BATCH)` until a batch comes back short.
async fn in_batches<E: EntityTrait>(
    db: &impl ConnectionTrait,
    delete: DeleteMany<E>,
) -> Result<u64, DbErr> {
    let mut total = 0;
    loop {
        let n = delete.clone().exec(db).await?.rows_affected;
        total += n;
        if n < BATCH {
            return Ok(total);
        }
    }
}

/// Deletes, in the tenant database `db`, the bookkeeping older than `retention` at `now`:
/// - finished runs (`done`, `retrying`, `retried`) after `finished_runs_days`, and failed ones
///   (`dead`, `quarantined`, `discarded`) after `failed_runs_days`; `running` runs never (they
///   count a crashing job's starts);
/// - outbox rows sent more than `sent_outbox_days` ago, except those of a running, dead or
///   quarantined run (a retry or an operator's `nexus jobs retry` puts that row back in line);
///   unsent rows never;
/// - processed marks after `processed_marks_days`.
///
/// # Errors
/// Database errors; what was deleted before stays deleted, and a second run goes on from there.
pub async fn cleanup(
    db: &impl ConnectionTrait,
    retention: &Retention,
    now: DateTime<Utc>,
) -> Result<CleanupReport, DbErr> {
    let mut report = CleanupReport::default();

    for (statuses, days, count) in [
        (
            &[Status::Done, Status::Retrying, Status::Retried][..],
            retention.finished_runs_days,
            &mut report.finished_runs,
        ),
        (
            &[Status::Dead, Status::Quarantined, Status::Discarded][..],
            retention.failed_runs_days,
            &mut report.failed_runs,
        ),
    ] {
        let cutoff = days_before(now, days);
        // A run starts before it finishes: the `started_at` bound is implied by the
        // `finished_at` one and lets `ix_job_runs_status (status, started_at)` do the search.
        let old = job_run::Entity::find()
            .select_only()
            .column(job_run::Column::PushKey)
            .filter(job_run::Column::Status.is_in(statuses.iter().copied()))
            .filter(job_run::Column::StartedAt.lt(cutoff))
            .filter(job_run::Column::FinishedAt.lt(cutoff))
            .limit(BATCH)
            .into_query();
        *count = in_batches(
            db,
            job_run::Entity::delete_many().filter(job_run::Column::PushKey.in_subquery(old)),
        )
        .await?;
    }

    let cutoff = days_before(now, retention.sent_outbox_days);
    // One queue at a time, so `ix_outbox_pending (queue, sent_at, id)` finds the old rows.
    for q in Queue::ALL {
        let unfinished = job_run::Entity::find()
            .select_only()
            .column(job_run::Column::OutboxId)
            .filter(job_run::Column::Status.is_in([
                Status::Running,
                Status::Dead,
                Status::Quarantined,
            ]))
            .into_query();
        // `sent_at < cutoff` is false for NULL: unsent rows are never candidates.
        let old = outbox::Entity::find()
            .select_only()
            .column(outbox::Column::Id)
            .filter(outbox::Column::Queue.eq(q.name()))
            .filter(outbox::Column::SentAt.lt(cutoff))
            .filter(outbox::Column::Id.not_in_subquery(unfinished))
            .limit(BATCH)
            .into_query();
        report.outbox += in_batches(
            db,
            outbox::Entity::delete_many().filter(outbox::Column::Id.in_subquery(old)),
        )
        .await?;
    }

    let old = processed_job::Entity::find()
        .select_only()
        .column(processed_job::Column::Key)
        .filter(
            processed_job::Column::ProcessedAt.lt(days_before(now, retention.processed_marks_days)),
        )
        .limit(BATCH)
        .into_query();
    report.marks = in_batches(
        db,
        processed_job::Entity::delete_many().filter(processed_job::Column::Key.in_subquery(old)),
    )
    .await?;
    Ok(report)
}
