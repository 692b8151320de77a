//! The catalog's change log: the outbox of a data set that belongs to no tenant. Every write to a
//! part, its fitment or its numbers appends the part id here in the same transaction; a search
//! sync reads the log from its own cursor and moves the cursor only after the index has taken the
//! change, so a crash re-sends instead of losing.

use sea_orm::{ConnectionTrait, DbErr, Statement, Value};

use super::docs::{ph, phs};

/// Appends changed parts to the log.
///
/// # Errors
/// Database errors.
pub async fn record(db: &impl ConnectionTrait, part_ids: &[i64]) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let now = crate::now();
    for chunk in part_ids.chunks(400) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("({}, {})", ph(backend, 2 * i + 1), ph(backend, 2 * i + 2)))
            .collect();
        let mut values = Vec::with_capacity(chunk.len() * 2);
        for &id in chunk {
            values.push(Value::from(id));
            values.push(Value::from(now));
        }
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "INSERT INTO catalog_changes (part_id, changed_at) VALUES {}",
                rows.join(",")
            ),
            values,
        ))
        .await?;
    }
    Ok(())
}

/// A batch of the log: the distinct parts changed after a cursor, and the cursor after them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeBatch {
    /// Distinct part ids, ascending.
    pub part_ids: Vec<i64>,
    /// The highest sequence number read (the new cursor once applied).
    pub last_seq: i64,
}

/// Up to `limit` log rows after `after`, as distinct part ids. `None` when there is nothing new.
///
/// # Errors
/// Database errors.
pub async fn after(
    db: &impl ConnectionTrait,
    after: i64,
    limit: u64,
) -> Result<Option<ChangeBatch>, DbErr> {
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT seq, part_id FROM catalog_changes WHERE seq > {} ORDER BY seq LIMIT {}",
                ph(backend, 1),
                ph(backend, 2)
            ),
            [
                after.into(),
                i64::try_from(limit).unwrap_or(i64::MAX).into(),
            ],
        ))
        .await?;
    let mut last_seq = after;
    let mut part_ids = Vec::with_capacity(rows.len());
    for r in &rows {
        last_seq = last_seq.max(r.try_get::<i64>("", "seq")?);
        part_ids.push(r.try_get::<i64>("", "part_id")?);
    }
    if part_ids.is_empty() {
        return Ok(None);
    }
    part_ids.sort_unstable();
    part_ids.dedup();
    Ok(Some(ChangeBatch { part_ids, last_seq }))
}

/// The newest sequence number in the log (0 when empty): a full reindex starts its cursor here,
/// since it reads every part as it is after this point.
///
/// # Errors
/// Database errors.
pub async fn head(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COALESCE(max(seq), 0) AS n FROM catalog_changes",
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0))
}

/// A sync's saved cursor and live index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncState {
    /// The last change applied.
    pub last_seq: i64,
    /// The index uid serving searches, when one was built.
    pub index_uid: Option<String>,
}

/// Reads a sync's state (`None` before its first run).
///
/// # Errors
/// Database errors.
pub async fn sync_state(db: &impl ConnectionTrait, name: &str) -> Result<Option<SyncState>, DbErr> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT last_seq, index_uid FROM search_sync_state WHERE name = {}",
                ph(backend, 1)
            ),
            [name.into()],
        ))
        .await?;
    row.map(|r| {
        Ok(SyncState {
            last_seq: r.try_get("", "last_seq")?,
            index_uid: r.try_get("", "index_uid")?,
        })
    })
    .transpose()
}

/// Saves a sync's state.
///
/// # Errors
/// Database errors.
pub async fn save_sync_state(
    db: &impl ConnectionTrait,
    name: &str,
    state: &SyncState,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let p = phs(backend, 1, 4);
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        format!(
            "INSERT INTO search_sync_state (name, last_seq, index_uid, updated_at) VALUES ({p}) \
             ON CONFLICT (name) DO UPDATE SET last_seq = excluded.last_seq, \
             index_uid = excluded.index_uid, updated_at = excluded.updated_at"
        ),
        [
            name.into(),
            state.last_seq.into(),
            state.index_uid.clone().into(),
            crate::now().into(),
        ],
    ))
    .await?;
    Ok(())
}
