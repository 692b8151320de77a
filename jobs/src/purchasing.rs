//! Buying's jobs: e-mailing a purchase order to its supplier, and the nightly velocity and
//! reorder run of a tenant.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Job, Queue};

/// Render a sent purchase order as a PDF, keep it in the tenant's files, and queue the e-mail
/// to the supplier through the notifications channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendPurchaseOrder {
    /// The tenant.
    pub tenant_id: Uuid,
    /// The order.
    pub purchase_order_id: Uuid,
}

impl Job for SendPurchaseOrder {
    const NAME: &'static str = "purchasing.send_order";
    const QUEUE: Queue = Queue::Notify;

    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}

/// Compute every item's velocity at every warehouse, write the min and max of the rules marked
/// computed, then raise and clear reorder alerts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NightlyReorder {
    /// The tenant.
    pub tenant_id: Uuid,
    /// The schedule tick that caused it (the windows end at the run, not the tick).
    pub tick: DateTime<Utc>,
}

impl Job for NightlyReorder {
    const NAME: &'static str = "purchasing.nightly_reorder";
    const QUEUE: Queue = Queue::Maintenance;

    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}
