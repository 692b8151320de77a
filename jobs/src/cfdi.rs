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
