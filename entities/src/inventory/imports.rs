//! Bulk imports of items from a CSV, with a list price and opening stock per row.
//!
//! The request ([`request_import`]) checks only the file's shape: a header of known columns with
//! `sku` among them, 1 to [`MAX_ROWS`] rows, at most [`MAX_CSV_BYTES`]; it stores the CSV with the
//! import. The `inventory.import_items` job then [`check`]s every row by the rules every item
//! follows ([`items::check_new_item`], [`items::check_patch`], [`Money`], [`quantity::level`]),
//! recording its progress every [`BATCH_ROWS`] rows, and either ends `failed` with every error of
//! every bad row, having written nothing, or [`apply`]s every row in the one transaction that
//! also holds the job's processed mark:
//!
//! - a row whose SKU is new creates the item (a catalog part fills what the row leaves empty, as
//!   `POST /items` does) and puts its `stock` into the import's warehouse through the ledger,
//!   reason `import`;
//! - a row whose SKU exists updates the cells the row fills (an empty cell leaves the field as
//!   it is) and never moves its stock: opening stock is for new items, and stock that exists
//!   changes through sales, counts and adjustments, so the same file imported twice does not
//!   double it. Such rows are counted in `stock_skipped` when they carry a `stock`;
//! - `price` sets the item's list price (every branch) in the import's list, in MXN.

use std::collections::HashMap;

use rust_decimal::Decimal;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::inventory::items::{self, ItemPatch, NewItem};
use crate::inventory::movements::{self, Movement, Reference, reason};
use crate::inventory::tables::{item, item_import};
use crate::org::audit::Entry;
use crate::org::branches::Actor;
use crate::pricing::admin::{PriceRow, write_prices};
use crate::pricing::prices::{DEFAULT_LIST, check_list};
use crate::rules::money::{Currency, Money};
use crate::rules::quantity;
use crate::{Error, Page, PageRequest, Result};

pub use crate::inventory::tables::item_import::Status;

/// Most data rows one import may have.
pub const MAX_ROWS: usize = 5_000;
/// Most bytes of CSV one import may have.
pub const MAX_CSV_BYTES: usize = 2 * 1024 * 1024;
/// Rows checked between two writes of the progress.
pub const BATCH_ROWS: usize = 100;
/// New items one statement inserts: 17 values each, far below either database's limit.
const ITEMS_PER_STATEMENT: usize = 500;
/// Balances one call of [`movements::apply`] moves: its ledger statement binds 5 values a row.
const MOVES_PER_STATEMENT: usize = 1_000;

/// The columns an import reads, as its header names them (any case); `sku` is required.
pub const COLUMNS: [&str; 11] = [
    "sku",
    "name",
    "brand",
    "part_number",
    "catalog_part_id",
    "sat_product_key",
    "sat_unit_key",
    "cost",
    "retail_price",
    "price",
    "stock",
];

/// A CSV read: its columns (names of [`COLUMNS`]) and its data rows.
#[derive(Debug, Clone)]
pub struct Sheet {
    columns: Vec<&'static str>,
    rows: Vec<SheetRow>,
}

/// A data row: the line it starts on (the header is line 1, as a spreadsheet numbers rows) and
/// its cells, trimmed.
#[derive(Debug, Clone)]
struct SheetRow {
    line: u64,
    cells: Vec<String>,
}

impl Sheet {
    /// Reads a CSV: comma-separated, RFC 4180 quoting, a UTF-8 byte-order mark ignored, a header
    /// of known columns naming `sku`, and 1 to [`MAX_ROWS`] data rows. Blank lines and rows of
    /// empty cells (what spreadsheets leave at the end) are not rows. The cells are not checked
    /// here: the import's job checks them.
    ///
    /// # Errors
    /// [`Error::Validation`] on `csv`, naming the column or the limit.
    pub fn read(csv: &str) -> Result<Self> {
        if csv.len() > MAX_CSV_BYTES {
            return Err(too_large());
        }
        let text = csv.strip_prefix('\u{feff}').unwrap_or(csv);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            // A row with too few or too many cells is the row's error, found by the job with
            // every other one, not a refusal of the whole file.
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut records = reader.records();
        let header = match records.next() {
            Some(r) => r.map_err(unreadable)?,
            None => {
                return Err(Error::validation(
                    "csv",
                    "the CSV is empty: send a header row",
                ));
            }
        };
        let mut columns = Vec::with_capacity(header.len());
        for (i, name) in header.iter().enumerate() {
            let name = name.trim().to_lowercase();
            let Some(known) = COLUMNS.iter().find(|c| **c == name) else {
                return Err(Error::validation(
                    "csv",
                    if name.is_empty() {
                        format!("column {} of the header has no name", i + 1)
                    } else {
                        format!(
                            "unknown column {name:?}; the columns are {}",
                            COLUMNS.join(", ")
                        )
                    },
                ));
            };
            if columns.contains(known) {
                return Err(Error::validation(
                    "csv",
                    format!("column {name:?} appears twice in the header"),
                ));
            }
            columns.push(*known);
        }
        if !columns.contains(&"sku") {
            return Err(Error::validation(
                "csv",
                "the header has no \"sku\" column; every row needs one",
            ));
        }
        let mut rows = Vec::new();
        for r in records {
            let r = r.map_err(unreadable)?;
            let cells: Vec<String> = r.iter().map(|c| c.trim().to_owned()).collect();
            if cells.iter().all(String::is_empty) {
                continue;
            }
            if rows.len() == MAX_ROWS {
                return Err(Error::validation(
                    "csv",
                    format!("an import has at most {MAX_ROWS} rows: split the file"),
                ));
            }
            rows.push(SheetRow {
                line: r.position().map_or(0, csv::Position::line),
                cells,
            });
        }
        if rows.is_empty() {
            return Err(Error::validation(
                "csv",
                "the CSV has a header and no rows under it",
            ));
        }
        Ok(Self { columns, rows })
    }

    /// Whether the header names `column`.
    #[must_use]
    pub fn has(&self, column: &str) -> bool {
        self.columns.contains(&column)
    }

    /// The number of data rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no data rows (never, for a sheet [`Sheet::read`] accepted).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The cell of `column` in `row`, when the header has the column and the cell is not empty.
    fn cell<'a>(&self, row: &'a SheetRow, column: &str) -> Option<&'a str> {
        let i = self.columns.iter().position(|c| *c == column)?;
        row.cells
            .get(i)
            .map(String::as_str)
            .filter(|c| !c.is_empty())
    }
}

fn too_large() -> Error {
    Error::validation(
        "csv",
        format!("an import's CSV has at most {MAX_CSV_BYTES} bytes: split the file"),
    )
}

fn unreadable(e: csv::Error) -> Error {
    Error::validation("csv", format!("the CSV cannot be read: {e}"))
}

/// An import as a person asks for it.
#[derive(Debug, Clone)]
pub struct NewImport {
    /// The CSV text.
    pub csv: String,
    /// Where the opening stock of new items goes.
    pub warehouse_id: Uuid,
    /// The list `price` sets; `mostrador` when absent.
    pub price_list: Option<String>,
}

/// An import whose shape was checked ([`NewImport::check`]).
#[derive(Debug, Clone)]
pub struct CheckedImport {
    csv: String,
    warehouse_id: Uuid,
    price_list: &'static str,
    rows: usize,
    sets_prices: bool,
}

impl NewImport {
    /// Checks the list and the CSV's shape ([`Sheet::read`]); the rows are the job's.
    ///
    /// # Errors
    /// [`Error::Validation`] on `price_list` or `csv`.
    pub fn check(self) -> Result<CheckedImport> {
        let price_list = check_list(
            "price_list",
            self.price_list.as_deref().unwrap_or(DEFAULT_LIST),
        )?;
        let sheet = Sheet::read(&self.csv)?;
        Ok(CheckedImport {
            rows: sheet.len(),
            sets_prices: sheet.has("price"),
            csv: self.csv,
            warehouse_id: self.warehouse_id,
            price_list,
        })
    }
}

impl CheckedImport {
    /// Whether the CSV has a `price` column: a list price applies to every branch.
    #[must_use]
    pub const fn sets_prices(&self) -> bool {
        self.sets_prices
    }

    /// The warehouse asked for.
    #[must_use]
    pub const fn warehouse_id(&self) -> Uuid {
        self.warehouse_id
    }
}

/// Records an import as `queued` in `txn`, with an audit entry; the caller enqueues its job in
/// the same transaction so the import and its job commit together.
///
/// # Errors
/// [`Error::NotFound`] `warehouse` for a warehouse that does not exist or is inactive; database
/// errors.
pub async fn request_import(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    new: CheckedImport,
) -> Result<item_import::Model> {
    let w = crate::inventory::stock_views::warehouse(txn, new.warehouse_id).await?;
    if !w.is_active {
        return Err(Error::NotFound {
            entity: "warehouse",
        });
    }
    let now = crate::now();
    let row = item_import::ActiveModel {
        id: Set(Uuid::now_v7()),
        status: Set(Status::Queued),
        warehouse_id: Set(new.warehouse_id),
        price_list: Set(new.price_list.to_owned()),
        csv: Set(new.csv),
        total_rows: Set(count(new.rows)),
        rows_processed: Set(0),
        created_count: Set(0),
        updated_count: Set(0),
        stock_skipped: Set(0),
        errors: Set(json!([])),
        error_count: Set(0),
        error: Set(None),
        requested_by: Set(actor.user_id),
        created_at: Set(now),
        updated_at: Set(now),
        started_at: Set(None),
        finished_at: Set(None),
    }
    .insert(txn)
    .await?;
    Entry::new("items.import_requested")
        .actor(actor.user_id)
        .target("item_import", row.id)
        .request(None, actor.request_id.clone())
        .details(json!({
            "rows": row.total_rows,
            "warehouse_id": row.warehouse_id,
            "price_list": row.price_list,
            "bytes": row.csv.len(),
        }))
        .record_tenant(txn)
        .await?;
    Ok(row)
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// An import without its CSV and row errors: what a listing shows.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct Summary {
    /// Id.
    pub id: Uuid,
    /// State.
    pub status: Status,
    /// Where opening stock goes.
    pub warehouse_id: Uuid,
    /// The list `price` sets.
    pub price_list: String,
    /// Data rows.
    pub total_rows: i64,
    /// Rows checked so far.
    pub rows_processed: i64,
    /// Items created.
    pub created_count: i64,
    /// Items updated.
    pub updated_count: i64,
    /// Rows of existing items whose stock was not applied.
    pub stock_skipped: i64,
    /// Errors found in the rows.
    pub error_count: i64,
    /// Why the whole import failed.
    pub error: Option<String>,
    /// Who asked.
    pub requested_by: Option<Uuid>,
    /// Asked.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Last change of state or progress.
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// Its job started (the last try).
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Ended.
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// An error of one row: the row as a spreadsheet numbers it (the header is row 1), the column
/// at fault (none when the row as a whole is wrong), and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// The row.
    pub row: u64,
    /// The column.
    pub column: Option<String>,
    /// What is wrong, for a person.
    pub message: String,
}

/// The columns of a [`Summary`]: everything but the CSV and the row errors, which may weigh
/// megabytes.
fn summary_query() -> sea_orm::Select<item_import::Entity> {
    use item_import::Column as C;
    item_import::Entity::find().select_only().columns([
        C::Id,
        C::Status,
        C::WarehouseId,
        C::PriceList,
        C::TotalRows,
        C::RowsProcessed,
        C::CreatedCount,
        C::UpdatedCount,
        C::StockSkipped,
        C::ErrorCount,
        C::Error,
        C::RequestedBy,
        C::CreatedAt,
        C::UpdatedAt,
        C::StartedAt,
        C::FinishedAt,
    ])
}

/// An import and the errors of its rows, without its CSV (a client polls this).
///
/// # Errors
/// [`Error::NotFound`] `item_import`; database errors.
pub async fn get_import(db: &impl ConnectionTrait, id: Uuid) -> Result<(Summary, Vec<RowError>)> {
    let not_found = || Error::NotFound {
        entity: "item_import",
    };
    let summary = summary_query()
        .filter(item_import::Column::Id.eq(id))
        .into_model::<Summary>()
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let errors: serde_json::Value = item_import::Entity::find_by_id(id)
        .select_only()
        .column(item_import::Column::Errors)
        .into_tuple()
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let errors = serde_json::from_value(errors)
        .map_err(|e| Error::Internal(format!("import errors unreadable: {e}")))?;
    Ok((summary, errors))
}

/// Filters of the import list.
#[derive(Debug, Clone, Default)]
pub struct ImportFilter {
    /// Only imports in this state.
    pub status: Option<Status>,
    /// Only imports into warehouses of these branches (a user's scope).
    pub branches: Option<Vec<Uuid>>,
}

/// Imports, newest first.
///
/// # Errors
/// Database errors.
pub async fn list_imports(
    db: &impl ConnectionTrait,
    page: PageRequest,
    filter: ImportFilter,
) -> Result<Page<Summary>> {
    let mut q = summary_query();
    if let Some(s) = filter.status {
        q = q.filter(item_import::Column::Status.eq(s));
    }
    if let Some(b) = filter.branches {
        use crate::org::tables::warehouse;
        let ids: Vec<Uuid> = warehouse::Entity::find()
            .filter(warehouse::Column::BranchId.is_in(b))
            .all(db)
            .await?
            .into_iter()
            .map(|w| w.id)
            .collect();
        q = q.filter(item_import::Column::WarehouseId.is_in(ids));
    }
    let q = q
        .order_by_desc(item_import::Column::CreatedAt)
        .order_by_desc(item_import::Column::Id)
        .into_model::<Summary>();
    page.fetch(db, q).await
}

/// Takes an import up for a delivery of its job: `running`, its progress back at zero (a try
/// after one that died checks every row again). `None` when the import has ended already: a
/// later delivery finds nothing to do.
///
/// # Errors
/// [`Error::NotFound`] `item_import`; database errors.
pub async fn start(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<item_import::Model>> {
    let row = item_import::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "item_import",
        })?;
    if matches!(row.status, Status::Done | Status::Failed) {
        return Ok(None);
    }
    let now = crate::now();
    let mut am: item_import::ActiveModel = row.into();
    am.status = Set(Status::Running);
    am.rows_processed = Set(0);
    am.error = Set(None);
    am.started_at = Set(Some(now));
    am.updated_at = Set(now);
    Ok(Some(am.update(db).await?))
}

/// What [`check`] found.
#[derive(Debug)]
pub enum Checked {
    /// Every row is good: what [`apply`] writes.
    Valid(Plan),
    /// Every error of every bad row, in row order.
    Invalid(Vec<RowError>),
}

/// What a good import writes: rows checked by the rules of every item, ready to insert or
/// update.
#[derive(Debug, Default)]
pub struct Plan {
    creates: Vec<Create>,
    updates: Vec<Update>,
    stock_skipped: i64,
}

#[derive(Debug)]
struct Create {
    id: Uuid,
    sku: String,
    item: item::ActiveModel,
    price: Option<Money>,
    stock: Option<i64>,
}

#[derive(Debug)]
struct Update {
    id: Uuid,
    sku: String,
    item: item::ActiveModel,
    price: Option<Money>,
}

/// A row's cells read as values; a cell that does not read is left out, its error noted.
#[derive(Debug, Default)]
struct Cells<'a> {
    sku: Option<String>,
    name: Option<&'a str>,
    brand: Option<&'a str>,
    part_number: Option<&'a str>,
    catalog_part_id: Option<i64>,
    sat_product_key: Option<&'a str>,
    sat_unit_key: Option<&'a str>,
    cost: Option<Decimal>,
    retail_price: Option<Decimal>,
    price: Option<Money>,
    stock: Option<i64>,
}

/// The errors of one row as they are found.
struct RowErrors<'e> {
    row: u64,
    errors: &'e mut Vec<RowError>,
    found: bool,
}

impl RowErrors<'_> {
    fn add(&mut self, column: Option<&str>, message: impl Into<String>) {
        self.found = true;
        self.errors.push(RowError {
            row: self.row,
            column: column.map(str::to_owned),
            message: message.into(),
        });
    }

    /// Notes a rule's refusal: a validation names its column. Anything but a refusal (the
    /// database failing) is the caller's error, not the row's.
    fn refused(&mut self, e: Error) -> Result<()> {
        match e {
            Error::Validation { field, message } | Error::Missing { field, message, .. } => {
                self.add(Some(&field), message);
            }
            Error::Conflict { message, .. } | Error::Forbidden { message, .. } => {
                self.add(None, message);
            }
            Error::NotFound { entity } => self.add(None, format!("{entity} not found")),
            other @ (Error::Db(_) | Error::Internal(_)) => return Err(other),
        }
        Ok(())
    }
}

/// Money in a cell, by the rule of every amount.
fn money(cell: &str, column: &str, errs: &mut RowErrors<'_>) -> Option<Money> {
    Money::parse(column, cell)
        .map_err(|e| {
            if let Error::Validation { message, .. } = e {
                errs.add(Some(column), message);
            }
        })
        .ok()
}

fn read_cells<'a>(sheet: &Sheet, row: &'a SheetRow, errs: &mut RowErrors<'_>) -> Cells<'a> {
    let cell = |c: &str| sheet.cell(row, c);
    let sku = match cell("sku") {
        None => {
            errs.add(Some("sku"), "sku is required");
            None
        }
        Some(s) => match items::check_sku(s) {
            Ok(s) => Some(s),
            Err(Error::Validation { message, .. }) => {
                errs.add(Some("sku"), message);
                None
            }
            Err(_) => None,
        },
    };
    let catalog_part_id = cell("catalog_part_id").and_then(|c| {
        c.parse::<i64>()
            .map_err(|_| {
                errs.add(
                    Some("catalog_part_id"),
                    format!("{c:?} is not a catalog part id (a whole number)"),
                );
            })
            .ok()
    });
    // Cost and retail price go to the item's rules as decimals; the amount rule reads them first
    // so that text that is not a number is named as such.
    let decimal = |m: Money| Decimal::new(m.0, 2);
    let cost = cell("cost").and_then(|c| money(c, "cost", errs).map(decimal));
    let retail_price =
        cell("retail_price").and_then(|c| money(c, "retail_price", errs).map(decimal));
    let price = cell("price").and_then(|c| money(c, "price", errs));
    let stock = cell("stock").and_then(|c| match c.parse::<i64>() {
        Ok(n) => quantity::level("stock", n)
            .map_err(|e| {
                if let Error::Validation { message, .. } = e {
                    errs.add(Some("stock"), message);
                }
            })
            .ok(),
        Err(_) => {
            errs.add(
                Some("stock"),
                format!("{c:?} is not a number of units (a whole number, 0 or more)"),
            );
            None
        }
    });
    Cells {
        sku,
        name: cell("name"),
        brand: cell("brand"),
        part_number: cell("part_number"),
        catalog_part_id,
        sat_product_key: cell("sat_product_key"),
        sat_unit_key: cell("sat_unit_key"),
        cost,
        retail_price,
        price,
        stock,
    }
}

/// What the rows of one batch need from the databases, read in a few queries.
struct Lookups {
    /// Items by SKU.
    existing: HashMap<String, item::Model>,
    /// Catalog parts with their brand's name.
    parts: HashMap<i64, (crate::catalog::part::Model, Option<String>)>,
    /// The SKU of the item each catalog part is linked to.
    linked: HashMap<i64, String>,
}

async fn lookups(
    db: &impl ConnectionTrait,
    platform: &impl ConnectionTrait,
    cells: &[(&SheetRow, Cells<'_>, bool)],
) -> Result<Lookups> {
    let skus: Vec<&str> = cells
        .iter()
        .filter_map(|(_, c, _)| c.sku.as_deref())
        .collect();
    let existing = if skus.is_empty() {
        HashMap::new()
    } else {
        item::Entity::find()
            .filter(item::Column::Sku.is_in(skus))
            .all(db)
            .await?
            .into_iter()
            .map(|i| (i.sku.clone(), i))
            .collect()
    };
    let mut part_ids: Vec<i64> = cells
        .iter()
        .filter_map(|(_, c, _)| c.catalog_part_id)
        .filter(|id| *id > 0)
        .collect();
    part_ids.sort_unstable();
    part_ids.dedup();
    let parts = crate::catalog::lookup::parts_with_brands(platform, &part_ids).await?;
    let linked = if part_ids.is_empty() {
        HashMap::new()
    } else {
        item::Entity::find()
            .filter(item::Column::CatalogPartId.is_in(part_ids))
            .all(db)
            .await?
            .into_iter()
            .filter_map(|i| i.catalog_part_id.map(|p| (p, i.sku)))
            .collect()
    };
    Ok(Lookups {
        existing,
        parts,
        linked,
    })
}

/// Where each SKU and catalog part appeared first in the file: one row each.
#[derive(Default)]
struct Seen {
    skus: HashMap<String, u64>,
    parts: HashMap<i64, u64>,
}

fn check_row(
    cells: Cells<'_>,
    found: &Lookups,
    seen: &mut Seen,
    errs: &mut RowErrors<'_>,
    plan: &mut Plan,
) -> Result<()> {
    let Some(sku) = cells.sku else {
        return Ok(());
    };
    match seen.skus.get(&sku) {
        Some(first) => {
            errs.add(Some("sku"), format!("sku {sku} is also in row {first}"));
            return Ok(());
        }
        None => {
            seen.skus.insert(sku.clone(), errs.row);
        }
    }
    let mut part = None;
    if let Some(p) = cells.catalog_part_id.filter(|p| *p > 0) {
        if let Some(first) = seen.parts.get(&p) {
            errs.add(
                Some("catalog_part_id"),
                format!("catalog part {p} is also in row {first}"),
            );
        } else {
            seen.parts.insert(p, errs.row);
        }
        match found.parts.get(&p) {
            Some(found) => part = Some(found),
            None => errs.refused(crate::catalog::lookup::no_part("catalog_part_id", p))?,
        }
        if let Some(other) = found.linked.get(&p).filter(|other| **other != sku) {
            errs.add(
                Some("catalog_part_id"),
                format!("catalog part {p} is already linked to item {other}"),
            );
        }
    }
    let text = |c: Option<&str>| c.map(str::to_owned);
    match found.existing.get(&sku) {
        None => {
            let mut new = NewItem {
                sku: sku.clone(),
                catalog_part_id: cells.catalog_part_id,
                name: text(cells.name),
                description: None,
                brand: text(cells.brand),
                part_number: text(cells.part_number),
                sat_product_key: text(cells.sat_product_key),
                sat_unit_key: text(cells.sat_unit_key),
                cost: cells.cost,
                retail_price: cells.retail_price,
                min_qty: None,
                max_qty: None,
                kind: None,
                core_charge: None,
            };
            if let Some((p, brand)) = part {
                new = new.or_from_part(p, brand.clone());
            }
            match items::check_new_item(new) {
                Ok(am) if !errs.found => plan.creates.push(Create {
                    id: *am.id.as_ref(),
                    sku,
                    item: am,
                    price: cells.price,
                    stock: cells.stock,
                }),
                Ok(_) => {}
                Err(e) => errs.refused(e)?,
            }
        }
        Some(current) => {
            let some = |c: Option<&str>| c.map(|v| Some(v.to_owned()));
            // An empty cell leaves the field as it is: a file of prices only must not clear
            // names and keys.
            let patch = ItemPatch {
                catalog_part_id: cells.catalog_part_id.map(Some),
                name: text(cells.name),
                brand: some(cells.brand),
                part_number: some(cells.part_number),
                sat_product_key: some(cells.sat_product_key),
                sat_unit_key: some(cells.sat_unit_key),
                cost: cells.cost,
                retail_price: cells.retail_price.map(Some),
                ..ItemPatch::default()
            };
            match items::check_patch(current.clone(), patch) {
                Ok((am, _)) if !errs.found => {
                    if cells.stock.is_some() {
                        plan.stock_skipped += 1;
                    }
                    plan.updates.push(Update {
                        id: current.id,
                        sku,
                        item: am,
                        price: cells.price,
                    });
                }
                Ok(_) => {}
                Err(e) => errs.refused(e)?,
            }
        }
    }
    Ok(())
}

/// The check of an import's rows by the rules every item follows, against the items and the
/// catalog as they are, a batch of [`BATCH_ROWS`] rows at a time ([`Checker::next_batch`]), its
/// progress written after each batch outside any transaction, so a client polling the import
/// sees it move. Writes nothing else. [`check`] runs it to the end.
pub struct Checker<'a, D, P> {
    db: &'a D,
    platform: &'a P,
    id: Uuid,
    sheet: Sheet,
    checked: usize,
    errors: Vec<RowError>,
    plan: Plan,
    seen: Seen,
}

impl<'a, D: ConnectionTrait, P: ConnectionTrait> Checker<'a, D, P> {
    /// Starts the check of `imp` (taken up with [`start`]).
    ///
    /// # Errors
    /// [`Error::NotFound`] `warehouse` when the import's warehouse is gone or inactive;
    /// [`Error::Validation`] for a stored CSV or list that no longer reads; database errors.
    pub async fn new(db: &'a D, platform: &'a P, imp: &item_import::Model) -> Result<Self> {
        let sheet = Sheet::read(&imp.csv)?;
        check_list("price_list", &imp.price_list)?;
        let w = crate::inventory::stock_views::warehouse(db, imp.warehouse_id).await?;
        if !w.is_active {
            return Err(Error::NotFound {
                entity: "warehouse",
            });
        }
        Ok(Self {
            db,
            platform,
            id: imp.id,
            sheet,
            checked: 0,
            errors: Vec::new(),
            plan: Plan::default(),
            seen: Seen::default(),
        })
    }

    /// Checks the next batch of rows and records the progress: the rows checked so far, or
    /// `None` once every row is.
    ///
    /// # Errors
    /// Database errors.
    pub async fn next_batch(&mut self) -> Result<Option<usize>> {
        let width = self.sheet.columns.len();
        let end = (self.checked + BATCH_ROWS).min(self.sheet.rows.len());
        let Some(batch) = self
            .sheet
            .rows
            .get(self.checked..end)
            .filter(|b| !b.is_empty())
        else {
            return Ok(None);
        };
        let mut read = Vec::with_capacity(batch.len());
        for row in batch {
            let mut errs = RowErrors {
                row: row.line,
                errors: &mut self.errors,
                found: false,
            };
            if row.cells.len() == width {
                let cells = read_cells(&self.sheet, row, &mut errs);
                read.push((row, cells, errs.found));
            } else {
                // Cells out of place would be read under the wrong columns.
                errs.add(
                    None,
                    format!(
                        "the row has {} cells and the header {width}",
                        row.cells.len()
                    ),
                );
            }
        }
        let found = lookups(self.db, self.platform, &read).await?;
        for (row, cells, found_before) in read {
            let mut errs = RowErrors {
                row: row.line,
                errors: &mut self.errors,
                found: found_before,
            };
            check_row(cells, &found, &mut self.seen, &mut errs, &mut self.plan)?;
        }
        self.checked = end;
        record_progress(self.db, self.id, self.checked).await?;
        Ok(Some(self.checked))
    }

    /// What the check found, once [`Checker::next_batch`] answered `None`.
    #[must_use]
    pub fn finish(self) -> Checked {
        let mut errors = self.errors;
        // A row's errors are noted as its checks run; a reader wants them by row.
        errors.sort_by_key(|e| e.row);
        if errors.is_empty() {
            Checked::Valid(self.plan)
        } else {
            Checked::Invalid(errors)
        }
    }
}

/// Checks every row of an import ([`Checker`] to the end).
///
/// # Errors
/// As [`Checker::new`] and [`Checker::next_batch`].
pub async fn check(
    db: &impl ConnectionTrait,
    platform: &impl ConnectionTrait,
    imp: &item_import::Model,
) -> Result<Checked> {
    let mut checker = Checker::new(db, platform, imp).await?;
    while checker.next_batch().await?.is_some() {}
    Ok(checker.finish())
}

async fn record_progress(db: &impl ConnectionTrait, id: Uuid, processed: usize) -> Result<()> {
    item_import::Entity::update_many()
        .col_expr(
            item_import::Column::RowsProcessed,
            Expr::value(count(processed)),
        )
        .col_expr(item_import::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(item_import::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// What an applied import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// Items created.
    pub created: i64,
    /// Items updated.
    pub updated: i64,
    /// Rows of existing items whose `stock` was not applied.
    pub stock_skipped: i64,
    /// Units of opening stock put in the warehouse.
    pub units: i64,
}

/// Writes a checked import in the caller's transaction: the new items, the changes to existing
/// ones, their list prices, the opening stock of new items through the ledger (reason
/// `import`, the import as its document), the import `done` with its counts, and an audit
/// entry naming every SKU it touched. A refusal here (an item created with one of its SKUs
/// since the check) leaves the caller to roll everything back.
///
/// # Errors
/// [`Error::Conflict`] `sku_taken` or `catalog_part_taken`; [`Error::NotFound`] `warehouse`;
/// database errors.
pub async fn apply(
    txn: &impl ConnectionTrait,
    imp: &item_import::Model,
    plan: Plan,
) -> Result<Applied> {
    let list = check_list("price_list", &imp.price_list)?;
    let now = crate::now();
    for batch in plan.creates.chunks(ITEMS_PER_STATEMENT) {
        item::Entity::insert_many(batch.iter().map(|c| c.item.clone()))
            .exec_without_returning(txn)
            .await
            .map_err(items::on_item_unique)?;
    }
    for u in &plan.updates {
        u.item
            .clone()
            .update(txn)
            .await
            .map_err(items::on_item_unique)?;
    }
    let prices: Vec<PriceRow> = plan
        .creates
        .iter()
        .map(|c| (c.id, c.price))
        .chain(plan.updates.iter().map(|u| (u.id, u.price)))
        .filter_map(|(item_id, price)| {
            price.map(|amount| PriceRow {
                item_id,
                price_list: list,
                branch_id: Uuid::nil(),
                amount,
                currency: Currency::Mxn,
            })
        })
        .collect();
    write_prices(txn, &prices, imp.requested_by, now).await?;
    let moves: Vec<Movement> = plan
        .creates
        .iter()
        .filter_map(|c| {
            c.stock.filter(|q| *q > 0).map(|delta| Movement {
                item_id: c.id,
                warehouse_id: imp.warehouse_id,
                delta,
            })
        })
        .collect();
    let ref_id = imp.id.to_string();
    let reference = Reference {
        reason: reason::IMPORT,
        ref_type: "item_import",
        ref_id: &ref_id,
        note: None,
        actor: imp.requested_by,
    };
    for batch in moves.chunks(MOVES_PER_STATEMENT) {
        movements::apply(txn, batch, &reference).await?;
    }
    let applied = Applied {
        created: count(plan.creates.len()),
        updated: count(plan.updates.len()),
        stock_skipped: plan.stock_skipped,
        units: moves.iter().map(|m| m.delta).sum(),
    };
    item_import::Entity::update_many()
        .col_expr(item_import::Column::Status, Expr::value(Status::Done))
        .col_expr(
            item_import::Column::RowsProcessed,
            Expr::value(imp.total_rows),
        )
        .col_expr(
            item_import::Column::CreatedCount,
            Expr::value(applied.created),
        )
        .col_expr(
            item_import::Column::UpdatedCount,
            Expr::value(applied.updated),
        )
        .col_expr(
            item_import::Column::StockSkipped,
            Expr::value(applied.stock_skipped),
        )
        .col_expr(item_import::Column::Error, Expr::value(None::<String>))
        .col_expr(item_import::Column::UpdatedAt, Expr::value(now))
        .col_expr(item_import::Column::FinishedAt, Expr::value(now))
        .filter(item_import::Column::Id.eq(imp.id))
        .exec(txn)
        .await?;
    // The job acts for whoever asked.
    Entry::new("items.imported")
        .actor(imp.requested_by)
        .target("item_import", imp.id)
        .details(json!({
            "warehouse_id": imp.warehouse_id,
            "price_list": list,
            "created": applied.created,
            "updated": applied.updated,
            "stock_skipped": applied.stock_skipped,
            "units": applied.units,
            "created_skus": plan.creates.iter().map(|c| c.sku.as_str()).collect::<Vec<_>>(),
            "updated_skus": plan.updates.iter().map(|u| u.sku.as_str()).collect::<Vec<_>>(),
        }))
        .record_tenant(txn)
        .await?;
    Ok(applied)
}

/// Ends an import `failed`, having written nothing: with the errors of its rows, or with why
/// the import as a whole could not be applied.
///
/// # Errors
/// Database errors.
pub async fn fail(
    db: &impl ConnectionTrait,
    id: Uuid,
    errors: &[RowError],
    error: Option<&str>,
) -> Result<()> {
    let now = crate::now();
    let list =
        serde_json::to_value(errors).map_err(|e| Error::Internal(format!("import errors: {e}")))?;
    item_import::Entity::update_many()
        .col_expr(item_import::Column::Status, Expr::value(Status::Failed))
        .col_expr(item_import::Column::Errors, Expr::value(list))
        .col_expr(
            item_import::Column::ErrorCount,
            Expr::value(count(errors.len())),
        )
        .col_expr(
            item_import::Column::Error,
            Expr::value(error.map(str::to_owned)),
        )
        .col_expr(item_import::Column::UpdatedAt, Expr::value(now))
        .col_expr(item_import::Column::FinishedAt, Expr::value(now))
        .filter(item_import::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Records why a try failed while the import will be tried again (it stays `running`).
///
/// # Errors
/// Database errors.
pub async fn note_error(db: &impl ConnectionTrait, id: Uuid, error: &str) -> Result<()> {
    item_import::Entity::update_many()
        .col_expr(item_import::Column::Error, Expr::value(error.to_owned()))
        .col_expr(item_import::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(item_import::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_of_known_columns_in_any_case_with_a_bom_reads() {
        let s = Sheet::read(
            "\u{feff}SKU, Name ,price\nA-1,Balata,10\n\n,,\n\"B-2\",\"Filtro, aceite\",5\n",
        )
        .unwrap();
        assert_eq!(s.columns, ["sku", "name", "price"]);
        assert_eq!(
            s.len(),
            2,
            "blank lines and rows of empty cells are not rows"
        );
        assert_eq!(s.rows[0].line, 2);
        assert_eq!(s.rows[1].line, 5, "rows keep the line a spreadsheet shows");
        assert_eq!(s.cell(&s.rows[1], "name"), Some("Filtro, aceite"));
        assert_eq!(s.cell(&s.rows[1], "stock"), None);
        assert!(s.has("price") && !s.has("stock"));
    }

    #[test]
    fn an_unknown_or_repeated_column_or_no_sku_is_refused_naming_it() {
        let msg = |csv: &str| match Sheet::read(csv) {
            Err(Error::Validation { field, message }) => {
                assert_eq!(field, "csv");
                message
            }
            other => panic!("{other:?}"),
        };
        assert!(msg("sku,precio\nA,1\n").contains("\"precio\""));
        assert!(msg("sku,name,NAME\nA,b,c\n").contains("twice"));
        assert!(msg("name\nA\n").contains("sku"));
        assert!(msg("sku,,name\nA,,b\n").contains("column 2"));
        assert!(msg("").contains("empty"));
        assert!(msg("sku\n").contains("no rows"));
    }

    #[test]
    fn the_row_and_byte_limits_hold() {
        let rows = |n: usize| {
            let mut s = String::from("sku\n");
            for i in 0..n {
                s.push_str(&format!("S{i}\n"));
            }
            s
        };
        assert_eq!(Sheet::read(&rows(MAX_ROWS)).unwrap().len(), MAX_ROWS);
        assert!(Sheet::read(&rows(MAX_ROWS + 1)).is_err());
        let big = format!("sku,name\nA,{}\n", "x".repeat(MAX_CSV_BYTES));
        assert!(Sheet::read(&big).is_err());
    }

    #[test]
    fn cells_read_as_values_and_bad_ones_name_their_column() {
        let s = Sheet::read(
            "sku,catalog_part_id,cost,retail_price,price,stock\n\
             bal-1,7,10.5,20,30.25,4\n\
             BAL 2,siete,-1,1.234,abc,-3\n",
        )
        .unwrap();
        let mut errors = Vec::new();
        let mut errs = RowErrors {
            row: 2,
            errors: &mut errors,
            found: false,
        };
        let c = read_cells(&s, &s.rows[0], &mut errs);
        assert!(!errs.found);
        assert_eq!(c.sku.as_deref(), Some("BAL-1"));
        assert_eq!(c.catalog_part_id, Some(7));
        assert_eq!(c.cost, Some(Decimal::new(1050, 2)));
        assert_eq!(c.price, Some(Money(3025)));
        assert_eq!(c.stock, Some(4));
        let mut errs = RowErrors {
            row: 3,
            errors: &mut errors,
            found: false,
        };
        let c = read_cells(&s, &s.rows[1], &mut errs);
        assert!(errs.found);
        assert!(c.sku.is_none() && c.stock.is_none() && c.price.is_none());
        let columns: Vec<_> = errors.iter().filter_map(|e| e.column.as_deref()).collect();
        assert_eq!(
            columns,
            [
                "sku",
                "catalog_part_id",
                "cost",
                "retail_price",
                "price",
                "stock"
            ]
        );
        assert!(errors.iter().all(|e| e.row == 3));
    }
}
