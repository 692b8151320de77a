//! The queue backends: apalis-redis (distributed shape) or apalis-sqlite (embedded shape), with
//! the settings Nexus needs chosen in one place (see `docs/jobs.md` for why each is set).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use apalis_core::backend::TaskSink;
use apalis_core::task::builder::TaskBuilder;
use apalis_redis::{ConnectionManager, RedisStorage};
use apalis_sqlite::{SqlitePool, SqliteStorage};

use crate::{Envelope, Queue};

/// A boxed future (the producer is used behind `dyn`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Default heartbeat of workers: with [`MISSED_HEARTBEATS`], a killed worker's jobs run again
/// after 30–35 s.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// Default number of heartbeats missed before a worker counts as dead.
pub const MISSED_HEARTBEATS: usize = 6;
/// apalis-redis's global list of queues (`register_worker.lua`), shared by every namespace.
const QUEUE_LIST: &str = "core:apalis:queues:list";

/// How workers prove they are alive: a live worker re-queues the jobs of any worker of its queue
/// whose last beat is older than `interval × missed` (both backends), so this is how long a
/// killed worker's jobs wait before they run again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    /// Time between beats.
    pub interval: Duration,
    /// Beats missed before the worker counts as dead.
    pub missed: usize,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Self {
            interval: HEARTBEAT,
            missed: MISSED_HEARTBEATS,
        }
    }
}

impl Heartbeat {
    /// How long a dead worker's jobs wait before they are re-queued.
    #[must_use]
    pub fn orphaned_after(&self) -> Duration {
        self.interval
            .saturating_mul(u32::try_from(self.missed).unwrap_or(u32::MAX))
    }
}
/// How long the Redis dedupe key of a pushed job lives; longer than any outbox row stays unsent.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// One signal per queue for pushes made by this process: worker pools in the same process wake
/// on it at once instead of waiting for their next poll (which slows down when a queue is idle).
static PUSHED: [tokio::sync::Notify; Queue::ALL.len()] =
    [const { tokio::sync::Notify::const_new() }; Queue::ALL.len()];

/// The signal of pushes to `queue` made by this process.
#[must_use]
pub fn pushed(queue: Queue) -> &'static tokio::sync::Notify {
    &PUSHED[queue.index()]
}

/// Why the backend refused.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// Redis failed.
    #[error("redis: {0}")]
    Redis(String),
    /// The SQLite queue failed.
    #[error("sqlite queue: {0}")]
    Sqlite(String),
}

/// The engine under the queues.
#[derive(Clone)]
pub enum Engine {
    /// Redis (distributed shape).
    Redis(ConnectionManager),
    /// An SQLite file of its own (embedded shape).
    Sqlite(SqlitePool),
}

/// Where the queues live, and the namespace their names start with.
#[derive(Clone)]
pub struct QueueBackend {
    /// The engine.
    pub engine: Engine,
    /// Prefix of every queue name, so several deployments (or test runs) can share one Redis.
    pub namespace: String,
    /// Liveness of the workers built on this backend.
    pub heartbeat: Heartbeat,
}

impl std::fmt::Debug for QueueBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name(), self.namespace)
    }
}

/// How long a queue command may wait for Redis's answer. The redis crate's default (500 ms) is
/// shorter than a busy Redis takes to run apalis's Lua scripts over a full batch while a relay
/// pushes thousands of rows, and a timed-out fetch stops a worker's stream: a slow answer is
/// better than a spurious error. A dead Redis is still found within this.
const REDIS_RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long connecting (or reconnecting) to Redis may take before the call fails.
const REDIS_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

impl QueueBackend {
    /// The queue name in the backend: `<namespace>:<queue>` (Redis key prefix, SQLite
    /// `job_type`).
    #[must_use]
    pub fn queue_name(&self, queue: Queue) -> String {
        format!("{}:{}", self.namespace, queue.name())
    }

    /// Connects to Redis.
    ///
    /// # Errors
    /// When Redis does not answer.
    pub async fn redis(url: &str, namespace: &str) -> Result<Self, BackendError> {
        let client = redis::Client::open(url).map_err(|e| BackendError::Redis(e.to_string()))?;
        let cfg = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_CONNECT_TIMEOUT))
            .set_response_timeout(Some(REDIS_RESPONSE_TIMEOUT));
        let conn = ConnectionManager::new_with_config(client, cfg)
            .await
            .map_err(|e| BackendError::Redis(e.to_string()))?;
        Ok(Self {
            engine: Engine::Redis(conn),
            namespace: namespace.to_owned(),
            heartbeat: Heartbeat::default(),
        })
    }

    /// Opens (and sets up) the SQLite queue file.
    ///
    /// # Errors
    /// When the file cannot be opened or its schema created.
    pub async fn sqlite(path: &std::path::Path, namespace: &str) -> Result<Self, BackendError> {
        // Setting up takes the write lock while other processes hold it; SQLite answers a
        // read-to-write upgrade that would deadlock with SQLITE_BUSY at once, without waiting for
        // the busy timeout, so a process starting beside busy workers tries again.
        let mut attempt = 0;
        loop {
            match Self::open_sqlite(path, namespace).await {
                Err(BackendError::Sqlite(m))
                    if attempt < 40 && (m.contains("locked") || m.contains("busy")) =>
                {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(100 + 50 * attempt)).await;
                }
                other => return other,
            }
        }
    }

    async fn open_sqlite(path: &std::path::Path, namespace: &str) -> Result<Self, BackendError> {
        use apalis_sqlite::{SqliteConnectOptions, SqlitePoolOptions};
        let err = |e: &dyn std::fmt::Display| BackendError::Sqlite(e.to_string());
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(|e| err(&e))?;
        SqliteStorage::<()>::setup(&pool)
            .await
            .map_err(|e| err(&e))?;
        // setup() turns synchronous off on one connection; durability is restored for all.
        sqlx_exec(&pool, "PRAGMA synchronous = NORMAL")
            .await
            .map_err(|e| err(&e))?;
        // The ack (`queries/task/ack.sql`: `UPDATE Jobs … FROM json_each(?1) WHERE Jobs.id =
        // task_id AND lock_by = ?2`) is planned on `LIdx (lock_by)`: it reads every job the worker
        // ever fetched (a done job keeps its `lock_by`) and scans the batch for each, so draining
        // a backlog slows down as it goes (EXPLAIN QUERY PLAN: `SEARCH Jobs USING INDEX LIdx
        // (lock_by=?)` then `SCAN json_each`). Without the index it looks each acked id up by
        // primary key. No other apalis query needs it: they filter by status, id or job type
        // first, and nothing deletes workers (the index's foreign key).
        sqlx_exec(&pool, "DROP INDEX IF EXISTS LIdx")
            .await
            .map_err(|e| err(&e))?;
        Ok(Self {
            engine: Engine::Sqlite(pool),
            namespace: namespace.to_owned(),
            heartbeat: Heartbeat::default(),
        })
    }

    /// The same backend with workers beating at `heartbeat`.
    #[must_use]
    pub fn with_heartbeat(mut self, heartbeat: Heartbeat) -> Self {
        self.heartbeat = heartbeat;
        self
    }

    /// `redis` or `sqlite`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self.engine {
            Engine::Redis(_) => "redis",
            Engine::Sqlite(_) => "sqlite",
        }
    }

    /// The apalis-redis storage of a queue, configured for Nexus.
    #[must_use]
    pub fn redis_storage<T>(
        &self,
        conn: &ConnectionManager,
        queue: Queue,
        batch: usize,
    ) -> RedisStorage<T> {
        let cfg = apalis_redis::Config::default()
            .queue(self.queue_name(queue))
            .batch_size(batch.max(1))
            .heartbeat_interval(self.heartbeat.interval)
            .missed_heartbeats(self.heartbeat.missed)
            .lock_tasks(false)
            .persist_results(true)
            .emit_events(false)
            .idempotency_ttl(Some(IDEMPOTENCY_TTL));
        RedisStorage::new(conn.clone()).with_config(cfg)
    }

    /// The apalis-sqlite storage of a queue, configured for Nexus.
    #[must_use]
    pub fn sqlite_storage<T>(
        &self,
        pool: &SqlitePool,
        queue: Queue,
        batch: usize,
    ) -> SqliteStorage<T> {
        let cfg = apalis_sqlite::Config::default()
            .queue(self.queue_name(queue))
            .batch_size(batch.max(1))
            .heartbeat_interval(self.heartbeat.interval)
            .missed_heartbeats(self.heartbeat.missed)
            .lock_tasks(false)
            .persist_results(true);
        SqliteStorage::new(pool).with_config(cfg)
    }

    /// Pushes envelopes to a queue, each with its own key as task id and idempotency key, so a
    /// second push of the same envelope (a relay that crashed before marking it sent) is dropped.
    ///
    /// # Errors
    /// When the backend refuses.
    pub async fn push(&self, queue: Queue, envelopes: Vec<Envelope>) -> Result<(), BackendError> {
        if envelopes.is_empty() {
            return Ok(());
        }
        let tasks: Vec<_> = envelopes
            .into_iter()
            .map(|e| {
                // Dedupe by idempotency key only: apalis-sqlite turns a repeated task id into a
                // unique-constraint error instead of a skip.
                let key = e.dedupe_key();
                TaskBuilder::new(e).idempotency_key(key).build()
            })
            .collect();
        match &self.engine {
            Engine::Redis(conn) => {
                let mut s = self.redis_storage::<Envelope>(conn, queue, 100);
                s.push_all(futures_util::stream::iter(tasks))
                    .await
                    .map_err(|e| BackendError::Redis(e.to_string()))?;
            }
            Engine::Sqlite(pool) => {
                let mut s = self.sqlite_storage::<Envelope>(pool, queue, 100);
                s.push_all(futures_util::stream::iter(tasks))
                    .await
                    .map_err(|e| BackendError::Sqlite(e.to_string()))?;
            }
        }
        pushed(queue).notify_waiters();
        Ok(())
    }

    /// Pushes raw payloads (operators re-queuing by hand, and tests of malformed input): no
    /// dedupe key.
    ///
    /// # Errors
    /// When the backend refuses.
    pub async fn push_raw(
        &self,
        queue: Queue,
        payloads: Vec<serde_json::Value>,
    ) -> Result<(), BackendError> {
        match &self.engine {
            Engine::Redis(conn) => {
                let mut s = self.redis_storage::<serde_json::Value>(conn, queue, 100);
                s.push_bulk(payloads)
                    .await
                    .map_err(|e| BackendError::Redis(e.to_string()))
            }
            Engine::Sqlite(pool) => {
                let mut s = self.sqlite_storage::<serde_json::Value>(pool, queue, 100);
                s.push_bulk(payloads)
                    .await
                    .map_err(|e| BackendError::Sqlite(e.to_string()))
            }
        }
    }

    /// Jobs of a queue pushed and not yet fetched by a worker.
    ///
    /// # Errors
    /// When the backend does not answer.
    pub async fn waiting(&self, queue: Queue) -> Result<u64, BackendError> {
        let q = self.queue_name(queue);
        match &self.engine {
            Engine::Redis(conn) => {
                let mut c = conn.clone();
                let (active, scheduled): (u64, u64) = redis::pipe()
                    .cmd("LLEN")
                    .arg(format!("{q}:active"))
                    .cmd("ZCARD")
                    .arg(format!("{q}:scheduled"))
                    .query_async(&mut c)
                    .await
                    .map_err(|e| BackendError::Redis(e.to_string()))?;
                Ok(active + scheduled)
            }
            Engine::Sqlite(pool) => {
                let n: i64 = sea_orm::sqlx::query_scalar(
                    "SELECT count(*) FROM Jobs WHERE job_type = ?1 AND status = 'Pending'",
                )
                .bind(&q)
                .fetch_one(pool)
                .await
                .map_err(|e| BackendError::Sqlite(e.to_string()))?;
                Ok(u64::try_from(n).unwrap_or(0))
            }
        }
    }

    /// Waiting jobs of every queue.
    ///
    /// # Errors
    /// When the backend does not answer.
    pub async fn waiting_all(&self) -> Result<HashMap<Queue, u64>, BackendError> {
        let mut out = HashMap::new();
        for q in Queue::ALL {
            out.insert(q, self.waiting(q).await?);
        }
        Ok(out)
    }

    /// Whether the backend answers.
    ///
    /// # Errors
    /// Why not.
    pub async fn ping(&self) -> Result<(), BackendError> {
        match &self.engine {
            Engine::Redis(conn) => {
                let mut c = conn.clone();
                redis::cmd("PING")
                    .query_async::<String>(&mut c)
                    .await
                    .map(|_| ())
                    .map_err(|e| BackendError::Redis(e.to_string()))
            }
            Engine::Sqlite(pool) => sqlx_exec(pool, "SELECT 1")
                .await
                .map_err(|e| BackendError::Sqlite(e.to_string())),
        }
    }
}

async fn sqlx_exec(pool: &SqlitePool, sql: &'static str) -> Result<(), sea_orm::sqlx::Error> {
    sea_orm::sqlx::query(sql).execute(pool).await.map(|_| ())
}

impl QueueBackend {
    /// Deletes every queue of this namespace (tests, and `nexus jobs purge` later).
    ///
    /// # Errors
    /// When the backend refuses.
    pub async fn purge(&self) -> Result<(), BackendError> {
        match &self.engine {
            Engine::Redis(conn) => {
                let mut c = conn.clone();
                let pattern = format!("{}:*", self.namespace);
                let mut cursor: u64 = 0;
                loop {
                    let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(&pattern)
                        .arg("COUNT")
                        .arg(1000)
                        .query_async(&mut c)
                        .await
                        .map_err(|e| BackendError::Redis(e.to_string()))?;
                    if !keys.is_empty() {
                        redis::cmd("UNLINK")
                            .arg(&keys)
                            .query_async::<()>(&mut c)
                            .await
                            .map_err(|e| BackendError::Redis(e.to_string()))?;
                    }
                    if next == 0 {
                        break;
                    }
                    cursor = next;
                }
                // apalis-redis registers every queue in one global sorted set; leave no entry
                // of a purged namespace behind.
                let listed: Vec<String> = redis::cmd("ZRANGE")
                    .arg(QUEUE_LIST)
                    .arg(0)
                    .arg(-1)
                    .query_async(&mut c)
                    .await
                    .map_err(|e| BackendError::Redis(e.to_string()))?;
                let ours: Vec<&String> = listed
                    .iter()
                    .filter(|k| k.starts_with(&format!("{}:", self.namespace)))
                    .collect();
                if !ours.is_empty() {
                    redis::cmd("ZREM")
                        .arg(QUEUE_LIST)
                        .arg(ours)
                        .query_async::<()>(&mut c)
                        .await
                        .map_err(|e| BackendError::Redis(e.to_string()))?;
                }
                Ok(())
            }
            Engine::Sqlite(pool) => sea_orm::sqlx::query("DELETE FROM Jobs WHERE job_type LIKE ?1")
                .bind(format!("{}:%", self.namespace))
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(|e| BackendError::Sqlite(e.to_string())),
        }
    }
}

/// A queue's jobs by state, as operators and metrics see them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct QueueCounts {
    /// Due and not fetched yet.
    pub waiting: u64,
    /// Pushed with a later start (apalis's own backoff; Nexus retries go through the outbox).
    pub delayed: u64,
    /// Fetched by a worker and not acknowledged yet.
    pub running: u64,
    /// Finished and still kept by the backend.
    pub done: u64,
    /// Given up on by the backend (Nexus's dead jobs also keep their reason in `job_runs`).
    pub dead: u64,
}

impl QueueBackend {
    /// A queue's jobs by state. On Redis the keys are apalis-redis 1.0's (`docs/jobs.md` says
    /// why the board's own counts are not used).
    ///
    /// # Errors
    /// When the backend does not answer.
    pub async fn counts(&self, queue: Queue) -> Result<QueueCounts, BackendError> {
        let q = self.queue_name(queue);
        match &self.engine {
            Engine::Redis(conn) => {
                let mut c = conn.clone();
                let redis_err = |e: redis::RedisError| BackendError::Redis(e.to_string());
                let now = chrono::Utc::now().timestamp();
                let (active, due, later, done, dead, workers): (
                    u64,
                    u64,
                    u64,
                    u64,
                    u64,
                    Vec<String>,
                ) = redis::pipe()
                    .cmd("LLEN")
                    .arg(format!("{q}:active"))
                    .cmd("ZCOUNT")
                    .arg(format!("{q}:scheduled"))
                    .arg("-inf")
                    .arg(now)
                    .cmd("ZCOUNT")
                    .arg(format!("{q}:scheduled"))
                    .arg(format!("({now}"))
                    .arg("+inf")
                    .cmd("SCARD")
                    .arg(format!("{q}:done"))
                    .cmd("SCARD")
                    .arg(format!("{q}:dead"))
                    .cmd("ZRANGE")
                    .arg(format!("{q}:workers"))
                    .arg(0)
                    .arg(-1)
                    .query_async(&mut c)
                    .await
                    .map_err(redis_err)?;
                let mut running = 0;
                if !workers.is_empty() {
                    let mut p = redis::pipe();
                    for w in &workers {
                        p.cmd("SCARD").arg(format!("{q}:inflight:{w}"));
                    }
                    let per: Vec<u64> = p.query_async(&mut c).await.map_err(redis_err)?;
                    running = per.iter().sum();
                }
                Ok(QueueCounts {
                    waiting: active + due,
                    delayed: later,
                    running,
                    done,
                    dead,
                })
            }
            Engine::Sqlite(pool) => {
                let rows: Vec<(String, bool, i64)> = sea_orm::sqlx::query_as(
                    "SELECT status, coalesce(run_at > strftime('%s', 'now'), 0) AS later, \
                     count(*) FROM Jobs WHERE job_type = ?1 GROUP BY 1, 2",
                )
                .bind(&q)
                .fetch_all(pool)
                .await
                .map_err(|e| BackendError::Sqlite(e.to_string()))?;
                let mut out = QueueCounts::default();
                for (status, later, n) in rows {
                    let n = u64::try_from(n).unwrap_or(0);
                    match (status.as_str(), later) {
                        ("Pending", false) => out.waiting += n,
                        ("Pending", true) => out.delayed += n,
                        ("Queued" | "Running", _) => out.running += n,
                        ("Done", _) => out.done += n,
                        _ => out.dead += n,
                    }
                }
                Ok(out)
            }
        }
    }
}

/// A worker registered with the backend for a queue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WorkerInfo {
    /// The worker's unique name (`<namespace>-<queue>-<pid>-<run>-<restarts>`).
    pub name: String,
    /// Its last heartbeat, Unix seconds.
    pub last_seen: i64,
}

impl QueueBackend {
    /// The workers registered for a queue of this namespace, most recently seen first.
    ///
    /// # Errors
    /// When the backend does not answer.
    pub async fn workers(&self, queue: Queue) -> Result<Vec<WorkerInfo>, BackendError> {
        let q = self.queue_name(queue);
        let mut out: Vec<WorkerInfo> = match &self.engine {
            Engine::Redis(conn) => {
                let mut c = conn.clone();
                let raw: Vec<(String, f64)> = redis::cmd("ZRANGE")
                    .arg(format!("{q}:workers"))
                    .arg(0)
                    .arg(-1)
                    .arg("WITHSCORES")
                    .query_async(&mut c)
                    .await
                    .map_err(|e| BackendError::Redis(e.to_string()))?;
                #[expect(clippy::cast_possible_truncation, reason = "Unix seconds")]
                raw.into_iter()
                    .map(|(name, seen)| WorkerInfo {
                        name,
                        last_seen: seen as i64,
                    })
                    .collect()
            }
            Engine::Sqlite(pool) => {
                let rows: Vec<(String, i64)> = sea_orm::sqlx::query_as(
                    "SELECT id, last_seen FROM Workers WHERE worker_type = ?1",
                )
                .bind(&q)
                .fetch_all(pool)
                .await
                .map_err(|e| BackendError::Sqlite(e.to_string()))?;
                rows.into_iter()
                    .map(|(name, last_seen)| WorkerInfo { name, last_seen })
                    .collect()
            }
        };
        out.sort_by_key(|w| std::cmp::Reverse(w.last_seen));
        Ok(out)
    }
}

impl QueueBackend {
    /// Forgets finished jobs (done or dead in the backend) of a queue that finished more than
    /// `older_than` ago, at most `limit` per call; returns how many went. apalis keeps them
    /// forever otherwise (and its own vacuum walks the whole data hash in one script and leaves
    /// the done set behind). Nexus's record of a run is `job_runs`, not the backend.
    ///
    /// # Errors
    /// When the backend fails.
    pub async fn vacuum_finished(
        &self,
        queue: Queue,
        older_than: Duration,
        limit: usize,
    ) -> Result<u64, BackendError> {
        let q = self.queue_name(queue);
        let cutoff = chrono::Utc::now().timestamp()
            - i64::try_from(older_than.as_secs()).unwrap_or(i64::MAX / 2);
        match &self.engine {
            Engine::Redis(conn) => {
                let mut c = conn.clone();
                let redis_err = |e: redis::RedisError| BackendError::Redis(e.to_string());
                let mut removed = 0u64;
                for set in [format!("{q}:done"), format!("{q}:dead")] {
                    let mut cursor: u64 = 0;
                    loop {
                        let (next, ids): (u64, Vec<String>) = redis::cmd("SSCAN")
                            .arg(&set)
                            .arg(cursor)
                            .arg("COUNT")
                            .arg(500)
                            .query_async(&mut c)
                            .await
                            .map_err(redis_err)?;
                        if !ids.is_empty() {
                            let mut p = redis::pipe();
                            for id in &ids {
                                p.cmd("HGET").arg(format!("{q}:meta:{id}")).arg("done_at");
                            }
                            let done_at: Vec<Option<i64>> =
                                p.query_async(&mut c).await.map_err(redis_err)?;
                            let old: Vec<&String> = ids
                                .iter()
                                .zip(done_at)
                                .filter(|(_, at)| at.is_some_and(|t| t <= cutoff))
                                .map(|(id, _)| id)
                                .take(limit.saturating_sub(usize::try_from(removed).unwrap_or(0)))
                                .collect();
                            if !old.is_empty() {
                                let mut p = redis::pipe();
                                p.cmd("HDEL").arg(format!("{q}:data")).arg(&old).ignore();
                                p.cmd("SREM").arg(&set).arg(&old).ignore();
                                for id in &old {
                                    p.cmd("DEL").arg(format!("{q}:meta:{id}")).ignore();
                                }
                                p.query_async::<()>(&mut c).await.map_err(redis_err)?;
                                removed += old.len() as u64;
                            }
                        }
                        if next == 0 || removed >= limit as u64 {
                            break;
                        }
                        cursor = next;
                    }
                }
                Ok(removed)
            }
            Engine::Sqlite(pool) => {
                let r = sea_orm::sqlx::query(
                    "DELETE FROM Jobs WHERE rowid IN (SELECT rowid FROM Jobs WHERE job_type = ?1 \
                     AND status IN ('Done', 'Failed', 'Killed') AND done_at <= ?2 LIMIT ?3)",
                )
                .bind(&q)
                .bind(cutoff)
                .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                .execute(pool)
                .await
                .map_err(|e| BackendError::Sqlite(e.to_string()))?;
                Ok(r.rows_affected())
            }
        }
    }
}
