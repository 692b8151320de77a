//! `cfdi.stamp` stamps an invoice through Facturapi with the key of its current attempt;
//! `cfdi.cancel` asks for its cancellation.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

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

/// Asks Facturapi what became of the invoices whose cancellation waits for the receiver
/// (`pending`), so a business without webhooks still learns it was accepted, refused or expired.
/// Enqueued hourly per tenant by the `cancellation-poll` schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollCancellations {
    /// The tenant.
    pub tenant_id: Uuid,
}

impl Job for PollCancellations {
    const NAME: &'static str = "cfdi.poll_cancellations";
    const QUEUE: Queue = Queue::Cfdi;

    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}
