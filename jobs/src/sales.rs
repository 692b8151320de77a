//! Jobs a sale causes: `sales.sale_completed` (the ticket to the customer), `inventory.low_stock`
//! (a reorder alert) and `notify.send` (one outgoing message).

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

/// A balance fell below its item's minimum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LowStock {
    /// The tenant.
    pub tenant_id: Uuid,
    /// The document that moved the stock (`sale:<id>`), so a second delivery raises nothing new.
    pub source: String,
    /// The balances: item, warehouse, balance after, minimum.
    pub balances: Vec<LowBalance>,
}

/// One balance below its minimum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LowBalance {
    /// The item.
    pub item_id: Uuid,
    /// The warehouse.
    pub warehouse_id: Uuid,
    /// The balance after the movement.
    pub qty: i64,
    /// The item's minimum.
    pub min_qty: i64,
}

impl Job for LowStock {
    const NAME: &'static str = "inventory.low_stock";
    const QUEUE: Queue = Queue::Maintenance;

    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}

/// Deliver one row of `notifications`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendNotification {
    /// The tenant.
    pub tenant_id: Uuid,
    /// The notification.
    pub notification_id: Uuid,
}

impl Job for SendNotification {
    const NAME: &'static str = "notify.send";
    const QUEUE: Queue = Queue::Notify;

    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}
