//! Where tenant databases live, and a registry that opens their pools lazily and closes idle ones.
//!
//! A request's tenant handle comes from the authenticated principal's tenant id only; this
//! registry is keyed by that id and never by anything a client sends.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::org::tables::tenant;
use crate::{Error, Result};

/// Where a tenant's database is, given its `db_name`.
#[derive(Debug, Clone)]
pub enum TenantDbLocation {
    /// One SQLite file per tenant in this folder: `<dir>/<db_name>.db`.
    SqliteDir(PathBuf),
    /// A PostgreSQL URL with `{db_name}` where the database name goes.
    PostgresTemplate(String),
}

impl TenantDbLocation {
    /// The URL of a tenant's database: its own `db_url` if set, else the location's.
    #[must_use]
    pub fn url_for(&self, tenant: &tenant::Model) -> String {
        if let Some(url) = &tenant.db_url {
            return url.clone();
        }
        self.url_for_name(&tenant.db_name)
    }

    /// The URL of a database by name.
    #[must_use]
    pub fn url_for_name(&self, db_name: &str) -> String {
        match self {
            Self::SqliteDir(dir) => crate::db::sqlite_url(&dir.join(format!("{db_name}.db"))),
            Self::PostgresTemplate(t) => t.replace("{db_name}", db_name),
        }
    }
}

struct Slot {
    conn: OnceCell<DatabaseConnection>,
    last_used_ms: AtomicU64,
    /// Held while the pool is being opened: one attempt at a time.
    opening: tokio::sync::Mutex<()>,
    /// The last failed attempt to open the pool: when, and why.
    failed: Mutex<Option<(Instant, String)>>,
}

/// Hands out one pool per tenant, opened on first use and closed after a while unused.
pub struct TenantRegistry {
    location: TenantDbLocation,
    max_connections: u32,
    idle_after: Duration,
    epoch: Instant,
    slots: Mutex<HashMap<Uuid, Arc<Slot>>>,
}

impl std::fmt::Debug for TenantRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantRegistry")
            .field("location", &self.location)
            .field("open", &self.open_count())
            .finish()
    }
}

impl TenantRegistry {
    /// A registry for tenant databases at `location`, with at most `max_connections` per tenant,
    /// closing pools unused for `idle_after`.
    #[must_use]
    pub fn new(location: TenantDbLocation, max_connections: u32, idle_after: Duration) -> Self {
        Self {
            location,
            max_connections,
            idle_after,
            epoch: Instant::now(),
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// Where tenant databases live.
    #[must_use]
    pub fn location(&self) -> &TenantDbLocation {
        &self.location
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<Slot>>> {
        // A panic while holding this lock cannot leave the map inconsistent (single inserts and
        // removes), so a poisoned lock is still safe to use.
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The pool of a tenant's database, opening it on first use.
    ///
    /// # Errors
    /// [`Error::Internal`] when the database cannot be opened.
    pub async fn connection(&self, tenant: &tenant::Model) -> Result<DatabaseConnection> {
        let slot = {
            let mut slots = self.slots();
            slots
                .entry(tenant.id)
                .or_insert_with(|| {
                    Arc::new(Slot {
                        conn: OnceCell::new(),
                        last_used_ms: AtomicU64::new(0),
                        opening: tokio::sync::Mutex::new(()),
                        failed: Mutex::new(None),
                    })
                })
                .clone()
        };
        slot.last_used_ms.store(self.now_ms(), Ordering::Relaxed);
        if let Some(conn) = slot.conn.get() {
            return Ok(conn.clone());
        }
        // One attempt at a time, and callers that waited for a failed attempt get its error:
        // with the server down, each attempt can take the whole connect timeout, and callers
        // trying one after the other would each wait that long (workers held for minutes).
        let asked = Instant::now();
        let _opening = slot.opening.lock().await;
        if let Some(conn) = slot.conn.get() {
            return Ok(conn.clone());
        }
        let failed_meanwhile = slot
            .failed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .filter(|(at, _)| *at >= asked)
            .map(|(_, e)| e.clone());
        if let Some(e) = failed_meanwhile {
            return Err(Error::Internal(e));
        }
        tracing::debug!(tenant.id = %tenant.id, "opening tenant database {}", tenant.slug);
        let url = self.location.url_for(tenant);
        match crate::db::connect(&url, self.max_connections).await {
            Ok(conn) => {
                // Only this holder of `opening` sets it.
                let _ = slot.conn.set(conn.clone());
                Ok(conn)
            }
            Err(e) => {
                let e = format!("tenant database {}: {e}", tenant.slug);
                *slot
                    .failed
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) =
                    Some((Instant::now(), e.clone()));
                Err(Error::Internal(e))
            }
        }
    }

    /// How many tenant pools are open.
    #[must_use]
    pub fn open_count(&self) -> usize {
        self.slots()
            .values()
            .filter(|s| s.conn.initialized())
            .count()
    }

    /// Closes pools unused for longer than the idle time; returns how many were closed.
    pub async fn close_idle(&self) -> usize {
        let now = self.now_ms();
        let idle_ms = u64::try_from(self.idle_after.as_millis()).unwrap_or(u64::MAX);
        let idle: Vec<Arc<Slot>> = {
            let mut slots = self.slots();
            let ids: Vec<Uuid> = slots
                .iter()
                .filter(|(_, s)| {
                    now.saturating_sub(s.last_used_ms.load(Ordering::Relaxed)) >= idle_ms
                })
                .map(|(id, _)| *id)
                .collect();
            ids.iter().filter_map(|id| slots.remove(id)).collect()
        };
        let mut closed = 0;
        for slot in idle {
            if let Some(conn) = slot.conn.get() {
                // Requests still holding a clone keep working: the pool closes when they finish.
                let _ = conn.close_by_ref().await;
                closed += 1;
            }
        }
        closed
    }

    /// Closes one tenant's pool, if open.
    pub async fn close(&self, tenant_id: Uuid) {
        let slot = self.slots().remove(&tenant_id);
        if let Some(conn) = slot.as_ref().and_then(|s| s.conn.get()) {
            let _ = conn.close_by_ref().await;
        }
    }

    /// Closes every pool (shutdown).
    pub async fn close_all(&self) {
        let all: Vec<Arc<Slot>> = self.slots().drain().map(|(_, s)| s).collect();
        for slot in all {
            if let Some(conn) = slot.conn.get() {
                let _ = conn.close_by_ref().await;
            }
        }
    }

    /// Runs [`Self::close_idle`] every `every` until the registry is dropped.
    pub fn spawn_reaper(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(reg) = weak.upgrade() else { break };
                let n = reg.close_idle().await;
                if n > 0 {
                    tracing::debug!("closed {n} idle tenant pools");
                }
            }
        })
    }
}
