//! What customers saved buying at their price list instead of the reference retail price.
//!
//! A sale stores its total, its total at retail prices and the savings (the sum of its rounded
//! lines). Cancelled sales do not count; what a return took back (`sale_returns`: its refund,
//! and its savings) is subtracted from the sale's total, retail total and savings alike, so the
//! three stay consistent (retail total − total = savings). Each answer is one aggregate query over `sales`
//! (indexed by customer and by branch, each with `created_at`), the returns read per sale
//! through their `sale_id` index.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use uuid::Uuid;

use crate::Result;
use crate::rules::money::Money;

/// How many customers the report ranks.
pub const TOP_CUSTOMERS: u64 = 20;

/// A period: `from` inclusive, `to` exclusive; either end open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Period {
    /// First instant counted.
    pub from: Option<DateTime<Utc>>,
    /// First instant not counted.
    pub to: Option<DateTime<Utc>>,
}

/// Sums of a group of sales.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// The group (a branch or a customer); none for a total.
    pub key: Option<Uuid>,
    /// Sales counted.
    pub sales: u64,
    /// What was paid, MXN centavos.
    pub total: Money,
    /// What it costs at retail prices.
    pub retail_total: Money,
    /// Savings less what returns took back.
    pub savings: Money,
}

impl Totals {
    /// Adds another group's sums.
    pub fn add(&mut self, o: &Totals) {
        self.sales += o.sales;
        self.total.0 += o.total.0;
        self.retail_total.0 += o.retail_total.0;
        self.savings.0 += o.savings.0;
    }
}

/// The savings report: per branch and the customers who saved most.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Per branch, most savings first.
    pub branches: Vec<Totals>,
    /// The customers who saved most, with their names.
    pub top_customers: Vec<(Totals, String)>,
}

impl Report {
    /// The sums over every branch of the report.
    #[must_use]
    pub fn total(&self) -> Totals {
        let mut t = Totals::default();
        for b in &self.branches {
            t.add(b);
        }
        t
    }
}

/// A statement under construction with its bound values, in the backend's placeholder style.
struct Sql {
    backend: DbBackend,
    text: String,
    values: Vec<Value>,
}

impl Sql {
    fn new(backend: DbBackend, text: &str) -> Self {
        Self {
            backend,
            text: text.to_owned(),
            values: Vec::new(),
        }
    }

    fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    fn bind(&mut self, v: impl Into<Value>) -> &mut Self {
        self.values.push(v.into());
        match self.backend {
            DbBackend::Postgres => {
                let n = self.values.len();
                self.text.push_str(&format!("${n}"));
            }
            _ => self.text.push('?'),
        }
        self
    }

    fn build(self) -> Statement {
        Statement::from_sql_and_values(self.backend, self.text, self.values)
    }
}

/// The sums of a selection of sales; `SUM` of a bigint is NUMERIC on PostgreSQL, hence the casts.
const SUMS: &str = "COUNT(*) AS sales, \
    CAST(COALESCE(SUM(s.total_cents - COALESCE(\
        (SELECT SUM(r.refund_cents) FROM sale_returns r WHERE r.sale_id = s.id), 0)), 0) \
        AS BIGINT) AS total, \
    CAST(COALESCE(SUM(s.retail_total_cents - COALESCE(\
        (SELECT SUM(r.refund_cents + r.savings_cents) FROM sale_returns r WHERE r.sale_id = s.id), 0)), 0) \
        AS BIGINT) AS retail_total, \
    CAST(COALESCE(SUM(s.savings_cents - COALESCE(\
        (SELECT SUM(r.savings_cents) FROM sale_returns r WHERE r.sale_id = s.id), 0)), 0) \
        AS BIGINT) AS savings";

/// Appends the conditions every query shares: not cancelled, in the period.
fn filters(sql: &mut Sql, p: Period) {
    sql.push(" WHERE s.status <> ").bind("cancelled");
    if let Some(f) = p.from {
        sql.push(" AND s.created_at >= ").bind(f);
    }
    if let Some(t) = p.to {
        sql.push(" AND s.created_at < ").bind(t);
    }
}

fn totals(row: &sea_orm::QueryResult, key: Option<Uuid>) -> Result<Totals> {
    let sales: i64 = row.try_get("", "sales")?;
    Ok(Totals {
        key,
        sales: u64::try_from(sales).unwrap_or(0),
        total: Money(row.try_get("", "total")?),
        retail_total: Money(row.try_get("", "retail_total")?),
        savings: Money(row.try_get("", "savings")?),
    })
}

/// What one customer saved in a period (the customer's existence is the caller's check).
///
/// # Errors
/// Database errors.
pub async fn customer_savings(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
    p: Period,
) -> Result<Totals> {
    let mut sql = Sql::new(db.get_database_backend(), "SELECT ");
    sql.push(SUMS).push(" FROM sales s");
    filters(&mut sql, p);
    sql.push(" AND s.customer_id = ").bind(customer_id);
    let row = db.query_one_raw(sql.build()).await?;
    match row {
        Some(r) => totals(&r, Some(customer_id)),
        None => Ok(Totals {
            key: Some(customer_id),
            ..Totals::default()
        }),
    }
}

/// The savings report of a period, optionally limited to some branches: sums per branch and
/// the `top` customers by savings.
///
/// # Errors
/// Database errors.
pub async fn report(
    db: &impl ConnectionTrait,
    p: Period,
    branches: Option<&[Uuid]>,
    top: u64,
) -> Result<Report> {
    let backend = db.get_database_backend();
    let scope = |sql: &mut Sql| {
        if let Some(ids) = branches {
            if ids.is_empty() {
                sql.push(" AND 1 = 0");
                return;
            }
            sql.push(" AND s.branch_id IN (");
            for (i, id) in ids.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(*id);
            }
            sql.push(")");
        }
    };

    let mut sql = Sql::new(backend, "SELECT s.branch_id AS branch_id, ");
    sql.push(SUMS).push(" FROM sales s");
    filters(&mut sql, p);
    scope(&mut sql);
    sql.push(" GROUP BY s.branch_id ORDER BY savings DESC, s.branch_id");
    let mut by_branch = Vec::new();
    for r in db.query_all_raw(sql.build()).await? {
        let id: Uuid = r.try_get("", "branch_id")?;
        by_branch.push(totals(&r, Some(id))?);
    }

    let mut sql = Sql::new(
        backend,
        "SELECT s.customer_id AS customer_id, c.name AS name, ",
    );
    sql.push(SUMS)
        .push(" FROM sales s JOIN customers c ON c.id = s.customer_id");
    filters(&mut sql, p);
    scope(&mut sql);
    sql.push(" GROUP BY s.customer_id, c.name ORDER BY savings DESC, s.customer_id LIMIT ")
        .bind(i64::try_from(top).unwrap_or(i64::MAX));
    let mut top_customers = Vec::new();
    for r in db.query_all_raw(sql.build()).await? {
        let id: Uuid = r.try_get("", "customer_id")?;
        let name: String = r.try_get("", "name")?;
        top_customers.push((totals(&r, Some(id))?, name));
    }
    Ok(Report {
        branches: by_branch,
        top_customers,
    })
}
