//! Customers' handlers: the nightly loyalty and analytics pass.

use jobs::customers::CustomersNightly;

use crate::runtime::{JobCtx, JobError};

/// `customers.nightly`: expires points whose day has passed, moves tiers the 12-month spend no
/// longer supports, then recomputes every customer's stats. Each step commits on its own and
/// is safe to run again, so a retry after a failure part-way finishes the work.
///
/// # Errors
/// Transient database errors.
pub async fn nightly(job: CustomersNightly, ctx: JobCtx) -> Result<(), JobError> {
    let day = entities::invoicing::global::local_date(job.tick);
    let expired = entities::customers::loyalty::expire(&ctx.db, day).await?;
    let moved = entities::customers::loyalty::refresh_tiers(&ctx.db, day).await?;
    let stats = entities::customers::analytics::compute(&ctx.db, &ctx.platform, day).await?;
    tracing::info!(tenant = %ctx.tenant.slug, %day, expired, moved, stats, "customers nightly");
    Ok(())
}
