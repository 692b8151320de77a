//! `notify.dispatch`: the tenant's pending business events become messages.

use entities::notifications::dispatch;
use jobs::notifications::{DispatchEvents, SendNotification};

use crate::runtime::{JobCtx, JobError};

/// Events handled per transaction: a nightly run that raised thousands of alerts is told in
/// batches that each commit, so a crash repeats one batch at most.
pub const BATCH: u64 = 200;

/// `notify.dispatch`: handles every pending event of the tenant, a batch a transaction; each
/// batch writes its messages, their send jobs and the events' handled marks together. Two runs
/// at once write each message once (unique per event, channel and recipient).
///
/// # Errors
/// Transient database errors.
pub async fn dispatch(_job: DispatchEvents, ctx: JobCtx) -> Result<(), JobError> {
    let staff = entities::org::accounts::active_staff(&ctx.platform, ctx.tenant.id).await?;
    loop {
        let txn = entities::db::begin_write(&ctx.db).await?;
        let events = dispatch::pending(&txn, BATCH).await?;
        if events.is_empty() {
            return Ok(());
        }
        let pass = dispatch::run(&txn, &ctx.tenant.name, &staff, &events).await?;
        for m in &pass.to_send {
            let job = SendNotification {
                tenant_id: ctx.tenant.id,
                notification_id: m.id,
            };
            match m.not_before {
                Some(at) => jobs::outbox::enqueue_at(&txn, &job, at).await,
                None => jobs::outbox::enqueue(&txn, &job).await,
            }
            .map_err(|e| JobError::transient(e.to_string()))?;
        }
        txn.commit().await?;
        tracing::info!(
            tenant = %ctx.tenant.slug,
            events = pass.events,
            to_send = pass.to_send.len(),
            in_app = pass.in_app,
            skipped = pass.skipped,
            failed = pass.failed,
            "business events dispatched"
        );
        if (events.len() as u64) < BATCH {
            return Ok(());
        }
    }
}
