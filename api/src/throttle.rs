//! Login throttling: attempts counted per account and per client address in a window; past the
//! limit, attempts are refused with a `Retry-After` before any password work.
//!
//! Each attempt is reserved before the password is checked, so parallel guesses cannot all pass
//! the check before any is counted. In the distributed shape the counters live in Redis, shared
//! by every API process (two processes must not double the limit); in the embedded shape, or
//! while Redis does not answer, each process counts in memory, which still bounds a guesser per
//! process.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::redis_link::RedisLink;

/// Takes an attempt: counts it unless the key is at its limit, starting the window at the first
/// attempt. Answers the count, or minus the milliseconds until the window ends when refused.
const RESERVE: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if n > tonumber(ARGV[2]) then
  redis.call('DECR', KEYS[1])
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl < 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
    ttl = tonumber(ARGV[1])
  end
  return -ttl
end
return n
";

/// Gives an attempt back, never below zero.
const RELEASE: &str = r"
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then redis.call('DECR', KEYS[1]) end
return 0
";

/// Counts attempts per key.
pub struct Throttle {
    max_attempts: u32,
    window: Duration,
    local: Mutex<HashMap<String, (u32, Instant)>>,
    /// Shared counters, and the prefix of their keys.
    redis: Option<(RedisLink, String)>,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("max_attempts", &self.max_attempts)
            .field("window", &self.window)
            .field("shared", &self.redis.is_some())
            .finish_non_exhaustive()
    }
}

impl Throttle {
    /// A throttle allowing `max_attempts` failed attempts per key in `window`, counted in this
    /// process.
    #[must_use]
    pub fn new(max_attempts: u32, window: Duration) -> Self {
        Self {
            max_attempts,
            window,
            local: Mutex::new(HashMap::new()),
            redis: None,
        }
    }

    /// Counts in the Redis at `url` instead, under keys `<prefix>:<key>`, shared by every process
    /// that names the same prefix; a call slower than `deadline` counts in this process. A URL
    /// that does not open keeps the counts in this process.
    #[must_use]
    pub fn shared(mut self, url: Option<&str>, prefix: &str, deadline: Duration) -> Self {
        match url.map(redis::Client::open) {
            Some(Ok(client)) => {
                self.redis = Some((
                    RedisLink::new(
                        client,
                        deadline,
                        "login throttle: Redis failed; counting attempts in this process",
                    ),
                    prefix.to_owned(),
                ));
            }
            Some(Err(e)) => {
                tracing::warn!("login throttle: REDIS_URL unusable ({e}); counting in process");
            }
            None => {}
        }
        self
    }

    fn local(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u32, Instant)>> {
        // Counters stay meaningful after a panic elsewhere; keep using them.
        self.local
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn window_ms(&self) -> u64 {
        u64::try_from(self.window.as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    /// Takes one attempt of `key` now, before the password is checked: at most `max_attempts`
    /// are ever evaluated per window. A success gives its attempt back
    /// ([`Throttle::release`]) or clears the key.
    ///
    /// # Errors
    /// The seconds to wait when `key` is out of attempts.
    pub async fn reserve(&self, key: &str) -> Result<(), u64> {
        if let Some((link, prefix)) = &self.redis {
            let cmd = redis::cmd("EVAL")
                .arg(RESERVE)
                .arg(1)
                .arg(format!("{prefix}:{key}"))
                .arg(self.window_ms())
                .arg(self.max_attempts)
                .clone();
            match link.run::<i64>(&cmd).await {
                Ok(n) if n > 0 => return Ok(()),
                Ok(n) => return Err(n.unsigned_abs().div_ceil(1000).max(1)),
                Err(e) => link.failed(&e),
            }
        }
        self.reserve_local(key)
    }

    fn reserve_local(&self, key: &str) -> Result<(), u64> {
        let mut entries = self.local();
        if entries.len() > 100_000 {
            let window = self.window;
            entries.retain(|_, (_, since)| since.elapsed() < window);
        }
        let e = entries.entry(key.to_owned()).or_insert((0, Instant::now()));
        if e.1.elapsed() >= self.window {
            *e = (0, Instant::now());
        }
        if e.0 >= self.max_attempts {
            return Err(self.window.saturating_sub(e.1.elapsed()).as_secs().max(1));
        }
        e.0 += 1;
        Ok(())
    }

    /// Gives back an attempt [`Throttle::reserve`] took, when it did not fail.
    pub async fn release(&self, key: &str) {
        if let Some((link, prefix)) = &self.redis {
            let cmd = redis::cmd("EVAL")
                .arg(RELEASE)
                .arg(1)
                .arg(format!("{prefix}:{key}"))
                .clone();
            if let Err(e) = link.run::<i64>(&cmd).await {
                link.failed(&e);
            }
        }
        if let Some(e) = self.local().get_mut(key) {
            e.0 = e.0.saturating_sub(1);
        }
    }

    /// Forgets `key` (after a successful login).
    pub async fn clear(&self, key: &str) {
        if let Some((link, prefix)) = &self.redis {
            let cmd = redis::cmd("DEL").arg(format!("{prefix}:{key}")).clone();
            if let Err(e) = link.run::<i64>(&cmd).await {
                link.failed(&e);
            }
        }
        self.local().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reservations_let_no_more_attempts_through_than_the_limit() {
        let t = Throttle::new(5, Duration::from_secs(60));
        let mut through = 0;
        for _ in 0..40 {
            through += usize::from(t.reserve("a").await.is_ok());
        }
        assert_eq!(through, 5);
        t.release("a").await;
        assert!(
            t.reserve("a").await.is_ok(),
            "a released attempt can be taken again"
        );
        assert!(t.reserve("a").await.is_err());
        assert!(
            t.reserve("b").await.is_ok(),
            "another key has its own count"
        );
        t.clear("a").await;
        assert!(t.reserve("a").await.is_ok(), "a cleared key starts again");
    }

    #[tokio::test]
    async fn attempts_older_than_the_window_do_not_count() {
        let t = Throttle::new(1, Duration::from_millis(1));
        assert!(t.reserve("a").await.is_ok());
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert!(t.reserve("a").await.is_ok());
    }
}
