//! Fleets' handlers: the daily `maintenance_due` and `contract_expiring` events.

use jobs::fleets::MaintenanceDue;

use crate::runtime::{JobCtx, JobError};

/// `fleets.maintenance_due`: records the events of the tick's day in one transaction with the
/// mark on each plan state and contract, so a second delivery (or a second tick the same day)
/// records none again.
///
/// # Errors
/// Transient database errors.
pub async fn maintenance_due(job: MaintenanceDue, ctx: JobCtx) -> Result<(), JobError> {
    let day = entities::invoicing::global::local_date(job.tick);
    let txn = entities::db::begin_write(&ctx.db).await?;
    let n = entities::fleets::due::record_due(&txn, day).await?;
    txn.commit().await?;
    tracing::info!(
        tenant = %ctx.tenant.slug, %day, maintenance = n.maintenance, contracts = n.contracts,
        "fleet due events"
    );
    Ok(())
}
