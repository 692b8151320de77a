//! Warranties' handlers: the daily `warranty_expiring` events.

use jobs::warranties::ExpiringWarranties;

use crate::runtime::{JobCtx, JobError};

/// `warranties.expiring`: records the `warranty_expiring` events of the warranties ending the
/// owner's number of days after the tick's day, in one transaction with the mark on each
/// warranty, so a second delivery (or a second tick the same day) records none again.
///
/// # Errors
/// Transient database errors.
pub async fn expiring(job: ExpiringWarranties, ctx: JobCtx) -> Result<(), JobError> {
    let day = entities::invoicing::global::local_date(job.tick);
    let txn = entities::db::begin_write(&ctx.db).await?;
    let n = entities::warranties::expiring::record_due(&txn, day).await?;
    txn.commit().await?;
    tracing::info!(tenant = %ctx.tenant.slug, %day, recorded = n, "warranty expiring events");
    Ok(())
}
