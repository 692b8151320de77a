//! The handlers of every job kind, registered in one place.

use jobs::maintenance::Cleanup;
use jobs::noop::Noop;
use jobs::pricing::SyncPrices;
use jobs::sales::{LowStock, SaleCompleted, SendNotification};
use jobs::vehicles::EnrichVin;

use crate::maintenance;
use crate::runtime::{Handlers, JobCtx, JobError, RetryPolicy};
use crate::services::Services;
use crate::vpic::VpicClient;

/// `noop`: nothing to do; the runtime records it processed.
async fn noop(_job: Noop, _ctx: JobCtx) -> Result<(), JobError> {
    Ok(())
}

/// `maintenance.cleanup`: deletes the tenant's old job bookkeeping. It is idempotent, so a
/// retry after a database hiccup just goes on where the first run stopped.
async fn cleanup(job: Cleanup, ctx: JobCtx) -> Result<(), JobError> {
    let r = maintenance::cleanup(&ctx.db, &job.retention, entities::now()).await?;
    tracing::info!(
        tenant = %ctx.tenant.slug,
        tick = %job.tick,
        outbox = r.outbox,
        marks = r.marks,
        finished_runs = r.finished_runs,
        failed_runs = r.failed_runs,
        "nightly clean-up done"
    );
    Ok(())
}

/// Every job kind Nexus knows, with the external services their handlers call.
#[must_use]
pub fn all(services: Services) -> Handlers {
    let vpic = services.vpic;
    let vpic_retry = vpic
        .as_ref()
        .map_or(VpicClient::DEFAULT_RETRY, VpicClient::retry_policy);
    Handlers::default()
        .with::<Noop, _, _>(RetryPolicy::default(), noop)
        .with::<Cleanup, _, _>(RetryPolicy::default(), cleanup)
        .with::<SyncPrices, _, _>(crate::pricing::RETRY, crate::pricing::sync_prices)
        .with::<EnrichVin, _, _>(vpic_retry, move |job, ctx| {
            crate::vehicles::enrich_vin(job, ctx, vpic.clone())
        })
        .with::<SaleCompleted, _, _>(RetryPolicy::default(), crate::sales::sale_completed)
        .with::<LowStock, _, _>(RetryPolicy::default(), crate::sales::low_stock)
        .with::<SendNotification, _, _>(RetryPolicy::default(), crate::sales::send)
}
