//! `notify.send`: one outgoing message, delivered through its channel.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Job, Queue};

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

/// Turn the tenant's pending business events into messages. Its outbox row is written by
/// `entities::notifications::events` beside the events, in the transaction of the change that
/// caused them; that layer does not know its tenant's id, so the payload carries none and the
/// handler serves the envelope's tenant (the one whose outbox the relay read it from).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchEvents {}

impl Job for DispatchEvents {
    const NAME: &'static str = entities::notifications::events::DISPATCH_JOB;
    const QUEUE: Queue = Queue::Notify;

    /// Not carried: see the type's documentation; the envelope's tenant is the one.
    fn tenant_id(&self) -> Uuid {
        Uuid::nil()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dispatch_row_written_by_entities_names_this_job_and_its_queue() {
        assert_eq!(DispatchEvents::NAME, "notify.dispatch");
        assert_eq!(
            DispatchEvents::QUEUE.name(),
            entities::notifications::events::DISPATCH_QUEUE
        );
        let p: DispatchEvents = serde_json::from_value(serde_json::json!({})).unwrap();
        assert_eq!(p, DispatchEvents {});
    }
}
