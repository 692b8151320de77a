//! Writing jobs to the outbox inside the caller's transaction.

use chrono::{DateTime, Utc};
use entities::jobs::tables::outbox;
use sea_orm::{ActiveModelTrait, ConnectionTrait, NotSet, Set};

use crate::Job;

/// Why a job could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// The payload did not serialise (a bug in the job type).
    #[error("job {name}: payload does not serialise: {source}")]
    Payload {
        /// The job.
        name: &'static str,
        /// The serde error.
        source: serde_json::Error,
    },
    /// The database refused the row.
    #[error("outbox: {0}")]
    Db(#[from] sea_orm::DbErr),
}

/// Records `job` to run as soon as possible, in the transaction (or connection) `db`. Returns the
/// outbox id, which with the tenant id is the job's idempotency key.
///
/// # Errors
/// [`OutboxError`].
pub async fn enqueue<J: Job>(db: &impl ConnectionTrait, job: &J) -> Result<i64, OutboxError> {
    enqueue_at(db, job, entities::now()).await
}

/// Records `job` to run not before `at`.
///
/// # Errors
/// [`OutboxError`].
pub async fn enqueue_at<J: Job>(
    db: &impl ConnectionTrait,
    job: &J,
    at: DateTime<Utc>,
) -> Result<i64, OutboxError> {
    let payload = serde_json::to_value(job).map_err(|source| OutboxError::Payload {
        name: J::NAME,
        source,
    })?;
    let row = outbox::ActiveModel {
        id: NotSet,
        job_name: Set(J::NAME.to_owned()),
        queue: Set(J::QUEUE.name().to_owned()),
        payload: Set(payload),
        created_at: Set(entities::now()),
        available_at: Set(at),
        sent_at: Set(None),
        attempt: Set(0),
        relay_attempts: Set(0),
        last_error: Set(None),
    }
    .insert(db)
    .await?;
    Ok(row.id)
}
