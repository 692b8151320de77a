//! Inventory jobs: `inventory.low_stock` (a reorder alert per balance under its minimum) and
//! `inventory.import_items` (a bulk import of items from a CSV).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Job, Queue};

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

impl Job for LowStock {
    const NAME: &'static str = "inventory.low_stock";
    const QUEUE: Queue = Queue::Maintenance;

    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
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

/// Carries out the import `import_id`: checks its rows, then applies them all or none. The CSV
/// is in the `item_imports` row (up to 2 MiB), not in the payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportItems {
    /// The tenant.
    pub tenant_id: Uuid,
    /// The `item_imports` row.
    pub import_id: Uuid,
}

impl Job for ImportItems {
    const NAME: &'static str = "inventory.import_items";
    // Bulk data brought in from elsewhere, like the ERP syncs: a long import waits behind those,
    // not in front of the nightly maintenance or price propagation.
    const QUEUE: Queue = Queue::Integrations;

    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}
