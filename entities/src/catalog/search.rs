//! Catalog search: one trait, two backends. The SQL backend (SQLite FTS5, PostgreSQL tsvector +
//! pg_trgm) always works; the Meilisearch backend is faster at scale and lives beside it. Both
//! take the same [`ResolvedQuery`]: the vehicle filters are turned into vehicle ids on the
//! catalog tables first, so every backend filters fitment the same way.

use std::future::Future;
use std::pin::Pin;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement, Value};
use serde::Serialize;

use super::docs::{ph, phs};
use super::text::ParsedQuery;
use crate::{Error, Page, PageRequest, Result};

/// What a caller asks for, as the API received it.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// Free text: words, a part number, an interchange number.
    pub q: Option<String>,
    /// Only parts that fit this vehicle.
    pub vehicle_id: Option<i32>,
    /// Only parts that fit a vehicle of this year…
    pub year: Option<i16>,
    /// …of this maker…
    pub make_id: Option<i32>,
    /// …of this model…
    pub model_id: Option<i32>,
    /// …with this displacement in litres (`"1.6"`).
    pub engine: Option<String>,
    /// Only this category.
    pub category_id: Option<i32>,
    /// Only this brand.
    pub brand_id: Option<i32>,
}

/// Most vehicles a fitment filter may expand to; a wider filter (a whole maker over every
/// year) is refused rather than sent as a huge id list.
pub const MAX_FILTER_VEHICLES: usize = 5_000;

/// A query ready for any backend.
#[derive(Debug, Clone)]
pub struct ResolvedQuery {
    /// The parsed text, when there is one.
    pub text: Option<ParsedQuery>,
    /// `Some(ids)` when fitment filters apply (possibly empty: nothing can match).
    pub vehicle_ids: Option<Vec<i32>>,
    /// Category filter.
    pub category_id: Option<i32>,
    /// Brand filter.
    pub brand_id: Option<i32>,
    /// The page.
    pub page: PageRequest,
}

/// One part in a result list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchHit {
    /// Part id.
    pub id: i64,
    /// Number as printed.
    pub number: String,
    /// Name.
    pub name: String,
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
}

/// Why a search backend failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The backend could not be reached or answered with an error; the caller may fall back.
    #[error("search backend unavailable: {0}")]
    Unavailable(String),
    /// A domain or database error.
    #[error(transparent)]
    Domain(#[from] Error),
}

/// A boxed future, so the trait stays object-safe.
pub type SearchFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Page<SearchHit>, SearchError>> + Send + 'a>>;

/// A catalog search backend.
pub trait CatalogSearch: Send + Sync {
    /// Short name for headers and metrics: `sql` or `meilisearch`.
    fn name(&self) -> &'static str;
    /// One page of matches.
    fn search<'a>(&'a self, query: &'a ResolvedQuery) -> SearchFuture<'a>;
}

/// Parses the text and turns the fitment filters into vehicle ids.
///
/// # Errors
/// [`Error::Validation`] for a malformed engine or a filter too wide; database errors.
pub async fn resolve(
    db: &impl ConnectionTrait,
    query: &SearchQuery,
    page: PageRequest,
) -> Result<ResolvedQuery> {
    let text = query
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| {
            if q.chars().count() > 200 {
                return Err(Error::validation("q", "q is at most 200 characters"));
            }
            Ok(ParsedQuery::parse(q))
        })
        .transpose()?;
    let liters_x10 = query
        .engine
        .as_deref()
        .map(|e| {
            let e = e.trim().trim_end_matches(['L', 'l']).trim();
            e.parse::<f64>()
                .ok()
                .filter(|l| (0.1..=20.0).contains(l))
                .map(|l| (l * 10.0).round() as i16)
                .ok_or_else(|| {
                    Error::validation("engine", "engine is a displacement in litres, like 1.6")
                })
        })
        .transpose()?;
    let vehicle_ids = if query.vehicle_id.is_some()
        || query.year.is_some()
        || query.make_id.is_some()
        || query.model_id.is_some()
        || liters_x10.is_some()
    {
        let backend = db.get_database_backend();
        let mut conds = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        let mut add = |col: &str, v: Value| {
            values.push(v);
            conds.push(format!("{col} = {}", ph(backend, values.len())));
        };
        if let Some(v) = query.vehicle_id {
            add("id", v.into());
        }
        if let Some(v) = query.year {
            add("year", v.into());
        }
        if let Some(v) = query.make_id {
            add("make_id", v.into());
        }
        if let Some(v) = query.model_id {
            add("model_id", v.into());
        }
        if let Some(v) = liters_x10 {
            add("liters_x10", v.into());
        }
        let sql = format!(
            "SELECT id FROM catalog_vehicles WHERE {} ORDER BY id LIMIT {}",
            conds.join(" AND "),
            MAX_FILTER_VEHICLES + 1
        );
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        let ids = rows
            .iter()
            .map(|r| r.try_get::<i32>("", "id"))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        if ids.len() > MAX_FILTER_VEHICLES {
            return Err(Error::validation(
                "year",
                "the vehicle filter matches too many vehicles: add a year, model or vehicle_id",
            ));
        }
        Some(ids)
    } else {
        None
    };
    Ok(ResolvedQuery {
        text,
        vehicle_ids,
        category_id: query.category_id,
        brand_id: query.brand_id,
        page,
    })
}

/// Search on the catalog's own database.
#[derive(Debug, Clone)]
pub struct SqlSearch {
    db: DatabaseConnection,
}

impl SqlSearch {
    /// A backend over the platform database.
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

impl CatalogSearch for SqlSearch {
    fn name(&self) -> &'static str {
        "sql"
    }

    fn search<'a>(&'a self, query: &'a ResolvedQuery) -> SearchFuture<'a> {
        Box::pin(async move { sql_search(&self.db, query).await.map_err(SearchError::from) })
    }
}

/// The FTS5 expression of a parsed query: its words as prefixes in the text column, or the whole
/// query as a number prefix. Words are `[a-z0-9]+` and quoted, so nothing a user types is read as
/// FTS5 syntax.
fn fts5_match(q: &ParsedQuery) -> Option<String> {
    let words = (!q.words.is_empty()).then(|| {
        let terms: Vec<String> = q.words.iter().map(|w| format!("\"{w}\"*")).collect();
        format!("text : ({})", terms.join(" AND "))
    });
    let number = q
        .number
        .as_ref()
        .map(|n| format!("numbers : \"{}\"*", n.to_ascii_lowercase()));
    match (words, number) {
        (Some(w), Some(n)) => Some(format!("({w}) OR ({n})")),
        (Some(w), None) => Some(w),
        (None, Some(n)) => Some(n),
        (None, None) => None,
    }
}

/// The tsquery text of a parsed query (prefix matches of every word).
fn tsquery(q: &ParsedQuery) -> Option<String> {
    (!q.words.is_empty()).then(|| {
        q.words
            .iter()
            .map(|w| format!("{w}:*"))
            .collect::<Vec<_>>()
            .join(" & ")
    })
}

const HIT_COLUMNS: &str = "p.id, p.number, p.name, p.brand_id, b.name AS brand, p.category_id, \
     c.name AS category, p.retail_price_cents";
const HIT_JOINS: &str = "JOIN catalog_brands b ON b.id = p.brand_id \
     LEFT JOIN catalog_categories c ON c.id = p.category_id";

async fn sql_search(db: &DatabaseConnection, query: &ResolvedQuery) -> Result<Page<SearchHit>> {
    let backend = db.get_database_backend();
    let page = query.page;
    let empty = Page {
        items: Vec::new(),
        page: page.page,
        per_page: page.per_page,
        total: 0,
    };
    if query.vehicle_ids.as_ref().is_some_and(Vec::is_empty) {
        return Ok(empty);
    }
    let mut values: Vec<Value> = Vec::new();
    let mut conds: Vec<String> = Vec::new();
    // `matches` yields (id, score) of the text matches, lower score first.
    let mut matches: Option<String> = None;
    if let Some(text) = &query.text {
        match backend {
            DatabaseBackend::Postgres => {
                let ts = tsquery(text);
                let mut parts = Vec::new();
                if let Some(ts) = ts {
                    values.push(ts.into());
                    parts.push(format!(
                        "SELECT part_id AS id, -ts_rank(doc, to_tsquery('spanish', {0})) AS score \
                         FROM catalog_search WHERE doc @@ to_tsquery('spanish', {0})",
                        ph(backend, values.len())
                    ));
                }
                if let Some(n) = &text.number {
                    values.push(format!("%{n}%").into());
                    // A number match ranks above any text match.
                    parts.push(format!(
                        "SELECT part_id AS id, -10.0::float4 AS score FROM catalog_search \
                         WHERE numbers LIKE {}",
                        ph(backend, values.len())
                    ));
                }
                if parts.is_empty() {
                    return Ok(empty);
                }
                matches = Some(format!(
                    "SELECT id, min(score) AS score FROM ({}) u GROUP BY id",
                    parts.join(" UNION ALL ")
                ));
            }
            _ => {
                let Some(expr) = fts5_match(text) else {
                    return Ok(empty);
                };
                values.push(expr.into());
                // Numbers weigh ten times the text, so an exact number comes first.
                matches = Some(format!(
                    "SELECT rowid AS id, bm25(catalog_parts_fts, 1.0, 10.0) AS score \
                     FROM catalog_parts_fts WHERE catalog_parts_fts MATCH {}",
                    ph(backend, values.len())
                ));
            }
        }
    }
    if let Some(ids) = &query.vehicle_ids {
        let first = values.len() + 1;
        values.extend(ids.iter().map(|&i| Value::from(i)));
        conds.push(format!(
            "p.id IN (SELECT part_id FROM catalog_fitment WHERE vehicle_id IN ({}))",
            phs(backend, first, ids.len())
        ));
    }
    if let Some(c) = query.category_id {
        values.push(c.into());
        conds.push(format!("p.category_id = {}", ph(backend, values.len())));
    }
    if let Some(b) = query.brand_id {
        values.push(b.into());
        conds.push(format!("p.brand_id = {}", ph(backend, values.len())));
    }
    let filter = if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    };
    let (from, order) = match &matches {
        Some(m) => (
            format!("({m}) m JOIN catalog_parts p ON p.id = m.id"),
            "m.score, p.id",
        ),
        None => ("catalog_parts p".to_owned(), "p.id"),
    };
    let count_sql = format!("SELECT count(*) AS n FROM {from} {filter}");
    let total: i64 = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            count_sql,
            values.clone(),
        ))
        .await?
        .map(|r| r.try_get("", "n"))
        .transpose()?
        .unwrap_or(0);
    let offset = (page.page - 1) * page.per_page;
    let n = values.len();
    values.push(i64::try_from(page.per_page).unwrap_or(i64::MAX).into());
    values.push(i64::try_from(offset).unwrap_or(i64::MAX).into());
    let sql = format!(
        "SELECT {HIT_COLUMNS} FROM {from} {HIT_JOINS} {filter} ORDER BY {order} LIMIT {} OFFSET {}",
        ph(backend, n + 1),
        ph(backend, n + 2)
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    let items = rows
        .into_iter()
        .map(|r| {
            Ok(SearchHit {
                id: r.try_get("", "id")?,
                number: r.try_get("", "number")?,
                name: r.try_get("", "name")?,
                brand_id: r.try_get("", "brand_id")?,
                brand: r.try_get("", "brand")?,
                category_id: r.try_get("", "category_id")?,
                category: r.try_get("", "category")?,
                retail_price_cents: r.try_get("", "retail_price_cents")?,
            })
        })
        .collect::<std::result::Result<Vec<_>, sea_orm::DbErr>>()?;
    Ok(Page {
        items,
        page: page.page,
        per_page: page.per_page,
        total: u64::try_from(total).unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fts5_expression_quotes_every_word_and_adds_the_number() {
        let q = ParsedQuery::parse("balata BP-1234");
        assert_eq!(
            fts5_match(&q).as_deref(),
            Some(
                "(text : (\"balata\"* AND \"bp\"* AND \"1234\"*)) OR (numbers : \"balatabp1234\"*)"
            )
        );
        let q = ParsedQuery::parse("\") OR x:*");
        assert_eq!(
            fts5_match(&q).as_deref(),
            Some("text : (\"or\"* AND \"x\"*)")
        );
    }
}
