//! The handlers of every job kind, one module per business area, registered in one place
//! ([`all`]).

pub mod catalog;
pub mod counter;
pub mod customers;
pub mod fleets;
pub mod inventory;
pub mod invoicing;
pub mod maintenance;
pub mod notifications;
pub mod pricing;
pub mod purchasing;
pub mod vehicles;
pub mod warranties;

use jobs::invoicing::{CancelInvoice, StampInvoice};
use jobs::maintenance::Cleanup;
use jobs::noop::Noop;
use jobs::pricing::SyncPrices;
use jobs::vehicles::EnrichVin;
use jobs::{
    counter::SaleCompleted, inventory::ImportItems, inventory::LowStock,
    notifications::SendNotification,
};

use crate::clients::vpic::VpicClient;
use crate::runtime::{Handlers, JobCtx, JobError, RetryPolicy};
use crate::services::Services;

/// `noop`: nothing to do; the runtime records it processed.
async fn noop(_job: Noop, _ctx: JobCtx) -> Result<(), JobError> {
    Ok(())
}

/// `maintenance.cleanup`: deletes the tenant's old job bookkeeping. It is idempotent, so a
/// retry after a database hiccup just goes on where the first run stopped.
async fn cleanup(job: Cleanup, ctx: JobCtx) -> Result<(), JobError> {
    let r = self::maintenance::cleanup(&ctx.db, &job.retention, entities::now()).await?;
    // Answers to `Idempotency-Key` are kept three days: far longer than any POS retries.
    let keys =
        entities::jobs::idempotency::prune(&ctx.db, entities::now() - chrono::Duration::hours(72))
            .await?;
    let drift = entities::inventory::movements::reconcile(&ctx.db).await?;
    if drift.is_empty() {
        tracing::info!(tenant = %ctx.tenant.slug, "stock reconciliation: every balance equals its ledger");
    } else {
        tracing::error!(
            tenant = %ctx.tenant.slug,
            drift = drift.len(),
            first = ?drift.first(),
            "stock reconciliation: balances disagree with the ledger"
        );
    }
    tracing::info!(
        tenant = %ctx.tenant.slug,
        tick = %job.tick,
        outbox = r.outbox,
        marks = r.marks,
        finished_runs = r.finished_runs,
        failed_runs = r.failed_runs,
        idempotency_keys = keys,
        "nightly clean-up done"
    );
    Ok(())
}

/// Every job kind Nexus knows, with the external services their handlers call.
#[must_use]
pub fn all(services: Services) -> Handlers {
    let vpic = services.vpic.clone();
    let facturapi = services.facturapi.clone();
    let files = services.files.clone();
    let cfdi_retry = facturapi
        .as_ref()
        .map_or(crate::handlers::invoicing::RETRY, |f| f.retry);
    let vpic_retry = vpic
        .as_ref()
        .map_or(VpicClient::DEFAULT_RETRY, VpicClient::retry_policy);
    Handlers::default()
        .with::<Noop, _, _>(RetryPolicy::default(), noop)
        .with::<Cleanup, _, _>(RetryPolicy::default(), cleanup)
        .with::<SyncPrices, _, _>(
            crate::handlers::pricing::RETRY,
            crate::handlers::pricing::sync_prices,
        )
        .with::<EnrichVin, _, _>(vpic_retry, move |job, ctx| {
            crate::handlers::vehicles::enrich_vin(job, ctx, vpic.clone())
        })
        .with::<StampInvoice, _, _>(cfdi_retry, {
            let facturapi = facturapi.clone();
            let files = files.clone();
            move |job, ctx| {
                crate::handlers::invoicing::stamp(job, ctx, facturapi.clone(), files.clone())
            }
        })
        .with::<CancelInvoice, _, _>(cfdi_retry, {
            let facturapi = facturapi.clone();
            move |job, ctx| crate::handlers::invoicing::cancel(job, ctx, facturapi.clone())
        })
        .with::<jobs::invoicing::PollCancellations, _, _>(cfdi_retry, move |job, ctx| {
            crate::handlers::invoicing::poll_cancellations(job, ctx, facturapi.clone())
        })
        .with::<jobs::invoicing::GlobalInvoice, _, _>(
            cfdi_retry,
            crate::handlers::invoicing::global::global_invoice,
        )
        .with::<SaleCompleted, _, _>(
            RetryPolicy::default(),
            crate::handlers::counter::sale_completed,
        )
        .with::<LowStock, _, _>(
            RetryPolicy::default(),
            crate::handlers::inventory::low_stock,
        )
        .with::<ImportItems, _, _>(
            crate::handlers::inventory::IMPORT_RETRY,
            crate::handlers::inventory::import_items,
        )
        .with::<SendNotification, _, _>(crate::handlers::notifications::send::RETRY, {
            let services = services.clone();
            move |job, ctx| crate::handlers::notifications::send(job, ctx, services.clone())
        })
        .with::<jobs::notifications::DispatchEvents, _, _>(
            RetryPolicy::default(),
            crate::handlers::notifications::dispatch,
        )
        .with::<jobs::purchasing::SendPurchaseOrder, _, _>(RetryPolicy::default(), {
            let files = files.clone();
            move |job, ctx| crate::handlers::purchasing::send_order(job, ctx, files.clone())
        })
        .with::<jobs::purchasing::NightlyReorder, _, _>(
            RetryPolicy::default(),
            crate::handlers::purchasing::nightly_reorder,
        )
        .with::<jobs::warranties::ExpiringWarranties, _, _>(
            RetryPolicy::default(),
            crate::handlers::warranties::expiring,
        )
        .with::<jobs::customers::CustomersNightly, _, _>(
            RetryPolicy::default(),
            crate::handlers::customers::nightly,
        )
        .with::<jobs::fleets::MaintenanceDue, _, _>(
            RetryPolicy::default(),
            crate::handlers::fleets::maintenance_due,
        )
}
