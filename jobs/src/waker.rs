//! Waking the relay right after a commit that wrote outbox rows, so a job does not wait for the
//! next sweep. Losing a wake-up loses nothing: the sweep finds the rows.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use uuid::Uuid;

/// A cheap, cloneable handle: the API calls [`RelayWaker::wake`], the relay waits on it.
#[derive(Clone, Default, Debug)]
pub struct RelayWaker {
    notify: Arc<Notify>,
    tenants: Arc<Mutex<HashSet<Uuid>>>,
}

impl RelayWaker {
    /// Says that `tenant` has committed outbox rows.
    pub fn wake(&self, tenant: Uuid) {
        self.tenants
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(tenant);
        self.notify.notify_one();
    }

    /// Waits for a wake-up.
    pub async fn woken(&self) {
        self.notify.notified().await;
    }

    /// The tenants woken since the last call.
    #[must_use]
    pub fn take(&self) -> HashSet<Uuid> {
        std::mem::take(
            &mut *self
                .tenants
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}
