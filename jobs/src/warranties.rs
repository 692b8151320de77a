//! Warranties' jobs: the daily `warranty_expiring` events of a tenant.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Job, Queue};

/// Record one `warranty_expiring` event per warranty whose last day is the owner's number of
/// days after the tick's day (in Mexico City), once per warranty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiringWarranties {
    /// The tenant.
    pub tenant_id: Uuid,
    /// The schedule tick that caused it: its day is the day counted from.
    pub tick: DateTime<Utc>,
}

impl Job for ExpiringWarranties {
    const NAME: &'static str = "warranties.expiring";
    const QUEUE: Queue = Queue::Maintenance;

    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}
