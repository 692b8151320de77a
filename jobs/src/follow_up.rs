//! Jobs a recorded fact causes that both the API and the workers queue: the replacement of a
//! global invoice whose cancellation was accepted, and the alert of a refused motive-04
//! cancellation. They decide from `entities` and enqueue in the caller's transaction; they live
//! here rather than in `entities` because enqueueing needs the payload types.

use entities::invoicing::global::{self, RefusedCancellation};
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::invoicing::GlobalInvoice;
use crate::notifications::SendNotification;
use crate::outbox::OutboxError;

/// Why what follows a cancellation's outcome (a replacement run, an alert) could not be
/// recorded.
#[derive(Debug, thiserror::Error)]
pub enum FollowUpError {
    /// The tenant database refused a read or write.
    #[error(transparent)]
    Db(#[from] entities::Error),
    /// A job could not be queued.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
}

/// Queues the run that replaces global invoice `invoice_id` now that its cancellation is
/// accepted (a `cfdi.global_invoice` for its branch), in the caller's transaction `db`, whether
/// the `cfdi.cancel` job or Facturapi's webhook learnt of it. `false` when the invoice is not a
/// global one. (Were this lost, the morning's scheduled run issues the replacement: it looks at
/// cancelled globals' periods too.)
///
/// # Errors
/// [`FollowUpError`].
pub async fn queue_replacement(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    invoice_id: Uuid,
) -> Result<bool, FollowUpError> {
    let Some(g) = global::global_of(db, invoice_id).await? else {
        return Ok(false);
    };
    crate::outbox::enqueue(
        db,
        &GlobalInvoice {
            tenant_id,
            branch_id: Some(g.branch_id),
            from: None,
            to: None,
            requested_by: None,
        },
    )
    .await?;
    Ok(true)
}

/// Tells the business's owners and admins (`recipients`) that the SAT refused a global invoice's
/// motive-04 cancellation: a notification each, sent by `notify.send` jobs queued in the caller's
/// transaction `db`, and a warning in the log. Whether the refusal came back from the
/// `cfdi.cancel` job or from Facturapi's webhook, the alert is the same; the caller raises it
/// once, when the cancellation turns `rejected`. Answers the alert's text.
///
/// # Errors
/// [`FollowUpError`].
pub async fn alert_refused_motive_04(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    refused: &RefusedCancellation,
    recipients: &[String],
) -> Result<String, FollowUpError> {
    let reason = refused.reason();
    for n in global::alert_refused_cancellation(db, refused, recipients).await? {
        crate::outbox::enqueue(
            db,
            &SendNotification {
                tenant_id,
                notification_id: n.id,
            },
        )
        .await?;
    }
    tracing::warn!(
        tenant = %tenant_id,
        invoice = %refused.invoice_id,
        uuid = ?refused.uuid,
        sales = ?refused.sales,
        notified = recipients.len(),
        "{reason}"
    );
    Ok(reason)
}
