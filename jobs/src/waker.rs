//! Waking the relay right after a commit that wrote outbox rows, so a job does not wait for the
//! next sweep. Losing a wake-up loses nothing: the sweep finds the rows.
//!
//! In one process (`serve`) the wake-up is a [`Notify`]. In the distributed shape the API and
//! the relay run in different processes, so a wake-up is also published on a Redis channel of
//! the deployment's namespace, and every process that runs a relay listens on it.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::ConnectionManager;
use tokio::sync::Notify;
use uuid::Uuid;

/// Publishes wake-ups on Redis; the connection is made on first use, so the API starts (and
/// sells) with Redis down.
#[derive(Clone)]
struct Publisher {
    client: redis::Client,
    channel: String,
    conn: Arc<tokio::sync::Mutex<Option<ConnectionManager>>>,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

impl Publisher {
    async fn publish(&self, tenant: Uuid) -> redis::RedisResult<()> {
        let mut slot = self.conn.lock().await;
        if slot.is_none() {
            *slot = Some(ConnectionManager::new(self.client.clone()).await?);
        }
        let Some(conn) = slot.as_mut() else {
            return Ok(());
        };
        redis::cmd("PUBLISH")
            .arg(&self.channel)
            .arg(tenant.to_string())
            .query_async::<i64>(conn)
            .await
            .map(|_| ())
    }
}

/// A cheap, cloneable handle: the API calls [`RelayWaker::wake`], the relay waits on it.
#[derive(Clone, Default, Debug)]
pub struct RelayWaker {
    notify: Arc<Notify>,
    tenants: Arc<Mutex<HashSet<Uuid>>>,
    publisher: Option<Publisher>,
}

impl RelayWaker {
    /// The Redis channel of a deployment's wake-ups.
    #[must_use]
    pub fn channel(namespace: &str) -> String {
        format!("{namespace}:relay:wake")
    }

    /// A waker that also tells the relays of other processes, through Redis.
    #[must_use]
    pub fn with_redis(client: redis::Client, namespace: &str) -> Self {
        Self {
            publisher: Some(Publisher {
                client,
                channel: Self::channel(namespace),
                conn: Arc::default(),
            }),
            ..Self::default()
        }
    }

    /// Says that `tenant` has committed outbox rows: wakes this process's relay at once, and
    /// (distributed shape) publishes the wake-up without waiting for Redis.
    pub fn wake(&self, tenant: Uuid) {
        self.wake_local(tenant);
        if let Some(p) = &self.publisher
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            let p = p.clone();
            rt.spawn(async move {
                if let Err(e) = p.publish(tenant).await {
                    tracing::debug!("relay wake-up not published ({e}); the sweep will find it");
                }
            });
        }
    }

    /// Wakes this process's relay only (a wake-up received from another process).
    pub fn wake_local(&self, tenant: Uuid) {
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

    /// Relays wake-ups published by other processes to this one's relay until `shutdown` turns
    /// true, subscribing again (every 2 s) whenever Redis goes away.
    pub async fn listen(
        &self,
        client: redis::Client,
        namespace: &str,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        let channel = Self::channel(namespace);
        while !*shutdown.borrow() {
            match client.get_async_pubsub().await {
                Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                    Ok(()) => {
                        let mut messages = pubsub.on_message();
                        loop {
                            tokio::select! {
                                m = messages.next() => match m {
                                    Some(m) => {
                                        if let Ok(t) = m.get_payload::<String>()
                                            && let Ok(t) = t.parse()
                                        {
                                            self.wake_local(t);
                                        }
                                    }
                                    None => break,
                                },
                                _ = shutdown.changed() => return,
                            }
                        }
                    }
                    Err(e) => tracing::debug!("relay wake-ups: subscribe: {e}"),
                },
                Err(e) => tracing::debug!("relay wake-ups: connect: {e}"),
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(2)) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}
