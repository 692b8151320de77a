//! Running one job: the rules every handler gets for free.
//!
//! - a job whose effect is already committed (its processed mark exists) is skipped;
//! - a run started more than [`Runtime::MAX_STARTS`] times (its worker died each time) is
//!   quarantined instead of crashing workers forever, and a run started before runs alone in its
//!   process, so a job that kills its process does not take innocent jobs to quarantine with it;
//! - our retry policy, not apalis's: a transient failure puts the job back in the outbox with a
//!   jittered backoff (or the provider's `Retry-After`) until its kind's attempts are spent; a
//!   permanent one is dead at once with the reason stored in `job_runs`;
//! - handlers never return an error to apalis except "dead" (`AbortError`), so apalis never retries
//!   on its own (see `docs/jobs.md`).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use entities::registry::TenantRegistry;
use entities::{jobs::tables::job_run, jobs::tables::outbox, jobs::tables::processed_job};
use entities::{org::tables::tenant, org::tenants};
use jobs::{Envelope, Job, Queue};
use rand::Rng;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, Set, SqlErr,
};

/// A boxed future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// How a handler failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Worth another try later (timeouts, 5xx, 429, a database hiccup).
    #[error("{reason}")]
    Transient {
        /// What happened.
        reason: String,
        /// When the provider asked to come back (`Retry-After`).
        retry_after: Option<Duration>,
    },
    /// Will fail again whatever we do (validation, a missing row): dead at once.
    #[error("{0}")]
    Permanent(String),
}

impl JobError {
    /// A transient failure.
    pub fn transient(reason: impl Into<String>) -> Self {
        Self::Transient {
            reason: reason.into(),
            retry_after: None,
        }
    }

    /// A permanent failure.
    pub fn permanent(reason: impl Into<String>) -> Self {
        Self::Permanent(reason.into())
    }
}

impl From<DbErr> for JobError {
    fn from(e: DbErr) -> Self {
        Self::transient(format!("database: {e}"))
    }
}

impl From<entities::Error> for JobError {
    fn from(e: entities::Error) -> Self {
        match e {
            entities::Error::NotFound { .. }
            | entities::Error::Missing { .. }
            | entities::Error::Validation { .. }
            | entities::Error::Conflict { .. }
            | entities::Error::Forbidden { .. } => Self::Permanent(e.to_string()),
            entities::Error::Db(_) | entities::Error::Internal(_) => Self::transient(e.to_string()),
        }
    }
}

/// Retries of one job kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Runs in all, the first included.
    pub max_attempts: u32,
    /// Delay before the first retry; doubled each time.
    pub base: Duration,
    /// Longest delay.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base: Duration::from_secs(5),
            max: Duration::from_secs(3600),
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `attempt` (1 = first retry): exponential, capped, with jitter
    /// in its upper half so a burst of failures does not come back at once. A provider's
    /// `Retry-After` is honoured as a floor.
    #[must_use]
    pub fn delay(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        rng: &mut impl Rng,
    ) -> Duration {
        let exp = self
            .base
            .saturating_mul(
                1u32.checked_shl(attempt.saturating_sub(1))
                    .unwrap_or(u32::MAX),
            )
            .min(self.max);
        let jittered = exp / 2 + exp.mul_f64(rng.random::<f64>() / 2.0);
        match retry_after {
            Some(ra) => ra.max(jittered.min(ra + Duration::from_secs(1))),
            None => jittered,
        }
    }
}

/// What a handler gets besides its payload.
#[derive(Clone, Debug)]
pub struct JobCtx {
    /// The tenant.
    pub tenant: tenant::Model,
    /// The tenant's database.
    pub db: DatabaseConnection,
    /// The platform database.
    pub platform: DatabaseConnection,
    /// The job's key (`tenant:outbox_id`), the idempotency key of its external side effects.
    pub key: String,
    /// Which run this is (0 first).
    pub attempt: u32,
    job_name: String,
}

impl JobCtx {
    /// Writes the processed mark inside the handler's own transaction, so the effect and the mark
    /// commit together. Returns `false` when the mark exists (another delivery did the work):
    /// the handler then rolls back and returns `Ok`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn mark_done(&self, txn: &impl ConnectionTrait) -> Result<bool, DbErr> {
        insert_mark(txn, &self.key, &self.job_name).await
    }
}

/// Writes the processed mark unless it exists. `ON CONFLICT DO NOTHING` rather than catching the
/// unique violation: on PostgreSQL a failed statement aborts the whole transaction, so the run's
/// end written after it (or a handler's effect) would fail too.
async fn insert_mark(db: &impl ConnectionTrait, key: &str, job_name: &str) -> Result<bool, DbErr> {
    let inserted = processed_job::Entity::insert(processed_job::ActiveModel {
        key: Set(key.to_owned()),
        job_name: Set(job_name.to_owned()),
        processed_at: Set(entities::now()),
    })
    .on_conflict(
        OnConflict::column(processed_job::Column::Key)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(inserted == 1)
}

type ErasedHandler =
    Arc<dyn Fn(serde_json::Value, JobCtx) -> BoxFuture<Result<(), JobError>> + Send + Sync>;

struct Entry {
    queue: Queue,
    policy: RetryPolicy,
    handler: ErasedHandler,
}

/// Every job kind the workers know, with its handler and retry policy.
#[derive(Default)]
pub struct Handlers {
    entries: HashMap<&'static str, Entry>,
}

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.entries.keys()).finish()
    }
}

impl Handlers {
    /// Registers the handler of job kind `J`.
    #[must_use]
    pub fn with<J, F, Fut>(mut self, policy: RetryPolicy, handler: F) -> Self
    where
        J: Job,
        F: Fn(J, JobCtx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let erased: ErasedHandler = Arc::new(move |payload, ctx| {
            let handler = handler.clone();
            Box::pin(async move {
                let job: J = serde_json::from_value(payload).map_err(|e| {
                    JobError::permanent(format!("payload of {} does not fit: {e}", J::NAME))
                })?;
                handler(job, ctx).await
            })
        });
        self.entries.insert(
            J::NAME,
            Entry {
                queue: J::QUEUE,
                policy,
                handler: erased,
            },
        );
        self
    }

    /// The queues that have at least one handler.
    #[must_use]
    pub fn queues(&self) -> Vec<Queue> {
        let mut qs: Vec<Queue> = Queue::ALL
            .into_iter()
            .filter(|q| self.entries.values().any(|e| e.queue == *q))
            .collect();
        qs.dedup();
        qs
    }
}

/// How a delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The handler succeeded.
    Done,
    /// Nothing to do: the job's effect, or this run, was already finished.
    Skipped,
    /// Put back in the outbox for a later run.
    Retrying {
        /// In how long.
        after: Duration,
    },
    /// Given up, with the reason.
    Dead(String),
    /// Started too many times without finishing: set aside.
    Quarantined(String),
    /// Not run: the tenant's database (or the platform's) could not be reached. The delivery is
    /// acknowledged and the outbox row runs once the database answers (see [`crate::breaker`]).
    Deferred(String),
}

impl Outcome {
    /// The outcome's name in metrics.
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            Self::Done => "done",
            Self::Skipped => "skipped",
            Self::Retrying { .. } => "retrying",
            Self::Dead(_) => "dead",
            Self::Quarantined(_) => "quarantined",
            Self::Deferred(_) => "deferred",
        }
    }
}

/// Runs deliveries.
pub struct Runtime {
    platform: DatabaseConnection,
    tenants: Arc<TenantRegistry>,
    handlers: Handlers,
    metrics: Option<crate::metrics::JobMetrics>,
    /// Held shared by every first run and exclusively by a re-run after a crash.
    isolation: tokio::sync::RwLock<()>,
    /// Tenants looked up recently: every job needs its tenant, and asking the platform database
    /// each time was one of the round trips that bound the job rate.
    tenant_cache: std::sync::Mutex<HashMap<uuid::Uuid, (tenant::Model, std::time::Instant)>>,
    /// Tenants whose database is down: their deliveries are deferred without a connection try.
    breakers: crate::breaker::TenantBreakers,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("handlers", &self.handlers)
            .finish_non_exhaustive()
    }
}

pub use entities::jobs::tables::job_run::Status;

impl Runtime {
    /// A run that starts more often than this without finishing is quarantined.
    pub const MAX_STARTS: i32 = 3;
    /// How often a running delivery renews its lease on the run.
    pub const LEASE_RENEW: Duration = Duration::from_secs(2);
    /// How long a lease holds without renewal: a delivery finding a run renewed more recently
    /// waits instead of counting a crash. Shorter than the backend's orphan timeout (30 s by
    /// default), so a re-delivery after a real crash seldom waits.
    pub const LEASE: Duration = Duration::from_secs(10);

    /// A runtime over the platform's tenants.
    #[must_use]
    pub fn new(
        platform: DatabaseConnection,
        tenants: Arc<TenantRegistry>,
        handlers: Handlers,
    ) -> Self {
        Self {
            platform,
            tenants,
            handlers,
            metrics: None,
            isolation: tokio::sync::RwLock::new(()),
            tenant_cache: std::sync::Mutex::default(),
            breakers: crate::breaker::TenantBreakers::default(),
        }
    }

    /// Records every run in `metrics`.
    #[must_use]
    pub fn with_metrics(mut self, metrics: crate::metrics::JobMetrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The handlers.
    #[must_use]
    pub fn handlers(&self) -> &Handlers {
        &self.handlers
    }

    /// The tenants whose database is down in this process, and the deliveries they wait with.
    #[must_use]
    pub fn down_tenants(&self) -> Vec<crate::breaker::DownTenant> {
        self.breakers.down()
    }

    /// Runs one delivery of a raw queue payload. Never an error: a failure to reach the tenant's
    /// database (or the platform's) is [`Outcome::Deferred`], our retry to make, never the
    /// backend's (apalis would retry it its own way and bury it, the row marked sent, no run
    /// recorded).
    pub async fn execute(&self, raw: serde_json::Value) -> Outcome {
        let env: Envelope = match serde_json::from_value(raw) {
            Ok(e) => e,
            Err(e) => return Outcome::Dead(format!("malformed envelope: {e}")),
        };
        let row = (
            env.outbox_id,
            i32::try_from(env.attempt).unwrap_or(i32::MAX),
        );
        if self.breakers.defer_if_down(env.tenant_id, row) {
            if let (Some(m), Some(e)) =
                (&self.metrics, self.handlers.entries.get(env.name.as_str()))
            {
                m.deferred(e.queue);
            }
            return Outcome::Deferred(format!("tenant {} is down", env.tenant_id));
        }
        let tenant_id = env.tenant_id;
        match self.run(env).await {
            Ok(o) => o,
            Err(e) => {
                let reason = e.to_string();
                self.breakers.failed(tenant_id, row, reason.clone());
                Outcome::Deferred(reason)
            }
        }
    }

    /// Probes the down tenants whose turn has come; for each that answers, puts its deferred
    /// deliveries back in line (the relay pushes them on its next pass). Answers how many rows
    /// went back. [`crate::pool::run`] calls it every [`Self::PROBE_EVERY`].
    pub async fn recover_tenants(&self) -> u64 {
        let mut requeued = 0;
        for id in self.breakers.due_probes() {
            match tokio::time::timeout(Self::PROBE_TIMEOUT, self.probe(id)).await {
                Ok(Ok(db)) => {
                    let rows = self.breakers.recovered(id);
                    let lease_before = entities::now() - Self::LEASE;
                    match outbox::requeue_deferred(&db, &rows, lease_before).await {
                        Ok(n) => requeued += n,
                        Err(e) => self.breakers.requeue_failed(id, rows, e.to_string()),
                    }
                }
                Ok(Err(e)) => self.breakers.probe_failed(id, e.to_string()),
                Err(_) => self
                    .breakers
                    .probe_failed(id, format!("no answer in {:?}", Self::PROBE_TIMEOUT)),
            }
        }
        if let Some(m) = &self.metrics {
            m.tenants_down(self.breakers.count());
        }
        requeued
    }

    /// How often the pools look for down tenants to probe.
    pub const PROBE_EVERY: Duration = Duration::from_millis(250);
    /// How long a probe waits for a tenant's database.
    const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

    /// Reads the tenant afresh (an operator may have moved its database) and asks its database
    /// for one row.
    async fn probe(&self, id: uuid::Uuid) -> Result<DatabaseConnection, entities::Error> {
        let cached = self
            .tenant_cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&id)
            .map(|(t, _)| t);
        let t = self.tenant(id).await?;
        if cached.is_some_and(|c| c.db_url != t.db_url || c.db_name != t.db_name) {
            // The pool still points at the old place.
            self.tenants.close(id).await;
        }
        let db = self.tenants.connection(&t).await?;
        db.execute_unprepared("SELECT 1").await?;
        Ok(db)
    }

    /// One delivery, with any failure to reach a database as an error.
    async fn run(&self, env: Envelope) -> Result<Outcome, DbErr> {
        let tenant = match self.tenant(env.tenant_id).await {
            Ok(t) => t,
            Err(entities::Error::NotFound { .. }) => {
                return Ok(Outcome::Dead(format!("unknown tenant {}", env.tenant_id)));
            }
            Err(e) => return Err(DbErr::Custom(e.to_string())),
        };
        let db = self
            .tenants
            .connection(&tenant)
            .await
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        let key = env.key();
        if processed_job::Entity::find_by_id(key.clone())
            .one(&db)
            .await?
            .is_some()
        {
            // A worker that committed the effect (a handler's `mark_done`) and died before
            // recording the run's end left the run `running`: this delivery closes it.
            Self::close_done_run(&db, &env).await?;
            return Ok(Outcome::Skipped);
        }
        let Some(entry) = self.handlers.entries.get(env.name.as_str()) else {
            let reason = format!("no handler for job `{}`", env.name);
            self.start(&db, &env, "unknown", true).await?;
            self.finish(&db, &env, Status::Dead, Some(&reason)).await?;
            return Ok(Outcome::Dead(reason));
        };
        // A run that started before and never finished may have killed its process, and every
        // job running beside it died too. It runs alone in this process, so it kills no
        // bystander; the lock is taken before the start is counted, so a job waiting for it does
        // not count a start it never made.
        let existing = job_run::Entity::find_by_id(env.push_key()).one(&db).await?;
        if existing
            .as_ref()
            .is_some_and(|r| r.status != Status::Running)
        {
            // Finished (done, dead, quarantined, retrying): nothing to do.
            return Ok(Outcome::Skipped);
        }
        let (mut run, mut _alone, mut _shared) = (None, None, None);
        if existing.is_none() {
            let shared = self.isolation.read().await;
            run = self.start(&db, &env, entry.queue.name(), true).await?;
            if run.is_some() {
                _shared = Some(shared);
            }
        }
        let run = loop {
            if let Some(run) = run.take() {
                break run;
            }
            // Another delivery started this run. Only once its lease has run out is this a
            // re-run after a crash; while the lease is renewed the run is alive elsewhere (a
            // worker wrongly taken for dead, or a duplicate delivery), and this delivery waits
            // for its end instead of counting a crash that did not happen.
            if !self.wait_while_leased(&db, &env).await? {
                return Ok(Outcome::Skipped);
            }
            let alone = self.isolation.write().await;
            run = self.start(&db, &env, entry.queue.name(), false).await?;
            if run.is_some() {
                _alone = Some(alone);
            }
        };
        if run.status != Status::Running {
            return Ok(Outcome::Skipped);
        }
        if run.starts > Self::MAX_STARTS {
            let reason = format!(
                "quarantined: started {} times without finishing (a worker died each time)",
                run.starts - 1
            );
            self.finish(&db, &env, Status::Quarantined, Some(&reason))
                .await?;
            return Ok(Outcome::Quarantined(reason));
        }
        let ctx = JobCtx {
            tenant,
            db: db.clone(),
            platform: self.platform.clone(),
            key: key.clone(),
            attempt: env.attempt,
            job_name: env.name.clone(),
        };
        crate::activity::touch(entry.queue);
        if let Some(m) = &self.metrics {
            m.start(entry.queue, env.due_at_us);
        }
        let began = std::time::Instant::now();
        // Renewed until the run's end is recorded: a slow commit of that end (a busy pool) must
        // not let another delivery take the run for a crashed one.
        let lease = LeaseKeeper(tokio::spawn(keep_lease(db.clone(), env.push_key())));
        let result = (entry.handler)(env.payload.clone(), ctx).await;
        let took = began.elapsed();
        let outcome = self.settle(&db, &env, entry, &key, result).await;
        drop(lease);
        if let Some(m) = &self.metrics {
            match &outcome {
                Ok(o) => m.finish(entry.queue, took, o.label()),
                // The end was not recorded; the run goes back in line once the database answers.
                Err(e) => m.finish(entry.queue, took, Outcome::Deferred(e.to_string()).label()),
            }
        }
        outcome
    }

    /// How long a looked-up tenant is reused (a change of its database URL or status reaches
    /// the workers within this).
    const TENANT_TTL: Duration = Duration::from_secs(5);

    /// The tenant of a job, from the cache when it is fresh.
    async fn tenant(&self, id: uuid::Uuid) -> Result<tenant::Model, entities::Error> {
        let cached = self
            .tenant_cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&id)
            .filter(|(_, at)| at.elapsed() < Self::TENANT_TTL)
            .map(|(t, _)| t.clone());
        if let Some(t) = cached {
            return Ok(t);
        }
        let t = tenants::find(&self.platform, id).await?;
        self.tenant_cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id, (t.clone(), std::time::Instant::now()));
        Ok(t)
    }

    /// Records how a handler's run ended, and schedules our retry if it gets one.
    async fn settle(
        &self,
        db: &DatabaseConnection,
        env: &Envelope,
        entry: &Entry,
        key: &str,
        result: Result<(), JobError>,
    ) -> Result<Outcome, DbErr> {
        match result {
            Ok(()) => {
                // The mark and the run's end commit together: a run marked done has its mark.
                let txn = entities::db::begin_write(db).await?;
                insert_mark(&txn, key, &env.name).await?;
                Self::finish_in(&txn, env, Status::Done, None).await?;
                txn.commit().await?;
                Ok(Outcome::Done)
            }
            Err(JobError::Permanent(reason)) => {
                self.finish(db, env, Status::Dead, Some(&reason)).await?;
                Ok(Outcome::Dead(reason))
            }
            Err(JobError::Transient {
                reason,
                retry_after,
            }) => {
                let next = env.attempt + 1;
                if next >= entry.policy.max_attempts {
                    let reason = format!("gave up after {next} runs: {reason}");
                    self.finish(db, env, Status::Dead, Some(&reason)).await?;
                    return Ok(Outcome::Dead(reason));
                }
                let after = entry.policy.delay(next, retry_after, &mut rand::rng());
                let at = entities::now()
                    + chrono::Duration::from_std(after).unwrap_or(chrono::Duration::hours(1));
                outbox::requeue(
                    db,
                    env.outbox_id,
                    i32::try_from(next).unwrap_or(i32::MAX),
                    at,
                    Some(reason.clone()),
                )
                .await?;
                self.finish(db, env, Status::Retrying, Some(&reason))
                    .await?;
                Ok(Outcome::Retrying { after })
            }
        }
    }

    /// Counts a start of this run, committed before the handler runs so a crash still counts.
    ///
    /// `first`: no row was seen for this run, so the row is inserted (one round trip, the common
    /// case); `None` when a concurrent delivery inserted it first. Otherwise the run's lease is
    /// taken over only if it has run out (one conditional update, so two re-deliveries cannot both
    /// count a start); `None` when it is still renewed. A run found finished is returned as it is.
    async fn start(
        &self,
        db: &DatabaseConnection,
        env: &Envelope,
        queue: &str,
        first: bool,
    ) -> Result<Option<job_run::Model>, DbErr> {
        let push_key = env.push_key();
        let now = entities::now();
        if first {
            let row = job_run::ActiveModel {
                push_key: Set(push_key.clone()),
                job_name: Set(env.name.clone()),
                queue: Set(queue.to_owned()),
                outbox_id: Set(env.outbox_id),
                attempt: Set(i32::try_from(env.attempt).unwrap_or(i32::MAX)),
                starts: Set(1),
                status: Set(Status::Running),
                last_error: Set(None),
                started_at: Set(now),
                heartbeat_at: Set(Some(now)),
                finished_at: Set(None),
            };
            return match row.insert(db).await {
                Ok(run) => Ok(Some(run)),
                Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                    Ok(None)
                }
                Err(e) => Err(e),
            };
        }
        let updated = job_run::Entity::update_many()
            .col_expr(
                job_run::Column::Starts,
                Expr::col(job_run::Column::Starts).add(1),
            )
            .col_expr(job_run::Column::HeartbeatAt, Expr::value(Some(now)))
            .filter(job_run::Column::PushKey.eq(push_key.clone()))
            .filter(job_run::Column::Status.eq(Status::Running))
            .filter(lease_expired(now))
            .exec(db)
            .await?;
        let run = job_run::Entity::find_by_id(push_key)
            .one(db)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("job run".into()))?;
        if updated.rows_affected == 0 && run.status == Status::Running {
            // Another re-delivery took the lease first.
            return Ok(None);
        }
        Ok(Some(run))
    }

    /// Waits while another delivery holds this run's lease. `true` when the lease ran out (the
    /// holder died: this delivery may take the run over), `false` when the run finished.
    async fn wait_while_leased(
        &self,
        db: &DatabaseConnection,
        env: &Envelope,
    ) -> Result<bool, DbErr> {
        loop {
            let Some(run) = job_run::Entity::find_by_id(env.push_key()).one(db).await? else {
                return Ok(true);
            };
            if run.status != Status::Running {
                return Ok(false);
            }
            if run.heartbeat_at.unwrap_or(run.started_at) <= lease_cutoff(entities::now()) {
                return Ok(true);
            }
            tokio::time::sleep(Self::LEASE_RENEW).await;
        }
    }

    /// Marks this delivery's run done if it is still `running` (its effect is committed).
    async fn close_done_run(db: &DatabaseConnection, env: &Envelope) -> Result<(), DbErr> {
        job_run::Entity::update_many()
            .col_expr(job_run::Column::Status, Expr::value(Status::Done))
            .col_expr(job_run::Column::FinishedAt, Expr::value(entities::now()))
            .filter(job_run::Column::PushKey.eq(env.push_key()))
            .filter(job_run::Column::Status.eq(Status::Running))
            .exec(db)
            .await?;
        Ok(())
    }

    /// Records a run's end; the run and its outbox row change together, so whoever sees the
    /// status also sees the reason.
    async fn finish(
        &self,
        db: &DatabaseConnection,
        env: &Envelope,
        status: Status,
        error: Option<&str>,
    ) -> Result<(), DbErr> {
        let txn = entities::db::begin_write(db).await?;
        Self::finish_in(&txn, env, status, error).await?;
        txn.commit().await
    }

    async fn finish_in(
        db: &impl ConnectionTrait,
        env: &Envelope,
        status: Status,
        error: Option<&str>,
    ) -> Result<(), DbErr> {
        job_run::Entity::update_many()
            .col_expr(job_run::Column::Status, Expr::value(status))
            .col_expr(
                job_run::Column::LastError,
                Expr::value(error.map(str::to_owned)),
            )
            .col_expr(job_run::Column::FinishedAt, Expr::value(entities::now()))
            .filter(job_run::Column::PushKey.eq(env.push_key()))
            .exec(db)
            .await?;
        if let Some(e) = error {
            outbox::Entity::update_many()
                .col_expr(outbox::Column::LastError, Expr::value(e.to_owned()))
                .filter(outbox::Column::Id.eq(env.outbox_id))
                .exec(db)
                .await?;
        }
        Ok(())
    }
}

/// A run whose last renewal (its start, for rows from before leases existed) is at or before
/// this instant has lost its lease: the one rule, used by the SQL of [`lease_expired`] and by
/// `wait_while_leased`.
fn lease_cutoff(now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    now - chrono::Duration::from_std(Runtime::LEASE).unwrap_or(chrono::Duration::MAX)
}

/// The condition "this run's lease ran out by `now`" ([`lease_cutoff`]).
fn lease_expired(now: chrono::DateTime<chrono::Utc>) -> Expr {
    Expr::expr(sea_orm::sea_query::Func::coalesce([
        Expr::col(job_run::Column::HeartbeatAt),
        Expr::col(job_run::Column::StartedAt),
    ]))
    .lte(lease_cutoff(now))
}

/// Renews a running delivery's lease until dropped.
struct LeaseKeeper(tokio::task::JoinHandle<()>);

impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Renews the lease of run `push_key` every [`Runtime::LEASE_RENEW`]; a failed renewal is only
/// logged (the next one may succeed, and a lapsed lease costs a counted start, nothing more).
async fn keep_lease(db: DatabaseConnection, push_key: String) {
    loop {
        tokio::time::sleep(Runtime::LEASE_RENEW).await;
        let renewed = job_run::Entity::update_many()
            .col_expr(
                job_run::Column::HeartbeatAt,
                Expr::value(Some(entities::now())),
            )
            .filter(job_run::Column::PushKey.eq(push_key.clone()))
            .filter(job_run::Column::Status.eq(Status::Running))
            .exec(&db)
            .await;
        if let Err(e) = renewed {
            tracing::debug!("renewing the lease of run {push_key}: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_grow_with_jitter_and_stay_capped() {
        let p = RetryPolicy {
            max_attempts: 10,
            base: Duration::from_secs(4),
            max: Duration::from_secs(60),
        };
        let mut rng = rand::rng();
        for _ in 0..200 {
            let d1 = p.delay(1, None, &mut rng);
            assert!(
                d1 >= Duration::from_secs(2) && d1 <= Duration::from_secs(4),
                "{d1:?}"
            );
            let d3 = p.delay(3, None, &mut rng);
            assert!(
                d3 >= Duration::from_secs(8) && d3 <= Duration::from_secs(16),
                "{d3:?}"
            );
            let d9 = p.delay(9, None, &mut rng);
            assert!(
                d9 >= Duration::from_secs(30) && d9 <= Duration::from_secs(60),
                "{d9:?}"
            );
        }
    }

    #[test]
    fn a_retry_after_is_never_shortened() {
        let p = RetryPolicy {
            max_attempts: 10,
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
        };
        let mut rng = rand::rng();
        for _ in 0..200 {
            let d = p.delay(1, Some(Duration::from_secs(30)), &mut rng);
            assert!(
                d >= Duration::from_secs(30) && d <= Duration::from_secs(31),
                "{d:?}"
            );
        }
    }

    #[test]
    fn domain_errors_map_to_permanent_or_transient() {
        assert!(matches!(
            JobError::from(entities::Error::NotFound { entity: "sale" }),
            JobError::Permanent(_)
        ));
        assert!(matches!(
            JobError::from(entities::Error::Internal("pool".into())),
            JobError::Transient { .. }
        ));
    }
}
