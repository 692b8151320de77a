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
use crate::{Error, PageRequest, Result};

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
pub const MAX_FILTER_VEHICLES: usize = 500;

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
    /// `Some(ids)`, ascending, to search only these parts (a business's parts in stock); only
    /// the SQL backends take it: [`crate::catalog::meili::MeiliSearch`] answers it unavailable.
    pub part_ids: Option<Vec<i64>>,
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

/// One page of search results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchPage {
    /// The hits of this page, best first.
    pub items: Vec<SearchHit>,
    /// 1-based page number.
    pub page: u64,
    /// Hits per page.
    pub per_page: u64,
    /// Matches in all pages: exact when `total_exact`, else a lower bound or an estimate.
    pub total: u64,
    /// Whether `total` is an exact count.
    pub total_exact: bool,
}

impl SearchPage {
    /// No hits.
    #[must_use]
    pub fn empty(page: PageRequest) -> Self {
        Self {
            items: Vec::new(),
            page: page.page,
            per_page: page.per_page,
            total: 0,
            total_exact: true,
        }
    }
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
    Pin<Box<dyn Future<Output = Result<SearchPage, SearchError>> + Send + 'a>>;

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
    // A blank engine (an empty form field) is no filter, as a blank `q` is no text.
    let liters_x10 = query
        .engine
        .as_deref()
        .filter(|e| !e.trim().is_empty())
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
        part_ids: None,
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

/// The prefix mark of a word: words of one or two characters match whole (a `p*` would expand
/// to every term starting with p: 280 ms at 1.5 M parts for "P 10005").
fn prefix(word: &str) -> &'static str {
    if word.len() >= 3 { "*" } else { "" }
}

/// The FTS5 expression of a parsed query: its words as prefixes in the text column, or the whole
/// query as a number prefix. Words are `[a-z0-9]+` and quoted, so nothing a user types is read as
/// FTS5 syntax.
fn fts5_match(q: &ParsedQuery) -> Option<String> {
    let words = (!q.words.is_empty()).then(|| {
        let terms: Vec<String> = q
            .words
            .iter()
            .map(|w| format!("\"{w}\"{}", prefix(w)))
            .collect();
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
            .map(|w| format!("{w}{}", if prefix(w).is_empty() { "" } else { ":*" }))
            .collect::<Vec<_>>()
            .join(" & ")
    })
}

const HIT_COLUMNS: &str = "p.id, p.number, p.name, p.brand_id, b.name AS brand, p.category_id, \
     c.name AS category, p.retail_price_cents";
const HIT_JOINS: &str = "JOIN catalog_brands b ON b.id = p.brand_id \
     LEFT JOIN catalog_categories c ON c.id = p.category_id";

async fn sql_search(db: &DatabaseConnection, query: &ResolvedQuery) -> Result<SearchPage> {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => pg_search(db, query).await,
        _ => sqlite_search(db, query).await,
    }
}

/// Text matches above this many are listed in id order instead of ranked: FTS5's bm25 costs about
/// 2 µs a match (90 ms for the 50,000 parts "balata" finds in 1.5 M), and the matches of such a
/// broad query rank nearly alike anyway. Number searches match a handful and are always ranked.
pub const RANK_LIMIT: i64 = 2_000;

/// The FTS5 expression of a whole query: text, numbers and the filter tokens (`v<id>`, `b<id>`,
/// `c<id>`) of fitment, brand and category, so one FTS5 lookup answers everything.
fn fts5_query(query: &ResolvedQuery) -> Option<Option<String>> {
    let mut clauses = Vec::new();
    if let Some(text) = &query.text {
        // A query of only stopwords or punctuation matches nothing.
        clauses.push(format!("({})", fts5_match(text)?));
    }
    if let Some(ids) = &query.vehicle_ids {
        let terms: Vec<String> = ids.iter().map(|i| format!("\"v{i}\"")).collect();
        clauses.push(format!("filters : ({})", terms.join(" OR ")));
    }
    if let Some(b) = query.brand_id {
        clauses.push(format!("filters : \"b{b}\""));
    }
    if let Some(c) = query.category_id {
        clauses.push(format!("filters : \"c{c}\""));
    }
    Some((!clauses.is_empty()).then(|| clauses.join(" AND ")))
}

async fn sqlite_search(db: &DatabaseConnection, query: &ResolvedQuery) -> Result<SearchPage> {
    let backend = db.get_database_backend();
    let page = query.page;
    let empty = SearchPage::empty(page);
    if query.vehicle_ids.as_ref().is_some_and(Vec::is_empty)
        || query.part_ids.as_ref().is_some_and(Vec::is_empty)
    {
        return Ok(empty);
    }
    let Some(expr) = fts5_query(query) else {
        return Ok(empty);
    };
    let limit = i64::try_from(page.per_page).unwrap_or(i64::MAX);
    let offset = i64::try_from((page.page - 1) * page.per_page).unwrap_or(i64::MAX);
    // Integers read from a database, written in: a bound list would need a placeholder each.
    let only = |col: &str| match &query.part_ids {
        Some(ids) => format!(" {col} IN ({})", id_list(ids)),
        None => String::new(),
    };
    let (total, ids) = match expr {
        None => {
            let total: i64 = db
                .query_one_raw(Statement::from_string(
                    backend,
                    format!(
                        "SELECT count(*) AS n FROM catalog_parts{}",
                        only("WHERE id")
                    ),
                ))
                .await?
                .map(|r| r.try_get("", "n"))
                .transpose()?
                .unwrap_or(0);
            let rows = db
                .query_all_raw(Statement::from_sql_and_values(
                    backend,
                    format!(
                        "SELECT id FROM catalog_parts{} ORDER BY id LIMIT ? OFFSET ?",
                        only("WHERE id")
                    ),
                    [limit.into(), offset.into()],
                ))
                .await?;
            (total, rows)
        }
        Some(expr) => {
            let total: i64 = db
                .query_one_raw(Statement::from_sql_and_values(
                    backend,
                    format!(
                        "SELECT count(*) AS n FROM catalog_parts_fts \
                         WHERE catalog_parts_fts MATCH ?{}",
                        only("AND rowid")
                    ),
                    [expr.clone().into()],
                ))
                .await?
                .map(|r| r.try_get("", "n"))
                .transpose()?
                .unwrap_or(0);
            let order = if query.text.is_some() && total <= RANK_LIMIT {
                // Numbers weigh ten times the text, so an exact number comes first.
                "bm25(catalog_parts_fts, 1.0, 10.0, 0.0), rowid"
            } else {
                "rowid"
            };
            let rows = db
                .query_all_raw(Statement::from_sql_and_values(
                    backend,
                    format!(
                        "SELECT rowid AS id FROM catalog_parts_fts WHERE catalog_parts_fts MATCH ?{} \
                         ORDER BY {order} LIMIT ? OFFSET ?",
                        only("AND rowid")
                    ),
                    [expr.into(), limit.into(), offset.into()],
                ))
                .await?;
            (total, rows)
        }
    };
    page_of(db, page, &ids, total, true).await
}

/// A page of results from the `id` rows of a ranked id query: the parts' rows, in that order.
async fn page_of(
    db: &DatabaseConnection,
    page: PageRequest,
    id_rows: &[sea_orm::QueryResult],
    total: i64,
    total_exact: bool,
) -> Result<SearchPage> {
    let ids = id_rows
        .iter()
        .map(|r| r.try_get::<i64>("", "id"))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let mut items = hits_by_id(db, &ids).await?;
    items.sort_by_key(|h| ids.iter().position(|&i| i == h.id));
    Ok(SearchPage {
        items,
        page: page.page,
        per_page: page.per_page,
        total: u64::try_from(total).unwrap_or(0),
        total_exact,
    })
}

/// The result rows of the given parts, in no particular order.
async fn hits_by_id(db: &DatabaseConnection, ids: &[i64]) -> Result<Vec<SearchHit>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT {HIT_COLUMNS} FROM catalog_parts p {HIT_JOINS} WHERE p.id IN ({})",
                phs(backend, 1, ids.len())
            ),
            ids.iter().map(|&i| Value::from(i)),
        ))
        .await?;
    rows.into_iter()
        .map(|r| hit(&r))
        .collect::<std::result::Result<Vec<_>, sea_orm::DbErr>>()
        .map_err(Into::into)
}

fn hit(r: &sea_orm::QueryResult) -> std::result::Result<SearchHit, sea_orm::DbErr> {
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
}

/// Ids written as SQL (`1,2,3`): only integers, so nothing a user types reaches the text.
fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// The ids in both ascending lists, ascending.
fn sorted_intersection(a: &[i64], b: &[i64]) -> Vec<i64> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) {
        match x.cmp(&y) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(x);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// Parts a fitment filter may list inside a PostgreSQL query; a wider filter joins fitment.
const FIT_LIMIT: usize = 20_000;

/// The parts that fit any of the vehicles, ascending, or `None` when they are more than
/// [`FIT_LIMIT`]. An index-only read of fitment by vehicle.
async fn fitting_parts(db: &DatabaseConnection, vehicles: &[i32]) -> Result<Option<Vec<i64>>> {
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT DISTINCT part_id FROM catalog_fitment WHERE vehicle_id IN ({}) \
                 ORDER BY part_id LIMIT {}",
                phs(backend, 1, vehicles.len()),
                FIT_LIMIT + 1
            ),
            vehicles.iter().map(|&v| Value::from(v)),
        ))
        .await?;
    if rows.len() > FIT_LIMIT {
        return Ok(None);
    }
    Ok(Some(
        rows.iter()
            .map(|r| r.try_get::<i64>("", "part_id"))
            .collect::<std::result::Result<Vec<_>, _>>()?,
    ))
}

/// PostgreSQL counts matches up to this many: past it, counting means visiting every matching
/// row (a GIN bitmap rechecks each), 120 ms for 50,000; the answer then says the total is a lower
/// bound.
pub const COUNT_LIMIT: i64 = 2_000;

async fn pg_search(db: &DatabaseConnection, query: &ResolvedQuery) -> Result<SearchPage> {
    let backend = db.get_database_backend();
    let page = query.page;
    if query.vehicle_ids.as_ref().is_some_and(Vec::is_empty)
        || query.part_ids.as_ref().is_some_and(Vec::is_empty)
    {
        return Ok(SearchPage::empty(page));
    }
    let mut values: Vec<Value> = Vec::new();
    let mut conds: Vec<String> = Vec::new();
    let mut rank: Option<String> = None;
    let text = query.text.is_some();
    let id_col = if text { "s.part_id" } else { "p.id" };
    if let Some(t) = &query.text {
        let mut ors = Vec::new();
        let mut ranks = Vec::new();
        if let Some(n) = &t.number {
            values.push(format!("%{n}%").into());
            let p = ph(backend, values.len());
            ors.push(format!("s.numbers LIKE {p}"));
            // A number match ranks above any text match.
            ranks.push(format!("(s.numbers LIKE {p}) DESC"));
        }
        if let Some(ts) = tsquery(t) {
            values.push(ts.into());
            let p = ph(backend, values.len());
            ors.push(format!("s.doc @@ to_tsquery('spanish', {p})"));
            ranks.push(format!("ts_rank(s.doc, to_tsquery('spanish', {p})) DESC"));
        }
        if ors.is_empty() {
            return Ok(SearchPage::empty(page));
        }
        conds.push(format!("({})", ors.join(" OR ")));
        rank = Some(ranks.join(", "));
    }
    // The parts to start from: those that fit (when they are few enough to list) and, for a
    // business's stock, those it has, both ascending.
    let mut only: Option<Vec<i64>> = query.part_ids.clone();
    if let Some(vehicles) = &query.vehicle_ids {
        match fitting_parts(db, vehicles).await? {
            Some(fit) => {
                only = Some(match only {
                    Some(have) => sorted_intersection(&have, &fit),
                    None => fit,
                });
            }
            None => {
                let first = values.len() + 1;
                values.extend(vehicles.iter().map(|&i| Value::from(i)));
                conds.push(format!(
                    "{id_col} IN (SELECT part_id FROM catalog_fitment WHERE vehicle_id IN ({}))",
                    phs(backend, first, vehicles.len())
                ));
            }
        }
    }
    let mut fitting_from: Option<String> = None;
    match only {
        Some(ids) if ids.is_empty() => return Ok(SearchPage::empty(page)),
        // The list alone: the ids are the answer, in id order.
        Some(ids)
            if !text
                && conds.is_empty()
                && query.category_id.is_none()
                && query.brand_id.is_none() =>
        {
            let from = usize::try_from((page.page - 1) * page.per_page).unwrap_or(usize::MAX);
            let to = from.saturating_add(usize::try_from(page.per_page).unwrap_or(usize::MAX));
            let slice = ids
                .get(from.min(ids.len())..to.min(ids.len()))
                .unwrap_or(&[]);
            let mut items = hits_by_id(db, slice).await?;
            items.sort_by_key(|h| h.id);
            return Ok(SearchPage {
                items,
                page: page.page,
                per_page: page.per_page,
                total: ids.len() as u64,
                total_exact: true,
            });
        }
        // The few thousand parts, written into the query (integers read from the database) as
        // the rows to start from: the planner then probes them by primary key and checks the
        // text on each (11 ms), instead of matching the text everywhere and filtering by the
        // list (44 ms for "balata" and one vehicle at 1.5 M parts).
        Some(ids) => {
            fitting_from = Some(format!("unnest('{{{}}}'::bigint[]) f(id)", id_list(&ids)));
        }
        None => {}
    }
    let needs_parts = !text || query.category_id.is_some() || query.brand_id.is_some();
    if let Some(c) = query.category_id {
        values.push(c.into());
        conds.push(format!("p.category_id = {}", ph(backend, values.len())));
    }
    if let Some(b) = query.brand_id {
        values.push(b.into());
        conds.push(format!("p.brand_id = {}", ph(backend, values.len())));
    }
    let (search, parts) = match &fitting_from {
        Some(f) => (
            format!("{f} JOIN catalog_search s ON s.part_id = f.id"),
            format!("{f} JOIN catalog_parts p ON p.id = f.id"),
        ),
        None => ("catalog_search s".to_owned(), "catalog_parts p".to_owned()),
    };
    let from = match (text, needs_parts) {
        (true, true) => format!("{search} JOIN catalog_parts p ON p.id = s.part_id"),
        (true, false) => search,
        (false, _) => parts,
    };
    let filter = if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    };
    let counted: i64 = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT count(*) AS n FROM (SELECT 1 FROM {from} {filter} LIMIT {}) x",
                COUNT_LIMIT + 1
            ),
            values.clone(),
        ))
        .await?
        .map(|r| r.try_get("", "n"))
        .transpose()?
        .unwrap_or(0);
    let exact = counted <= COUNT_LIMIT;
    let order = match (&rank, exact) {
        (Some(r), true) => format!("{r}, {id_col}"),
        _ => id_col.to_owned(),
    };
    let n = values.len();
    values.push(i64::try_from(page.per_page).unwrap_or(i64::MAX).into());
    values.push(
        i64::try_from((page.page - 1) * page.per_page)
            .unwrap_or(i64::MAX)
            .into(),
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT {id_col} AS id FROM {from} {filter} ORDER BY {order} LIMIT {} OFFSET {}",
                ph(backend, n + 1),
                ph(backend, n + 2)
            ),
            values,
        ))
        .await?;
    page_of(db, page, &rows, counted, exact).await
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_intersection_of_two_ascending_lists_keeps_what_both_have_in_order() {
        assert_eq!(
            super::sorted_intersection(&[1, 3, 5, 8, 13], &[2, 3, 4, 8, 9, 13, 21]),
            vec![3, 8, 13]
        );
        assert!(super::sorted_intersection(&[1, 2], &[]).is_empty());
        assert_eq!(super::id_list(&[7, 42]), "7,42");
    }

    use super::*;

    #[test]
    fn the_fts5_expression_quotes_every_word_and_adds_the_number() {
        let q = ParsedQuery::parse("balata BP-1234");
        assert_eq!(
            fts5_match(&q).as_deref(),
            Some(
                "(text : (\"balata\"* AND \"bp\" AND \"1234\"*)) OR (numbers : \"balatabp1234\"*)"
            )
        );
        let q = ParsedQuery::parse("\") OR x:*");
        assert_eq!(fts5_match(&q).as_deref(), Some("text : (\"or\" AND \"x\")"));
    }
}
