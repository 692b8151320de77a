//! Schedules: the cron table of Nexus, evaluated in Mexico City time. Each entry only enqueues
//! jobs (one per active tenant, through the tenant's outbox); the workers do the work.
//!
//! apalis-cron keeps its ticks in memory, so every scheduler replica fires every tick. A tick is
//! therefore claimed in the platform database (`schedule_ticks`, keyed by schedule and tick
//! time) before anything is enqueued: the replica whose insert wins enqueues, the others do
//! nothing. The same claim absorbs a tick fired twice by one process (apalis-cron computes the
//! next tick from the wall clock right after its timer fires; see `docs/jobs.md`).

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::*;
use apalis_cron::{CronScheduler, Tick};
use chrono::{DateTime, SubsecRound, Utc};
use chrono_tz::Tz;
use entities::registry::TenantRegistry;
use entities::{jobs::tables::schedule_tick, org::tables::tenant, org::tenants};
use jobs::maintenance::{Cleanup, Retention};
use jobs::{QueueBackend, RelayWaker};
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, Set, TryInsertResult};
use uuid::Uuid;

pub use jobs::Queue;

/// The time zone every schedule is written in: the stores' own. Mexico City has kept UTC−6 all
/// year since Mexico dropped daylight saving time in 2022 (chrono-tz's data says so too; see the
/// tests).
pub const TIMEZONE: Tz = chrono_tz::America::Mexico_City;

/// Why scheduling failed.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// A cron expression of the table does not parse (a bug, caught by the tests).
    #[error("schedule {schedule}: bad cron expression: {source}")]
    Cron {
        /// The schedule.
        schedule: &'static str,
        /// The parser's complaint.
        source: cron::error::Error,
    },
    /// A database failed.
    #[error("database: {0}")]
    Db(#[from] DbErr),
    /// The platform or a tenant database could not be read or opened.
    #[error(transparent)]
    Domain(#[from] entities::Error),
    /// A job could not be written to the outbox.
    #[error(transparent)]
    Outbox(#[from] jobs::outbox::OutboxError),
    /// apalis's monitor stopped with an error.
    #[error("scheduler: {0}")]
    Monitor(String),
}

/// An entry of the cron table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Schedule {
    /// 03:30 every day: one `maintenance.cleanup` per active tenant.
    NightlyCleanup,
    /// 01:15 every day: one `cfdi.global_invoice` per active tenant.
    GlobalInvoice,
    /// Every hour at :40: one `cfdi.poll_cancellations` per active tenant.
    CancellationPoll,
    /// 04:00 every day: one `purchasing.nightly_reorder` per active tenant.
    NightlyReorder,
    /// 07:00 every day: one `warranties.expiring` per active tenant.
    WarrantyExpiring,
    /// 02:30 every day: one `customers.nightly` per active tenant.
    CustomersNightly,
    /// 06:45 every day: one `fleets.maintenance_due` per active tenant.
    MaintenanceDue,
}

impl Schedule {
    /// Every entry.
    pub const ALL: [Schedule; 7] = [
        Schedule::NightlyCleanup,
        Schedule::GlobalInvoice,
        Schedule::CancellationPoll,
        Schedule::NightlyReorder,
        Schedule::WarrantyExpiring,
        Schedule::CustomersNightly,
        Schedule::MaintenanceDue,
    ];

    /// The stable name, stored in `schedule_ticks`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Schedule::NightlyCleanup => "nightly-cleanup",
            Schedule::GlobalInvoice => "global-invoice",
            Schedule::CancellationPoll => "cancellation-poll",
            Schedule::NightlyReorder => "nightly-reorder",
            Schedule::WarrantyExpiring => "warranty-expiring",
            Schedule::CustomersNightly => "customers-nightly",
            Schedule::MaintenanceDue => "maintenance-due",
        }
    }

    /// The cron expression (the `cron` crate's: seconds first), in [`TIMEZONE`].
    #[must_use]
    pub const fn cron(self) -> &'static str {
        match self {
            // 03:30, the quietest hour of a store: nobody sells, the clean-up's deletes wait for
            // nobody.
            Schedule::NightlyCleanup => "0 30 3 * * *",
            // 01:15: the day's sales to the general public are closed at midnight and their global
            // invoice is due within 24 h; early, so a failure leaves the whole day to retry.
            Schedule::GlobalInvoice => "0 15 1 * * *",
            // Hourly: a receiver has 3 business days to answer, so an hour late is no harm, and
            // a business without webhooks learns the answer the same day. At :40, away from the
            // nightly entries.
            Schedule::CancellationPoll => "0 40 * * * *",
            // 04:00: after the clean-up, before anyone opens; the day's sales are in the ledger
            // and the alerts are ready when the buyer arrives.
            Schedule::NightlyReorder => "0 0 4 * * *",
            // 07:00: the day's notices are ready to go out when the store opens, not at night.
            Schedule::WarrantyExpiring => "0 0 7 * * *",
            // 02:30: after the day's sales are in and before the clean-up; points expire and
            // tiers move overnight, so the counter sees them right from opening.
            Schedule::CustomersNightly => "0 30 2 * * *",
            // 06:45: the fleet's due work is known before the store opens, and a quarter of an
            // hour away from the warranty notices.
            Schedule::MaintenanceDue => "0 45 6 * * *",
        }
    }

    /// The entry of a name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The parsed cron expression.
    ///
    /// # Errors
    /// [`ScheduleError::Cron`] (a bug in the table).
    pub fn parsed(self) -> Result<cron::Schedule, ScheduleError> {
        cron::Schedule::from_str(self.cron()).map_err(|source| ScheduleError::Cron {
            schedule: self.name(),
            source,
        })
    }

    /// The first tick strictly after `after`, in UTC.
    ///
    /// # Errors
    /// [`ScheduleError::Cron`] (a bug in the table).
    pub fn next_after(self, after: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, ScheduleError> {
        Ok(self
            .parsed()?
            .after(&after.with_timezone(&TIMEZONE))
            .next()
            .map(|t| t.with_timezone(&Utc)))
    }
}

/// What firing one tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fired {
    /// Whether this replica claimed the tick (`false`: another one had, nothing was done).
    pub claimed: bool,
    /// Tenants whose job was enqueued.
    pub enqueued: Vec<Uuid>,
    /// Tenants whose job could not be enqueued, with why (they get the next tick's).
    pub failed: Vec<(Uuid, String)>,
    /// Finished jobs forgotten by the queue backend (nightly clean-up with a backend).
    pub vacuumed: u64,
}

/// Fires the cron table's ticks: claims each tick once across replicas, then enqueues its jobs.
pub struct Scheduler {
    platform: DatabaseConnection,
    tenants: Arc<TenantRegistry>,
    waker: RelayWaker,
    retention: Retention,
    replica: String,
    queues: Option<QueueBackend>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("replica", &self.replica)
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

/// `host:pid:run`, unique per process start, so `schedule_ticks` says which process fired.
fn replica_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into());
    let run = Uuid::now_v7().simple().to_string();
    format!("{host}:{}:{}", std::process::id(), &run[run.len() - 8..])
}

impl Scheduler {
    /// How many times a tick whose claim failed (the platform database was down) is tried.
    pub const CLAIM_ATTEMPTS: u32 = 3;

    /// A scheduler over every tenant of the platform; `retention` goes into each clean-up job.
    #[must_use]
    pub fn new(
        platform: DatabaseConnection,
        tenants: Arc<TenantRegistry>,
        waker: RelayWaker,
        retention: Retention,
    ) -> Self {
        Self {
            platform,
            tenants,
            waker,
            retention,
            replica: replica_name(),
            queues: None,
        }
    }

    /// Also vacuums the queue backend's finished jobs at the nightly clean-up (the backend is
    /// the platform's, not a tenant's, so the replica that claims the tick does it itself).
    #[must_use]
    pub fn with_queues(mut self, backend: QueueBackend) -> Self {
        self.queues = Some(backend);
        self
    }

    /// The same, naming the replica (tests run several in one process).
    #[must_use]
    pub fn with_replica(mut self, replica: impl Into<String>) -> Self {
        self.replica = replica.into();
        self
    }

    /// This replica's name, as `schedule_ticks.fired_by` records it.
    #[must_use]
    pub fn replica(&self) -> &str {
        &self.replica
    }

    /// Fires `schedule`'s tick at `tick` (whole seconds; finer parts are dropped so every
    /// replica names the tick alike): claims it, and when the claim wins, enqueues the tick's
    /// job for every active tenant in that tenant's outbox and wakes the relay. apalis-cron calls
    /// this at each tick; tests and operators can call it for any tick.
    ///
    /// # Errors
    /// When the claim or the tenant list fails. A tenant whose job cannot be enqueued does not
    /// stop the others: it is reported in [`Fired::failed`].
    pub async fn fire(
        &self,
        schedule: Schedule,
        tick: DateTime<Utc>,
    ) -> Result<Fired, ScheduleError> {
        let tick = tick.trunc_subsecs(0);
        if !self.claim(schedule, tick).await? {
            tracing::debug!(
                schedule = schedule.name(),
                %tick,
                "tick already claimed by another scheduler"
            );
            return Ok(Fired::default());
        }
        let mut fired = Fired {
            claimed: true,
            ..Fired::default()
        };
        for t in tenants::list(&self.platform).await? {
            if t.status != tenant::STATUS_ACTIVE {
                continue;
            }
            match self.enqueue(schedule, &t, tick).await {
                Ok(()) => {
                    self.waker.wake(t.id);
                    fired.enqueued.push(t.id);
                }
                Err(e) => {
                    tracing::warn!(
                        schedule = schedule.name(),
                        %tick,
                        tenant = %t.slug,
                        "cannot enqueue the tick's job: {e}; the next tick's will do"
                    );
                    fired.failed.push((t.id, e.to_string()));
                }
            }
        }
        if schedule == Schedule::NightlyCleanup
            && let Some(backend) = &self.queues
        {
            fired.vacuumed = self.vacuum(backend).await;
        }
        tracing::info!(
            schedule = schedule.name(),
            %tick,
            tenants = fired.enqueued.len(),
            failed = fired.failed.len(),
            vacuumed = fired.vacuumed,
            "schedule fired"
        );
        Ok(fired)
    }

    /// Forgets the backend's finished jobs older than the sent-outbox retention, queue by queue
    /// in batches; a failure is logged and left for the next night.
    async fn vacuum(&self, backend: &QueueBackend) -> u64 {
        const BATCH: usize = 5_000;
        let age = Duration::from_secs(u64::from(self.retention.sent_outbox_days) * 86_400);
        let mut total = 0;
        for q in jobs::Queue::ALL {
            loop {
                match backend.vacuum_finished(q, age, BATCH).await {
                    Ok(n) => {
                        total += n;
                        if n < BATCH as u64 {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(queue = q.name(), "vacuuming finished jobs: {e}");
                        break;
                    }
                }
            }
        }
        total
    }

    /// Inserts `(schedule, tick)`; `true` when this replica's insert is the one that landed.
    async fn claim(&self, schedule: Schedule, tick: DateTime<Utc>) -> Result<bool, ScheduleError> {
        let row = schedule_tick::ActiveModel {
            schedule: Set(schedule.name().to_owned()),
            tick: Set(tick),
            fired_by: Set(self.replica.clone()),
            fired_at: Set(entities::now()),
        };
        // `ON CONFLICT DO NOTHING`: losing is the normal case for all replicas but one, and it
        // must not leave a unique-violation error in PostgreSQL's log every night.
        let r = schedule_tick::Entity::insert(row)
            .on_conflict_do_nothing()
            .exec_without_returning(&self.platform)
            .await?;
        Ok(matches!(r, TryInsertResult::Inserted(n) if n > 0))
    }

    /// Writes the tick's job for one tenant in that tenant's outbox, in its own transaction.
    async fn enqueue(
        &self,
        schedule: Schedule,
        t: &tenant::Model,
        tick: DateTime<Utc>,
    ) -> Result<(), ScheduleError> {
        let db = self.tenants.connection(t).await?;
        let txn = entities::db::begin_write(&db).await?;
        match schedule {
            Schedule::NightlyCleanup => {
                jobs::outbox::enqueue(
                    &txn,
                    &Cleanup {
                        tenant_id: t.id,
                        tick,
                        retention: self.retention,
                    },
                )
                .await?;
            }
            Schedule::GlobalInvoice => {
                jobs::outbox::enqueue(
                    &txn,
                    &jobs::invoicing::GlobalInvoice {
                        tenant_id: t.id,
                        branch_id: None,
                        from: None,
                        to: None,
                        requested_by: None,
                    },
                )
                .await?;
            }
            Schedule::CancellationPoll => {
                jobs::outbox::enqueue(
                    &txn,
                    &jobs::invoicing::PollCancellations { tenant_id: t.id },
                )
                .await?;
            }
            Schedule::NightlyReorder => {
                jobs::outbox::enqueue(
                    &txn,
                    &jobs::purchasing::NightlyReorder {
                        tenant_id: t.id,
                        tick,
                    },
                )
                .await?;
            }
            Schedule::WarrantyExpiring => {
                jobs::outbox::enqueue(
                    &txn,
                    &jobs::warranties::ExpiringWarranties {
                        tenant_id: t.id,
                        tick,
                    },
                )
                .await?;
            }
            Schedule::CustomersNightly => {
                jobs::outbox::enqueue(
                    &txn,
                    &jobs::customers::CustomersNightly {
                        tenant_id: t.id,
                        tick,
                    },
                )
                .await?;
            }
            Schedule::MaintenanceDue => {
                jobs::outbox::enqueue(
                    &txn,
                    &jobs::fleets::MaintenanceDue {
                        tenant_id: t.id,
                        tick,
                    },
                )
                .await?;
            }
        }
        txn.commit().await?;
        Ok(())
    }

    /// [`Scheduler::fire`], tried again a few times when the claim itself fails.
    async fn fire_with_retries(
        &self,
        schedule: Schedule,
        tick: DateTime<Utc>,
    ) -> Result<Fired, ScheduleError> {
        let mut attempt = 1;
        loop {
            match self.fire(schedule, tick).await {
                Err(e) if attempt < Self::CLAIM_ATTEMPTS => {
                    tracing::warn!(
                        schedule = schedule.name(),
                        %tick,
                        "firing failed ({e}); trying again in 10 s"
                    );
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    attempt += 1;
                }
                r => return r,
            }
        }
    }

    /// Runs the cron table on apalis-cron (one worker per entry, in [`TIMEZONE`]) until
    /// `shutdown` completes.
    ///
    /// # Errors
    /// A bad cron expression, or the monitor failing.
    pub async fn run<S>(self: Arc<Self>, shutdown: S) -> Result<(), ScheduleError>
    where
        S: Future<Output = ()> + Send,
    {
        let mut table = Vec::new();
        for schedule in Schedule::ALL {
            table.push((schedule, schedule.parsed()?));
            if let Some(next) = schedule.next_after(Utc::now())? {
                tracing::info!(
                    schedule = schedule.name(),
                    "next tick at {} ({} UTC)",
                    next.with_timezone(&TIMEZONE).format("%Y-%m-%d %H:%M %Z"),
                    next.format("%H:%M")
                );
            }
        }
        self.run_with(table, shutdown).await
    }

    /// [`Scheduler::run`] with other cron expressions for the entries (tests fire every second
    /// instead of waiting for 03:30).
    ///
    /// # Errors
    /// The monitor failing.
    pub async fn run_with<S>(
        self: Arc<Self>,
        table: Vec<(Schedule, cron::Schedule)>,
        shutdown: S,
    ) -> Result<(), ScheduleError>
    where
        S: Future<Output = ()> + Send,
    {
        let mut monitor = Monitor::new()
            .shutdown_timeout(Duration::from_secs(30))
            .should_restart(|ctx, e| {
                // apalis-cron's backend fails for good once a tick is in the past when it is
                // polled (a stalled process); a fresh backend computes the next tick from now.
                tracing::warn!("scheduler {} stopped ({e}); restarting it", ctx.name());
                true
            });
        for (schedule, cron) in table {
            let backend = CronScheduler::new(cron).with_timezone(TIMEZONE);
            let me = self.clone();
            monitor = monitor.register(move |restarts| {
                WorkerBuilder::new(format!(
                    "cron-{}-{}-{restarts}",
                    schedule.name(),
                    me.replica
                ))
                .backend(backend.clone())
                .data(me.clone())
                .data(schedule)
                .build(on_tick)
            });
        }
        monitor
            .run_with_signal(async {
                shutdown.await;
                Ok(())
            })
            .await
            .map_err(|e| ScheduleError::Monitor(e.to_string()))
    }
}

/// apalis-cron's handler: one tick of one schedule.
async fn on_tick(
    tick: Tick<Tz>,
    scheduler: Data<Arc<Scheduler>>,
    schedule: Data<Schedule>,
) -> Result<(), BoxDynError> {
    let at = i64::try_from(tick.get_timestamp())
        .ok()
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .ok_or_else(|| format!("tick {} is out of range", tick.get_timestamp()))?;
    match scheduler.fire_with_retries(*schedule, at).await {
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::error!(schedule = schedule.name(), tick = %at, "tick lost: {e}");
            Err(e.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use apalis_cron::Schedule as _;
    use chrono::{Offset, TimeZone, Timelike};

    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn every_entry_parses_and_has_a_unique_name() {
        for s in Schedule::ALL {
            s.parsed().unwrap();
            assert_eq!(Schedule::from_name(s.name()), Some(s));
        }
    }

    #[test]
    fn mexico_city_is_utc_minus_six_all_year_in_chrono_tz() {
        for (y, m) in [(2026, 1), (2026, 4), (2026, 7), (2026, 10), (2027, 6)] {
            let local = TIMEZONE
                .with_ymd_and_hms(y, m, 15, 3, 30, 0)
                .single()
                .unwrap();
            assert_eq!(local.offset().fix().local_minus_utc(), -6 * 3600, "{y}-{m}");
        }
        // Before 2022 it kept summer time: the data is not just a fixed offset.
        let summer_2021 = TIMEZONE
            .with_ymd_and_hms(2021, 7, 15, 3, 30, 0)
            .single()
            .unwrap();
        assert_eq!(summer_2021.offset().fix().local_minus_utc(), -5 * 3600);
    }

    #[test]
    fn the_next_nightly_cleanup_is_0330_in_mexico_city_which_is_0930_utc() {
        let s = Schedule::NightlyCleanup;
        assert_eq!(
            s.next_after(utc("2026-11-24T20:00:00Z")).unwrap(),
            Some(utc("2026-11-25T09:30:00Z"))
        );
        // In summer too (no DST any more).
        assert_eq!(
            s.next_after(utc("2027-07-01T12:00:00Z")).unwrap(),
            Some(utc("2027-07-02T09:30:00Z"))
        );
        // Strictly after: at the tick itself, the next one is the next day's.
        assert_eq!(
            s.next_after(utc("2026-11-25T09:30:00Z")).unwrap(),
            Some(utc("2026-11-26T09:30:00Z"))
        );
    }

    #[test]
    fn the_global_invoice_runs_at_0115_in_mexico_city_within_a_day_of_the_close() {
        assert_eq!(
            Schedule::GlobalInvoice
                .next_after(utc("2026-11-24T20:00:00Z"))
                .unwrap(),
            Some(utc("2026-11-25T07:15:00Z"))
        );
        assert_eq!(
            entities::invoicing::global::TIMEZONE,
            TIMEZONE,
            "periods and ticks are counted in the same zone"
        );
    }

    #[test]
    fn apalis_cron_computes_the_same_tick_as_the_table() {
        // What the running scheduler will fire: apalis-cron's own `next_tick` in our zone.
        let mut parsed = Schedule::NightlyCleanup.parsed().unwrap();
        let now = Utc::now();
        let tick = parsed.next_tick(&TIMEZONE).unwrap();
        let at = DateTime::from_timestamp(i64::try_from(tick.get_timestamp()).unwrap(), 0).unwrap();
        assert_eq!((at.hour(), at.minute(), at.second()), (9, 30, 0));
        assert!(at > now && at - now <= chrono::Duration::days(1));
        assert_eq!(Schedule::NightlyCleanup.next_after(now).unwrap(), Some(at));
    }
}
