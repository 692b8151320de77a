//! `noop`: a job that does nothing but be recorded; for measuring the platform and testing it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Job, Queue};

/// Does nothing; its handler only marks it processed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Noop {
    /// The tenant.
    pub tenant_id: Uuid,
    /// A sequence number, for the benchmark.
    pub n: u64,
}

impl Job for Noop {
    const NAME: &'static str = "noop";
    const QUEUE: Queue = Queue::Maintenance;

    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}
