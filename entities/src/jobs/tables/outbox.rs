//! The transactional outbox: one row per job a business change causes, written in the same
//! transaction as the change, moved to the queues by the relay after commit.

use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, QueryFilter, Select};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    /// Sequence number; with the tenant id, the job's idempotency key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The job's stable name.
    pub job_name: String,
    /// The queue it goes to.
    pub queue: String,
    /// The job's payload (ids only).
    pub payload: Json,
    /// When it was written.
    pub created_at: DateTimeUtc,
    /// Not to run before this time.
    pub available_at: DateTimeUtc,
    /// When the relay handed it to the queue backend.
    pub sent_at: Option<DateTimeUtc>,
    /// Which run of the job the row stands for (0 first; a retry of ours adds one).
    pub attempt: i32,
    /// How many times the row was put back in line after the queue lost its push or a worker
    /// deferred it (0 until then): part of the dedupe key of its next push, so the backend does
    /// not drop it as a duplicate of the first. (The column's name is older than this use.)
    pub relay_attempts: i32,
    /// Why the last hand-over failed.
    pub last_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Rows of a queue not yet pushed.
#[must_use]
pub fn unsent(queue: &str) -> Select<Entity> {
    Entity::find()
        .filter(Column::Queue.eq(queue))
        .filter(Column::SentAt.is_null())
}

/// Rows of a queue not yet pushed that may run at `now`.
#[must_use]
pub fn due(queue: &str, now: DateTimeUtc) -> Select<Entity> {
    unsent(queue).filter(Column::AvailableAt.lte(now))
}

/// Puts a row back in line for run number `attempt`, not before `at` (a retry of ours or an
/// operator's); `last_error`, when given, replaces the stored reason.
///
/// # Errors
/// Database errors.
pub async fn requeue(
    db: &impl ConnectionTrait,
    id: i64,
    attempt: i32,
    at: DateTimeUtc,
    last_error: Option<String>,
) -> Result<(), DbErr> {
    let mut update = Entity::update_many()
        .col_expr(Column::Attempt, Expr::value(attempt))
        .col_expr(Column::SentAt, Expr::value(Option::<DateTimeUtc>::None))
        .col_expr(Column::AvailableAt, Expr::value(at));
    if let Some(e) = last_error {
        update = update.col_expr(Column::LastError, Expr::value(e));
    }
    update.filter(Column::Id.eq(id)).exec(db).await?;
    Ok(())
}

/// Marks rows as handed to the queue, each only if it still stands for the run that was pushed
/// (`(id, attempt)` pairs). A pushed job can run, fail and be put back for its next attempt
/// before the relay gets here; marking that row sent by id alone would strand the retry: it would
/// never be pushed and never run. Returns how many rows were marked.
///
/// # Errors
/// Database errors.
pub async fn mark_sent(
    db: &impl ConnectionTrait,
    pushed: &[(i64, i32)],
    at: DateTimeUtc,
) -> Result<u64, DbErr> {
    // Nearly every batch is all first runs: one statement per distinct attempt.
    let mut by_attempt: std::collections::BTreeMap<i32, Vec<i64>> =
        std::collections::BTreeMap::new();
    for (id, attempt) in pushed {
        by_attempt.entry(*attempt).or_default().push(*id);
    }
    let mut marked = 0;
    for (attempt, ids) in by_attempt {
        marked += Entity::update_many()
            .col_expr(Column::SentAt, Expr::value(at))
            .filter(Column::Id.is_in(ids))
            .filter(Column::Attempt.eq(attempt))
            .filter(Column::SentAt.is_null())
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(marked)
}

/// The SQL that a sent row's attempt has no run that lives or has ended: none at all, or only a
/// `running` one whose lease is older than the placeholder `lease` (its worker died). Such a row
/// is lost to the queue, and nothing else will run it.
fn no_live_run(lease: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM job_runs r \
                     WHERE r.outbox_id = outbox.id AND r.attempt = outbox.attempt \
                       AND NOT (r.status = 'running' \
                                AND COALESCE(r.heartbeat_at, r.started_at) < {lease}))"
    )
}

fn placeholder(backend: sea_orm::DatabaseBackend, n: usize) -> String {
    match backend {
        sea_orm::DatabaseBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    }
}

/// The condition, and its values, of the rows of `queue` sent in `[since, before)` with no run
/// that lives or has ended (see [`no_live_run`]).
fn lost_in(
    backend: sea_orm::DatabaseBackend,
    queue: &str,
    since: DateTimeUtc,
    before: DateTimeUtc,
    lease_before: DateTimeUtc,
) -> (String, [sea_orm::Value; 4]) {
    let p = |n| placeholder(backend, n);
    (
        format!(
            "queue = {q} AND sent_at >= {since} AND sent_at < {before} AND {lost}",
            q = p(1),
            since = p(2),
            before = p(3),
            lost = no_live_run(&p(4)),
        ),
        [
            sea_orm::Value::from(queue.to_owned()),
            sea_orm::Value::from(since),
            sea_orm::Value::from(before),
            sea_orm::Value::from(lease_before),
        ],
    )
}

/// Puts back in line the rows of `queue` sent in `[since, before)` that the queue must have lost:
/// no run of their attempt exists, or its only run is `running` with a lease older than
/// `lease_before` (its worker died). Answers how many. A row pushed again that was not lost after
/// all is harmless: a delivery of a run that exists waits for its lease or is skipped.
///
/// # Errors
/// Database errors.
pub async fn requeue_lost(
    db: &impl ConnectionTrait,
    queue: &str,
    since: DateTimeUtc,
    before: DateTimeUtc,
    lease_before: DateTimeUtc,
) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let (lost, values) = lost_in(backend, queue, since, before, lease_before);
    let sql = format!(
        "UPDATE outbox SET sent_at = NULL, relay_attempts = relay_attempts + 1 WHERE {lost}"
    );
    let r = db
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            backend, sql, values,
        ))
        .await?;
    Ok(r.rows_affected())
}

/// Puts back in line rows whose delivery a worker acknowledged without running, because their
/// tenant's database was down (`(id, attempt)` pairs): each only while it still stands for that
/// attempt, is marked sent, and has no run that lives or has ended (see [`requeue_lost`]). Answers
/// how many.
///
/// # Errors
/// Database errors.
pub async fn requeue_deferred(
    db: &impl ConnectionTrait,
    rows: &[(i64, i32)],
    lease_before: DateTimeUtc,
) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let mut by_attempt: std::collections::BTreeMap<i32, Vec<i64>> =
        std::collections::BTreeMap::new();
    for (id, attempt) in rows {
        by_attempt.entry(*attempt).or_default().push(*id);
    }
    let mut requeued = 0;
    for (attempt, ids) in by_attempt {
        for chunk in ids.chunks(500) {
            let mut values = vec![
                sea_orm::Value::from(attempt),
                sea_orm::Value::from(lease_before),
            ];
            let list: Vec<String> = chunk
                .iter()
                .enumerate()
                .map(|(i, id)| {
                    values.push(sea_orm::Value::from(*id));
                    placeholder(backend, i + 3)
                })
                .collect();
            let sql = format!(
                "UPDATE outbox SET sent_at = NULL, relay_attempts = relay_attempts + 1 \
                 WHERE attempt = {a} AND sent_at IS NOT NULL AND id IN ({ids}) AND {lost}",
                a = placeholder(backend, 1),
                ids = list.join(", "),
                lost = no_live_run(&placeholder(backend, 2)),
            );
            requeued += db
                .execute_raw(sea_orm::Statement::from_sql_and_values(
                    backend, sql, values,
                ))
                .await?
                .rows_affected();
        }
    }
    Ok(requeued)
}

/// How many rows of `queue` were sent in `[since, before)` and have no run that lives or has
/// ended (see [`requeue_lost`]): jobs the queue may have lost, which the relay pushes again once
/// its grace has passed. Operators see this number beside the queue's own counts.
///
/// # Errors
/// Database errors.
pub async fn count_unstarted(
    db: &impl ConnectionTrait,
    queue: &str,
    since: DateTimeUtc,
    before: DateTimeUtc,
    lease_before: DateTimeUtc,
) -> Result<u64, DbErr> {
    let backend = db.get_database_backend();
    let (lost, values) = lost_in(backend, queue, since, before, lease_before);
    let sql = format!("SELECT COUNT(*) AS n FROM outbox WHERE {lost}");
    let row = db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            backend, sql, values,
        ))
        .await?;
    let n: i64 = match row {
        Some(r) => r.try_get("", "n")?,
        None => 0,
    };
    Ok(u64::try_from(n).unwrap_or(0))
}
