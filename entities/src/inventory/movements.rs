//! Stock movements: the one way a balance changes.
//!
//! [`apply`] writes, inside the caller's transaction, every balance change of a document and its
//! ledger rows, in a constant number of statements whatever the number of lines:
//! - decrements are one conditional `UPDATE … FROM (VALUES …) WHERE qty - reserved >= n` (units
//!   held for a customer's special order stay), so two sales of
//!   the last unit cannot both succeed (Read Committed re-checks the condition on the new row
//!   version); on PostgreSQL the rows are first locked in (item, warehouse) order, so two carts
//!   with the same parts in another order cannot deadlock;
//! - increments are one `INSERT … ON CONFLICT DO UPDATE`;
//! - the ledger rows are one multi-row insert, unique per (document, reason, item, warehouse), so
//!   a retried document cannot move stock twice.

use std::collections::{BTreeMap, HashMap};

use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, Value};
use uuid::Uuid;

use crate::error::OnUnique;
use crate::{Error, Result};

/// The `n`th bound parameter, numbered on both backends: the statements below use a parameter
/// more than once (the timestamp, the document's fields on each ledger row), which a bare `?`
/// on SQLite cannot do (it takes the next value in order).
pub(crate) fn ph(backend: DatabaseBackend, n: usize) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("${n}"),
        _ => format!("?{n}"),
    }
}

/// Why stock moved (the ledger's `reason`).
pub mod reason {
    /// Sold at the counter.
    pub const SALE: &str = "sale";
    /// Came back with a return.
    pub const RETURN: &str = "return";
    /// Came back with a sale's cancellation.
    pub const CANCELLATION: &str = "cancellation";
    /// A manager's adjustment (damage, loss, found).
    pub const ADJUSTMENT: &str = "adjustment";
    /// A physical count set the balance.
    pub const COUNT: &str = "count";
    /// Left the origin of a transfer.
    pub const TRANSFER_OUT: &str = "transfer_out";
    /// Arrived at the destination of a transfer.
    pub const TRANSFER_IN: &str = "transfer_in";
    /// Went back to the origin of a cancelled shipped transfer.
    pub const TRANSFER_CANCEL: &str = "transfer_cancel";
    /// Units a transfer closed short did not deliver, back at its origin.
    pub const TRANSFER_SHORT_RETURN: &str = "transfer_short_return";
    /// Units a transfer closed short did not deliver, written off at its origin (after coming
    /// back to it in the ledger, so both steps show).
    pub const TRANSFER_WRITE_OFF: &str = "transfer_write_off";
    /// The opening stock of an item created by a bulk import.
    pub const IMPORT: &str = "import";
    /// Received from a supplier against a purchase order.
    pub const PURCHASE: &str = "purchase";
    /// Sent back to a supplier (RMA out).
    pub const SUPPLIER_RETURN: &str = "supplier_return";
    /// Used in a service order's repair.
    pub const SERVICE: &str = "service";
    /// An old unit (casco) a customer brought back, into the cores warehouse.
    pub const CORE_RETURN: &str = "core_return";
    /// Cores sent back to their supplier.
    pub const CORE_TO_SUPPLIER: &str = "core_to_supplier";
}

/// Holds `n` more units of an item at a warehouse for a document (a service order, a special
/// order): from then on sales, transfers and returns take only `qty - reserved`. One
/// conditional statement, so two documents cannot hold the same last unit: the second finds
/// it taken. Answers whether the units were free and are now held.
///
/// # Errors
/// Database errors.
pub async fn hold(
    db: &impl ConnectionTrait,
    item_id: Uuid,
    warehouse_id: Uuid,
    n: i64,
) -> Result<bool> {
    let backend = db.get_database_backend();
    let (p1, p2, p3) = (ph(backend, 1), ph(backend, 2), ph(backend, 3));
    let done = db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "UPDATE stock SET reserved = reserved + {p1} \
                 WHERE item_id = {p2} AND warehouse_id = {p3} AND qty - reserved >= {p1}"
            ),
            [n.into(), item_id.into(), warehouse_id.into()],
        ))
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Lets go of `n` held units (never below zero held): they are free to sell again, or about to
/// leave through [`apply`] in the same transaction.
///
/// # Errors
/// Database errors.
pub async fn release(
    db: &impl ConnectionTrait,
    item_id: Uuid,
    warehouse_id: Uuid,
    n: i64,
) -> Result<()> {
    let backend = db.get_database_backend();
    let (p1, p2, p3) = (ph(backend, 1), ph(backend, 2), ph(backend, 3));
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        format!(
            "UPDATE stock SET reserved = CASE WHEN reserved - {p1} < 0 THEN 0 ELSE reserved - {p1} END \
             WHERE item_id = {p2} AND warehouse_id = {p3}"
        ),
        [n.into(), item_id.into(), warehouse_id.into()],
    ))
    .await?;
    Ok(())
}

/// One change of one balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    /// The item.
    pub item_id: Uuid,
    /// The warehouse.
    pub warehouse_id: Uuid,
    /// Units in (positive) or out (negative); never zero.
    pub delta: i64,
}

/// The document behind a set of movements, written on each ledger row.
#[derive(Debug, Clone)]
pub struct Reference<'a> {
    /// A [`reason`].
    pub reason: &'a str,
    /// The document kind (`sale`, `transfer`…).
    pub ref_type: &'a str,
    /// The document id.
    pub ref_id: &'a str,
    /// A person's note.
    pub note: Option<&'a str>,
    /// Who did it.
    pub actor: Option<Uuid>,
}

/// A balance after a movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    /// The item.
    pub item_id: Uuid,
    /// The warehouse.
    pub warehouse_id: Uuid,
    /// The warehouse's branch.
    pub branch_id: Uuid,
    /// The change.
    pub delta: i64,
    /// The balance after it.
    pub after: i64,
}

impl Moved {
    /// The balance before the movement.
    #[must_use]
    pub const fn before(&self) -> i64 {
        self.after - self.delta
    }

    /// Whether this movement took the balance from at or above `min_qty` to below it.
    #[must_use]
    pub const fn crossed_below(&self, min_qty: i64) -> bool {
        self.delta < 0 && self.before() >= min_qty && self.after < min_qty
    }
}

/// Applies `moves` (merged per item and warehouse) and writes their ledger rows, in the
/// caller's transaction. Warehouses must exist and be active.
///
/// # Errors
/// [`Error::Conflict`] `insufficient_stock` naming what is short (nothing is written: the caller
/// rolls back), `duplicate_movement` when this document already moved this stock;
/// [`Error::NotFound`] `warehouse`; [`Error::Validation`] for a zero delta.
pub async fn apply(
    db: &impl ConnectionTrait,
    moves: &[Movement],
    r: &Reference<'_>,
) -> Result<Vec<Moved>> {
    let mut merged: BTreeMap<(Uuid, Uuid), i64> = BTreeMap::new();
    for m in moves {
        *merged.entry((m.item_id, m.warehouse_id)).or_default() += m.delta;
    }
    merged.retain(|_, d| *d != 0);
    if merged.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let branches = warehouse_branches(db, merged.keys().map(|k| k.1)).await?;
    let now = crate::now();
    let (out, inc): (Vec<_>, Vec<_>) = merged.iter().partition(|(_, d)| **d < 0);

    let mut after: HashMap<(Uuid, Uuid), i64> = HashMap::with_capacity(merged.len());
    if !out.is_empty() {
        if backend == DatabaseBackend::Postgres {
            lock_in_order(db, &out).await?;
        }
        let mut values = Vec::with_capacity(out.len() * 3 + 1);
        values.push(Value::from(now));
        let rows: Vec<String> = out
            .iter()
            .enumerate()
            .map(|(i, ((item, wh), d))| {
                values.push(Value::from(*item));
                values.push(Value::from(*wh));
                values.push(Value::from(-**d));
                let b = 2 + i * 3;
                format!(
                    "({}, {}, {})",
                    ph(backend, b),
                    ph(backend, b + 1),
                    cast_big(backend, &ph(backend, b + 2))
                )
            })
            .collect();
        let sql = format!(
            "UPDATE stock SET qty = stock.qty - v.column3, updated_at = {now_ph} \
             FROM (VALUES {rows}) AS v \
             WHERE stock.item_id = v.column1 AND stock.warehouse_id = v.column2 \
               AND stock.qty - stock.reserved >= v.column3 \
             RETURNING stock.item_id, stock.warehouse_id, stock.qty",
            now_ph = ph(backend, 1),
            rows = rows.join(", ")
        );
        let got = db
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        for row in got {
            let item: Uuid = row.try_get_by_index(0)?;
            let wh: Uuid = row.try_get_by_index(1)?;
            let qty: i64 = row.try_get_by_index(2)?;
            after.insert((item, wh), qty);
        }
        if after.len() < out.len() {
            let short: Vec<_> = out
                .iter()
                .filter(|(k, _)| !after.contains_key(k))
                .map(|(k, d)| (**k, -**d))
                .collect();
            return Err(shortage(db, &short).await);
        }
    }
    if !inc.is_empty() {
        let mut values = Vec::with_capacity(inc.len() * 4 + 1);
        values.push(Value::from(now));
        let rows: Vec<String> = inc
            .iter()
            .enumerate()
            .map(|(i, ((item, wh), d))| {
                values.push(Value::from(*item));
                values.push(Value::from(*wh));
                values.push(Value::from(branches.get(wh).copied().unwrap_or_default()));
                values.push(Value::from(**d));
                let b = 2 + i * 4;
                format!(
                    "({}, {}, {}, {}, {})",
                    ph(backend, b),
                    ph(backend, b + 1),
                    ph(backend, b + 2),
                    ph(backend, b + 3),
                    ph(backend, 1)
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO stock (item_id, warehouse_id, branch_id, qty, updated_at) VALUES {} \
             ON CONFLICT (item_id, warehouse_id) DO UPDATE \
             SET qty = stock.qty + excluded.qty, updated_at = excluded.updated_at \
             RETURNING item_id, warehouse_id, qty",
            rows.join(", ")
        );
        let got = db
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        for row in got {
            let item: Uuid = row.try_get_by_index(0)?;
            let wh: Uuid = row.try_get_by_index(1)?;
            let qty: i64 = row.try_get_by_index(2)?;
            after.insert((item, wh), qty);
        }
    }

    let moved: Vec<Moved> = merged
        .iter()
        .map(|((item, wh), d)| Moved {
            item_id: *item,
            warehouse_id: *wh,
            branch_id: branches.get(wh).copied().unwrap_or_default(),
            delta: *d,
            after: after.get(&(*item, *wh)).copied().unwrap_or_default(),
        })
        .collect();
    write_ledger(db, &moved, r, now).await?;
    if !inc.is_empty() {
        resolve_recovered_alerts(db, inc.iter().map(|((item, _), _)| *item), now).await?;
    }
    Ok(moved)
}

/// Resolves the open low-stock alerts of `items` whose balance is back at or above the minimum
/// the alert was raised against: one statement, run only when stock came in.
async fn resolve_recovered_alerts(
    db: &impl ConnectionTrait,
    items: impl Iterator<Item = Uuid>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let backend = db.get_database_backend();
    let mut values = vec![Value::from(now)];
    let mut list = Vec::new();
    for item in items {
        values.push(Value::from(item));
        list.push(ph(backend, values.len()));
    }
    let sql = format!(
        "UPDATE stock_alerts SET status = 'resolved', resolved_at = {now} \
         WHERE status = 'open' AND item_id IN ({items}) \
           AND EXISTS (SELECT 1 FROM stock s WHERE s.item_id = stock_alerts.item_id \
                       AND s.warehouse_id = stock_alerts.warehouse_id \
                       AND s.qty >= stock_alerts.min_qty)",
        now = ph(backend, 1),
        items = list.join(", ")
    );
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(())
}

/// Casts a bound integer in a `VALUES` list: PostgreSQL types a bare parameter there as text.
fn cast_big(backend: DatabaseBackend, p: &str) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("{p}::bigint"),
        _ => p.to_owned(),
    }
}

async fn write_ledger(
    db: &impl ConnectionTrait,
    moved: &[Moved],
    r: &Reference<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = vec![
        r.reason.into(),
        r.ref_type.into(),
        r.ref_id.into(),
        r.note.map(str::to_owned).into(),
        r.actor.into(),
        now.into(),
    ];
    let rows: Vec<String> = moved
        .iter()
        .enumerate()
        .map(|(i, m)| {
            values.push(m.item_id.into());
            values.push(m.warehouse_id.into());
            values.push(m.branch_id.into());
            values.push(m.delta.into());
            values.push(m.after.into());
            let b = 7 + i * 5;
            format!(
                "({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
                ph(backend, b),
                ph(backend, b + 1),
                ph(backend, b + 2),
                ph(backend, b + 3),
                ph(backend, b + 4),
                ph(backend, 1),
                ph(backend, 2),
                ph(backend, 3),
                ph(backend, 4),
                ph(backend, 5),
                ph(backend, 6),
            )
        })
        .collect();
    let sql = format!(
        "INSERT INTO stock_ledger (item_id, warehouse_id, branch_id, delta, balance_after, \
         reason, ref_type, ref_id, note, actor_user_id, created_at) VALUES {}",
        rows.join(", ")
    );
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .on_unique(
            "duplicate_movement",
            "this document has already moved this stock",
        )?;
    Ok(())
}

/// The branch of each warehouse; every one must exist and be active.
async fn warehouse_branches(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = Uuid>,
) -> Result<HashMap<Uuid, Uuid>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    use crate::org::tables::warehouse;
    let mut wanted: Vec<Uuid> = ids.collect();
    wanted.sort_unstable();
    wanted.dedup();
    let rows = warehouse::Entity::find()
        .filter(warehouse::Column::Id.is_in(wanted.iter().copied()))
        .all(db)
        .await?;
    let map: HashMap<Uuid, Uuid> = rows
        .iter()
        .filter(|w| w.is_active)
        .map(|w| (w.id, w.branch_id))
        .collect();
    if map.len() < wanted.len() {
        return Err(Error::NotFound {
            entity: "warehouse",
        });
    }
    Ok(map)
}

/// Locks the balances a document takes from, in (item, warehouse) order.
async fn lock_in_order(db: &impl ConnectionTrait, out: &[(&(Uuid, Uuid), &i64)]) -> Result<()> {
    let backend = db.get_database_backend();
    let mut values = Vec::with_capacity(out.len() * 2);
    let pairs: Vec<String> = out
        .iter()
        .enumerate()
        .map(|(i, ((item, wh), _))| {
            values.push(Value::from(*item));
            values.push(Value::from(*wh));
            format!("({}, {})", ph(backend, i * 2 + 1), ph(backend, i * 2 + 2))
        })
        .collect();
    let sql = format!(
        "SELECT 1 FROM stock WHERE (item_id, warehouse_id) IN ({}) \
         ORDER BY item_id, warehouse_id FOR UPDATE",
        pairs.join(", ")
    );
    db.query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(())
}

/// The error of a shortage, with what is available of each short line.
async fn shortage(db: &impl ConnectionTrait, short: &[((Uuid, Uuid), i64)]) -> Error {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    use crate::{inventory::tables::item, inventory::tables::stock, org::tables::warehouse};
    let mut parts = Vec::new();
    for ((item_id, wh), asked) in short.iter().take(5) {
        let have = stock::Entity::find_by_id((*item_id, *wh))
            .one(db)
            .await
            .ok()
            .flatten()
            .map_or(0, |s| s.qty - s.reserved);
        let sku = item::Entity::find_by_id(*item_id)
            .one(db)
            .await
            .ok()
            .flatten()
            .map_or_else(|| item_id.to_string(), |i| i.sku);
        let wh_code = warehouse::Entity::find()
            .filter(warehouse::Column::Id.eq(*wh))
            .one(db)
            .await
            .ok()
            .flatten()
            .map_or_else(|| wh.to_string(), |w| w.code);
        parts.push(format!(
            "{sku} in {wh_code}: {have} available, {asked} asked"
        ));
    }
    Error::conflict(
        "insufficient_stock",
        format!("not enough stock: {}", parts.join("; ")),
    )
}

/// The next number of a folio series (`sale:MTY-01`, `transfer`, `quote`), in the caller's
/// transaction. Call it last before commit: on PostgreSQL the counter row stays locked until
/// then, so concurrent documents of one series wait for each other only that long.
///
/// # Errors
/// Database errors.
pub async fn next_folio(db: &impl ConnectionTrait, series: &str) -> Result<i64> {
    let backend = db.get_database_backend();
    let sql = format!(
        "INSERT INTO folio_counters (series, last) VALUES ({}, 1) \
         ON CONFLICT (series) DO UPDATE SET last = folio_counters.last + 1 RETURNING last",
        ph(backend, 1)
    );
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [Value::from(series)],
        ))
        .await?
        .ok_or_else(|| Error::Internal("folio counter returned nothing".into()))?;
    Ok(row.try_get_by_index(0)?)
}

/// A balance that disagrees with its ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Drift {
    /// The item.
    pub item_id: Uuid,
    /// The warehouse.
    pub warehouse_id: Uuid,
    /// The cached balance (`stock.qty`; 0 when there is no row).
    pub balance: i64,
    /// The sum of the ledger.
    pub ledger: i64,
}

/// Compares every balance with the sum of its ledger: the nightly proof that they agree. Empty
/// when they do.
///
/// # Errors
/// Database errors.
pub async fn reconcile(db: &impl ConnectionTrait) -> Result<Vec<Drift>> {
    let backend = db.get_database_backend();
    let sql = "SELECT k.item_id, k.warehouse_id, \
                      CAST(COALESCE(s.qty, 0) AS BIGINT), CAST(COALESCE(l.total, 0) AS BIGINT) \
               FROM (SELECT item_id, warehouse_id FROM stock \
                     UNION SELECT item_id, warehouse_id FROM stock_ledger) k \
               LEFT JOIN stock s ON s.item_id = k.item_id AND s.warehouse_id = k.warehouse_id \
               LEFT JOIN (SELECT item_id, warehouse_id, SUM(delta) AS total FROM stock_ledger \
                          GROUP BY item_id, warehouse_id) l \
                 ON l.item_id = k.item_id AND l.warehouse_id = k.warehouse_id \
               WHERE COALESCE(s.qty, 0) <> COALESCE(l.total, 0) \
               ORDER BY k.item_id, k.warehouse_id";
    let rows = db
        .query_all_raw(Statement::from_string(backend, sql))
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Drift {
                item_id: r.try_get_by_index(0)?,
                warehouse_id: r.try_get_by_index(1)?,
                balance: r.try_get_by_index(2)?,
                ledger: r.try_get_by_index(3)?,
            })
        })
        .collect()
}
