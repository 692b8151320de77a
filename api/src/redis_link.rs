//! A link to Redis for calls on a request's path (the stock cache, the login throttle): short
//! deadlines, a lazily connected manager, and after a failure a second in which calls fail at
//! once, so a dead Redis costs a request nothing and its caller falls back.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// Longest a Redis call may take before it counts as an error, unless configured
/// (`REDIS_DEADLINE_MS`).
pub const REDIS_DEADLINE: Duration = Duration::from_millis(150);

/// After a Redis error, how long calls skip Redis.
const REDIS_BACKOFF: Duration = Duration::from_secs(1);

/// How often a failing Redis is logged.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// One Redis client with its failure back-off.
pub(crate) struct RedisLink {
    client: redis::Client,
    /// Built on first use: it needs the async runtime, and connects lazily.
    conn: OnceLock<Result<ConnectionManager, String>>,
    /// Milliseconds since `epoch` before which Redis is not tried again.
    skip_until: AtomicU64,
    /// Milliseconds since `epoch` of the last warning (0: never).
    last_warn: AtomicU64,
    epoch: Instant,
    /// Longest a call may take before it counts as an error.
    deadline: Duration,
    on_failure: &'static str,
}

impl RedisLink {
    /// A link to Redis through `client` whose calls fail after `deadline`; `on_failure` is the
    /// warning logged (at most once a minute) when calls fail, saying what the caller does
    /// instead.
    pub(crate) fn new(client: redis::Client, deadline: Duration, on_failure: &'static str) -> Self {
        Self {
            client,
            deadline,
            conn: OnceLock::new(),
            skip_until: AtomicU64::new(0),
            last_warn: AtomicU64::new(0),
            epoch: Instant::now(),
            on_failure,
        }
    }

    fn since_epoch(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn manager(&self) -> Result<ConnectionManager, String> {
        self.conn
            .get_or_init(|| {
                // Short timeouts and no retry loop inside a call: a dead Redis must cost a
                // request at most the deadline; the manager reconnects on later calls.
                let cfg = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.deadline))
                    .set_response_timeout(Some(self.deadline))
                    .set_number_of_retries(1)
                    .set_max_delay(self.deadline);
                ConnectionManager::new_lazy_with_config(self.client.clone(), cfg)
                    .map_err(|e| e.to_string())
            })
            .clone()
    }

    /// Runs one command within the deadline; during the back-off after a failure it fails
    /// at once without calling Redis.
    pub(crate) async fn run<T: redis::FromRedisValue>(
        &self,
        cmd: &redis::Cmd,
    ) -> Result<T, String> {
        if self.since_epoch() < self.skip_until.load(Ordering::Relaxed) {
            return Err("skipped: Redis failed less than a second ago".into());
        }
        let mut conn = self.manager()?;
        match tokio::time::timeout(self.deadline, cmd.query_async::<T>(&mut conn)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {:?}", self.deadline)),
        }
    }

    /// Runs a pipeline within the deadline, as [`RedisLink::run`] does one command.
    pub(crate) async fn run_pipe(&self, pipe: &redis::Pipeline) -> Result<(), String> {
        if self.since_epoch() < self.skip_until.load(Ordering::Relaxed) {
            return Err("skipped: Redis failed less than a second ago".into());
        }
        let mut conn = self.manager()?;
        match tokio::time::timeout(self.deadline, pipe.query_async::<()>(&mut conn)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {:?}", self.deadline)),
        }
    }

    /// Notes a failure: starts the back-off, and warns if the last warning is a minute old.
    pub(crate) fn failed(&self, e: &str) {
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
            tracing::warn!("{} ({e})", self.on_failure);
        }
    }
}
