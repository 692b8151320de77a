//! Customers' jobs: the nightly loyalty and analytics pass of a tenant.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Job, Queue};

/// Expire the loyalty points whose day has passed, move customers whose 12-month spend no
/// longer fits their tier, and recompute every customer's analytics, as of the tick's day (in
/// Mexico City). Each step is idempotent: a second delivery expires nothing twice and writes
/// the same stats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomersNightly {
    /// The tenant.
    pub tenant_id: Uuid,
    /// The schedule tick that caused it.
    pub tick: DateTime<Utc>,
}

impl Job for CustomersNightly {
    const NAME: &'static str = "customers.nightly";
    const QUEUE: Queue = Queue::Maintenance;

    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}
