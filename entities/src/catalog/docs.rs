//! A part as every search backend indexes it, read in pages straight from the catalog tables,
//! and the SQL full-text rows kept in step with it.

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement, Value};
use serde::Serialize;

use super::text;

/// Everything a search index holds of one part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartDoc {
    /// Part id.
    pub id: i64,
    /// Number as printed.
    pub number: String,
    /// Normalised number.
    pub number_norm: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Brand id.
    pub brand_id: i32,
    /// Brand name.
    pub brand: String,
    /// Category id.
    pub category_id: Option<i32>,
    /// Category name.
    pub category: Option<String>,
    /// Reference retail price in centavos.
    pub retail_price_cents: Option<i64>,
    /// Every other normalised number the part is known by (interchange and supersession).
    pub numbers: Vec<String>,
    /// The vehicles it fits.
    pub vehicle_ids: Vec<i32>,
}

impl PartDoc {
    /// The text the part is found by, synonyms included.
    #[must_use]
    pub fn search_text(&self) -> String {
        let mut t = text::document_text(
            &self.name,
            self.description.as_deref(),
            &self.brand,
            self.category.as_deref(),
        );
        // The printed number's pieces ("BP", "1234") let "balata bp 1234" match as words.
        t.push(' ');
        t.push_str(&self.number);
        t
    }

    /// The filter tokens of the part: `v<id>` per vehicle it fits, `b<id>` of its brand, `c<id>`
    /// of its category (the SQLite full-text index filters on them).
    #[must_use]
    pub fn filter_tokens(&self) -> String {
        let mut s = String::with_capacity(8 * self.vehicle_ids.len() + 16);
        for v in &self.vehicle_ids {
            s.push_str(&format!("v{v} "));
        }
        s.push_str(&format!("b{}", self.brand_id));
        if let Some(c) = self.category_id {
            s.push_str(&format!(" c{c}"));
        }
        s
    }

    /// The part's own number and every other one, space-separated.
    #[must_use]
    pub fn all_numbers(&self) -> String {
        let mut s = self.number_norm.clone();
        for n in &self.numbers {
            s.push(' ');
            s.push_str(n);
        }
        s
    }
}

/// The `n`th (1-based) bind placeholder of a backend.
#[must_use]
pub fn ph(backend: DatabaseBackend, n: usize) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

/// `count` placeholders from `first` on, comma-separated.
pub(crate) fn phs(backend: DatabaseBackend, first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| ph(backend, i))
        .collect::<Vec<_>>()
        .join(",")
}

fn agg(backend: DatabaseBackend, col: &str) -> String {
    match backend {
        DatabaseBackend::Postgres => format!("string_agg({col}::text, ',')"),
        _ => format!("group_concat({col}, ',')"),
    }
}

fn select_docs(backend: DatabaseBackend, filter: &str) -> String {
    format!(
        "SELECT p.id, p.number, p.number_norm, p.name, p.description, p.brand_id, b.name AS brand, \
         p.category_id, c.name AS category, p.retail_price_cents, \
         (SELECT {} FROM catalog_interchange i WHERE i.part_id = p.id) AS numbers, \
         (SELECT {} FROM catalog_fitment f WHERE f.part_id = p.id) AS vehicles \
         FROM catalog_parts p JOIN catalog_brands b ON b.id = p.brand_id \
         LEFT JOIN catalog_categories c ON c.id = p.category_id {filter}",
        agg(backend, "i.number_norm"),
        agg(backend, "f.vehicle_id"),
    )
}

fn split<T: std::str::FromStr>(s: Option<String>) -> Vec<T> {
    s.map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_default()
}

/// A part's own columns; `with_lists` also reads the aggregated `numbers` and `vehicles`.
fn doc_of(r: &sea_orm::QueryResult, with_lists: bool) -> Result<PartDoc, DbErr> {
    let (numbers, vehicle_ids) = if with_lists {
        (
            split(r.try_get("", "numbers")?),
            split(r.try_get("", "vehicles")?),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(PartDoc {
        id: r.try_get("", "id")?,
        number: r.try_get("", "number")?,
        number_norm: r.try_get("", "number_norm")?,
        name: r.try_get("", "name")?,
        description: r.try_get("", "description")?,
        brand_id: r.try_get("", "brand_id")?,
        brand: r.try_get("", "brand")?,
        category_id: r.try_get("", "category_id")?,
        category: r.try_get("", "category")?,
        retail_price_cents: r.try_get("", "retail_price_cents")?,
        numbers,
        vehicle_ids,
    })
}

fn read_docs(rows: Vec<sea_orm::QueryResult>) -> Result<Vec<PartDoc>, DbErr> {
    rows.iter().map(|r| doc_of(r, true)).collect()
}

/// Up to `limit` parts with an id above `after`, in id order: a keyset page, so a full pass over
/// the catalog reads each part once in bounded memory.
///
/// The page is exactly the parts in `(after, last]`, so their fitment and numbers come from two
/// grouped range scans of those tables' primary keys rather than two aggregate subqueries per part
/// (about twice as fast on PostgreSQL, where a full reindex spends most of its time here).
///
/// # Errors
/// Database errors.
pub async fn page_after(
    db: &impl ConnectionTrait,
    after: i64,
    limit: u64,
) -> Result<Vec<PartDoc>, DbErr> {
    let backend = db.get_database_backend();
    let sql = format!(
        "SELECT p.id, p.number, p.number_norm, p.name, p.description, p.brand_id, \
         b.name AS brand, p.category_id, c.name AS category, p.retail_price_cents \
         FROM catalog_parts p JOIN catalog_brands b ON b.id = p.brand_id \
         LEFT JOIN catalog_categories c ON c.id = p.category_id \
         WHERE p.id > {} ORDER BY p.id LIMIT {}",
        ph(backend, 1),
        ph(backend, 2)
    );
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [after.into(), limit.into()],
        ))
        .await?;
    let mut docs = rows
        .iter()
        .map(|r| doc_of(r, false))
        .collect::<Result<Vec<_>, DbErr>>()?;
    let Some(last) = docs.last().map(|d| d.id) else {
        return Ok(docs);
    };
    // One row per part with its list aggregated by the database: decoding rows, not scanning
    // them, is what costs here.
    let range = |table: &str, col: &str| {
        Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT part_id, {} AS list FROM {table} WHERE part_id > {} AND part_id <= {} \
                 GROUP BY part_id",
                agg(backend, col),
                ph(backend, 1),
                ph(backend, 2)
            ),
            [after.into(), last.into()],
        )
    };
    let at = |docs: &[PartDoc], id: i64| docs.binary_search_by_key(&id, |d| d.id).ok();
    for r in db
        .query_all_raw(range("catalog_fitment", "vehicle_id"))
        .await?
    {
        let id: i64 = r.try_get("", "part_id")?;
        if let Some(i) = at(&docs, id) {
            let mut v: Vec<i32> = split(r.try_get("", "list")?);
            // One vehicle fitted at two positions is listed once.
            v.sort_unstable();
            v.dedup();
            docs[i].vehicle_ids = v;
        }
    }
    for r in db
        .query_all_raw(range("catalog_interchange", "number_norm"))
        .await?
    {
        let id: i64 = r.try_get("", "part_id")?;
        if let Some(i) = at(&docs, id) {
            let mut n: Vec<String> = split(r.try_get("", "list")?);
            n.sort_unstable();
            n.dedup();
            docs[i].numbers = n;
        }
    }
    Ok(docs)
}

/// The documents of the given parts (those that exist), in id order.
///
/// # Errors
/// Database errors.
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<PartDoc>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let placeholders = phs(backend, 1, ids.len());
    let sql = select_docs(
        backend,
        &format!("WHERE p.id IN ({placeholders}) ORDER BY p.id"),
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            ids.iter().map(|&i| Value::from(i)),
        ))
        .await?;
    read_docs(rows)
}

/// Rewrites the SQL full-text rows of the given parts from their current catalog rows (and drops
/// the rows of parts that no longer exist). Call it in the transaction that changed them.
///
/// # Errors
/// Database errors.
pub async fn refresh_fulltext(db: &impl ConnectionTrait, ids: &[i64]) -> Result<(), DbErr> {
    for chunk in ids.chunks(500) {
        let docs = by_ids(db, chunk).await?;
        delete_fulltext(db, chunk).await?;
        write_fulltext(db, &docs).await?;
    }
    Ok(())
}

async fn delete_fulltext(db: &impl ConnectionTrait, ids: &[i64]) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let table = match backend {
        DatabaseBackend::Postgres => "catalog_search WHERE part_id",
        _ => "catalog_parts_fts WHERE rowid",
    };
    let placeholders = phs(backend, 1, ids.len());
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        format!("DELETE FROM {table} IN ({placeholders})"),
        ids.iter().map(|&i| Value::from(i)),
    ))
    .await?;
    Ok(())
}

/// Inserts the full-text rows of parts that have none (a bulk load writes them this way).
///
/// # Errors
/// Database errors.
pub async fn write_fulltext(db: &impl ConnectionTrait, docs: &[PartDoc]) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    for chunk in docs.chunks(300) {
        if chunk.is_empty() {
            continue;
        }
        let mut values = Vec::with_capacity(chunk.len() * 4);
        let mut rows = Vec::with_capacity(chunk.len());
        for (i, d) in chunk.iter().enumerate() {
            let n = i * 3;
            values.push(Value::from(d.id));
            values.push(Value::from(d.search_text()));
            values.push(Value::from(d.all_numbers()));
            rows.push(match backend {
                DatabaseBackend::Postgres => format!(
                    "(${}, to_tsvector('spanish', unaccent(${})), ${})",
                    n + 1,
                    n + 2,
                    n + 3
                ),
                _ => {
                    values.push(Value::from(d.filter_tokens()));
                    "(?, ?, ?, ?)".to_owned()
                }
            });
        }
        let sql = match backend {
            DatabaseBackend::Postgres => format!(
                "INSERT INTO catalog_search (part_id, doc, numbers) VALUES {}",
                rows.join(",")
            ),
            _ => format!(
                "INSERT INTO catalog_parts_fts (rowid, text, numbers, filters) VALUES {}",
                rows.join(",")
            ),
        };
        db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
    }
    Ok(())
}
