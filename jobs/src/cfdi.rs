//! `cfdi.stamp` stamps an invoice through Facturapi with the key of its current attempt;
//! `cfdi.cancel` asks for its cancellation.

use entities::tenant::global_invoicing::{self, RefusedCancellation};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::outbox::OutboxError;
use crate::sales::SendNotification;
use crate::{Job, Queue};

/// Stamps (or finds out what became of) an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StampInvoice {
    /// The tenant.
    pub tenant_id: Uuid,
    /// The invoice.
    pub invoice_id: Uuid,
}

impl Job for StampInvoice {
    const NAME: &'static str = "cfdi.stamp";
    const QUEUE: Queue = Queue::Cfdi;

    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}

/// Asks Facturapi to cancel a stamped invoice with the motive stored on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelInvoice {
    /// The tenant.
    pub tenant_id: Uuid,
    /// The invoice.
    pub invoice_id: Uuid,
}

impl Job for CancelInvoice {
    const NAME: &'static str = "cfdi.cancel";
    const QUEUE: Queue = Queue::Cfdi;

    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}

/// Builds the global invoices (sales to the general public) of every closed period not yet
/// invoiced, and of cancelled globals' periods whose sales need a replacement; each is stamped
/// by its own `cfdi.stamp`. Enqueued daily per tenant by the `global-invoice` schedule, by
/// `POST /pos/api/invoices/global`, and when a global's cancellation is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlobalInvoice {
    /// The tenant.
    pub tenant_id: Uuid,
    /// One branch (all when absent).
    #[serde(default)]
    pub branch_id: Option<Uuid>,
    /// First local date of the range (the last days when absent).
    #[serde(default)]
    pub from: Option<chrono::NaiveDate>,
    /// Last local date of the range, inclusive.
    #[serde(default)]
    pub to: Option<chrono::NaiveDate>,
    /// Who asked (an on-demand run), for the audit trail.
    #[serde(default)]
    pub requested_by: Option<Uuid>,
}

impl Job for GlobalInvoice {
    const NAME: &'static str = "cfdi.global_invoice";
    const QUEUE: Queue = Queue::Cfdi;

    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}

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
    let Some(g) = global_invoicing::global_of(db, invoice_id).await? else {
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
    for n in global_invoicing::alert_refused_cancellation(db, refused, recipients).await? {
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
