//! Credit from behaviour: a suggested limit and terms from a customer's payment history
//! (charges paid within terms, days late, 12-month volume, tenure), with its reasons. A manager
//! accepts, edits or dismisses it; the limit never changes by itself.
//!
//! The rule (`suggest`, pure): terms are 30 days from each credit sale. With charges due, the
//! share paid on time sets how many months of the customer's average monthly purchases the limit
//! covers — at least 90 % on time and under 5 days late on average: three months, 30 days; at
//! least 75 %: two months, 30 days; at least 50 %: one month, 15 days; below: cash only. A charge
//! more than 90 days past due means cash only until it is paid. Without credit history, a
//! customer of six months with six purchases in the year gets one month at 15 days. Under 90
//! days as a customer, never more than one month. Limits are rounded down to $100.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::counter::tables::sale;
use crate::customers::records::get_customer;
use crate::customers::tables::credit_review::{self, Status};
use crate::customers::tables::{account_allocation, account_entry, customer};
use crate::org::audit::Entry;
use crate::org::branches::Actor;
use crate::rules::money::Money;
use crate::{Error, Page, PageRequest, Result};

/// Days from a credit sale to when it is due.
pub const TERMS_DAYS: i64 = 30;

/// What a suggestion is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct History {
    /// Charges settled, and open charges whose due day has passed.
    pub due: i64,
    /// Of those, settled by their due day.
    pub on_time: i64,
    /// Total days past due over the charges due (paid late: days late at payment; still open:
    /// days late so far).
    pub days_late: i64,
    /// The most days an open charge is past due.
    pub worst_open_late: i64,
    /// Sales less refunds in the last 12 months, MXN centavos.
    pub volume_12m: i64,
    /// Sales in the last 12 months.
    pub purchases_12m: i64,
    /// Days since the first purchase.
    pub tenure_days: i64,
}

/// A suggested limit and terms with the reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// MXN centavos, a multiple of $100.
    pub limit_cents: i64,
    /// Days; 0 for cash only.
    pub terms_days: i64,
    /// Why, one sentence each.
    pub reasons: Vec<String>,
}

fn round_down_100(cents: i64) -> i64 {
    cents.max(0) / 10_000 * 10_000
}

/// The rule of the module's documentation.
#[must_use]
pub fn suggest(h: &History) -> Suggestion {
    let monthly = h.volume_12m.max(0) / 12;
    let mut reasons = vec![format!(
        "bought {} in the last 12 months ({} a month) in {} purchases, a customer for {} days",
        Money(h.volume_12m),
        Money(monthly),
        h.purchases_12m,
        h.tenure_days
    )];
    let (months, terms) = if h.due == 0 {
        if h.tenure_days >= 180 && h.purchases_12m >= 6 {
            reasons.push(
                "no credit history yet; a steady cash customer: one month of purchases at 15 days"
                    .into(),
            );
            (1, 15)
        } else {
            reasons.push(
                "no credit history and under six months or six purchases: cash only for now".into(),
            );
            (0, 0)
        }
    } else {
        let on_time_pct = h.on_time * 100 / h.due;
        let avg_late = h.days_late / h.due;
        reasons.push(format!(
            "{} of {} charges paid within {TERMS_DAYS} days ({on_time_pct} %), {avg_late} days late on average",
            h.on_time, h.due
        ));
        if h.worst_open_late > 90 {
            reasons.push(format!(
                "a charge is {} days past due: cash only until it is paid",
                h.worst_open_late
            ));
            (0, 0)
        } else if h.on_time * 10 >= h.due * 9 && avg_late < 5 {
            reasons.push("pays on time: three months of purchases at 30 days".into());
            (3, 30)
        } else if h.on_time * 4 >= h.due * 3 {
            reasons.push("mostly on time: two months of purchases at 30 days".into());
            (2, 30)
        } else if h.on_time * 2 >= h.due {
            reasons.push("often late: one month of purchases at 15 days".into());
            (1, 15)
        } else {
            reasons.push("late more often than not: cash only".into());
            (0, 0)
        }
    };
    let months = if h.tenure_days < 90 && months > 1 {
        reasons.push("under 90 days as a customer: at most one month".into());
        1
    } else {
        months
    };
    let limit_cents = round_down_100(monthly * months);
    Suggestion {
        limit_cents,
        terms_days: if limit_cents == 0 { 0 } else { terms },
        reasons,
    }
}

/// A customer's history as of `now`.
///
/// # Errors
/// Database errors.
pub async fn history(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<History> {
    let charges = account_entry::Entity::find()
        .filter(account_entry::Column::CustomerId.eq(customer_id))
        .filter(account_entry::Column::Kind.eq(account_entry::Kind::Charge))
        .all(db)
        .await?;
    let ids: Vec<Uuid> = charges.iter().map(|c| c.id).collect();
    let mut settled: std::collections::HashMap<Uuid, DateTime<Utc>> =
        std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let allocations = account_allocation::Entity::find()
            .filter(account_allocation::Column::ChargeId.is_in(chunk.iter().copied()))
            .all(db)
            .await?;
        let entry_ids: Vec<Uuid> = allocations.iter().map(|a| a.entry_id).collect();
        let when: std::collections::HashMap<Uuid, DateTime<Utc>> = account_entry::Entity::find()
            .filter(account_entry::Column::Id.is_in(entry_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|e| (e.id, e.created_at))
            .collect();
        for a in allocations {
            if let Some(at) = when.get(&a.entry_id) {
                let e = settled.entry(a.charge_id).or_insert(*at);
                if *at > *e {
                    *e = *at;
                }
            }
        }
    }
    let mut h = History::default();
    for c in &charges {
        let due_at = c.created_at + chrono::Duration::days(TERMS_DAYS);
        if c.open_cents == 0 {
            // Paid (or credited) in full: by the last allocation, or at once when none.
            let paid_at = settled.get(&c.id).copied().unwrap_or(c.created_at);
            h.due += 1;
            let late = (paid_at - due_at).num_days().max(0);
            if paid_at <= due_at {
                h.on_time += 1;
            }
            h.days_late += late;
        } else if now > due_at {
            h.due += 1;
            let late = (now - due_at).num_days().max(0);
            h.days_late += late;
            h.worst_open_late = h.worst_open_late.max(late);
        }
    }
    h.volume_12m = crate::customers::loyalty::spend_12m(db, customer_id, today).await?;
    let sales = sale::Entity::find()
        .filter(sale::Column::CustomerId.eq(customer_id))
        .filter(sale::Column::Status.ne(sale::Status::Cancelled))
        .order_by_asc(sale::Column::CreatedAt)
        .all(db)
        .await?;
    let since = crate::customers::loyalty::window_start(today);
    h.purchases_12m =
        i64::try_from(sales.iter().filter(|s| s.created_at >= since).count()).unwrap_or(i64::MAX);
    h.tenure_days = sales
        .first()
        .map_or(0, |s| (now - s.created_at).num_days().max(0));
    Ok(h)
}

/// Computes and records a pending suggestion for a customer, audited; changes no limit.
///
/// # Errors
/// [`Error::NotFound`] `customer`.
pub async fn review(
    db: &impl ConnectionTrait,
    actor: &Actor,
    customer_id: Uuid,
) -> Result<credit_review::Model> {
    let c = get_customer(db, customer_id).await?;
    let h = history(db, customer_id, crate::now(), crate::today()).await?;
    let s = suggest(&h);
    let r =
        credit_review::ActiveModel {
            id: Set(Uuid::now_v7()),
            customer_id: Set(customer_id),
            current_limit_cents: Set(c.credit_limit_cents),
            suggested_limit_cents: Set(s.limit_cents),
            suggested_terms_days: Set(i32::try_from(s.terms_days).unwrap_or(0)),
            on_time_bp: Set(
                (h.due > 0).then(|| i32::try_from(h.on_time * 10_000 / h.due).unwrap_or(0))
            ),
            avg_days_late: Set(
                (h.due > 0).then(|| i32::try_from(h.days_late / h.due).unwrap_or(i32::MAX))
            ),
            volume_12m_cents: Set(h.volume_12m),
            tenure_days: Set(i32::try_from(h.tenure_days).unwrap_or(i32::MAX)),
            reasons: Set(json!(s.reasons)),
            status: Set(Status::Pending),
            applied_limit_cents: Set(None),
            decided_by: Set(None),
            decided_at: Set(None),
            created_by: Set(actor.user_id),
            created_at: Set(crate::now()),
        }
        .insert(db)
        .await?;
    Entry::new("customer.credit_reviewed")
        .actor(actor.user_id)
        .target("customer", customer_id)
        .request(None, actor.request_id.clone())
        .details(json!({
            "review_id": r.id,
            "suggested_limit": Money(r.suggested_limit_cents).to_string(),
            "terms_days": r.suggested_terms_days,
        }))
        .record_tenant(db)
        .await?;
    Ok(r)
}

/// A customer's reviews, newest first.
///
/// # Errors
/// [`Error::NotFound`] `customer`.
pub async fn reviews(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
    page: PageRequest,
) -> Result<Page<credit_review::Model>> {
    get_customer(db, customer_id).await?;
    page.fetch(
        db,
        credit_review::Entity::find()
            .filter(credit_review::Column::CustomerId.eq(customer_id))
            .order_by_desc(credit_review::Column::CreatedAt)
            .order_by_desc(credit_review::Column::Id),
    )
    .await
}

/// Decides a pending review: `Some(limit)` applies it to the customer (as suggested:
/// `accepted`; another amount: `edited`), `None` dismisses it. Audited.
///
/// # Errors
/// [`Error::NotFound`] `credit_review`; [`Error::Conflict`] `review_decided`;
/// [`Error::Validation`] `limit`.
pub async fn decide(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    limit: Option<Option<Money>>,
) -> Result<credit_review::Model> {
    let r = credit_review::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "credit_review",
        })?;
    if r.status != Status::Pending {
        return Err(Error::conflict(
            "review_decided",
            format!("this review was {} already", r.status.as_str()),
        ));
    }
    let now = crate::now();
    let (status, applied) = match limit {
        None => (Status::Dismissed, None),
        Some(None) => (Status::Accepted, Some(r.suggested_limit_cents)),
        Some(Some(m)) => {
            if m.0 < 0 || m.0 > crate::rules::money::MAX_CENTS {
                return Err(Error::validation("limit", "a limit is zero or more"));
            }
            let status = if m.0 == r.suggested_limit_cents {
                Status::Accepted
            } else {
                Status::Edited
            };
            (status, Some(m.0))
        }
    };
    // Conditional on `pending`, so two managers deciding at once decide once.
    let updated = credit_review::Entity::update_many()
        .col_expr(
            credit_review::Column::Status,
            sea_orm::sea_query::Expr::value(status.as_str()),
        )
        .col_expr(
            credit_review::Column::AppliedLimitCents,
            sea_orm::sea_query::Expr::value(applied),
        )
        .col_expr(
            credit_review::Column::DecidedBy,
            sea_orm::sea_query::Expr::value(actor.user_id),
        )
        .col_expr(
            credit_review::Column::DecidedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(credit_review::Column::Id.eq(id))
        .filter(credit_review::Column::Status.eq(Status::Pending.as_str()))
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        return Err(Error::conflict(
            "review_decided",
            "this review was decided meanwhile",
        ));
    }
    if let Some(limit) = applied {
        let mut c: customer::ActiveModel = get_customer(db, r.customer_id).await?.into();
        c.credit_limit_cents = Set(limit);
        c.updated_at = Set(now);
        c.update(db).await?;
    }
    Entry::new("customer.credit_review_decided")
        .actor(actor.user_id)
        .target("customer", r.customer_id)
        .request(None, actor.request_id.clone())
        .details(json!({
            "review_id": id,
            "status": status.as_str(),
            "suggested_limit": Money(r.suggested_limit_cents).to_string(),
            "applied_limit": applied.map(|a| Money(a).to_string()),
            "previous_limit": Money(r.current_limit_cents).to_string(),
        }))
        .record_tenant(db)
        .await?;
    credit_review::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "credit_review",
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(due: i64, on_time: i64, days_late: i64, volume: i64, tenure: i64) -> History {
        History {
            due,
            on_time,
            days_late,
            worst_open_late: 0,
            volume_12m: volume,
            purchases_12m: 12,
            tenure_days: tenure,
        }
    }

    #[test]
    fn a_punctual_customer_gets_three_months_at_thirty_days() {
        // $120,000 a year is $10,000 a month: three months, $30,000.
        let s = suggest(&h(10, 10, 0, 12_000_000, 400));
        assert_eq!((s.limit_cents, s.terms_days), (3_000_000, 30));
        // 9 of 10 on time, 4 days late on average: still three months.
        assert_eq!(
            suggest(&h(10, 9, 40, 12_000_000, 400)).limit_cents,
            3_000_000
        );
        // 9 of 10 but 5 days late on average: two months.
        assert_eq!(
            suggest(&h(10, 9, 50, 12_000_000, 400)).limit_cents,
            2_000_000
        );
    }

    #[test]
    fn lateness_lowers_the_months_and_the_terms() {
        assert_eq!(
            suggest(&h(4, 3, 30, 12_000_000, 400)).limit_cents,
            2_000_000
        );
        let s = suggest(&h(4, 2, 60, 12_000_000, 400));
        assert_eq!((s.limit_cents, s.terms_days), (1_000_000, 15));
        let s = suggest(&h(4, 1, 90, 12_000_000, 400));
        assert_eq!((s.limit_cents, s.terms_days), (0, 0));
    }

    #[test]
    fn a_charge_over_ninety_days_past_due_means_cash_only() {
        let mut x = h(10, 9, 10, 12_000_000, 400);
        x.worst_open_late = 91;
        let s = suggest(&x);
        assert_eq!((s.limit_cents, s.terms_days), (0, 0));
        assert!(s.reasons.iter().any(|r| r.contains("91 days past due")));
    }

    #[test]
    fn new_customers_get_at_most_one_month_and_limits_are_whole_hundreds() {
        // $10,000.99 a month at three months would be $30,002.97; under 90 days: one month,
        // rounded down to $10,000.
        let s = suggest(&h(2, 2, 0, 12_001_188, 60));
        assert_eq!(s.limit_cents, 1_000_000);
        assert!(s.reasons.iter().any(|r| r.contains("under 90 days")));
    }

    #[test]
    fn without_credit_history_a_steady_cash_customer_gets_one_month() {
        let mut x = h(0, 0, 0, 6_000_000, 200);
        assert_eq!(suggest(&x).limit_cents, 500_000);
        assert_eq!(suggest(&x).terms_days, 15);
        x.purchases_12m = 5;
        assert_eq!(suggest(&x).limit_cents, 0);
    }
}
