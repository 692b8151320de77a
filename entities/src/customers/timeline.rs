//! A customer's timeline: sales, quotes, invoices, service orders, payments on account and manual
//! activities in one feed, newest first, paged in SQL (one `UNION ALL` ordered and cut by the
//! database, so a customer with years of tickets costs one page of rows).

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Statement, Value};
use uuid::Uuid;

use crate::customers::records::get_customer;
use crate::inventory::movements::ph;
use crate::{Error, Page, PageRequest, Result};

/// The kinds of event a timeline holds.
pub const KINDS: [&str; 9] = [
    "sale",
    "quote",
    "invoice",
    "service_order",
    "payment",
    "call",
    "visit",
    "note",
    "task",
];

/// One event of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// One of [`KINDS`].
    pub kind: String,
    /// The document's or activity's id.
    pub id: Uuid,
    /// Folio, invoice series and number, payment reference, or the activity's subject.
    pub title: String,
    /// The document's status, the payment's method, or `open`/`done` for a task.
    pub status: String,
    /// The document's total or the payment, MXN centavos; none for activities and service
    /// orders.
    pub amount_cents: Option<i64>,
    /// When it happened.
    pub at: DateTime<Utc>,
}

/// Filters of the feed.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only these kinds (all when empty).
    pub kinds: Vec<String>,
    /// At or after.
    pub from: Option<DateTime<Utc>>,
    /// Before.
    pub to: Option<DateTime<Utc>>,
}

/// The SELECT of each kind; `$C` is the customer parameter. Every branch yields the same columns
/// and types, so PostgreSQL accepts the union.
fn sources() -> [(&'static [&'static str], &'static str); 6] {
    [
        (
            &["sale"],
            "SELECT 'sale' AS kind, id, folio AS title, status, total_cents AS amount_cents, \
             created_at AS at FROM sales WHERE customer_id = $C",
        ),
        (
            &["quote"],
            "SELECT 'quote' AS kind, id, folio AS title, status, total_cents AS amount_cents, \
             created_at AS at FROM quotes WHERE customer_id = $C",
        ),
        (
            &["invoice"],
            "SELECT 'invoice' AS kind, id, COALESCE(series, '') || \
             COALESCE(CAST(folio_number AS TEXT), '') AS title, status, \
             total_cents AS amount_cents, created_at AS at FROM invoices WHERE customer_id = $C",
        ),
        (
            &["service_order"],
            "SELECT 'service_order' AS kind, id, folio AS title, status, \
             CAST(NULL AS BIGINT) AS amount_cents, created_at AS at FROM service_orders \
             WHERE customer_id = $C",
        ),
        (
            &["payment"],
            "SELECT 'payment' AS kind, id, COALESCE(reference, '') AS title, \
             COALESCE(method, '') AS status, amount_cents, created_at AS at \
             FROM account_entries WHERE customer_id = $C AND kind = 'payment'",
        ),
        (
            &["call", "visit", "note", "task"],
            "SELECT kind, id, subject AS title, CASE WHEN kind <> 'task' THEN kind \
             WHEN done_at IS NULL THEN 'open' ELSE 'done' END AS status, \
             CAST(NULL AS BIGINT) AS amount_cents, created_at AS at \
             FROM customer_activities WHERE customer_id = $C",
        ),
    ]
}

/// A page of a customer's timeline, newest first.
///
/// # Errors
/// [`Error::NotFound`] `customer`; [`Error::Validation`] on `kinds`.
pub async fn feed(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
    f: &Filter,
    page: PageRequest,
) -> Result<Page<Event>> {
    get_customer(db, customer_id).await?;
    for k in &f.kinds {
        if !KINDS.contains(&k.as_str()) {
            return Err(Error::validation(
                "kinds",
                format!("`{k}` is not one of {}", KINDS.join(", ")),
            ));
        }
    }
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = vec![customer_id.into()];
    let customer = ph(backend, 1);
    let wanted =
        |kinds: &[&str]| f.kinds.is_empty() || kinds.iter().any(|k| f.kinds.iter().any(|w| w == k));
    let mut parts = Vec::new();
    for (kinds, sql) in sources() {
        if !wanted(kinds) {
            continue;
        }
        let mut sql = sql.replace("$C", &customer);
        // The activity branch carries four kinds; keep only the ones asked for.
        if kinds.len() > 1 && !f.kinds.is_empty() {
            let list: Vec<String> = kinds
                .iter()
                .filter(|k| f.kinds.iter().any(|w| w == *k))
                .map(|k| format!("'{k}'"))
                .collect();
            sql.push_str(&format!(" AND kind IN ({})", list.join(", ")));
        }
        parts.push(sql);
    }
    let mut cond = Vec::new();
    if let Some(from) = f.from {
        values.push(from.into());
        cond.push(format!("at >= {}", ph(backend, values.len())));
    }
    if let Some(to) = f.to {
        values.push(to.into());
        cond.push(format!("at < {}", ph(backend, values.len())));
    }
    let filter = if cond.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", cond.join(" AND "))
    };
    let union = parts.join(" UNION ALL ");
    let count_sql = format!("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM ({union}) t{filter}");
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
    let page_sql = format!(
        "SELECT kind, id, title, status, amount_cents, at FROM ({union}) t{filter} \
         ORDER BY at DESC, id DESC LIMIT {} OFFSET {offset}",
        page.per_page
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, page_sql, values))
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        items.push(Event {
            kind: r.try_get("", "kind")?,
            id: r.try_get("", "id")?,
            title: r.try_get("", "title")?,
            status: r.try_get("", "status")?,
            amount_cents: r.try_get("", "amount_cents")?,
            at: r.try_get("", "at")?,
        });
    }
    Ok(Page {
        items,
        page: page.page,
        per_page: page.per_page,
        total: u64::try_from(total).unwrap_or(0),
    })
}
