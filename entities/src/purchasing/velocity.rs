//! The nightly velocity: units a day each item sells at each warehouse, from the ledger's sales
//! (net of returns and cancellations) over 4, 13 and 52 weeks, plus lost sales at the owner's
//! weight; and the min and max it proposes for rules marked `computed` (a rule pinned by hand is
//! never changed).
//!
//! `units_per_day = Σ_w weight_w × (sold_w + lost_w × lost_weight) / days_w` with weights 50 %,
//! 30 % and 20 % for the 4-, 13- and 52-week windows (recent demand counts most, the year keeps a
//! seasonal part from vanishing); `min = ⌈upd × (lead_days + safety_days)⌉`,
//! `max = min + ⌈upd × review_days⌉`.
//!
//! The sums are one grouped query over the ledger and one over lost sales, whatever the number
//! of items; the rules are written back in batches.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait, QueryFilter,
    Statement, Value,
};
use uuid::Uuid;

use crate::Result;
use crate::inventory::movements::ph;
use crate::org::tables::warehouse;
use crate::purchasing::tables::{reorder_rule, setting};

/// The windows: days and weight in basis points.
pub const WINDOWS: [(i64, i64); 3] = [(28, 5000), (91, 3000), (364, 2000)];

/// Sales (or lost sales) of one item at one warehouse in each window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Demand {
    /// Units in the 4-, 13- and 52-week windows.
    pub units: [i64; 3],
}

/// Units a day, in thousandths, from sold and lost units per window.
#[must_use]
pub fn units_per_day_milli(sold: &Demand, lost: &Demand, lost_weight_bp: i32) -> i64 {
    let lost_w = Decimal::new(i64::from(lost_weight_bp), 4);
    let upd: Decimal = WINDOWS
        .iter()
        .enumerate()
        .map(|(i, (days, weight))| {
            let units =
                Decimal::from(sold.units[i].max(0)) + Decimal::from(lost.units[i].max(0)) * lost_w;
            Decimal::new(*weight, 4) * units / Decimal::from(*days)
        })
        .sum();
    (upd * Decimal::from(1000))
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .to_i64()
        .unwrap_or(0)
}

/// The min and max a velocity proposes.
#[must_use]
pub fn proposed_levels(upd_milli: i64, lead_days: i32, s: &setting::Model) -> (i64, i64) {
    let ceil = |days: i32| {
        let v = upd_milli * i64::from(days.max(0));
        (v + 999) / 1000
    };
    let min = ceil(lead_days + s.safety_days);
    (min, min + ceil(s.review_days))
}

/// Lost units of an item and where they were asked for: warehouse, branch.
type AskedAt = (Option<Uuid>, Option<Uuid>, Demand);

/// What a velocity run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct VelocityRun {
    /// (item, warehouse) pairs with sales in the year.
    pub pairs_with_sales: u64,
    /// Rules marked computed.
    pub computed_rules: u64,
    /// Of those, rules whose min or max changed.
    pub changed: u64,
    /// Rules pinned by hand, left alone.
    pub pinned: u64,
}

async fn grouped(
    db: &impl ConnectionTrait,
    sql: String,
    cuts: [DateTime<Utc>; 3],
) -> Result<Vec<(Uuid, Option<Uuid>, Option<Uuid>, Demand)>> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            cuts.iter().map(|c| Value::from(*c)),
        ))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let item: Uuid = r.try_get_by_index(0)?;
        let wh: Option<Uuid> = r.try_get_by_index(1)?;
        let branch: Option<Uuid> = r.try_get_by_index(2)?;
        let mut d = Demand::default();
        for i in 0..3 {
            let v: Option<i64> = r.try_get_by_index(3 + i)?;
            d.units[i] = v.unwrap_or(0);
        }
        out.push((item, wh, branch, d));
    }
    Ok(out)
}

/// Sold units per (item, warehouse) in each window ending now. The sums are cast because
/// PostgreSQL's `SUM` of a `bigint` is a `numeric`.
async fn sold(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<HashMap<(Uuid, Uuid), Demand>> {
    let b = db.get_database_backend();
    let sql = format!(
        "SELECT item_id, warehouse_id, branch_id, \
           CAST(SUM(CASE WHEN created_at >= {p1} THEN -delta ELSE 0 END) AS BIGINT), \
           CAST(SUM(CASE WHEN created_at >= {p2} THEN -delta ELSE 0 END) AS BIGINT), \
           CAST(SUM(CASE WHEN created_at >= {p3} THEN -delta ELSE 0 END) AS BIGINT) \
         FROM stock_ledger \
         WHERE reason IN ('sale', 'return', 'cancellation') AND created_at >= {p3} \
         GROUP BY item_id, warehouse_id, branch_id",
        p1 = ph(b, 1),
        p2 = ph(b, 2),
        p3 = ph(b, 3)
    );
    let rows = grouped(db, sql, cuts(now)).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(i, w, _, d)| w.map(|w| ((i, w), d)))
        .collect())
}

/// Lost units per item and where they were asked for (warehouse, else branch).
async fn lost(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, Option<Uuid>, Option<Uuid>, Demand)>> {
    let b = db.get_database_backend();
    let sql = format!(
        "SELECT item_id, warehouse_id, branch_id, \
           CAST(SUM(CASE WHEN created_at >= {p1} THEN qty ELSE 0 END) AS BIGINT), \
           CAST(SUM(CASE WHEN created_at >= {p2} THEN qty ELSE 0 END) AS BIGINT), \
           CAST(SUM(CASE WHEN created_at >= {p3} THEN qty ELSE 0 END) AS BIGINT) \
         FROM lost_sales \
         WHERE item_id IS NOT NULL AND created_at >= {p3} \
         GROUP BY item_id, warehouse_id, branch_id",
        p1 = ph(b, 1),
        p2 = ph(b, 2),
        p3 = ph(b, 3)
    );
    grouped(db, sql, cuts(now)).await
}

fn cuts(now: DateTime<Utc>) -> [DateTime<Utc>; 3] {
    WINDOWS.map(|(days, _)| now - chrono::Duration::days(days))
}

/// Computes the velocity of every rule and writes the proposed min and max of the computed ones
/// (pinned ones are left exactly as they are).
///
/// # Errors
/// Database errors.
pub async fn run(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<VelocityRun> {
    let settings = crate::purchasing::settings::get(db).await?;
    let sold = sold(db, now).await?;
    let lost_rows = lost(db, now).await?;
    let branch_of: HashMap<Uuid, Uuid> = warehouse::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|w| (w.id, w.branch_id))
        .collect();
    let rules = reorder_rule::Entity::find()
        .filter(reorder_rule::Column::Mode.eq(reorder_rule::Mode::Computed))
        .all(db)
        .await?;
    let pinned = reorder_rule::Entity::find()
        .filter(reorder_rule::Column::Mode.eq(reorder_rule::Mode::Manual))
        .count(db)
        .await?;
    // Lost sales per item, each with where it was asked: a rule takes those of its warehouse,
    // those of its branch without a warehouse, and those with neither.
    let mut lost_by_item: HashMap<Uuid, Vec<AskedAt>> = HashMap::new();
    for (item, wh, branch, d) in lost_rows {
        lost_by_item.entry(item).or_default().push((wh, branch, d));
    }
    let mut run = VelocityRun {
        pairs_with_sales: u64::try_from(sold.len()).unwrap_or(u64::MAX),
        pinned,
        ..Default::default()
    };
    let mut writes: Vec<(Uuid, i64, i64, i64)> = Vec::new();
    for r in &rules {
        run.computed_rules += 1;
        let s = sold
            .get(&(r.item_id, r.warehouse_id))
            .copied()
            .unwrap_or_default();
        let mut l = Demand::default();
        let branch = branch_of.get(&r.warehouse_id).copied();
        for (wh, b, d) in lost_by_item.get(&r.item_id).map_or(&[][..], Vec::as_slice) {
            let counts = match (wh, b) {
                (Some(w), _) => *w == r.warehouse_id,
                (None, Some(b)) => Some(*b) == branch,
                (None, None) => true,
            };
            if counts {
                for i in 0..3 {
                    l.units[i] += d.units[i];
                }
            }
        }
        let upd = units_per_day_milli(&s, &l, settings.lost_sale_weight_bp);
        let (min, max) = proposed_levels(upd, r.lead_days, &settings);
        if min != r.min_qty || max != r.max_qty {
            run.changed += 1;
        }
        writes.push((r.id, min, max, upd));
    }
    write_levels(db, &writes, now).await?;
    Ok(run)
}

/// Writes (rule, min, max, velocity) in batches: one `UPDATE … FROM (VALUES …)` per thousand
/// rules on both databases (SQLite has had `UPDATE … FROM` since 3.33; one statement a rule spent
/// most of a 300,000-rule run there).
async fn write_levels(
    db: &impl ConnectionTrait,
    writes: &[(Uuid, i64, i64, i64)],
    now: DateTime<Utc>,
) -> Result<()> {
    let b = db.get_database_backend();
    let pg = b == DatabaseBackend::Postgres;
    for chunk in writes.chunks(1000) {
        let mut values: Vec<Value> = vec![Value::from(now)];
        let rows: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, (id, min, max, upd))| {
                values.extend([
                    Value::from(*id),
                    Value::from(*min),
                    Value::from(*max),
                    Value::from(*upd),
                ]);
                let n = 2 + i * 4;
                if pg {
                    format!(
                        "(${}::uuid, ${}::bigint, ${}::bigint, ${}::bigint)",
                        n,
                        n + 1,
                        n + 2,
                        n + 3
                    )
                } else {
                    format!("(?{}, ?{}, ?{}, ?{})", n, n + 1, n + 2, n + 3)
                }
            })
            .collect();
        let sql = format!(
            "UPDATE reorder_rules SET min_qty = v.column2, max_qty = v.column3, \
             velocity_milli = v.column4, computed_at = {now}, updated_at = {now} \
             FROM (VALUES {rows}) AS v \
             WHERE reorder_rules.id = v.column1 AND reorder_rules.mode = 'computed'",
            now = ph(b, 1),
            rows = rows.join(", ")
        );
        db.execute_raw(Statement::from_sql_and_values(b, sql, values))
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s() -> setting::Model {
        crate::purchasing::settings::defaults()
    }

    #[test]
    fn the_velocity_weighs_the_three_windows() {
        // 28 sold in 4 weeks (1/day), 91 in 13 weeks (1/day), 364 in the year (1/day): 1.000.
        let sold = Demand {
            units: [28, 91, 364],
        };
        assert_eq!(units_per_day_milli(&sold, &Demand::default(), 5000), 1000);
        // Only recent sales: 28 in 4 weeks, the same 28 in the longer windows:
        // 0.5 × 1 + 0.3 × 28/91 + 0.2 × 28/364 = 0.5 + 0.0923 + 0.0154 = 0.6077 → 608.
        let recent = Demand {
            units: [28, 28, 28],
        };
        assert_eq!(units_per_day_milli(&recent, &Demand::default(), 5000), 608);
    }

    #[test]
    fn lost_sales_count_at_the_owners_weight() {
        let none = Demand::default();
        let lost = Demand {
            units: [28, 91, 364],
        };
        assert_eq!(units_per_day_milli(&none, &lost, 5000), 500);
        assert_eq!(units_per_day_milli(&none, &lost, 0), 0);
        assert_eq!(units_per_day_milli(&none, &lost, 10_000), 1000);
    }

    #[test]
    fn the_levels_cover_lead_and_safety_days_then_the_review() {
        // 1.5 a day, 5 lead days, 7 safety, 14 review: min ⌈18⌉ = 18, max 18 + 21 = 39.
        assert_eq!(proposed_levels(1500, 5, &s()), (18, 39));
        // 0.1 a day: min ⌈1.2⌉ = 2, max 2 + ⌈1.4⌉ = 4.
        assert_eq!(proposed_levels(100, 5, &s()), (2, 4));
        // No sales: zero.
        assert_eq!(proposed_levels(0, 5, &s()), (0, 0));
    }
}
