//! Reads of stock: an item's balances by branch and warehouse with what is on its way, the
//! ledger, and low-stock alerts.

use std::collections::{BTreeMap, HashMap};

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Statement, Value,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::catalog::docs::ph;
use crate::{Error, Page, PageRequest, Result};
use crate::{
    inventory::tables::item, inventory::tables::stock, inventory::tables::stock_alert,
    inventory::tables::stock_ledger, org::tables::branch, org::tables::warehouse,
};

/// What a business has of one catalog part, for a search hit: the item it sells it as and the
/// units on hand in one branch and in the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartStock {
    /// The active item linked to the part (the first by SKU when several are).
    pub item_id: Uuid,
    /// Its SKU.
    pub sku: String,
    /// Units on hand in the branch asked about, over every item linked to the part; `None` when
    /// no branch was named.
    pub here: Option<i64>,
    /// Units on hand in every other branch.
    pub elsewhere: i64,
}

/// The stock of the business's active items linked to `parts`, by catalog part; a part the
/// business does not sell is absent. Two reads whatever the number of hits.
///
/// # Errors
/// Database errors.
pub async fn stock_of_parts(
    db: &impl ConnectionTrait,
    parts: &[i64],
    here: Option<Uuid>,
) -> Result<HashMap<i64, PartStock>> {
    let mut out = HashMap::new();
    if parts.is_empty() {
        return Ok(out);
    }
    let items = item::Entity::find()
        .filter(item::Column::CatalogPartId.is_in(parts.iter().copied()))
        .filter(item::Column::IsActive.eq(true))
        .order_by_asc(item::Column::Sku)
        .all(db)
        .await?;
    let levels = stock::Entity::find()
        .filter(stock::Column::ItemId.is_in(items.iter().map(|i| i.id)))
        .all(db)
        .await?;
    let part_of: HashMap<Uuid, i64> = items
        .iter()
        .filter_map(|i| i.catalog_part_id.map(|p| (i.id, p)))
        .collect();
    for i in &items {
        if let Some(part) = i.catalog_part_id {
            out.entry(part).or_insert_with(|| PartStock {
                item_id: i.id,
                sku: i.sku.clone(),
                here: here.map(|_| 0),
                elsewhere: 0,
            });
        }
    }
    for level in levels {
        let Some(entry) = part_of.get(&level.item_id).and_then(|p| out.get_mut(p)) else {
            continue;
        };
        match (&mut entry.here, here) {
            (Some(n), Some(branch)) if level.branch_id == branch => *n += level.qty,
            _ => entry.elsewhere += level.qty,
        }
    }
    Ok(out)
}

/// The catalog parts the business has on hand (linked to an active item with units in any
/// warehouse, or in `branch`'s when given), ascending: the list an "in stock only" search is
/// made within.
///
/// # Errors
/// Database errors.
pub async fn parts_in_stock(db: &impl ConnectionTrait, branch: Option<Uuid>) -> Result<Vec<i64>> {
    let b = db.get_database_backend();
    let mut values: Vec<Value> = vec![true.into()];
    let mut sql = format!(
        "SELECT DISTINCT i.catalog_part_id AS part FROM items i JOIN stock s ON s.item_id = i.id \
         WHERE i.catalog_part_id IS NOT NULL AND i.is_active = {} AND s.qty > 0",
        ph(b, 1)
    );
    if let Some(branch) = branch {
        values.push(branch.into());
        sql.push_str(&format!(" AND s.branch_id = {}", ph(b, 2)));
    }
    sql.push_str(" ORDER BY part");
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(b, sql, values))
        .await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get::<i64>("", "part"))
        .collect::<std::result::Result<Vec<_>, _>>()?)
}

/// Transfer states in which shipped stock is on its way to the destination.
pub const IN_TRANSIT_STATES: [&str; 2] = ["shipped", "partially_received"];

/// An item's balance in one warehouse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarehouseStock {
    /// Warehouse id.
    pub warehouse_id: Uuid,
    /// Warehouse code.
    pub code: String,
    /// Warehouse name.
    pub name: String,
    /// Units on hand.
    pub qty: i64,
    /// Units shipped to this warehouse and not received yet.
    pub in_transit: i64,
}

/// An item's balances in one branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchStock {
    /// Branch id.
    pub branch_id: Uuid,
    /// Branch code.
    pub code: String,
    /// Branch name.
    pub name: String,
    /// Units on hand in all its warehouses.
    pub on_hand: i64,
    /// Units shipped to its warehouses and not received yet.
    pub in_transit: i64,
    /// The item's reorder point (per warehouse).
    pub min_qty: i64,
    /// Each warehouse of the branch.
    pub warehouses: Vec<WarehouseStock>,
}

/// An item's stock in every branch: what `GET /pos/api/inventory/stock-by-branch` answers and
/// the stock cache holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockByBranch {
    /// The item.
    pub item_id: Uuid,
    /// Its SKU.
    pub sku: String,
    /// Its name.
    pub name: String,
    /// Its shared-catalog part.
    pub catalog_part_id: Option<i64>,
    /// Its reorder point.
    pub min_qty: i64,
    /// Units on hand in every branch.
    pub on_hand: i64,
    /// Units in transit to every branch.
    pub in_transit: i64,
    /// Every active branch by code, with its active warehouses (and any inactive one that still
    /// holds stock).
    pub branches: Vec<BranchStock>,
}

/// An item's stock by branch: one read of `stock` by item (its primary-key prefix), one of the
/// lines of transfers in transit (through the transfer status index), and the branch and
/// warehouse lists (small tables), whatever the number of branches.
///
/// # Errors
/// [`Error::NotFound`] `item`.
pub async fn stock_by_branch(db: &impl ConnectionTrait, item_id: Uuid) -> Result<StockByBranch> {
    let it = item::Entity::find_by_id(item_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "item" })?;
    let balances: HashMap<Uuid, i64> = stock::Entity::find()
        .filter(stock::Column::ItemId.eq(item_id))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.warehouse_id, s.qty))
        .collect();
    let transit = in_transit(db, item_id).await?;
    let branches = branch::Entity::find()
        .order_by_asc(branch::Column::Code)
        .all(db)
        .await?;
    let warehouses = warehouse::Entity::find()
        .order_by_asc(warehouse::Column::Code)
        .all(db)
        .await?;
    let mut by_branch: BTreeMap<Uuid, Vec<WarehouseStock>> = BTreeMap::new();
    for w in warehouses {
        let qty = balances.get(&w.id).copied().unwrap_or(0);
        let in_transit = transit.get(&w.id).copied().unwrap_or(0);
        // An inactive warehouse is shown only while it still holds or expects stock.
        if !w.is_active && qty == 0 && in_transit == 0 {
            continue;
        }
        by_branch
            .entry(w.branch_id)
            .or_default()
            .push(WarehouseStock {
                warehouse_id: w.id,
                code: w.code,
                name: w.name,
                qty,
                in_transit,
            });
    }
    let mut out = Vec::with_capacity(branches.len());
    for b in branches {
        let ws = by_branch.remove(&b.id).unwrap_or_default();
        let on_hand: i64 = ws.iter().map(|w| w.qty).sum();
        let in_transit: i64 = ws.iter().map(|w| w.in_transit).sum();
        if !b.is_active && on_hand == 0 && in_transit == 0 {
            continue;
        }
        out.push(BranchStock {
            branch_id: b.id,
            code: b.code,
            name: b.name,
            on_hand,
            in_transit,
            min_qty: it.min_qty,
            warehouses: ws,
        });
    }
    Ok(StockByBranch {
        item_id,
        sku: it.sku,
        name: it.name,
        catalog_part_id: it.catalog_part_id,
        min_qty: it.min_qty,
        on_hand: out.iter().map(|b| b.on_hand).sum(),
        in_transit: out.iter().map(|b| b.in_transit).sum(),
        branches: out,
    })
}

/// Units of an item shipped and not yet received, by destination warehouse. Starts from the
/// transfers in transit (few at any time, found by the status index) and reaches their line of
/// this item by the (transfer, item) unique index.
async fn in_transit(db: &impl ConnectionTrait, item_id: Uuid) -> Result<HashMap<Uuid, i64>> {
    let backend = db.get_database_backend();
    let sql = format!(
        "SELECT t.to_warehouse_id, CAST(SUM(l.qty_shipped - l.qty_received) AS BIGINT) \
         FROM transfers t JOIN transfer_lines l ON l.transfer_id = t.id AND l.item_id = {} \
         WHERE t.status IN ({}, {}) GROUP BY t.to_warehouse_id",
        ph(backend, 1),
        ph(backend, 2),
        ph(backend, 3)
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [
                Value::from(item_id),
                Value::from(IN_TRANSIT_STATES[0]),
                Value::from(IN_TRANSIT_STATES[1]),
            ],
        ))
        .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        let wh: Uuid = row.try_get_by_index(0)?;
        // The CAST: SUM of BIGINT is NUMERIC on PostgreSQL.
        out.insert(wh, row.try_get_by_index::<i64>(1)?);
    }
    Ok(out)
}

/// Finds a warehouse.
///
/// # Errors
/// [`Error::NotFound`] `warehouse`.
pub async fn warehouse(db: &impl ConnectionTrait, id: Uuid) -> Result<warehouse::Model> {
    warehouse::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "warehouse",
        })
}

/// Filters of the ledger.
#[derive(Debug, Clone, Default)]
pub struct LedgerFilter {
    /// One item.
    pub item_id: Option<Uuid>,
    /// One warehouse.
    pub warehouse_id: Option<Uuid>,
    /// Only these branches (a user's scope).
    pub branches: Option<Vec<Uuid>>,
}

/// Stock movements, newest first.
///
/// # Errors
/// Database errors.
pub async fn ledger(
    db: &impl ConnectionTrait,
    page: PageRequest,
    filter: LedgerFilter,
) -> Result<Page<stock_ledger::Model>> {
    let mut q = stock_ledger::Entity::find().order_by_desc(stock_ledger::Column::Id);
    if let Some(i) = filter.item_id {
        q = q.filter(stock_ledger::Column::ItemId.eq(i));
    }
    if let Some(w) = filter.warehouse_id {
        q = q.filter(stock_ledger::Column::WarehouseId.eq(w));
    }
    if let Some(b) = filter.branches {
        q = q.filter(stock_ledger::Column::BranchId.is_in(b));
    }
    page.fetch(db, q).await
}

/// Low-stock alerts, newest first, optionally of one status and limited to the warehouses of
/// some branches.
///
/// # Errors
/// Database errors.
pub async fn alerts(
    db: &impl ConnectionTrait,
    page: PageRequest,
    status: Option<&str>,
    branches: Option<&[Uuid]>,
) -> Result<Page<stock_alert::Model>> {
    let mut q = stock_alert::Entity::find().order_by_desc(stock_alert::Column::Id);
    if let Some(s) = status {
        q = q.filter(stock_alert::Column::Status.eq(s));
    }
    if let Some(b) = branches {
        let ids: Vec<Uuid> = warehouse::Entity::find()
            .filter(warehouse::Column::BranchId.is_in(b.iter().copied()))
            .all(db)
            .await?
            .into_iter()
            .map(|w| w.id)
            .collect();
        q = q.filter(stock_alert::Column::WarehouseId.is_in(ids));
    }
    page.fetch(db, q).await
}
