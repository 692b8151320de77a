//! `pricing.sync`: propagates list prices to branches, as recorded in a `price_syncs` row by
//! `POST /pos/api/inventory/sync-prices`.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Job, Queue};

/// Carries out the propagation `sync_id` (its request is in the row, not in the payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncPrices {
    /// The tenant.
    pub tenant_id: Uuid,
    /// The `price_syncs` row.
    pub sync_id: Uuid,
}

impl Job for SyncPrices {
    const NAME: &'static str = "pricing.sync";
    const QUEUE: Queue = Queue::Pricing;

    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}
