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
        let conn = apalis_redis::connect(url)
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
                let key = e.push_key();
                TaskBuilder::new(e).idempotency_key(key).build()
            })
            .collect();
        match &self.engine {
            Engine::Redis(conn) => {
                let mut s = self.redis_storage::<Envelope>(conn, queue, 100);
                s.push_all(futures_util::stream::iter(tasks))
                    .await
                    .map_err(|e| BackendError::Redis(e.to_string()))
            }
            Engine::Sqlite(pool) => {
                let mut s = self.sqlite_storage::<Envelope>(pool, queue, 100);
                s.push_all(futures_util::stream::iter(tasks))
                    .await
                    .map_err(|e| BackendError::Sqlite(e.to_string()))
            }
        }
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
