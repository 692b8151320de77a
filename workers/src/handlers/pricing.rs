//! `pricing.sync`: propagates list prices to branches.
//!
//! The effect is idempotent by construction (each branch row is made equal to the list price)
//! and its progress is committed with each batch, so a retry or a second delivery resumes or
//! finds nothing to change; no processed mark is needed inside the handler.

use entities::pricing::admin;
use jobs::pricing::SyncPrices;

use crate::runtime::{JobCtx, JobError, RetryPolicy};

/// Retries of a propagation: database hiccups are worth a few tries.
pub const RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 5,
    base: std::time::Duration::from_secs(5),
    max: std::time::Duration::from_secs(300),
};

/// Runs one delivery of `pricing.sync`.
///
/// # Errors
/// [`JobError::Permanent`] for a missing propagation or an unreadable request (the row says
/// `failed`); [`JobError::Transient`] for database errors while tries remain (the row stays
/// `running` with the error noted, and the retry resumes), `failed` on the last one.
pub async fn sync_prices(job: SyncPrices, ctx: JobCtx) -> Result<(), JobError> {
    let err = match admin::run_sync(&ctx.db, job.sync_id, admin::SYNC_BATCH_ITEMS).await {
        Ok(result) => {
            tracing::info!(
                tenant = %ctx.tenant.slug,
                sync = %job.sync_id,
                items = result.items,
                overrides_removed = result.overrides_removed,
                rows_unchanged = result.rows_unchanged,
                "prices propagated"
            );
            return Ok(());
        }
        Err(e) => JobError::from(e),
    };
    let last = match &err {
        JobError::Permanent(_) => true,
        JobError::Transient { .. } => ctx.attempt + 1 >= RETRY.max_attempts,
    };
    let reason = err.to_string();
    let noted = if last {
        admin::fail_sync(&ctx.db, job.sync_id, &reason).await
    } else {
        admin::note_sync_error(&ctx.db, job.sync_id, &reason).await
    };
    if let Err(e) = noted {
        tracing::warn!(sync = %job.sync_id, "price sync state not recorded: {e}");
    }
    if last {
        Err(JobError::permanent(reason))
    } else {
        Err(err)
    }
}
