//! Supplier price lists: per supplier and item, the supplier's SKU, break quantity, price,
//! currency, validity, lead days and pack; a CSV import previewed as a list of changes before it
//! is applied; and the best price for a quantity.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::inventory::tables::item;
use crate::org::audit::Entry;
use crate::org::branches::Actor;
use crate::purchasing::tables::supplier_price;
use crate::rules::money::{Currency, MAX_CENTS, Money, Rate};
use crate::{Error, Page, PageRequest, Result};

/// Most rows a price-list CSV may have.
pub const MAX_IMPORT_ROWS: usize = 20_000;
/// Largest price-list CSV, bytes.
pub const MAX_IMPORT_BYTES: usize = 2 * 1024 * 1024;

/// A price to write (create, or replace the one with the same item, break and start).
#[derive(Debug, Clone)]
pub struct PriceInput {
    /// The item.
    pub item_id: Uuid,
    /// The supplier's code.
    pub supplier_sku: Option<String>,
    /// Break quantity, ≥ 1 (1 by default).
    pub min_qty: Option<i64>,
    /// Price before IVA, in `currency`.
    pub price_cents: i64,
    /// `MXN` or `USD` (the supplier's by default).
    pub currency: Option<String>,
    /// First day (today by default).
    pub valid_from: Option<NaiveDate>,
    /// Last day.
    pub valid_to: Option<NaiveDate>,
    /// Lead days for this item.
    pub lead_days: Option<i32>,
    /// Pack size, ≥ 1 (1 by default).
    pub pack_multiple: Option<i64>,
}

/// A checked price, ready to write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckedPrice {
    /// The item.
    pub item_id: Uuid,
    /// The supplier's code.
    pub supplier_sku: Option<String>,
    /// Break quantity.
    pub min_qty: i64,
    /// Price before IVA, minor units.
    pub price_cents: i64,
    /// Currency.
    pub currency: String,
    /// First day.
    pub valid_from: NaiveDate,
    /// Last day.
    pub valid_to: Option<NaiveDate>,
    /// Lead days.
    pub lead_days: Option<i32>,
    /// Pack size.
    pub pack_multiple: i64,
}

fn check(field: &str, p: PriceInput, default_currency: &str) -> Result<CheckedPrice> {
    let min_qty = p.min_qty.unwrap_or(1);
    crate::rules::quantity::units(format!("{field}min_qty"), min_qty)?;
    let pack = p.pack_multiple.unwrap_or(1);
    crate::rules::quantity::units(format!("{field}pack_multiple"), pack)?;
    if !(0..=MAX_CENTS).contains(&p.price_cents) {
        return Err(Error::validation(
            format!("{field}price"),
            "price must be 0 or more and within the largest amount",
        ));
    }
    let currency = Currency::parse(
        &format!("{field}currency"),
        p.currency.as_deref().unwrap_or(default_currency),
    )?;
    let valid_from = p.valid_from.unwrap_or_else(crate::today);
    if p.valid_to.is_some_and(|to| to < valid_from) {
        return Err(Error::validation(
            format!("{field}valid_to"),
            "valid_to is on or after valid_from",
        ));
    }
    if let Some(d) = p.lead_days {
        crate::purchasing::suppliers::check_days(&format!("{field}lead_days"), d)?;
    }
    Ok(CheckedPrice {
        item_id: p.item_id,
        supplier_sku: crate::rules::text::optional(
            &format!("{field}supplier_sku"),
            p.supplier_sku,
            64,
        )?,
        min_qty,
        price_cents: p.price_cents,
        currency: currency.code().to_owned(),
        valid_from,
        valid_to: p.valid_to,
        lead_days: p.lead_days,
        pack_multiple: pack,
    })
}

async fn existing(
    db: &impl ConnectionTrait,
    supplier_id: Uuid,
    p: &CheckedPrice,
) -> Result<Option<supplier_price::Model>> {
    Ok(supplier_price::Entity::find()
        .filter(supplier_price::Column::SupplierId.eq(supplier_id))
        .filter(supplier_price::Column::ItemId.eq(p.item_id))
        .filter(supplier_price::Column::MinQty.eq(p.min_qty))
        .filter(supplier_price::Column::ValidFrom.eq(p.valid_from))
        .one(db)
        .await?)
}

async fn write(
    db: &impl ConnectionTrait,
    supplier_id: Uuid,
    p: &CheckedPrice,
    current: Option<supplier_price::Model>,
) -> Result<supplier_price::Model> {
    let now = crate::now();
    let fill = |am: &mut supplier_price::ActiveModel| {
        am.supplier_sku = Set(p.supplier_sku.clone());
        am.price_cents = Set(p.price_cents);
        am.currency = Set(p.currency.clone());
        am.valid_to = Set(p.valid_to);
        am.lead_days = Set(p.lead_days);
        am.pack_multiple = Set(p.pack_multiple);
        am.updated_at = Set(now);
    };
    Ok(match current {
        Some(c) => {
            let mut am: supplier_price::ActiveModel = c.into();
            fill(&mut am);
            am.update(db).await?
        }
        None => {
            let mut am = supplier_price::ActiveModel {
                id: Set(Uuid::now_v7()),
                supplier_id: Set(supplier_id),
                item_id: Set(p.item_id),
                min_qty: Set(p.min_qty),
                valid_from: Set(p.valid_from),
                created_at: Set(now),
                ..Default::default()
            };
            fill(&mut am);
            am.insert(db).await?
        }
    })
}

/// Creates or replaces one price of a supplier.
///
/// # Errors
/// [`Error::NotFound`] `supplier`; [`Error::Missing`] `item_not_found`; [`Error::Validation`]
/// naming the field.
pub async fn put_price(
    db: &impl ConnectionTrait,
    actor: &Actor,
    supplier_id: Uuid,
    input: PriceInput,
) -> Result<supplier_price::Model> {
    let s = crate::purchasing::suppliers::get_supplier(db, supplier_id).await?;
    let p = check("", input, &s.currency)?;
    crate::inventory::adjustments::check_item(db, "item_id", p.item_id).await?;
    let current = existing(db, supplier_id, &p).await?;
    let row = write(db, supplier_id, &p, current).await?;
    Entry::new("supplier.price_set")
        .actor(actor.user_id)
        .target("supplier", supplier_id)
        .request(None, actor.request_id.clone())
        .details(json!({"item_id": p.item_id, "min_qty": p.min_qty, "price_cents": p.price_cents, "currency": p.currency}))
        .record_tenant(db)
        .await?;
    Ok(row)
}

/// Deletes one price of a supplier.
///
/// # Errors
/// [`Error::NotFound`] `supplier_price`.
pub async fn delete_price(
    db: &impl ConnectionTrait,
    actor: &Actor,
    supplier_id: Uuid,
    price_id: Uuid,
) -> Result<()> {
    let res = supplier_price::Entity::delete_many()
        .filter(supplier_price::Column::Id.eq(price_id))
        .filter(supplier_price::Column::SupplierId.eq(supplier_id))
        .exec(db)
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::NotFound {
            entity: "supplier_price",
        });
    }
    Entry::new("supplier.price_deleted")
        .actor(actor.user_id)
        .target("supplier", supplier_id)
        .request(None, actor.request_id.clone())
        .details(json!({"price_id": price_id}))
        .record_tenant(db)
        .await
}

/// A supplier's prices, by item then break.
///
/// # Errors
/// [`Error::NotFound`] `supplier`.
pub async fn list_prices(
    db: &impl ConnectionTrait,
    supplier_id: Uuid,
    item_id: Option<Uuid>,
    page: PageRequest,
) -> Result<Page<supplier_price::Model>> {
    crate::purchasing::suppliers::get_supplier(db, supplier_id).await?;
    let mut q = supplier_price::Entity::find()
        .filter(supplier_price::Column::SupplierId.eq(supplier_id))
        .order_by_asc(supplier_price::Column::ItemId)
        .order_by_asc(supplier_price::Column::MinQty)
        .order_by_asc(supplier_price::Column::ValidFrom);
    if let Some(i) = item_id {
        q = q.filter(supplier_price::Column::ItemId.eq(i));
    }
    page.fetch(db, q).await
}

/// Whether a price applies on `day`.
fn valid_on(p: &supplier_price::Model, day: NaiveDate) -> bool {
    p.valid_from <= day && p.valid_to.is_none_or(|to| day <= to)
}

/// The price of `prices` for `qty` units on `day`: among those valid that day, the largest break
/// at or below the quantity, then the lowest price; among several valid with the same break, the
/// one that started last wins first (a new list replaces the old from its first day).
#[must_use]
pub fn pick(
    prices: &[supplier_price::Model],
    qty: i64,
    day: NaiveDate,
) -> Option<&supplier_price::Model> {
    prices
        .iter()
        .filter(|p| valid_on(p, day) && p.min_qty <= qty.max(1))
        .max_by(|a, b| {
            a.min_qty
                .cmp(&b.min_qty)
                .then(b.price_cents.cmp(&a.price_cents))
                .then(a.valid_from.cmp(&b.valid_from))
        })
}

/// The best offer for an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The supplier's price row.
    pub price: supplier_price::Model,
    /// Its price in MXN centavos (at `rate` for USD).
    pub price_mxn_cents: i64,
}

/// The best price of each supplier for `qty` units of `item_id` on `day`, cheapest first (in
/// MXN at `usd_rate`); with `supplier_id`, that supplier's only.
///
/// # Errors
/// Database errors.
pub async fn offers(
    db: &impl ConnectionTrait,
    item_id: Uuid,
    supplier_id: Option<Uuid>,
    qty: i64,
    day: NaiveDate,
    usd_rate: Rate,
) -> Result<Vec<Offer>> {
    let mut q = supplier_price::Entity::find().filter(supplier_price::Column::ItemId.eq(item_id));
    if let Some(s) = supplier_id {
        q = q.filter(supplier_price::Column::SupplierId.eq(s));
    }
    let rows = q.all(db).await?;
    let live: Vec<Uuid> = crate::purchasing::tables::supplier::Entity::find()
        .filter(crate::purchasing::tables::supplier::Column::DeletedAt.is_null())
        .filter(crate::purchasing::tables::supplier::Column::IsActive.eq(true))
        .filter(
            crate::purchasing::tables::supplier::Column::Id
                .is_in(rows.iter().map(|r| r.supplier_id).collect::<Vec<_>>()),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let mut by_supplier: HashMap<Uuid, Vec<supplier_price::Model>> = HashMap::new();
    for r in rows {
        if live.contains(&r.supplier_id) {
            by_supplier.entry(r.supplier_id).or_default().push(r);
        }
    }
    let mut out: Vec<Offer> = by_supplier
        .values()
        .filter_map(|ps| pick(ps, qty, day))
        .map(|p| Offer {
            price_mxn_cents: if p.currency == crate::rules::money::USD {
                usd_rate.to_mxn(p.price_cents)
            } else {
                p.price_cents
            },
            price: p.clone(),
        })
        .collect();
    out.sort_by(|a, b| {
        a.price_mxn_cents
            .cmp(&b.price_mxn_cents)
            .then(a.price.supplier_id.cmp(&b.price.supplier_id))
    });
    Ok(out)
}

/// What an import row would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowAction {
    /// A new price.
    Add,
    /// Replaces a price (`before` says what it was).
    Change,
    /// Same as stored.
    Same,
}

/// One row of an import's preview.
#[derive(Debug, Clone, Serialize)]
pub struct PreviewRow {
    /// CSV line number (the header is line 1).
    pub line: u64,
    /// Our SKU.
    pub sku: String,
    /// What it would do.
    pub action: RowAction,
    /// The price as the row has it.
    pub price: CheckedPrice,
    /// The stored price it replaces.
    pub before: Option<CheckedPrice>,
}

/// A row's error.
#[derive(Debug, Clone, Serialize)]
pub struct RowError {
    /// CSV line number.
    pub line: u64,
    /// Column at fault.
    pub column: String,
    /// What is wrong.
    pub message: String,
}

/// The preview (or the result) of a price-list import.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ImportReport {
    /// Whether it was written (false for a preview, or when a row had an error).
    pub applied: bool,
    /// Rows read.
    pub rows: usize,
    /// New prices.
    pub added: usize,
    /// Replaced prices.
    pub changed: usize,
    /// Unchanged prices.
    pub unchanged: usize,
    /// Each row that adds or changes a price.
    pub changes: Vec<PreviewRow>,
    /// Each error; one error and nothing is written.
    pub errors: Vec<RowError>,
}

fn stored(p: &supplier_price::Model) -> CheckedPrice {
    CheckedPrice {
        item_id: p.item_id,
        supplier_sku: p.supplier_sku.clone(),
        min_qty: p.min_qty,
        price_cents: p.price_cents,
        currency: p.currency.clone(),
        valid_from: p.valid_from,
        valid_to: p.valid_to,
        lead_days: p.lead_days,
        pack_multiple: p.pack_multiple,
    }
}

/// The columns a price-list CSV has (`sku` and `price` required, the rest optional).
pub const CSV_COLUMNS: [&str; 9] = [
    "sku",
    "supplier_sku",
    "min_qty",
    "price",
    "currency",
    "valid_from",
    "valid_to",
    "lead_days",
    "pack_multiple",
];

/// Reads a price-list CSV for a supplier and says what it would change; with `apply` and no
/// error, writes it in the caller's transaction. Rows are keyed by item, break and start day:
/// the same key twice in a file is an error.
///
/// # Errors
/// [`Error::NotFound`] `supplier`; [`Error::Validation`] on `csv` for a file too large, without
/// the required columns or with more than [`MAX_IMPORT_ROWS`] rows (row errors are in the report).
pub async fn import_csv(
    db: &impl ConnectionTrait,
    actor: &Actor,
    supplier_id: Uuid,
    csv_text: &str,
    apply: bool,
) -> Result<ImportReport> {
    let s = crate::purchasing::suppliers::get_supplier(db, supplier_id).await?;
    if csv_text.len() > MAX_IMPORT_BYTES {
        return Err(Error::validation("csv", "a price list is at most 2 MiB"));
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(csv_text.trim_start_matches('\u{feff}').as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| Error::validation("csv", format!("unreadable header: {e}")))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    for h in &headers {
        if !CSV_COLUMNS.contains(&h.as_str()) {
            return Err(Error::validation(
                "csv",
                format!(
                    "unknown column {h:?}: columns are {}",
                    CSV_COLUMNS.join(", ")
                ),
            ));
        }
    }
    for required in ["sku", "price"] {
        if !headers.iter().any(|h| h == required) {
            return Err(Error::validation(
                "csv",
                format!("the header has no {required:?} column"),
            ));
        }
    }
    let col = |name: &str| headers.iter().position(|h| h == name);
    let mut parsed: Vec<(u64, String, PriceInput)> = Vec::new();
    let mut report = ImportReport::default();
    for rec in reader.records() {
        let rec = rec.map_err(|e| Error::validation("csv", format!("unreadable CSV: {e}")))?;
        report.rows += 1;
        if report.rows > MAX_IMPORT_ROWS {
            return Err(Error::validation(
                "csv",
                format!("a price list has at most {MAX_IMPORT_ROWS} rows"),
            ));
        }
        let line = rec.position().map_or(0, csv::Position::line);
        let get = |name: &str| {
            col(name)
                .and_then(|i| rec.get(i))
                .map(str::to_owned)
                .filter(|v| !v.is_empty())
        };
        let mut err = |column: &str, message: String| {
            report.errors.push(RowError {
                line,
                column: column.to_owned(),
                message,
            });
        };
        let Some(sku) = get("sku") else {
            err("sku", "sku is required".into());
            continue;
        };
        let int = |name: &str| -> std::result::Result<Option<i64>, String> {
            get(name)
                .map(|v| {
                    v.parse::<i64>()
                        .map_err(|_| format!("{name} must be a whole number"))
                })
                .transpose()
        };
        let date = |name: &str| -> std::result::Result<Option<NaiveDate>, String> {
            get(name)
                .map(|v| {
                    NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                        .map_err(|_| format!("{name} must be a date YYYY-MM-DD"))
                })
                .transpose()
        };
        let price = match get("price").map(|p| Money::parse("price", &p)) {
            Some(Ok(m)) => m.0,
            Some(Err(e)) => {
                err("price", e.to_string());
                continue;
            }
            None => {
                err("price", "price is required".into());
                continue;
            }
        };
        let (min_qty, pack, lead, from, to) = match (
            int("min_qty"),
            int("pack_multiple"),
            int("lead_days"),
            date("valid_from"),
            date("valid_to"),
        ) {
            (Ok(a), Ok(b), Ok(c), Ok(d), Ok(e)) => (a, b, c, d, e),
            (a, b, c, d, e) => {
                for (name, r) in [
                    ("min_qty", a.err()),
                    ("pack_multiple", b.err()),
                    ("lead_days", c.err()),
                    ("valid_from", d.err()),
                    ("valid_to", e.err()),
                ] {
                    if let Some(m) = r {
                        err(name, m);
                    }
                }
                continue;
            }
        };
        parsed.push((
            line,
            sku,
            PriceInput {
                item_id: Uuid::nil(),
                supplier_sku: get("supplier_sku"),
                min_qty,
                price_cents: price,
                currency: get("currency"),
                valid_from: from,
                valid_to: to,
                lead_days: lead.map(|d| i32::try_from(d).unwrap_or(i32::MAX)),
                pack_multiple: pack,
            },
        ));
    }
    // SKUs are kept upper-cased (`items::check_sku`): a row's SKU is read the same way.
    for row in &mut parsed {
        row.1 = row.1.trim().to_uppercase();
    }
    let skus: Vec<String> = parsed.iter().map(|(_, s, _)| s.clone()).collect();
    let items: HashMap<String, Uuid> = item::Entity::find()
        .filter(item::Column::Sku.is_in(skus))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.sku, i.id))
        .collect();
    let current: HashMap<(Uuid, i64, NaiveDate), supplier_price::Model> =
        supplier_price::Entity::find()
            .filter(supplier_price::Column::SupplierId.eq(supplier_id))
            .all(db)
            .await?
            .into_iter()
            .map(|p| ((p.item_id, p.min_qty, p.valid_from), p))
            .collect();
    let mut seen = HashMap::new();
    let mut writes = Vec::new();
    for (line, sku, mut input) in parsed {
        let Some(item_id) = items.get(&sku) else {
            report.errors.push(RowError {
                line,
                column: "sku".into(),
                message: format!("no item has SKU {sku:?}"),
            });
            continue;
        };
        input.item_id = *item_id;
        let p = match check("", input, &s.currency) {
            Ok(p) => p,
            Err(e) => {
                let (column, message) = match e {
                    Error::Validation { field, message } => (field, message),
                    other => ("row".to_owned(), other.to_string()),
                };
                report.errors.push(RowError {
                    line,
                    column,
                    message,
                });
                continue;
            }
        };
        let key = (p.item_id, p.min_qty, p.valid_from);
        if let Some(first) = seen.insert(key, line) {
            report.errors.push(RowError {
                line,
                column: "sku".into(),
                message: format!(
                    "line {first} has the same SKU, min_qty and valid_from: a price is given once"
                ),
            });
            continue;
        }
        let before = current.get(&key);
        let action = match before {
            None => RowAction::Add,
            Some(b) if stored(b) == p => RowAction::Same,
            Some(_) => RowAction::Change,
        };
        match action {
            RowAction::Add => report.added += 1,
            RowAction::Change => report.changed += 1,
            RowAction::Same => report.unchanged += 1,
        }
        if action != RowAction::Same {
            writes.push((p.clone(), before.cloned()));
            report.changes.push(PreviewRow {
                line,
                sku,
                action,
                price: p,
                before: before.map(stored),
            });
        }
    }
    report.errors.sort_by_key(|e| e.line);
    if apply && report.errors.is_empty() {
        for (p, before) in &writes {
            write(db, supplier_id, p, before.clone()).await?;
        }
        report.applied = true;
        Entry::new("supplier.prices_imported")
            .actor(actor.user_id)
            .target("supplier", supplier_id)
            .request(None, actor.request_id.clone())
            .details(json!({"rows": report.rows, "added": report.added, "changed": report.changed}))
            .record_tenant(db)
            .await?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(min_qty: i64, cents: i64, from: &str, to: Option<&str>) -> supplier_price::Model {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        supplier_price::Model {
            id: Uuid::now_v7(),
            supplier_id: Uuid::nil(),
            item_id: Uuid::nil(),
            supplier_sku: None,
            min_qty,
            price_cents: cents,
            currency: "MXN".into(),
            valid_from: d(from),
            valid_to: to.map(d),
            lead_days: None,
            pack_multiple: 1,
            created_at: crate::now(),
            updated_at: crate::now(),
        }
    }

    #[test]
    fn the_best_price_is_valid_then_the_largest_break_at_or_below_then_the_cheapest() {
        let day = NaiveDate::from_ymd_opt(2026, 6, 15).unwrap();
        let prices = vec![
            price(1, 10_000, "2026-01-01", None),
            price(10, 9_000, "2026-01-01", None),
            price(10, 8_800, "2026-01-01", Some("2026-03-31")), // expired
            price(10, 9_100, "2026-02-01", None),
            price(50, 8_000, "2026-01-01", None),
            price(1, 5_000, "2026-07-01", None), // not yet valid
        ];
        assert_eq!(pick(&prices, 1, day).unwrap().price_cents, 10_000);
        assert_eq!(pick(&prices, 9, day).unwrap().price_cents, 10_000);
        // Break 10: the expired 88.00 is out; 90.00 beats 91.00.
        assert_eq!(pick(&prices, 10, day).unwrap().price_cents, 9_000);
        assert_eq!(pick(&prices, 49, day).unwrap().price_cents, 9_000);
        assert_eq!(pick(&prices, 50, day).unwrap().price_cents, 8_000);
        let july = NaiveDate::from_ymd_opt(2026, 7, 2).unwrap();
        assert_eq!(pick(&prices, 1, july).unwrap().price_cents, 5_000);
        assert!(pick(&prices, 1, NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()).is_none());
    }
}
