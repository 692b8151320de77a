//! The outbox relay: moves committed outbox rows of every tenant into the queues.
//!
//! It runs after commits (woken through [`RelayWaker`]) and on an interval sweep, so rows left by
//! a crash go out too. Each queue gets at most `window` waiting jobs in the backend: the outbox
//! holds any larger backlog (apalis-redis fails every fetch past ~8,000 due jobs; see
//! `docs/jobs.md`). A push that succeeds but is not marked sent (a crash in between) is pushed
//! again with the same key and dropped by the backend's dedupe.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use entities::jobs::tables::outbox;
use entities::registry::TenantRegistry;
use entities::{org::tables::tenant, org::tenants};
use jobs::{Envelope, Queue, QueueBackend, RelayWaker};
use prometheus::{IntCounterVec, IntGaugeVec, Opts, Registry};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

/// Why a relay pass failed.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// A database failed.
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// The platform or a tenant database could not be opened.
    #[error(transparent)]
    Domain(#[from] entities::Error),
    /// The queue backend refused.
    #[error(transparent)]
    Backend(#[from] jobs::BackendError),
}

/// A `running` run whose lease is older than this lost its worker: the reconciler puts its row
/// back in line, and operators count it as unstarted.
pub const LEASE_LAPSED: Duration = Duration::from_secs(30);

/// Settings of the relay.
#[derive(Debug, Clone, Copy)]
pub struct RelayConfig {
    /// Most jobs of one queue waiting in the backend.
    pub window: u64,
    /// Most rows read per query.
    pub batch: u64,
    /// Time between sweeps of every tenant.
    pub sweep_every: Duration,
    /// Time between sweeps while rows wait for room in a queue's window.
    pub backlog_every: Duration,
    /// A row sent this long ago whose run never started (or whose run's lease lapsed) is pushed
    /// again: the queue lost it (Redis restarted empty, a worker died holding it).
    pub repush_after: Duration,
    /// Time between those checks (each reads the rows sent in the last hour, per queue).
    pub reconcile_every: Duration,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            window: 2_000,
            batch: 500,
            sweep_every: Duration::from_secs(2),
            backlog_every: Duration::from_millis(100),
            repush_after: Duration::from_secs(120),
            reconcile_every: Duration::from_secs(10),
        }
    }
}

/// The relay's metrics.
#[derive(Clone, Debug)]
pub struct RelayMetrics {
    relayed: IntCounterVec,
    repushed: IntCounterVec,
    errors: IntCounterVec,
    backlog: IntGaugeVec,
    lag: IntGaugeVec,
}

impl RelayMetrics {
    /// Creates and registers the metrics.
    ///
    /// # Errors
    /// A registration clash.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let relayed = IntCounterVec::new(
            Opts::new(
                "nexus_outbox_relayed_total",
                "Outbox rows pushed to their queue",
            ),
            &["queue"],
        )?;
        let repushed = IntCounterVec::new(
            Opts::new(
                "nexus_outbox_repushed_total",
                "Sent outbox rows the queue had lost (no run started, or a lapsed lease), pushed again",
            ),
            &["queue"],
        )?;
        let errors = IntCounterVec::new(
            Opts::new(
                "nexus_outbox_relay_errors_total",
                "Failed relay passes by cause",
            ),
            &["cause"],
        )?;
        let backlog = IntGaugeVec::new(
            Opts::new(
                "nexus_outbox_backlog",
                "Outbox rows not yet pushed, all tenants, at the last sweep",
            ),
            &["queue"],
        )?;
        let lag = IntGaugeVec::new(
            Opts::new(
                "nexus_outbox_lag_seconds",
                "Age of the oldest due outbox row not yet pushed, at the last sweep",
            ),
            &["queue"],
        )?;
        for m in [&relayed, &repushed, &errors] {
            registry.register(Box::new(m.clone()))?;
        }
        for m in [&backlog, &lag] {
            registry.register(Box::new(m.clone()))?;
        }
        Ok(Self {
            relayed,
            repushed,
            errors,
            backlog,
            lag,
        })
    }
}

/// What one pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RelayReport {
    /// Rows pushed per queue.
    pub pushed: HashMap<&'static str, u64>,
    /// Due rows left in the outbox because their queue's window was full.
    pub held_back: u64,
    /// Tenants whose database failed in this pass, with the error: skipped, and retried on the
    /// next pass, while every other tenant is relayed.
    pub failed_tenants: Vec<(String, String)>,
    /// Sent rows the queue had lost, put back in line (and pushed again in this pass).
    pub repushed: u64,
}

impl RelayReport {
    /// Rows pushed in all queues.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.pushed.values().sum()
    }
}

/// Moves outbox rows to the queues.
pub struct Relay {
    platform: DatabaseConnection,
    tenants: Arc<TenantRegistry>,
    backend: QueueBackend,
    waker: RelayWaker,
    config: RelayConfig,
    metrics: Option<RelayMetrics>,
    /// When this relay last looked for rows the queue lost.
    last_reconcile: std::sync::Mutex<Option<std::time::Instant>>,
    /// Per tenant, when its last look for lost rows succeeded: the next look reads the rows sent
    /// since a little before then. A tenant not looked at yet by this process (it just started,
    /// or the tenant's database was down) is read whole, so rows deferred by a worker that died
    /// during a long outage are found however old they are.
    reconciled: std::sync::Mutex<HashMap<uuid::Uuid, chrono::DateTime<chrono::Utc>>>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("backend", &self.backend)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// A relay over every tenant of the platform.
    #[must_use]
    pub fn new(
        platform: DatabaseConnection,
        tenants: Arc<TenantRegistry>,
        backend: QueueBackend,
        waker: RelayWaker,
        config: RelayConfig,
        metrics: Option<RelayMetrics>,
    ) -> Self {
        Self {
            platform,
            tenants,
            backend,
            waker,
            config,
            metrics,
            last_reconcile: std::sync::Mutex::new(None),
            reconciled: std::sync::Mutex::default(),
        }
    }

    /// Whether this sweep also looks for rows the queue lost, at most every
    /// [`RelayConfig::reconcile_every`].
    fn reconcile_due(&self) -> bool {
        let mut last = self
            .last_reconcile
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let due = last.is_none_or(|at| at.elapsed() >= self.config.reconcile_every);
        if due {
            *last = Some(std::time::Instant::now());
        }
        due
    }

    /// Puts back in line the tenant's rows that were sent but that the queue lost: sent more
    /// than [`RelayConfig::repush_after`] ago with no run of their attempt, or whose run is
    /// `running` with a lease lapsed for 30 s. Reads the rows sent since an hour (or ten times
    /// the grace) before the tenant's last successful look, or all of them the first time. The
    /// outbox is the one source of truth; a re-push that was not needed is skipped by the
    /// runtime (its run exists).
    async fn requeue_lost(
        &self,
        t: &tenant::Model,
        report: &mut RelayReport,
    ) -> Result<(), RelayError> {
        let db = self.tenants.connection(t).await?;
        let now = entities::now();
        let before = now - chrono::Duration::from_std(self.config.repush_after).unwrap_or_default();
        let span = (self.config.repush_after * 10).max(Duration::from_secs(3600));
        let last = self
            .reconciled
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&t.id)
            .copied();
        let since = last.map_or(chrono::DateTime::UNIX_EPOCH, |at| {
            at - chrono::Duration::from_std(span).unwrap_or_default()
        });
        let lease_before = now - chrono::Duration::from_std(LEASE_LAPSED).unwrap_or_default();
        for q in Queue::ALL {
            let n = outbox::requeue_lost(&db, q.name(), since, before, lease_before).await?;
            if n > 0 {
                tracing::warn!(
                    tenant = %t.slug,
                    queue = q.name(),
                    rows = n,
                    "relay: sent jobs the queue lost are pushed again"
                );
                report.repushed += n;
                if let Some(m) = &self.metrics {
                    m.repushed.with_label_values(&[q.name()]).inc_by(n);
                }
            }
        }
        self.reconciled
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(t.id, now);
        Ok(())
    }

    /// One pass over every tenant. A tenant whose database fails is logged, counted
    /// (`nexus_outbox_relay_errors_total{cause="tenant"}`) and listed in the report, and the pass
    /// goes on with the next: one broken database never holds back another tenant's jobs.
    ///
    /// # Errors
    /// The platform database or the queue backend failed (no tenant could be relayed then).
    pub async fn sweep(&self) -> Result<RelayReport, RelayError> {
        let all = tenants::list(&self.platform).await?;
        let mut report = RelayReport::default();
        let mut room = self.room().await?;
        let mut backlog: HashMap<Queue, (i64, i64)> = HashMap::new();
        let reconcile = self.reconcile_due();
        for t in &all {
            let relayed = async {
                if reconcile {
                    self.requeue_lost(t, &mut report).await?;
                }
                self.relay_tenant(t, &mut room, &mut report).await
            }
            .await;
            if self.isolate(t, relayed, &mut report)? {
                continue;
            }
            if self.metrics.is_some() {
                let Ok(of) = self.backlog_of(t).await else {
                    continue;
                };
                for (q, (n, lag)) in of {
                    let e = backlog.entry(q).or_default();
                    e.0 += n;
                    e.1 = e.1.max(lag);
                }
            }
        }
        if let Some(m) = &self.metrics {
            for q in Queue::ALL {
                let (n, lag) = backlog.get(&q).copied().unwrap_or_default();
                m.backlog.with_label_values(&[q.name()]).set(n);
                m.lag.with_label_values(&[q.name()]).set(lag);
            }
        }
        Ok(report)
    }

    /// One pass over the given tenants only (after a wake-up).
    ///
    /// # Errors
    /// The first failure.
    pub async fn relay_tenants(
        &self,
        ids: impl IntoIterator<Item = uuid::Uuid>,
    ) -> Result<RelayReport, RelayError> {
        let mut report = RelayReport::default();
        let mut room = self.room().await?;
        for id in ids {
            match tenants::find(&self.platform, id).await {
                Ok(t) => {
                    let relayed = self.relay_tenant(&t, &mut room, &mut report).await;
                    self.isolate(&t, relayed, &mut report)?;
                }
                Err(entities::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(report)
    }

    /// Free places per queue under the window.
    async fn room(&self) -> Result<HashMap<Queue, u64>, RelayError> {
        let waiting = self.backend.waiting_all().await?;
        Ok(Queue::ALL
            .into_iter()
            .map(|q| {
                (
                    q,
                    self.config
                        .window
                        .saturating_sub(waiting.get(&q).copied().unwrap_or(0)),
                )
            })
            .collect())
    }

    /// Whether a tenant's pass failed on its own database (`true`: logged, counted, reported,
    /// and the caller goes on); a failure of the queue backend is everyone's and is returned.
    fn isolate(
        &self,
        t: &tenant::Model,
        relayed: Result<(), RelayError>,
        report: &mut RelayReport,
    ) -> Result<bool, RelayError> {
        match relayed {
            Ok(()) => Ok(false),
            Err(e @ RelayError::Backend(_)) => Err(e),
            Err(e) => {
                tracing::warn!(tenant = %t.slug, "relay: tenant skipped this pass: {e}");
                if let Some(m) = &self.metrics {
                    m.errors.with_label_values(&["tenant"]).inc();
                }
                report.failed_tenants.push((t.slug.clone(), e.to_string()));
                Ok(true)
            }
        }
    }

    async fn relay_tenant(
        &self,
        t: &tenant::Model,
        room: &mut HashMap<Queue, u64>,
        report: &mut RelayReport,
    ) -> Result<(), RelayError> {
        let db = self.tenants.connection(t).await?;
        for q in Queue::ALL {
            loop {
                let free = room.get(&q).copied().unwrap_or(0);
                if free == 0 {
                    report.held_back += self.due_count(&db, q).await?;
                    break;
                }
                let limit = self.config.batch.min(free);
                let due = self.due(&db, q, limit).await?;
                if due.is_empty() {
                    break;
                }
                let n = due.len() as u64;
                let pushed: Vec<(i64, i32)> = due.iter().map(|r| (r.id, r.attempt)).collect();
                let envelopes = due
                    .into_iter()
                    .map(|r| Envelope::of_outbox_row(r, t.id))
                    .collect();
                if let Err(e) = self.backend.push(q, envelopes).await {
                    if let Some(m) = &self.metrics {
                        m.errors.with_label_values(&["push"]).inc();
                    }
                    return Err(e.into());
                }
                outbox::mark_sent(&db, &pushed, entities::now()).await?;
                room.insert(q, free.saturating_sub(n));
                *report.pushed.entry(q.name()).or_default() += n;
                if let Some(m) = &self.metrics {
                    m.relayed.with_label_values(&[q.name()]).inc_by(n);
                }
                if n < limit {
                    break;
                }
            }
        }
        Ok(())
    }

    async fn due_count(&self, db: &DatabaseConnection, q: Queue) -> Result<u64, RelayError> {
        Ok(outbox::due(q.name(), entities::now()).count(db).await?)
    }

    async fn due(
        &self,
        db: &DatabaseConnection,
        q: Queue,
        limit: u64,
    ) -> Result<Vec<outbox::Model>, RelayError> {
        Ok(outbox::due(q.name(), entities::now())
            .order_by_asc(outbox::Column::Id)
            .limit(limit)
            .all(db)
            .await?)
    }

    /// Unsent rows and the age in seconds of the oldest due one, per queue, of one tenant.
    async fn backlog_of(&self, t: &tenant::Model) -> Result<Vec<(Queue, (i64, i64))>, RelayError> {
        let db = self.tenants.connection(t).await?;
        let now = entities::now();
        // One grouped count per tenant; the oldest row is looked up only for non-empty queues.
        let counts: Vec<(String, i64)> = outbox::Entity::find()
            .select_only()
            .column(outbox::Column::Queue)
            .column_as(outbox::Column::Id.count(), "n")
            .filter(outbox::Column::SentAt.is_null())
            .group_by(outbox::Column::Queue)
            .into_tuple()
            .all(&db)
            .await?;
        let mut out = Vec::new();
        for (name, n) in counts {
            let Some(q) = Queue::from_name(&name) else {
                continue;
            };
            let oldest = outbox::due(q.name(), now)
                .order_by_asc(outbox::Column::Id)
                .one(&db)
                .await?
                .map_or(0, |r| (now - r.available_at).num_seconds().max(0));
            out.push((q, (n, oldest)));
        }
        Ok(out)
    }

    /// Runs until `shutdown` turns true: a pass after every wake-up (only the woken tenants) and
    /// a sweep of every tenant on start and every `sweep_every`. Failures are logged and retried
    /// on the next pass; the rows stay in the outbox.
    pub async fn run(self: Arc<Self>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(self.config.sweep_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Rows held back by a full window go out as soon as the workers make room, not on the
        // next sweep: a 2,000-job window refilled every 2 s capped a backlog at ~1,000 jobs/s.
        let mut backlog = false;
        loop {
            let result = tokio::select! {
                _ = tick.tick() => self.sweep().await,
                () = tokio::time::sleep(self.config.backlog_every), if backlog => self.sweep().await,
                () = self.waker.woken() => self.relay_tenants(self.waker.take()).await,
                _ = shutdown.changed() => break,
            };
            backlog = matches!(&result, Ok(r) if r.held_back > 0);
            if let Err(e) = result {
                tracing::warn!(
                    "outbox relay: {e}; the rows stay in the outbox and go on the next pass"
                );
            }
            if *shutdown.borrow() {
                break;
            }
        }
    }
}
