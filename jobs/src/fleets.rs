//! Fleets' jobs: the daily `maintenance_due` and `contract_expiring` events of a tenant.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Job, Queue};

/// Record one `maintenance_due` event per fleet unit, plan and due point that became urgent,
/// and the `contract_expiring` notices due, on the tick's day (in Mexico City).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceDue {
    /// The tenant.
    pub tenant_id: Uuid,
    /// The schedule tick that caused it: its day is the day judged.
    pub tick: DateTime<Utc>,
}

impl Job for MaintenanceDue {
    const NAME: &'static str = "fleets.maintenance_due";
    const QUEUE: Queue = Queue::Maintenance;

    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}
