//! Administering prices: setting an item's list prices and branch overrides, reading them with
//! the price each branch actually sells at, the USD exchange rate and its history, and
//! propagating list prices to branches (`price_syncs`, carried out by the `pricing.sync` job).
//!
//! A propagation is idempotent: it makes each chosen branch's row equal to the list price, so a
//! second run finds nothing to change. It works in batches of items, each in its own
//! transaction that also records how far it got; a run that died resumes after the last
//! committed batch, so no row is counted twice.

use std::collections::{HashMap, HashSet};

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::org::audit::Entry;
use crate::org::branches::Actor;
use crate::pricing::prices::{self, PRICE_LISTS, PriceSource, check_list};
use crate::rules::money::{Currency, Money, Rate, USD};
use crate::{Error, Page, PageRequest, Result};
use crate::{
    inventory::tables::item, org::tables::branch, pricing::tables::exchange_rate,
    pricing::tables::item_price, pricing::tables::price_sync,
};

/// Most price rows one request may set.
pub const MAX_PRICES_PER_REQUEST: usize = 200;
/// Most items a propagation may name (absent means every item with a list price).
pub const MAX_SYNC_ITEMS: usize = 10_000;
/// Items per propagation batch (each batch is one transaction).
pub const SYNC_BATCH_ITEMS: u64 = 200;

pub use crate::pricing::tables::price_sync::Status;

fn entry(actor: &Actor, action: &str, kind: &str, id: impl ToString) -> Entry {
    Entry::new(action)
        .actor(actor.user_id)
        .target(kind, id)
        .request(None, actor.request_id.clone())
}

/// One price to set, as a person typed it.
#[derive(Debug, Clone, Default)]
pub struct PriceInput {
    /// The list.
    pub price_list: String,
    /// The branch it overrides; none for the list price.
    pub branch_id: Option<Uuid>,
    /// The amount in whole units, decimal (`"123.45"`).
    pub amount: String,
    /// `MXN` or `USD`.
    pub currency: String,
}

/// Finds an item.
///
/// # Errors
/// [`Error::NotFound`].
pub async fn get_item(db: &impl ConnectionTrait, id: Uuid) -> Result<item::Model> {
    item::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "item" })
}

/// Sets some of an item's prices (rows not named stay as they are) and returns all its rows.
///
/// # Errors
/// [`Error::NotFound`] for the item or a branch; [`Error::Validation`] naming
/// `prices[i].field` for an unknown list or currency, a negative or malformed amount, or the
/// same list and branch twice.
pub async fn set_prices(
    db: &DatabaseConnection,
    actor: &Actor,
    item_id: Uuid,
    inputs: Vec<PriceInput>,
) -> Result<Vec<item_price::Model>> {
    if inputs.is_empty() || inputs.len() > MAX_PRICES_PER_REQUEST {
        return Err(Error::validation(
            "prices",
            format!("send 1 to {MAX_PRICES_PER_REQUEST} prices"),
        ));
    }
    let mut rows = Vec::with_capacity(inputs.len());
    let mut seen = HashSet::new();
    for (i, p) in inputs.into_iter().enumerate() {
        let f = |name: &str| format!("prices[{i}].{name}");
        let list = check_list(&f("price_list"), &p.price_list)?;
        let currency = Currency::parse(&f("currency"), &p.currency)?;
        let amount = Money::parse(&f("amount"), &p.amount)?;
        // Nil is how a list price is stored, never a branch a client may name: it would set the
        // price of every branch.
        let branch_id = match p.branch_id {
            Some(b) if b.is_nil() => return Err(Error::NotFound { entity: "branch" }),
            Some(b) => b,
            None => Uuid::nil(),
        };
        // A list and branch named twice takes the later price, as two requests in a row would.
        if !seen.insert((list, branch_id)) {
            rows.retain(|r: &(_, Uuid, Money, Currency)| (r.0, r.1) != (list, branch_id));
        }
        rows.push((list, branch_id, amount, currency));
    }
    let txn = crate::db::begin_write(db).await?;
    get_item(&txn, item_id).await?;
    let wanted: Vec<Uuid> = rows
        .iter()
        .map(|r| r.1)
        .filter(|b| !b.is_nil())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if !wanted.is_empty() {
        let found = branch::Entity::find()
            .filter(branch::Column::Id.is_in(wanted.iter().copied()))
            .count(&txn)
            .await?;
        if found != wanted.len() as u64 {
            return Err(Error::NotFound { entity: "branch" });
        }
    }
    let now = crate::now();
    let mut details = Vec::with_capacity(rows.len());
    let mut prices = Vec::with_capacity(rows.len());
    for (list, branch_id, amount, currency) in rows {
        prices.push(PriceRow {
            item_id,
            price_list: list,
            branch_id,
            amount,
            currency,
        });
        details.push(json!({
            "price_list": list,
            "branch_id": (!branch_id.is_nil()).then_some(branch_id),
            "amount_minor": amount.0,
            "currency": currency.code(),
        }));
    }
    write_prices(&txn, &prices, actor.user_id, now).await?;
    entry(actor, "prices.set", "item", item_id)
        .details(json!({ "prices": details }))
        .record_tenant(&txn)
        .await?;
    let all = price_rows(&txn, item_id).await?;
    txn.commit().await?;
    Ok(all)
}

/// A price row to write, checked already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceRow {
    /// The item.
    pub item_id: Uuid,
    /// The list ([`check_list`]).
    pub price_list: &'static str,
    /// The branch it overrides; nil for the list price.
    pub branch_id: Uuid,
    /// The amount in minor units of `currency`.
    pub amount: Money,
    /// Its currency.
    pub currency: Currency,
}

/// Rows one statement writes: 7 values each, far below either database's limit on bound values.
const PRICE_ROWS_PER_STATEMENT: usize = 500;

/// Writes price rows in the caller's transaction, each replacing the row of its item, list and
/// branch: a few multi-row statements whatever the number of rows (an import sets thousands).
///
/// # Errors
/// Database errors.
pub async fn write_prices(
    txn: &impl ConnectionTrait,
    rows: &[PriceRow],
    by: Option<Uuid>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    for chunk in rows.chunks(PRICE_ROWS_PER_STATEMENT) {
        let models = chunk.iter().map(|p| item_price::ActiveModel {
            item_id: Set(p.item_id),
            price_list: Set(p.price_list.to_owned()),
            branch_id: Set(p.branch_id),
            amount_minor: Set(p.amount.0),
            currency: Set(p.currency.code().to_owned()),
            updated_by: Set(by),
            updated_at: Set(now),
        });
        item_price::Entity::insert_many(models)
            .on_conflict(
                OnConflict::columns([
                    item_price::Column::ItemId,
                    item_price::Column::PriceList,
                    item_price::Column::BranchId,
                ])
                .update_columns([
                    item_price::Column::AmountMinor,
                    item_price::Column::Currency,
                    item_price::Column::UpdatedBy,
                    item_price::Column::UpdatedAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

async fn price_rows(db: &impl ConnectionTrait, item_id: Uuid) -> Result<Vec<item_price::Model>> {
    Ok(item_price::Entity::find()
        .filter(item_price::Column::ItemId.eq(item_id))
        .order_by_asc(item_price::Column::PriceList)
        .order_by_asc(item_price::Column::BranchId)
        .all(db)
        .await?)
}

/// The price an item sells at in one branch for one list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchPrice {
    /// The branch.
    pub branch_id: Uuid,
    /// The list.
    pub price_list: &'static str,
    /// In MXN centavos, at the rate in force.
    pub unit_cents: i64,
    /// The currency the price was set in.
    pub currency: Currency,
    /// The price as set, in minor units of `currency`.
    pub amount_minor: i64,
    /// Which row gave it.
    pub source: PriceSource,
}

/// An item's price rows and what each active branch sells it at per list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemPrices {
    /// The item.
    pub item: item::Model,
    /// Every row, by list then branch (nil, the list price, first).
    pub rows: Vec<item_price::Model>,
    /// The rate the USD prices were converted at.
    pub rate: Rate,
    /// Per active branch and list, resolved as a sale would; empty for an inactive item or
    /// one with no price at all.
    pub resolved: Vec<BranchPrice>,
}

/// An item's prices, resolved per active branch and list with [`prices::resolve`].
///
/// # Errors
/// [`Error::NotFound`] for the item; database errors.
pub async fn item_prices(
    db: &impl ConnectionTrait,
    item_id: Uuid,
    rate: Rate,
) -> Result<ItemPrices> {
    let item = get_item(db, item_id).await?;
    let rows = price_rows(db, item_id).await?;
    let branches = branch::Entity::find()
        .filter(branch::Column::IsActive.eq(true))
        .order_by_asc(branch::Column::Code)
        .all(db)
        .await?;
    let mut resolved = Vec::new();
    for b in &branches {
        for list in PRICE_LISTS {
            match prices::resolve(db, b.id, list, &[item_id], rate).await {
                Ok(mut found) => {
                    if let Some(r) = found.remove(&item_id) {
                        resolved.push(BranchPrice {
                            branch_id: b.id,
                            price_list: list,
                            unit_cents: r.unit_cents,
                            currency: r.currency,
                            amount_minor: r.amount_minor,
                            source: r.source,
                        });
                    }
                }
                // No price anywhere: nothing to show, not an error when reading.
                Err(Error::Validation { .. }) => {
                    return Ok(ItemPrices {
                        item,
                        rows,
                        rate,
                        resolved: Vec::new(),
                    });
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(ItemPrices {
        item,
        rows,
        rate,
        resolved,
    })
}

/// Where the rate in force comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RateSource {
    /// The server's `EXCHANGE_RATE_USD_MXN`: nobody set one in the tenant.
    Configured,
    /// Set by an admin in the tenant.
    Set,
}

/// The USD rate in force and where it comes from.
///
/// # Errors
/// Database errors.
pub async fn rate_in_force(
    db: &impl ConnectionTrait,
    default: Rate,
) -> Result<(Rate, RateSource, Option<exchange_rate::Model>)> {
    let last = exchange_rate::Entity::find()
        .filter(exchange_rate::Column::Currency.eq(USD))
        .order_by_desc(exchange_rate::Column::Id)
        .one(db)
        .await?;
    Ok(match last {
        Some(r) => (Rate(r.rate_micros), RateSource::Set, Some(r)),
        None => (default, RateSource::Configured, None),
    })
}

/// The USD rates set in the tenant, newest first.
///
/// # Errors
/// Database errors.
pub async fn rate_history(
    db: &impl ConnectionTrait,
    page: PageRequest,
) -> Result<Page<exchange_rate::Model>> {
    let q = exchange_rate::Entity::find()
        .filter(exchange_rate::Column::Currency.eq(USD))
        .order_by_desc(exchange_rate::Column::Id);
    page.fetch(db, q).await
}

/// Sets the USD rate: a new row of the history, which is in force from now on.
///
/// # Errors
/// [`Error::Validation`] on `note`; database errors.
pub async fn set_rate(
    db: &DatabaseConnection,
    actor: &Actor,
    rate: Rate,
    note: Option<String>,
) -> Result<exchange_rate::Model> {
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(Error::validation(
            "note",
            "note must be at most 500 characters",
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let row = exchange_rate::ActiveModel {
        currency: Set(USD.to_owned()),
        rate_micros: Set(rate.0),
        note: Set(note),
        set_by: Set(actor.user_id),
        created_at: Set(crate::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    entry(actor, "exchange_rate.set", "exchange_rate", row.id)
        .details(json!({"currency": USD, "rate": rate.to_string()}))
        .record_tenant(&txn)
        .await?;
    txn.commit().await?;
    Ok(row)
}

/// How a propagation treats a branch that has its own price.
///
/// A branch without an override sells at the list price, and follows every later change of it;
/// so "making branches follow the list" removes overrides, and never copies the list price into
/// branch rows (a copy would freeze the branch at today's price).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    /// Branches follow the list: their overrides of it are removed.
    #[default]
    ResetOverrides,
    /// Overrides stay; the run counts the branches that follow the list and writes nothing.
    FillMissing,
}

/// What a propagation is asked to do (stored as the `request` of its `price_syncs` row).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRequest {
    /// One list, or every list when absent.
    #[serde(default)]
    pub price_list: Option<String>,
    /// These items, or every item with a list price when absent.
    #[serde(default)]
    pub item_ids: Option<Vec<Uuid>>,
    /// These branches, or every active branch when absent.
    #[serde(default)]
    pub branch_ids: Option<Vec<Uuid>>,
    /// Overwrite overrides or only fill gaps.
    #[serde(default)]
    pub mode: SyncMode,
}

/// What a propagation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncResult {
    /// Branches prices went to.
    pub branches: u64,
    /// Items with a list price that were looked at.
    pub items: u64,
    /// Branch overrides removed (`reset_overrides`): those branches now follow the list.
    #[serde(default)]
    pub overrides_removed: u64,
    /// Branch and list pairs left as they were: following the list already, or an override
    /// kept by `fill_missing`.
    #[serde(default)]
    pub rows_unchanged: u64,
}

/// Progress kept in `result` while running: the counts and the last item done.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
struct Progress {
    #[serde(flatten)]
    counts: SyncResult,
    #[serde(default)]
    cursor: Option<Uuid>,
}

/// Checks a propagation request: the list, the item count and that the branches exist.
async fn check_sync(db: &impl ConnectionTrait, req: SyncRequest) -> Result<SyncRequest> {
    let price_list = req
        .price_list
        .map(|l| check_list("price_list", &l).map(str::to_owned))
        .transpose()?;
    // The list as sent is bounded (what the API document says), repeats and all.
    if let Some(ids) = &req.item_ids
        && (ids.is_empty() || ids.len() > MAX_SYNC_ITEMS)
    {
        return Err(Error::validation(
            "item_ids",
            format!("name 1 to {MAX_SYNC_ITEMS} items, or leave item_ids out for all"),
        ));
    }
    let item_ids = req.item_ids.map(|ids| {
        let set: HashSet<Uuid> = ids.into_iter().collect();
        let mut v: Vec<Uuid> = set.into_iter().collect();
        v.sort_unstable();
        v
    });
    let branch_ids = match req.branch_ids {
        Some(ids) => {
            let set: HashSet<Uuid> = ids.into_iter().collect();
            if set.is_empty() {
                return Err(Error::validation(
                    "branch_ids",
                    "name at least one branch, or leave branch_ids out for all",
                ));
            }
            let found = branch::Entity::find()
                .filter(branch::Column::Id.is_in(set.iter().copied()))
                .count(db)
                .await?;
            if found != set.len() as u64 {
                return Err(Error::NotFound { entity: "branch" });
            }
            let mut v: Vec<Uuid> = set.into_iter().collect();
            v.sort_unstable();
            Some(v)
        }
        None => None,
    };
    Ok(SyncRequest {
        price_list,
        item_ids,
        branch_ids,
        mode: req.mode,
    })
}

/// Records a propagation as `queued` in `txn`; the caller enqueues its job in the same
/// transaction so the request and its job commit together.
///
/// # Errors
/// [`Error::Validation`] (`price_list`, `item_ids`, `branch_ids`); [`Error::NotFound`] for a
/// branch; database errors.
pub async fn request_sync(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    req: SyncRequest,
) -> Result<price_sync::Model> {
    let req = check_sync(txn, req).await?;
    let request =
        serde_json::to_value(&req).map_err(|e| Error::Internal(format!("sync request: {e}")))?;
    let row = price_sync::ActiveModel {
        id: Set(Uuid::now_v7()),
        status: Set(Status::Queued),
        request: Set(request.clone()),
        result: Set(None),
        error: Set(None),
        requested_by: Set(actor.user_id),
        finished_at: Set(None),
        created_at: Set(crate::now()),
    }
    .insert(txn)
    .await?;
    entry(actor, "prices.sync_requested", "price_sync", row.id)
        .details(request)
        .record_tenant(txn)
        .await?;
    Ok(row)
}

/// Finds a propagation.
///
/// # Errors
/// [`Error::NotFound`].
pub async fn get_sync(db: &impl ConnectionTrait, id: Uuid) -> Result<price_sync::Model> {
    price_sync::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "price_sync",
        })
}

/// Carries out a propagation: for each chosen list and item with a list price, makes every
/// chosen branch's row equal to it, in batches of `batch` items, each a transaction. A run
/// that finds the row `running` resumes after the last committed batch; any other state starts
/// over with zero counts (so running a finished propagation again writes nothing and says so).
///
/// # Errors
/// [`Error::NotFound`] for the propagation; [`Error::Validation`] for a stored request that no
/// longer reads; database errors (the row stays `running` and a retry resumes).
pub async fn run_sync(db: &DatabaseConnection, id: Uuid, batch: u64) -> Result<SyncResult> {
    let row = get_sync(db, id).await?;
    let req: SyncRequest = serde_json::from_value(row.request.clone())
        .map_err(|e| Error::validation("request", format!("stored request unreadable: {e}")))?;
    let lists: Vec<String> = match &req.price_list {
        Some(l) => vec![check_list("price_list", l)?.to_owned()],
        None => PRICE_LISTS.iter().map(|l| (*l).to_owned()).collect(),
    };
    let branch_ids: Vec<Uuid> = match &req.branch_ids {
        Some(ids) => ids.clone(),
        None => {
            branch::Entity::find()
                .filter(branch::Column::IsActive.eq(true))
                .order_by_asc(branch::Column::Id)
                .select_only()
                .column(branch::Column::Id)
                .into_tuple()
                .all(db)
                .await?
        }
    };
    let mut progress = match (row.status, &row.result) {
        (Status::Running, Some(r)) => {
            serde_json::from_value::<Progress>(r.clone()).unwrap_or_default()
        }
        _ => Progress::default(),
    };
    progress.counts.branches = branch_ids.len() as u64;
    let requested_by = row.requested_by;
    let mut am: price_sync::ActiveModel = row.into();
    am.status = Set(Status::Running);
    am.result = Set(Some(progress_json(&progress)?));
    am.error = Set(None);
    am.finished_at = Set(None);
    am.update(db).await?;

    loop {
        let txn = crate::db::begin_write(db).await?;
        // The next items with a list price in a chosen list, after the cursor.
        let mut q = item_price::Entity::find()
            .filter(item_price::Column::BranchId.eq(Uuid::nil()))
            .filter(item_price::Column::PriceList.is_in(lists.iter().map(String::as_str)))
            .select_only()
            .column(item_price::Column::ItemId)
            .distinct()
            .order_by_asc(item_price::Column::ItemId)
            .limit(batch);
        if let Some(c) = progress.cursor {
            q = q.filter(item_price::Column::ItemId.gt(c));
        }
        if let Some(ids) = &req.item_ids {
            q = q.filter(item_price::Column::ItemId.is_in(ids.iter().copied()));
        }
        let items: Vec<Uuid> = q.into_tuple().all(&txn).await?;
        let Some(last) = items.last().copied() else {
            break;
        };
        let (removed, unchanged) = propagate(&txn, &items, &lists, &branch_ids, req.mode).await?;
        progress.counts.items += items.len() as u64;
        progress.counts.overrides_removed += removed;
        progress.counts.rows_unchanged += unchanged;
        progress.cursor = Some(last);
        // The batch and the progress that counts it commit together: a crash after this
        // resumes at the next batch, one before it redoes this batch uncounted.
        price_sync::Entity::update_many()
            .col_expr(
                price_sync::Column::Result,
                sea_orm::sea_query::Expr::value(progress_json(&progress)?),
            )
            .filter(price_sync::Column::Id.eq(id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        if (items.len() as u64) < batch {
            break;
        }
    }

    let result = progress.counts;
    let txn = crate::db::begin_write(db).await?;
    price_sync::Entity::update_many()
        .col_expr(
            price_sync::Column::Status,
            sea_orm::sea_query::Expr::value(Status::Done),
        )
        .col_expr(
            price_sync::Column::Result,
            sea_orm::sea_query::Expr::value(
                serde_json::to_value(result)
                    .map_err(|e| Error::Internal(format!("sync result: {e}")))?,
            ),
        )
        .col_expr(
            price_sync::Column::FinishedAt,
            sea_orm::sea_query::Expr::value(crate::now()),
        )
        .filter(price_sync::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    // The job acts for whoever asked.
    Entry::new("prices.synced")
        .actor(requested_by)
        .target("price_sync", id)
        .details(json!({"request": req, "result": result}))
        .record_tenant(&txn)
        .await?;
    txn.commit().await?;
    Ok(result)
}

fn progress_json(p: &Progress) -> Result<serde_json::Value> {
    serde_json::to_value(p).map_err(|e| Error::Internal(format!("sync progress: {e}")))
}

/// Makes the chosen branches follow the list prices of `items`: in `reset_overrides`, their
/// overrides of lists the item has a list price in are removed (an override of a list without a
/// list price is all that branch has, and stays); returns (removed, unchanged).
async fn propagate(
    txn: &impl ConnectionTrait,
    items: &[Uuid],
    lists: &[String],
    branch_ids: &[Uuid],
    mode: SyncMode,
) -> Result<(u64, u64)> {
    if branch_ids.is_empty() {
        return Ok((0, 0));
    }
    let list_rows = item_price::Entity::find()
        .filter(item_price::Column::ItemId.is_in(items.iter().copied()))
        .filter(item_price::Column::PriceList.is_in(lists.iter().map(String::as_str)))
        .filter(item_price::Column::BranchId.eq(Uuid::nil()))
        .all(txn)
        .await?;
    let overrides: HashSet<(Uuid, String, Uuid)> = item_price::Entity::find()
        .filter(item_price::Column::ItemId.is_in(items.iter().copied()))
        .filter(item_price::Column::PriceList.is_in(lists.iter().map(String::as_str)))
        .filter(item_price::Column::BranchId.is_in(branch_ids.iter().copied()))
        .all(txn)
        .await?
        .into_iter()
        .map(|r| (r.item_id, r.price_list, r.branch_id))
        .collect();
    let (mut removed, mut unchanged) = (0u64, 0u64);
    let mut by_list: HashMap<&str, Vec<Uuid>> = HashMap::new();
    for lp in &list_rows {
        for b in branch_ids {
            if mode == SyncMode::ResetOverrides
                && overrides.contains(&(lp.item_id, lp.price_list.clone(), *b))
            {
                removed += 1;
            } else {
                unchanged += 1;
            }
        }
        by_list
            .entry(lp.price_list.as_str())
            .or_default()
            .push(lp.item_id);
    }
    if mode == SyncMode::ResetOverrides {
        for (list, list_items) in by_list {
            item_price::Entity::delete_many()
                .filter(item_price::Column::PriceList.eq(list))
                .filter(item_price::Column::ItemId.is_in(list_items))
                .filter(item_price::Column::BranchId.is_in(branch_ids.iter().copied()))
                .exec(txn)
                .await?;
        }
    }
    Ok((removed, unchanged))
}

/// Records that a propagation failed and will not be retried.
///
/// # Errors
/// Database errors.
pub async fn fail_sync(db: &impl ConnectionTrait, id: Uuid, error: &str) -> Result<()> {
    price_sync::Entity::update_many()
        .col_expr(
            price_sync::Column::Status,
            sea_orm::sea_query::Expr::value(Status::Failed),
        )
        .col_expr(
            price_sync::Column::Error,
            sea_orm::sea_query::Expr::value(error.to_owned()),
        )
        .col_expr(
            price_sync::Column::FinishedAt,
            sea_orm::sea_query::Expr::value(crate::now()),
        )
        .filter(price_sync::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Records why a try failed while the propagation will be retried (it stays `running`).
///
/// # Errors
/// Database errors.
pub async fn note_sync_error(db: &impl ConnectionTrait, id: Uuid, error: &str) -> Result<()> {
    price_sync::Entity::update_many()
        .col_expr(
            price_sync::Column::Error,
            sea_orm::sea_query::Expr::value(error.to_owned()),
        )
        .filter(price_sync::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
