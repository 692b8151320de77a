//! `cfdi.stamp`: stamps an invoice through Facturapi with the key of its current attempt.

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
