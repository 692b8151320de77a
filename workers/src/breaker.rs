//! Tenants whose database is down, so that their jobs wait in the outbox instead of in worker
//! slots.
//!
//! A delivery that cannot reach its tenant's database (or the platform's, to look the tenant up)
//! opens that tenant's breaker. While it is open, every delivery of the tenant is acknowledged at
//! once without touching any database, and its outbox row (`id`, `attempt`) is remembered here.
//! A probe, at growing intervals, opens a connection; when it answers, the remembered rows are put
//! back in line (`outbox::requeue_deferred`) and the relay pushes them again. Other tenants'
//! jobs never wait behind a down tenant's connect timeouts.
//!
//! What is remembered here is only a shortcut: a process that dies with rows deferred loses the
//! list, and the relay's reconciler (`outbox::requeue_lost`) puts those rows back after its grace
//! period, because they were sent and never started.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

/// The first wait before probing a down tenant; doubled after each failed probe.
const FIRST_WAIT: Duration = Duration::from_millis(500);
/// The longest wait between probes.
const MAX_WAIT: Duration = Duration::from_secs(30);
/// Rows remembered per tenant; past this, rows are left to the reconciler.
const MAX_DEFERRED: usize = 100_000;

/// A tenant that is down, as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DownTenant {
    /// The tenant.
    pub tenant_id: Uuid,
    /// Seconds since its breaker opened.
    pub down_for_secs: u64,
    /// Deliveries acknowledged while down, waiting to be put back in line.
    pub deferred: usize,
    /// Failed probes since it went down.
    pub failed_probes: u32,
    /// The last error seen.
    pub error: String,
}

#[derive(Debug)]
struct Down {
    since: Instant,
    probe_at: Instant,
    failed_probes: u32,
    /// A probe is running: no second one starts.
    probing: bool,
    deferred: Vec<(i64, i32)>,
    error: String,
}

impl Down {
    fn remember(&mut self, row: (i64, i32)) {
        if self.deferred.len() < MAX_DEFERRED {
            self.deferred.push(row);
        }
    }
}

/// The breakers of one process's tenants.
#[derive(Debug, Default)]
pub struct TenantBreakers {
    down: Mutex<HashMap<Uuid, Down>>,
}

impl TenantBreakers {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Down>> {
        // Every change is a single insert, remove or field update: a panic cannot leave a
        // half-made entry, so a poisoned lock is safe to keep using.
        self.down
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// When the tenant is down, remembers the delivery's row and answers `true`: the caller
    /// acknowledges it without running it.
    pub(crate) fn defer_if_down(&self, tenant: Uuid, row: (i64, i32)) -> bool {
        match self.lock().get_mut(&tenant) {
            Some(d) => {
                d.remember(row);
                true
            }
            None => false,
        }
    }

    /// A delivery of the tenant failed on its infrastructure: opens the breaker (or keeps it
    /// open) and remembers the row.
    pub(crate) fn failed(&self, tenant: Uuid, row: (i64, i32), error: String) {
        let now = Instant::now();
        let mut down = self.lock();
        let d = down.entry(tenant).or_insert_with(|| {
            tracing::warn!(%tenant, "tenant database down; its jobs wait in the outbox: {error}");
            Down {
                since: now,
                probe_at: now + FIRST_WAIT,
                failed_probes: 0,
                probing: false,
                deferred: Vec::new(),
                error: String::new(),
            }
        });
        d.error = error;
        d.remember(row);
    }

    /// The down tenants whose next probe is due, marked as being probed.
    pub(crate) fn due_probes(&self) -> Vec<Uuid> {
        let now = Instant::now();
        self.lock()
            .iter_mut()
            .filter(|(_, d)| !d.probing && d.probe_at <= now)
            .map(|(id, d)| {
                d.probing = true;
                *id
            })
            .collect()
    }

    /// The probe failed: the next waits twice as long (up to [`MAX_WAIT`]).
    pub(crate) fn probe_failed(&self, tenant: Uuid, error: String) {
        if let Some(d) = self.lock().get_mut(&tenant) {
            d.failed_probes = d.failed_probes.saturating_add(1);
            let wait = FIRST_WAIT
                .saturating_mul(1u32.checked_shl(d.failed_probes).unwrap_or(u32::MAX))
                .min(MAX_WAIT);
            d.probe_at = Instant::now() + wait;
            d.probing = false;
            d.error = error;
        }
    }

    /// The probe answered: closes the breaker and hands over the rows to put back in line.
    pub(crate) fn recovered(&self, tenant: Uuid) -> Vec<(i64, i32)> {
        let d = self.lock().remove(&tenant);
        if let Some(d) = &d {
            tracing::info!(
                %tenant,
                "tenant database back after {:?}; {} deferred jobs go back in line",
                d.since.elapsed(),
                d.deferred.len()
            );
        }
        d.map(|d| d.deferred).unwrap_or_default()
    }

    /// Putting the rows back failed: the tenant is down again, with those rows.
    pub(crate) fn requeue_failed(&self, tenant: Uuid, rows: Vec<(i64, i32)>, error: String) {
        for row in rows {
            self.failed(tenant, row, error.clone());
        }
    }

    /// How many tenants are down now.
    #[must_use]
    pub fn count(&self) -> usize {
        self.lock().len()
    }

    /// The tenants down now.
    #[must_use]
    pub fn down(&self) -> Vec<DownTenant> {
        let mut out: Vec<DownTenant> = self
            .lock()
            .iter()
            .map(|(id, d)| DownTenant {
                tenant_id: *id,
                down_for_secs: d.since.elapsed().as_secs(),
                deferred: d.deferred.len(),
                failed_probes: d.failed_probes,
                error: d.error.clone(),
            })
            .collect();
        out.sort_by_key(|d| d.tenant_id);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_is_up_until_a_delivery_fails_and_down_until_its_probe_answers() {
        let b = TenantBreakers::default();
        let t = Uuid::now_v7();
        assert!(!b.defer_if_down(t, (1, 0)));
        b.failed(t, (1, 0), "refused".into());
        assert!(b.defer_if_down(t, (2, 0)));
        assert_eq!(b.down()[0].deferred, 2);
        assert_eq!(b.recovered(t), vec![(1, 0), (2, 0)]);
        assert!(!b.defer_if_down(t, (3, 0)));
        assert!(b.down().is_empty());
    }

    #[test]
    fn a_failed_probe_doubles_the_wait_and_only_one_probe_runs_at_a_time() {
        let b = TenantBreakers::default();
        let t = Uuid::now_v7();
        b.failed(t, (1, 0), "refused".into());
        assert!(b.due_probes().is_empty(), "the first probe waits");
        b.lock().get_mut(&t).unwrap().probe_at = Instant::now();
        assert_eq!(b.due_probes().len(), 1);
        assert!(b.due_probes().is_empty(), "one probe at a time");
        b.probe_failed(t, "still refused".into());
        let d = &b.lock()[&t];
        let wait = d.probe_at - Instant::now();
        assert!(wait > FIRST_WAIT && wait <= FIRST_WAIT * 2, "{wait:?}");
        assert_eq!(d.error, "still refused");
    }

    #[test]
    fn rows_that_could_not_be_put_back_stay_deferred() {
        let b = TenantBreakers::default();
        let t = Uuid::now_v7();
        b.failed(t, (1, 0), "refused".into());
        let rows = b.recovered(t);
        b.requeue_failed(t, rows, "refused again".into());
        assert_eq!(b.down()[0].deferred, 1);
        assert_eq!(b.down()[0].error, "refused again");
    }
}
