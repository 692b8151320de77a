//! `maintenance.cleanup`: the nightly clean-up of a tenant's job bookkeeping (sent outbox rows,
//! processed marks, finished runs), enqueued by the `nightly-cleanup` schedule.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Job, Queue};

/// How long job bookkeeping is kept, in days. The values travel in the job's payload, so the
/// scheduler's settings decide and the outbox row shows what a clean-up applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Retention {
    /// Outbox rows handed to the queue this long ago (`NEXUS_RETENTION_DAYS`). Unsent rows are
    /// never deleted, nor rows whose run is running, dead or quarantined.
    pub sent_outbox_days: u32,
    /// Processed-job marks.
    pub processed_marks_days: u32,
    /// Runs that ended well or were retried (`done`, `retrying`, `retried`).
    pub finished_runs_days: u32,
    /// Runs operators read (`dead`, `quarantined`, `discarded`), and the outbox rows of dead and
    /// quarantined ones, which `nexus jobs retry` needs.
    pub failed_runs_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            sent_outbox_days: 14,
            processed_marks_days: 30,
            finished_runs_days: 30,
            failed_runs_days: 90,
        }
    }
}

/// Deletes a tenant's old job bookkeeping, in small batches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cleanup {
    /// The tenant.
    pub tenant_id: Uuid,
    /// The schedule tick that caused it (for the logs; the cut-offs count from the run).
    pub tick: DateTime<Utc>,
    /// What to keep.
    #[serde(default)]
    pub retention: Retention,
}

impl Job for Cleanup {
    const NAME: &'static str = "maintenance.cleanup";
    const QUEUE: Queue = Queue::Maintenance;

    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_without_retention_gets_the_defaults() {
        let job: Cleanup = serde_json::from_value(serde_json::json!({
            "tenant_id": Uuid::nil(),
            "tick": "2026-11-25T09:30:00Z",
        }))
        .unwrap();
        assert_eq!(job.retention, Retention::default());
        let partial: Retention =
            serde_json::from_value(serde_json::json!({"sent_outbox_days": 3})).unwrap();
        assert_eq!(partial.sent_outbox_days, 3);
        assert_eq!(partial.failed_runs_days, 90);
    }
}
