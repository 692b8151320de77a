//! The stock cache in front of `stock_by_branch`: Redis in the distributed shape (shared by every
//! API process, so an invalidation in one is seen by all), a bounded in-process map in the
//! embedded one.
//!
//! The cache is never needed for correctness: every Redis error is a miss (the database
//! answers), counted in `nexus_stock_cache_requests_total{result="error"}` and logged at most once
//! a minute. Writers invalidate the items they touched after their commit; what a failed
//! invalidation leaves behind expires with the TTL.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use entities::inventory::stock_views::StockByBranch;
use prometheus::{IntCounterVec, Opts, Registry};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use uuid::Uuid;

/// Most entries the in-process cache holds.
pub const MEMORY_MAX_ENTRIES: usize = 10_000;

/// Longest a Redis call may take before it counts as an error and the database answers.
pub const REDIS_DEADLINE: Duration = Duration::from_millis(150);

/// After a Redis error, how long calls skip Redis (a dead Redis costs nothing per request).
const REDIS_BACKOFF: Duration = Duration::from_secs(1);

/// How often a failing Redis is logged.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// Where cached views live.
enum Backend {
    Memory(Mutex<HashMap<(Uuid, Uuid), (Instant, StockByBranch)>>),
    Redis(RedisBackend),
}

struct RedisBackend {
    client: redis::Client,
    /// Built on first use: it needs the async runtime, and connects lazily.
    conn: OnceLock<Result<ConnectionManager, String>>,
    /// Milliseconds since `epoch` before which Redis is not tried again.
    skip_until: AtomicU64,
    /// Milliseconds since `epoch` of the last warning (0: never).
    last_warn: AtomicU64,
    epoch: Instant,
}

/// The stock cache (cheap to clone).
#[derive(Clone)]
pub struct StockCache(Arc<Inner>);

struct Inner {
    backend: Backend,
    ttl: Duration,
    requests: IntCounterVec,
}

/// The key of an item's view: the tenant is in every key (`DESIGN.md` §3).
#[must_use]
pub fn key(tenant: Uuid, item: Uuid) -> String {
    format!("nexus:{tenant}:stock:{item}")
}

impl StockCache {
    /// A cache on Redis at `redis_url`, or in-process without one, holding views for `ttl`;
    /// its counters are registered in `registry`. A Redis URL that does not parse (the
    /// configuration has already checked it) falls back to the in-process cache.
    ///
    /// # Errors
    /// When the counters cannot be registered.
    pub fn new(
        redis_url: Option<&str>,
        ttl: Duration,
        registry: &Registry,
    ) -> Result<Self, prometheus::Error> {
        let requests = IntCounterVec::new(
            Opts::new(
                "nexus_stock_cache_requests_total",
                "Stock cache look-ups (hit, miss) and failed cache calls (error)",
            ),
            &["result"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        let backend = match redis_url.map(redis::Client::open) {
            Some(Ok(client)) => Backend::Redis(RedisBackend {
                client,
                conn: OnceLock::new(),
                skip_until: AtomicU64::new(0),
                last_warn: AtomicU64::new(0),
                epoch: Instant::now(),
            }),
            Some(Err(e)) => {
                tracing::warn!("stock cache: REDIS_URL unusable ({e}); caching in-process");
                Backend::Memory(Mutex::new(HashMap::new()))
            }
            None => Backend::Memory(Mutex::new(HashMap::new())),
        };
        Ok(Self(Arc::new(Inner {
            backend,
            ttl,
            requests,
        })))
    }

    /// `redis` or `memory`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self.0.backend {
            Backend::Memory(_) => "memory",
            Backend::Redis(_) => "redis",
        }
    }

    fn count(&self, result: &str) {
        self.0.requests.with_label_values(&[result]).inc();
    }

    /// The cached view of an item, or `None` (a miss, or Redis failing).
    pub async fn get(&self, tenant: Uuid, item: Uuid) -> Option<StockByBranch> {
        match &self.0.backend {
            Backend::Memory(map) => {
                let found = {
                    let mut m = map
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    match m.get(&(tenant, item)) {
                        Some((at, v)) if at.elapsed() < self.0.ttl => Some(v.clone()),
                        Some(_) => {
                            m.remove(&(tenant, item));
                            None
                        }
                        None => None,
                    }
                };
                self.count(if found.is_some() { "hit" } else { "miss" });
                found
            }
            Backend::Redis(r) => {
                let cmd = redis::cmd("GET").arg(key(tenant, item)).clone();
                match r.run::<Option<String>>(&cmd).await {
                    Ok(Some(json)) => match serde_json::from_str(&json) {
                        Ok(v) => {
                            self.count("hit");
                            Some(v)
                        }
                        // A value of an older shape: read through and overwrite it.
                        Err(_) => {
                            self.count("miss");
                            None
                        }
                    },
                    Ok(None) => {
                        self.count("miss");
                        None
                    }
                    Err(e) => {
                        self.count("error");
                        r.failed(&e);
                        None
                    }
                }
            }
        }
    }

    /// Caches an item's view for the TTL.
    pub async fn put(&self, tenant: Uuid, item: Uuid, view: &StockByBranch) {
        match &self.0.backend {
            Backend::Memory(map) => {
                let mut m = map
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if m.len() >= MEMORY_MAX_ENTRIES {
                    let ttl = self.0.ttl;
                    m.retain(|_, (at, _)| at.elapsed() < ttl);
                    // Still full of live entries: drop a tenth (any; the map has no order) so
                    // the next puts do not pay for a sweep each.
                    if m.len() >= MEMORY_MAX_ENTRIES {
                        let drop: Vec<_> =
                            m.keys().take(MEMORY_MAX_ENTRIES / 10).copied().collect();
                        for k in drop {
                            m.remove(&k);
                        }
                    }
                }
                m.insert((tenant, item), (Instant::now(), view.clone()));
            }
            Backend::Redis(r) => {
                let Ok(json) = serde_json::to_string(view) else {
                    return;
                };
                let cmd = redis::cmd("SET")
                    .arg(key(tenant, item))
                    .arg(json)
                    .arg("EX")
                    .arg(self.0.ttl.as_secs().max(1))
                    .clone();
                if let Err(e) = r.run::<()>(&cmd).await {
                    self.count("error");
                    r.failed(&e);
                }
            }
        }
    }

    /// Forgets the views of some items (one `DEL` of all their keys on Redis). Call it after the
    /// commit that changed their stock.
    pub async fn invalidate(&self, tenant: Uuid, items: &[Uuid]) {
        if items.is_empty() {
            return;
        }
        match &self.0.backend {
            Backend::Memory(map) => {
                let mut m = map
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                for i in items {
                    m.remove(&(tenant, *i));
                }
            }
            Backend::Redis(r) => {
                let mut cmd = redis::cmd("DEL");
                for i in items {
                    cmd.arg(key(tenant, *i));
                }
                if let Err(e) = r.run::<()>(&cmd).await {
                    self.count("error");
                    r.failed(&e);
                }
            }
        }
    }
}

impl RedisBackend {
    fn since_epoch(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn manager(&self) -> Result<ConnectionManager, String> {
        self.conn
            .get_or_init(|| {
                // Short timeouts and no retry loop inside a call: a dead Redis must cost a
                // request at most REDIS_DEADLINE; the manager reconnects on later calls.
                let cfg = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(Duration::from_millis(100)))
                    .set_response_timeout(Some(Duration::from_millis(100)))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(100));
                ConnectionManager::new_lazy_with_config(self.client.clone(), cfg)
                    .map_err(|e| e.to_string())
            })
            .clone()
    }

    /// Runs one command within [`REDIS_DEADLINE`]; during the back-off after a failure it fails
    /// at once without calling Redis.
    async fn run<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, String> {
        if self.since_epoch() < self.skip_until.load(Ordering::Relaxed) {
            return Err("skipped: Redis failed less than a second ago".into());
        }
        let mut conn = self.manager()?;
        match tokio::time::timeout(REDIS_DEADLINE, cmd.query_async::<T>(&mut conn)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {REDIS_DEADLINE:?}")),
        }
    }

    /// Notes a failure: starts the back-off, and warns if the last warning is a minute old.
    fn failed(&self, e: &str) {
        let now = self.since_epoch();
        let backoff = u64::try_from(REDIS_BACKOFF.as_millis()).unwrap_or(1000);
        self.skip_until.store(now + backoff, Ordering::Relaxed);
        let last = self.last_warn.load(Ordering::Relaxed);
        let every = u64::try_from(WARN_EVERY.as_millis()).unwrap_or(60_000);
        if (last == 0 || now.saturating_sub(last) >= every)
            && self
                .last_warn
                .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!("stock cache: Redis failed ({e}); reading stock from the database");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(item: Uuid, on_hand: i64) -> StockByBranch {
        StockByBranch {
            item_id: item,
            sku: "A".into(),
            name: "A".into(),
            catalog_part_id: None,
            min_qty: 0,
            on_hand,
            in_transit: 0,
            branches: Vec::new(),
        }
    }

    #[tokio::test]
    async fn the_memory_cache_hits_expires_and_invalidates() {
        let reg = Registry::new();
        let c = StockCache::new(None, Duration::from_millis(200), &reg).unwrap();
        let (t, i) = (Uuid::now_v7(), Uuid::now_v7());
        assert!(c.get(t, i).await.is_none());
        c.put(t, i, &view(i, 3)).await;
        assert_eq!(c.get(t, i).await.unwrap().on_hand, 3);
        assert!(
            c.get(Uuid::now_v7(), i).await.is_none(),
            "tenants are apart"
        );
        c.invalidate(t, &[i]).await;
        assert!(c.get(t, i).await.is_none());
        c.put(t, i, &view(i, 3)).await;
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(c.get(t, i).await.is_none(), "expired");
    }

    #[tokio::test]
    async fn a_dead_redis_is_a_fast_miss_counted_as_an_error() {
        let reg = Registry::new();
        let c =
            StockCache::new(Some("redis://127.0.0.1:1/0"), Duration::from_secs(60), &reg).unwrap();
        let (t, i) = (Uuid::now_v7(), Uuid::now_v7());
        let start = Instant::now();
        assert!(c.get(t, i).await.is_none());
        c.put(t, i, &view(i, 1)).await;
        c.invalidate(t, &[i]).await;
        assert!(start.elapsed() < Duration::from_millis(600));
        assert!(c.0.requests.with_label_values(&["error"]).get() >= 1);
    }
}
