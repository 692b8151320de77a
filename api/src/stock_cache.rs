//! The stock cache in front of `stock_by_branch`: Redis in the distributed shape (shared by every
//! API process, so an invalidation in one is seen by all), a bounded in-process map in the
//! embedded one.
//!
//! The cache is never needed for correctness: every Redis error is a miss (the database
//! answers), counted in `nexus_stock_cache_requests_total{result="error"}` and logged at most once
//! a minute. Writers invalidate the items they touched after their commit; what a failed
//! invalidation leaves behind expires with the TTL.
//!
//! A read that misses and fills the cache races a writer that invalidates meanwhile: the fill
//! may carry the view from before the write. So each item has a **generation**, bumped by every
//! invalidation; a miss hands out the generation it saw ([`Lookup::Miss`]), a fill is stored
//! only under that generation, and a hit is only a value of the current one. A stale fill can
//! never be served.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use entities::inventory::stock_views::StockByBranch;
use prometheus::{IntCounterVec, Opts, Registry};
use uuid::Uuid;

use crate::redis_link::RedisLink;

/// Most entries the in-process cache holds.
pub const MEMORY_MAX_ENTRIES: usize = 10_000;

/// Where cached views live.
enum Backend {
    Memory(Mutex<MemoryCache>),
    Redis(RedisLink),
}

/// The in-process cache: views by (tenant, item) with the generation they were read under, and
/// each item's current generation.
#[derive(Default)]
struct MemoryCache {
    views: HashMap<(Uuid, Uuid), (Instant, u64, StockByBranch)>,
    generations: HashMap<(Uuid, Uuid), u64>,
}

/// What a look-up found.
#[derive(Debug)]
pub enum Lookup {
    /// A view of the item's current generation.
    Hit(StockByBranch),
    /// Nothing current: read the database, then [`StockCache::put`] with this generation.
    Miss(Generation),
}

/// The generation a miss saw; a fill under an older one is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation(u64);

/// Stores a value only while the item's generation is still the one the reader saw.
const PUT_IF_CURRENT: &str = r"
local current = redis.call('GET', KEYS[1]) or '0'
if current == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[1] .. '|' .. ARGV[2], 'EX', ARGV[3])
end
return 0
";

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

/// The key of an item's generation.
#[must_use]
pub fn generation_key(tenant: Uuid, item: Uuid) -> String {
    format!("nexus:{tenant}:stockgen:{item}")
}

impl StockCache {
    /// A cache on Redis at `redis_url`, or in-process without one, holding views for `ttl`; a
    /// Redis call that takes longer than `deadline` counts as a miss and the database answers.
    /// Its counters are registered in `registry`. A Redis URL that does not parse (the
    /// configuration has already checked it) falls back to the in-process cache.
    ///
    /// # Errors
    /// When the counters cannot be registered.
    pub fn new(
        redis_url: Option<&str>,
        ttl: Duration,
        deadline: Duration,
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
            Some(Ok(client)) => Backend::Redis(RedisLink::new(
                client,
                deadline,
                "stock cache: Redis failed; reading stock from the database",
            )),
            Some(Err(e)) => {
                tracing::warn!("stock cache: REDIS_URL unusable ({e}); caching in-process");
                Backend::Memory(Mutex::new(MemoryCache::default()))
            }
            None => Backend::Memory(Mutex::new(MemoryCache::default())),
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

    /// The cached view of an item if it is of the item's current generation; otherwise a miss
    /// with the generation to fill under (a Redis failure is a miss that no fill can use).
    pub async fn get(&self, tenant: Uuid, item: Uuid) -> Lookup {
        match &self.0.backend {
            Backend::Memory(m) => {
                let found = {
                    let mut m = m.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    let current = m.generations.get(&(tenant, item)).copied().unwrap_or(0);
                    match m.views.get(&(tenant, item)) {
                        Some((at, g, v)) if at.elapsed() < self.0.ttl && *g == current => {
                            Lookup::Hit(v.clone())
                        }
                        Some(_) => {
                            m.views.remove(&(tenant, item));
                            Lookup::Miss(Generation(current))
                        }
                        None => Lookup::Miss(Generation(current)),
                    }
                };
                self.count(if matches!(found, Lookup::Hit(_)) {
                    "hit"
                } else {
                    "miss"
                });
                found
            }
            Backend::Redis(r) => {
                let cmd = redis::cmd("MGET")
                    .arg(generation_key(tenant, item))
                    .arg(key(tenant, item))
                    .clone();
                match r.run::<(Option<u64>, Option<String>)>(&cmd).await {
                    Ok((current, value)) => {
                        let current = current.unwrap_or(0);
                        let hit = value.and_then(|v| {
                            let (g, json) = v.split_once('|')?;
                            (g.parse::<u64>().ok()? == current)
                                .then(|| serde_json::from_str::<StockByBranch>(json).ok())
                                .flatten()
                        });
                        match hit {
                            Some(v) => {
                                self.count("hit");
                                Lookup::Hit(v)
                            }
                            // Absent, of an older generation, or of an older shape: read through.
                            None => {
                                self.count("miss");
                                Lookup::Miss(Generation(current))
                            }
                        }
                    }
                    Err(e) => {
                        self.count("error");
                        r.failed(&e);
                        Lookup::Miss(Generation(u64::MAX))
                    }
                }
            }
        }
    }

    /// Caches an item's view for the TTL, under the generation its miss saw: when the item was
    /// invalidated since, the view may predate the change and is dropped.
    pub async fn put(&self, tenant: Uuid, item: Uuid, seen: Generation, view: &StockByBranch) {
        match &self.0.backend {
            Backend::Memory(m) => {
                let mut m = m.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if m.generations.get(&(tenant, item)).copied().unwrap_or(0) != seen.0 {
                    return;
                }
                if m.views.len() >= MEMORY_MAX_ENTRIES {
                    let ttl = self.0.ttl;
                    m.views.retain(|_, (at, _, _)| at.elapsed() < ttl);
                    // Still full of live entries: drop a tenth (any; the map has no order) so
                    // the next puts do not pay for a sweep each.
                    if m.views.len() >= MEMORY_MAX_ENTRIES {
                        let drop: Vec<_> = m
                            .views
                            .keys()
                            .take(MEMORY_MAX_ENTRIES / 10)
                            .copied()
                            .collect();
                        for k in drop {
                            m.views.remove(&k);
                        }
                    }
                }
                m.views
                    .insert((tenant, item), (Instant::now(), seen.0, view.clone()));
            }
            Backend::Redis(r) => {
                if seen.0 == u64::MAX {
                    return;
                }
                let Ok(json) = serde_json::to_string(view) else {
                    return;
                };
                let cmd = redis::cmd("EVAL")
                    .arg(PUT_IF_CURRENT)
                    .arg(2)
                    .arg(generation_key(tenant, item))
                    .arg(key(tenant, item))
                    .arg(seen.0)
                    .arg(json)
                    .arg(self.0.ttl.as_secs().max(1))
                    .clone();
                if let Err(e) = r.run::<i64>(&cmd).await {
                    self.count("error");
                    r.failed(&e);
                }
            }
        }
    }

    /// Forgets the views of some items and moves them to a new generation, so a fill begun
    /// before this call is dropped too (one pipelined round trip on Redis). Call it after the
    /// commit that changed their stock.
    pub async fn invalidate(&self, tenant: Uuid, items: &[Uuid]) {
        if items.is_empty() {
            return;
        }
        match &self.0.backend {
            Backend::Memory(m) => {
                let mut m = m.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if m.generations.len() >= MEMORY_MAX_ENTRIES * 4 {
                    // Dropping generations is safe only with their views: a view is then never
                    // older than a generation it could be compared with.
                    m.generations.clear();
                    m.views.clear();
                }
                for i in items {
                    m.views.remove(&(tenant, *i));
                    *m.generations.entry((tenant, *i)).or_insert(0) += 1;
                }
            }
            Backend::Redis(r) => {
                // A generation outlives any view tagged with it (twice the TTL, renewed on every
                // bump), so an expired generation never makes an old view current again.
                let keep = self.0.ttl.as_secs().max(1) * 2;
                let mut pipe = redis::pipe();
                for i in items {
                    let g = generation_key(tenant, *i);
                    pipe.cmd("INCR").arg(&g).ignore();
                    pipe.cmd("EXPIRE").arg(&g).arg(keep).ignore();
                    pipe.cmd("DEL").arg(key(tenant, *i)).ignore();
                }
                if let Err(e) = r.run_pipe(&pipe).await {
                    self.count("error");
                    r.failed(&e);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis_link::REDIS_DEADLINE;

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

    fn miss(l: Lookup) -> Generation {
        match l {
            Lookup::Miss(g) => g,
            Lookup::Hit(v) => panic!("expected a miss, got {v:?}"),
        }
    }

    fn hit(l: Lookup) -> StockByBranch {
        match l {
            Lookup::Hit(v) => v,
            Lookup::Miss(_) => panic!("expected a hit"),
        }
    }

    #[tokio::test]
    async fn the_memory_cache_hits_expires_and_invalidates() {
        let reg = Registry::new();
        let c = StockCache::new(None, Duration::from_millis(200), REDIS_DEADLINE, &reg).unwrap();
        let (t, i) = (Uuid::now_v7(), Uuid::now_v7());
        let g = miss(c.get(t, i).await);
        c.put(t, i, g, &view(i, 3)).await;
        assert_eq!(hit(c.get(t, i).await).on_hand, 3);
        miss(c.get(Uuid::now_v7(), i).await);
        c.invalidate(t, &[i]).await;
        let g = miss(c.get(t, i).await);
        c.put(t, i, g, &view(i, 3)).await;
        tokio::time::sleep(Duration::from_millis(250)).await;
        miss(c.get(t, i).await);
    }

    #[tokio::test]
    async fn a_fill_begun_before_an_invalidation_is_never_served() {
        let reg = Registry::new();
        let c = StockCache::new(None, Duration::from_secs(60), REDIS_DEADLINE, &reg).unwrap();
        let (t, i) = (Uuid::now_v7(), Uuid::now_v7());
        let seen = miss(c.get(t, i).await);
        c.invalidate(t, &[i]).await;
        c.put(t, i, seen, &view(i, 9)).await;
        let now = miss(c.get(t, i).await);
        c.put(t, i, now, &view(i, 4)).await;
        assert_eq!(hit(c.get(t, i).await).on_hand, 4);
    }

    #[tokio::test]
    async fn a_dead_redis_is_a_fast_miss_counted_as_an_error() {
        let reg = Registry::new();
        let c = StockCache::new(
            Some("redis://127.0.0.1:1/0"),
            Duration::from_secs(60),
            REDIS_DEADLINE,
            &reg,
        )
        .unwrap();
        let (t, i) = (Uuid::now_v7(), Uuid::now_v7());
        let start = Instant::now();
        let g = miss(c.get(t, i).await);
        c.put(t, i, g, &view(i, 1)).await;
        c.invalidate(t, &[i]).await;
        assert!(start.elapsed() < Duration::from_millis(600));
        assert!(c.0.requests.with_label_values(&["error"]).get() >= 1);
    }
}
