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
