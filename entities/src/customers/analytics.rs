//! Customer analytics, computed nightly into `customer_stats` so that reading them is one
//! indexed query: lifetime value, 12-month spend, orders and average ticket, first and last
//! purchase, the customer's own purchase interval, churn risk, favourite categories and brands.
//!
//! Churn risk compares the days since the last purchase with the customer's own mean interval
//! between purchases (a workshop that buys weekly is at risk after three weeks, a driver who
//! buys twice a year is not): up to 1.5 intervals `active`, up to 2.5 `at_risk`, up to 4
//! `churning`, beyond that `lost`. One purchase gives no interval: `new` up to 90 days, `at_risk`
//! up to 180, `churning` up to 365. Over 365 days without buying is `lost` whatever the interval.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter,
    Set, Statement,
};
use serde_json::json;
use uuid::Uuid;

use crate::catalog::schema::{category, part};
use crate::customers::loyalty::window_start;
use crate::customers::tables::customer_stat;
use crate::{Error, Result};

/// The churn risk of a customer with `orders` purchases, the last `days_since_last` days ago,
/// `avg_interval_days` apart on average (none below two purchases).
#[must_use]
pub fn churn_risk(
    orders: i64,
    days_since_last: i64,
    avg_interval_days: Option<i64>,
) -> &'static str {
    if days_since_last > 365 {
        return "lost";
    }
    match avg_interval_days {
        Some(interval) if orders >= 2 => {
            let interval = interval.max(1);
            // Compared in tenths, so 1.5 and 2.5 intervals are exact.
            let tenths = days_since_last * 10 / interval;
            if tenths <= 15 {
                "active"
            } else if tenths <= 25 {
                "at_risk"
            } else if tenths <= 40 {
                "churning"
            } else {
                "lost"
            }
        }
        _ if days_since_last <= 90 => "new",
        _ if days_since_last <= 180 => "at_risk",
        _ => "churning",
    }
}

/// The mean whole days between the first and the last of `orders` purchases.
#[must_use]
pub fn mean_interval(first: DateTime<Utc>, last: DateTime<Utc>, orders: i64) -> Option<i64> {
    (orders >= 2).then(|| ((last - first).num_days() / (orders - 1)).max(0))
}

#[derive(Debug, FromQueryResult)]
struct Totals {
    customer_id: Uuid,
    lifetime: Option<i64>,
    spend_12m: Option<i64>,
    orders: i64,
    first_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
}

#[derive(Debug, FromQueryResult)]
struct Spent {
    customer_id: Uuid,
    key: Option<String>,
    spent: Option<i64>,
}

#[derive(Debug, FromQueryResult)]
struct PartSpent {
    customer_id: Uuid,
    part_id: i64,
    spent: Option<i64>,
}

/// The top five of a customer's `(name, spent)`, most spent first.
fn top(mut rows: Vec<(String, i64)>) -> serde_json::Value {
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows.truncate(5);
    json!(
        rows.into_iter()
            .map(|(name, spent)| json!({"name": name, "spent": crate::rules::money::Money(spent).to_string()}))
            .collect::<Vec<_>>()
    )
}

/// Computes every customer's stats as of `today` and writes them, 500 rows a statement. Part
/// categories come from the shared catalog in `platform`. Answers the customers written.
///
/// # Errors
/// Database errors.
pub async fn compute(
    db: &DatabaseConnection,
    platform: &DatabaseConnection,
    today: NaiveDate,
) -> Result<u64> {
    let backend = db.get_database_backend();
    let since = window_start(today);
    let ph = |n| crate::inventory::movements::ph(backend, n);
    let totals = Totals::find_by_statement(Statement::from_sql_and_values(
        backend,
        format!(
            "SELECT customer_id, \
             CAST(SUM(total_cents - refunded_cents) AS BIGINT) AS lifetime, \
             CAST(SUM(CASE WHEN created_at >= {} THEN total_cents - refunded_cents ELSE 0 END) \
             AS BIGINT) AS spend_12m, \
             CAST(COUNT(*) AS BIGINT) AS orders, MIN(created_at) AS first_at, \
             MAX(created_at) AS last_at \
             FROM sales WHERE customer_id IS NOT NULL AND status <> 'cancelled' \
             GROUP BY customer_id",
            ph(1)
        ),
        [since.into()],
    ))
    .all(db)
    .await?;
    let line_filter = "FROM sale_lines l JOIN sales s ON s.id = l.sale_id \
         JOIN items i ON i.id = l.item_id \
         WHERE s.customer_id IS NOT NULL AND s.status <> 'cancelled' AND l.kind = 'part'";
    let brands = Spent::find_by_statement(Statement::from_string(
        backend,
        format!(
            "SELECT s.customer_id AS customer_id, i.brand AS key, \
             CAST(SUM(l.total_cents) AS BIGINT) AS spent {line_filter} \
             AND i.brand IS NOT NULL GROUP BY s.customer_id, i.brand"
        ),
    ))
    .all(db)
    .await?;
    let parts = PartSpent::find_by_statement(Statement::from_string(
        backend,
        format!(
            "SELECT s.customer_id AS customer_id, i.catalog_part_id AS part_id, \
             CAST(SUM(l.total_cents) AS BIGINT) AS spent {line_filter} \
             AND i.catalog_part_id IS NOT NULL GROUP BY s.customer_id, i.catalog_part_id"
        ),
    ))
    .all(db)
    .await?;
    let categories = category_names(platform, &parts).await?;

    let mut by_brand: HashMap<Uuid, Vec<(String, i64)>> = HashMap::new();
    for b in brands {
        if let Some(k) = b.key {
            by_brand
                .entry(b.customer_id)
                .or_default()
                .push((k, b.spent.unwrap_or(0)));
        }
    }
    let mut by_category: HashMap<Uuid, HashMap<String, i64>> = HashMap::new();
    for p in parts {
        if let Some(name) = categories.get(&p.part_id) {
            *by_category
                .entry(p.customer_id)
                .or_default()
                .entry(name.clone())
                .or_insert(0) += p.spent.unwrap_or(0);
        }
    }
    let now = crate::now();
    let rows: Vec<customer_stat::ActiveModel> = totals
        .into_iter()
        .map(|t| {
            let lifetime = t.lifetime.unwrap_or(0);
            // Whole days in Mexico City, the stores' calendar: bought yesterday is one day.
            let days = (today - crate::invoicing::global::local_date(t.last_at))
                .num_days()
                .max(0);
            let interval = mean_interval(t.first_at, t.last_at, t.orders);
            customer_stat::ActiveModel {
                customer_id: Set(t.customer_id),
                lifetime_cents: Set(lifetime),
                spend_12m_cents: Set(t.spend_12m.unwrap_or(0)),
                orders: Set(i32::try_from(t.orders).unwrap_or(i32::MAX)),
                avg_ticket_cents: Set(lifetime / t.orders.max(1)),
                first_purchase_at: Set(Some(t.first_at)),
                last_purchase_at: Set(Some(t.last_at)),
                days_since_last: Set(Some(i32::try_from(days).unwrap_or(i32::MAX))),
                avg_interval_days: Set(interval.map(|i| i32::try_from(i).unwrap_or(i32::MAX))),
                churn_risk: Set(churn_risk(t.orders, days, interval).to_owned()),
                top_categories: Set(top(by_category
                    .remove(&t.customer_id)
                    .unwrap_or_default()
                    .into_iter()
                    .collect())),
                top_brands: Set(top(by_brand.remove(&t.customer_id).unwrap_or_default())),
                computed_at: Set(now),
            }
        })
        .collect();
    let written = u64::try_from(rows.len()).unwrap_or(0);
    for chunk in rows.chunks(500) {
        customer_stat::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::column(customer_stat::Column::CustomerId)
                    .update_columns([
                        customer_stat::Column::LifetimeCents,
                        customer_stat::Column::Spend12mCents,
                        customer_stat::Column::Orders,
                        customer_stat::Column::AvgTicketCents,
                        customer_stat::Column::FirstPurchaseAt,
                        customer_stat::Column::LastPurchaseAt,
                        customer_stat::Column::DaysSinceLast,
                        customer_stat::Column::AvgIntervalDays,
                        customer_stat::Column::ChurnRisk,
                        customer_stat::Column::TopCategories,
                        customer_stat::Column::TopBrands,
                        customer_stat::Column::ComputedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(written)
}

/// The category name of each catalog part bought, from the shared catalog.
async fn category_names(
    platform: &DatabaseConnection,
    parts: &[PartSpent],
) -> Result<HashMap<i64, String>> {
    let mut ids: Vec<i64> = parts.iter().map(|p| p.part_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut part_category: HashMap<i64, i32> = HashMap::new();
    for chunk in ids.chunks(1000) {
        for p in part::Entity::find()
            .filter(part::Column::Id.is_in(chunk.iter().copied()))
            .filter(part::Column::CategoryId.is_not_null())
            .all(platform)
            .await?
        {
            if let Some(c) = p.category_id {
                part_category.insert(p.id, c);
            }
        }
    }
    let names: HashMap<i32, String> = category::Entity::find()
        .all(platform)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    Ok(part_category
        .into_iter()
        .filter_map(|(p, c)| names.get(&c).map(|n| (p, n.clone())))
        .collect())
}

/// A customer's stats, as last computed.
///
/// # Errors
/// [`Error::NotFound`] `customer_stats` before the first nightly run after a purchase.
pub async fn of_customer(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
) -> Result<customer_stat::Model> {
    customer_stat::Entity::find_by_id(customer_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "customer_stats",
        })
}

/// The business's figures from the stats table: customers by churn risk, mean lifetime value
/// and ticket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Customers with at least one purchase.
    pub customers: i64,
    /// Mean lifetime value, MXN centavos.
    pub avg_lifetime_cents: i64,
    /// Mean ticket over every sale, MXN centavos.
    pub avg_ticket_cents: i64,
    /// Customers per churn risk.
    pub by_risk: Vec<(String, i64)>,
    /// When the stats were computed (none before the first run).
    pub computed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, FromQueryResult)]
struct RiskRow {
    churn_risk: String,
    n: i64,
    lifetime: Option<i64>,
    orders: Option<i64>,
    computed_at: Option<DateTime<Utc>>,
}

/// The business's summary, one grouped query over the stats table.
///
/// # Errors
/// Database errors.
pub async fn summary(db: &impl ConnectionTrait) -> Result<Summary> {
    let rows = RiskRow::find_by_statement(Statement::from_string(
        db.get_database_backend(),
        "SELECT churn_risk, CAST(COUNT(*) AS BIGINT) AS n, \
         CAST(SUM(lifetime_cents) AS BIGINT) AS lifetime, CAST(SUM(orders) AS BIGINT) AS orders, \
         MAX(computed_at) AS computed_at FROM customer_stats GROUP BY churn_risk \
         ORDER BY churn_risk",
    ))
    .all(db)
    .await?;
    let customers: i64 = rows.iter().map(|r| r.n).sum();
    let lifetime: i64 = rows.iter().map(|r| r.lifetime.unwrap_or(0)).sum();
    let orders: i64 = rows.iter().map(|r| r.orders.unwrap_or(0)).sum();
    Ok(Summary {
        customers,
        avg_lifetime_cents: lifetime / customers.max(1),
        avg_ticket_cents: lifetime / orders.max(1),
        computed_at: rows.iter().filter_map(|r| r.computed_at).max(),
        by_risk: rows.into_iter().map(|r| (r.churn_risk, r.n)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn churn_follows_the_customers_own_interval() {
        // Buys every 10 days: 15 days since is active, 25 at risk, 40 churning, 41 lost.
        assert_eq!(churn_risk(5, 15, Some(10)), "active");
        assert_eq!(churn_risk(5, 16, Some(10)), "at_risk");
        assert_eq!(churn_risk(5, 25, Some(10)), "at_risk");
        assert_eq!(churn_risk(5, 40, Some(10)), "churning");
        assert_eq!(churn_risk(5, 41, Some(10)), "lost");
        // Twice a year: 200 days since is still active.
        assert_eq!(churn_risk(4, 200, Some(180)), "active");
        // Over a year is lost whatever the interval.
        assert_eq!(churn_risk(4, 366, Some(300)), "lost");
    }

    #[test]
    fn one_purchase_is_new_then_at_risk_then_churning() {
        assert_eq!(churn_risk(1, 90, None), "new");
        assert_eq!(churn_risk(1, 91, None), "at_risk");
        assert_eq!(churn_risk(1, 181, None), "churning");
        assert_eq!(churn_risk(1, 400, None), "lost");
    }

    #[test]
    fn the_interval_is_the_span_over_the_gaps() {
        let d = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(
            mean_interval(d("2026-01-01T10:00:00Z"), d("2026-01-31T09:00:00Z"), 4),
            Some(9)
        );
        assert_eq!(
            mean_interval(d("2026-01-01T10:00:00Z"), d("2026-01-01T10:00:00Z"), 1),
            None
        );
    }
}
