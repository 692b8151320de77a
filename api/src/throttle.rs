//! Login throttling: failed attempts counted per account and per client address in a sliding
//! window; past the limit, attempts are refused with a `Retry-After` before any password work.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counts failures per key.
#[derive(Debug)]
pub struct Throttle {
    max_failures: u32,
    window: Duration,
    entries: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Throttle {
    /// A throttle allowing `max_failures` in `window`.
    #[must_use]
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u32, Instant)>> {
        // Counters stay meaningful after a panic elsewhere; keep using them.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Seconds to wait before `key` may try again, if it is locked out.
    #[must_use]
    pub fn retry_after(&self, key: &str) -> Option<u64> {
        let entries = self.entries();
        let (count, since) = entries.get(key)?;
        let elapsed = since.elapsed();
        (*count >= self.max_failures && elapsed < self.window)
            .then(|| (self.window - elapsed).as_secs().max(1))
    }

    /// Takes one attempt of `key` now, before the password is checked, so parallel guesses cannot
    /// all pass the check before any of them is counted: at most `max_failures` are ever
    /// evaluated per window. A success gives its attempt back ([`Throttle::release`]) or clears
    /// the key.
    ///
    /// # Errors
    /// The seconds to wait when `key` is out of attempts.
    pub fn reserve(&self, key: &str) -> Result<(), u64> {
        let mut entries = self.entries();
        if entries.len() > 100_000 {
            let window = self.window;
            entries.retain(|_, (_, since)| since.elapsed() < window);
        }
        let e = entries.entry(key.to_owned()).or_insert((0, Instant::now()));
        if e.1.elapsed() >= self.window {
            *e = (0, Instant::now());
        }
        if e.0 >= self.max_failures {
            return Err(self.window.saturating_sub(e.1.elapsed()).as_secs().max(1));
        }
        e.0 += 1;
        Ok(())
    }

    /// Gives back an attempt [`Throttle::reserve`] took, when it did not fail.
    pub fn release(&self, key: &str) {
        if let Some(e) = self.entries().get_mut(key) {
            e.0 = e.0.saturating_sub(1);
        }
    }

    /// Counts a failure of `key`.
    pub fn fail(&self, key: &str) {
        let mut entries = self.entries();
        if entries.len() > 100_000 {
            let window = self.window;
            entries.retain(|_, (_, since)| since.elapsed() < window);
        }
        let e = entries.entry(key.to_owned()).or_insert((0, Instant::now()));
        if e.1.elapsed() >= self.window {
            *e = (0, Instant::now());
        }
        e.0 += 1;
    }

    /// Forgets `key` (after a successful login).
    pub fn clear(&self, key: &str) {
        self.entries().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_locked_out_after_its_failures_and_cleared_by_success() {
        let t = Throttle::new(3, Duration::from_secs(60));
        for _ in 0..2 {
            t.fail("a");
        }
        assert_eq!(t.retry_after("a"), None);
        t.fail("a");
        assert!(t.retry_after("a").is_some_and(|s| s <= 60));
        assert_eq!(t.retry_after("b"), None);
        t.clear("a");
        assert_eq!(t.retry_after("a"), None);
    }

    #[test]
    fn reservations_let_no_more_attempts_through_than_the_limit() {
        let t = Throttle::new(5, Duration::from_secs(60));
        let through = (0..40).filter(|_| t.reserve("a").is_ok()).count();
        assert_eq!(through, 5);
        t.release("a");
        assert!(
            t.reserve("a").is_ok(),
            "a released attempt can be taken again"
        );
        assert!(t.reserve("a").is_err());
    }

    #[test]
    fn failures_older_than_the_window_do_not_count() {
        let t = Throttle::new(1, Duration::from_millis(1));
        t.fail("a");
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(t.retry_after("a"), None);
    }
}
