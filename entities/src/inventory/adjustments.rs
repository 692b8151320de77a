//! Manager adjustments (damage, loss, found…) and physical counts: stock changes with no other
//! document behind them, written through [`crate::inventory::movements::apply`] with their audit entry.

use std::collections::{BTreeMap, HashSet};

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter, Statement, Value,
};
use serde_json::json;
use uuid::Uuid;

use crate::catalog::docs::ph;
use crate::inventory::movements::{self, Moved, Movement, Reference, reason};
use crate::org::audit::Entry;
use crate::org::branches::Actor;
use crate::{Error, Result};
use crate::{inventory::tables::item, inventory::tables::stock};

/// Most lines in one adjustment, count or transfer.
pub const MAX_LINES: usize = 500;

/// Why a manager adjusted stock.
pub const ADJUSTMENT_KINDS: [&str; 5] = ["damage", "loss", "found", "correction", "initial"];

/// A line of an adjustment.
#[derive(Debug, Clone, Copy)]
pub struct AdjustmentLine {
    /// The item.
    pub item_id: Uuid,
    /// Units in (positive) or out (negative), never zero.
    pub delta: i64,
}

/// An adjustment of one warehouse.
#[derive(Debug, Clone)]
pub struct NewAdjustment {
    /// The warehouse.
    pub warehouse_id: Uuid,
    /// The lines.
    pub lines: Vec<AdjustmentLine>,
    /// One of [`ADJUSTMENT_KINDS`].
    pub kind: String,
    /// A person's note.
    pub note: Option<String>,
}

/// A line of a physical count.
#[derive(Debug, Clone, Copy)]
pub struct CountLine {
    /// The item.
    pub item_id: Uuid,
    /// Units found on the shelf, ≥ 0.
    pub counted: i64,
}

/// A physical count of some items in one warehouse.
#[derive(Debug, Clone)]
pub struct NewCount {
    /// The warehouse.
    pub warehouse_id: Uuid,
    /// The lines.
    pub lines: Vec<CountLine>,
    /// A person's note.
    pub note: Option<String>,
}

/// What an adjustment or count did.
#[derive(Debug, Clone)]
pub struct StockChange {
    /// The document id written as the ledger's `ref_id`.
    pub id: Uuid,
    /// Each balance that changed.
    pub moved: Vec<Moved>,
}

impl StockChange {
    /// The items whose stock changed (to invalidate their cached views).
    #[must_use]
    pub fn items(&self) -> Vec<Uuid> {
        let mut v: Vec<Uuid> = self.moved.iter().map(|m| m.item_id).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

fn check_note(note: Option<String>) -> Result<Option<String>> {
    match note.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
        Some(s) if s.chars().count() > 1000 => Err(Error::validation(
            "note",
            "note must be at most 1000 characters",
        )),
        other => Ok(other),
    }
}

fn check_line_count(n: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::validation("lines", "at least one line is needed"));
    }
    if n > MAX_LINES {
        return Err(Error::validation(
            "lines",
            format!("at most {MAX_LINES} lines"),
        ));
    }
    Ok(())
}

/// Checks that every item exists, naming the first line whose item does not.
///
/// # Errors
/// [`Error::Validation`] on `lines[i].item_id`.
pub async fn check_items(db: &impl ConnectionTrait, items: &[Uuid]) -> Result<()> {
    let wanted: HashSet<Uuid> = items.iter().copied().collect();
    let found: std::collections::HashMap<Uuid, item::Kind> = item::Entity::find()
        .filter(item::Column::Id.is_in(wanted.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i.kind))
        .collect();
    for (i, id) in items.iter().enumerate() {
        match found.get(id) {
            None => {
                return Err(Error::missing(
                    format!("lines[{i}].item_id"),
                    "item_not_found",
                    format!("item {id} does not exist"),
                ));
            }
            Some(item::Kind::Service) => return Err(not_stocked(*id)),
            Some(item::Kind::Part) => {}
        }
    }
    Ok(())
}

fn not_stocked(id: Uuid) -> Error {
    Error::conflict(
        "service_not_stocked",
        format!("item {id} is a labour operation: it has no stock"),
    )
}

/// Checks that the item a request names in `field` exists.
///
/// # Errors
/// [`Error::Missing`] `item_not_found` on `field`; database errors as they are.
pub async fn check_item(db: &impl ConnectionTrait, field: &str, id: Uuid) -> Result<()> {
    match item::Entity::find_by_id(id).one(db).await? {
        None => Err(Error::missing(
            field,
            "item_not_found",
            format!("item {id} does not exist"),
        )),
        Some(it) if it.kind == item::Kind::Service => Err(not_stocked(id)),
        Some(_) => Ok(()),
    }
}

fn entry(actor: &Actor, action: &str, id: Uuid) -> Entry {
    Entry::new(action)
        .actor(actor.user_id)
        .target("stock", id)
        .request(None, actor.request_id.clone())
}

/// Adjusts balances of one warehouse, in one transaction: ledger reason `adjustment`, ref_type
/// `adjustment`, ref_id a new id; the kind and note go on each ledger row's note.
///
/// # Errors
/// [`Error::Validation`] naming the field or line; [`Error::NotFound`] `warehouse`;
/// [`Error::Conflict`] `insufficient_stock` (nothing is changed).
pub async fn adjust(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    new: NewAdjustment,
) -> Result<StockChange> {
    if !ADJUSTMENT_KINDS.contains(&new.kind.as_str()) {
        return Err(Error::validation(
            "reason",
            format!("reason must be one of {}", ADJUSTMENT_KINDS.join(", ")),
        ));
    }
    check_line_count(new.lines.len())?;
    for (i, l) in new.lines.iter().enumerate() {
        crate::rules::quantity::delta(format!("lines[{i}].delta"), l.delta)?;
    }
    if let Some(i) = new.lines.iter().position(|l| l.delta == 0) {
        return Err(Error::validation(
            format!("lines[{i}].delta"),
            "delta cannot be zero",
        ));
    }
    let note = check_note(new.note)?;
    let ledger_note = match &note {
        Some(n) => format!("{}: {n}", new.kind),
        None => new.kind.clone(),
    };
    let id = Uuid::now_v7();
    let ref_id = id.to_string();
    let items: Vec<Uuid> = new.lines.iter().map(|l| l.item_id).collect();
    check_items(txn, &items).await?;
    let moves: Vec<Movement> = new
        .lines
        .iter()
        .map(|l| Movement {
            item_id: l.item_id,
            warehouse_id: new.warehouse_id,
            delta: l.delta,
        })
        .collect();
    let moved = movements::apply(
        txn,
        &moves,
        &Reference {
            reason: reason::ADJUSTMENT,
            ref_type: "adjustment",
            ref_id: &ref_id,
            note: Some(&ledger_note),
            actor: actor.user_id,
        },
    )
    .await?;
    entry(actor, "stock.adjusted", id)
        .details(json!({
            "warehouse_id": new.warehouse_id,
            "reason": new.kind,
            "note": note,
            "lines": moved.iter().map(|m| json!({"item_id": m.item_id, "delta": m.delta, "after": m.after})).collect::<Vec<_>>(),
        }))
        .record_tenant(txn)
        .await?;
    Ok(StockChange { id, moved })
}

/// Sets balances of one warehouse to what was counted, in one transaction: each line moves by
/// `counted − balance` (read in the same transaction, the rows locked on PostgreSQL so a sale
/// cannot slip in between), ledger reason `count`; lines already right move nothing.
///
/// # Errors
/// [`Error::Validation`] naming the field or line; [`Error::NotFound`] `warehouse`.
pub async fn count(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    new: NewCount,
) -> Result<StockChange> {
    check_line_count(new.lines.len())?;
    for (i, l) in new.lines.iter().enumerate() {
        crate::rules::quantity::level(format!("lines[{i}].counted"), l.counted)?;
    }
    if let Some(i) = new.lines.iter().position(|l| l.counted < 0) {
        return Err(Error::validation(
            format!("lines[{i}].counted"),
            "counted cannot be negative",
        ));
    }
    let mut counted: BTreeMap<Uuid, (usize, i64)> = BTreeMap::new();
    for (i, l) in new.lines.iter().enumerate() {
        if counted.insert(l.item_id, (i, l.counted)).is_some() {
            return Err(Error::validation(
                format!("lines[{i}].item_id"),
                "an item is counted once per count",
            ));
        }
    }
    let note = check_note(new.note)?;
    let id = Uuid::now_v7();
    let ref_id = id.to_string();
    let items: Vec<Uuid> = new.lines.iter().map(|l| l.item_id).collect();
    check_items(txn, &items).await?;
    let current = balances(txn, new.warehouse_id, counted.keys().copied()).await?;
    let moves: Vec<Movement> = counted
        .iter()
        .filter_map(|(item_id, (_, c))| {
            let delta = c - current.get(item_id).copied().unwrap_or(0);
            (delta != 0).then_some(Movement {
                item_id: *item_id,
                warehouse_id: new.warehouse_id,
                delta,
            })
        })
        .collect();
    // A count that changes nothing still checks the warehouse, as one that does would.
    if moves.is_empty() {
        crate::inventory::stock_views::warehouse(txn, new.warehouse_id).await?;
    }
    let moved = movements::apply(
        txn,
        &moves,
        &Reference {
            reason: reason::COUNT,
            ref_type: "count",
            ref_id: &ref_id,
            note: note.as_deref(),
            actor: actor.user_id,
        },
    )
    .await?;
    entry(actor, "stock.counted", id)
        .details(json!({
            "warehouse_id": new.warehouse_id,
            "note": note,
            "lines": counted.iter().map(|(item, (_, c))| json!({
                "item_id": item,
                "counted": c,
                "before": current.get(item).copied().unwrap_or(0),
            })).collect::<Vec<_>>(),
        }))
        .record_tenant(txn)
        .await?;
    Ok(StockChange { id, moved })
}

/// Balances of some items in a warehouse; on PostgreSQL the rows stay locked until commit, in
/// item order (the order [`movements::apply`] locks in, so no deadlock with a sale).
async fn balances(
    db: &impl ConnectionTrait,
    warehouse_id: Uuid,
    items: impl Iterator<Item = Uuid>,
) -> Result<std::collections::HashMap<Uuid, i64>> {
    let backend = db.get_database_backend();
    let items: Vec<Uuid> = items.collect();
    if backend != DatabaseBackend::Postgres {
        return Ok(stock::Entity::find()
            .filter(stock::Column::WarehouseId.eq(warehouse_id))
            .filter(stock::Column::ItemId.is_in(items))
            .all(db)
            .await?
            .into_iter()
            .map(|s| (s.item_id, s.qty))
            .collect());
    }
    let mut values = vec![Value::from(warehouse_id)];
    let list: Vec<String> = items
        .iter()
        .enumerate()
        .map(|(i, id)| {
            values.push(Value::from(*id));
            ph(backend, i + 2)
        })
        .collect();
    let sql = format!(
        "SELECT item_id, qty FROM stock WHERE warehouse_id = {} AND item_id IN ({}) \
         ORDER BY item_id, warehouse_id FOR UPDATE",
        ph(backend, 1),
        list.join(", ")
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    let mut out = std::collections::HashMap::with_capacity(rows.len());
    for row in rows {
        out.insert(row.try_get_by_index(0)?, row.try_get_by_index(1)?);
    }
    Ok(out)
}
