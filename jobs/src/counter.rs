//! Jobs a sale causes at the counter: `sales.sale_completed` (the ticket to the customer).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Job, Queue};

/// A sale was completed: send its ticket to the customer, when they have a contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleCompleted {
    /// The tenant.
    pub tenant_id: Uuid,
    /// The sale.
    pub sale_id: Uuid,
}

impl Job for SaleCompleted {
    const NAME: &'static str = "sales.sale_completed";
    const QUEUE: Queue = Queue::Notify;

    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}
