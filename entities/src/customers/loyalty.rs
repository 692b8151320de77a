//! The loyalty programme: tiers by spend over a rolling 12 months, points earned on money paid
//! (a credit sale earns when its charge is paid), taken back for returns, expiring after the
//! business's months, and spent as the `points` payment at checkout.
//!
//! Points are MXN centavos of value (1 point = 1 centavo), so a `points` payment is exact. Every
//! change is a ledger row (`loyalty_entries`) written with a conditional update of the
//! customer's `loyalty_points_cents`, in the transaction of what caused it; each row answers for
//! one thing (`ref_key`, unique per kind), so a retry never earns or takes twice. An earning is
//! a lot: spending, reversals and expiry take from the oldest lots first.

use chrono::{Months, NaiveDate};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::counter::tables::sale;
use crate::customers::tables::loyalty_entry::{self, Kind};
use crate::customers::tables::{customer, loyalty_setting, tier_change};
use crate::notifications::events;
use crate::org::audit::Entry;
use crate::org::branches::Actor;
use crate::rules::money::Money;
use crate::{Error, Result};

pub use crate::notifications::events::LOYALTY_TIER_CHANGED;

/// The loyalty tiers, lowest first.
pub const TIERS: [&str; 4] = ["bronze", "silver", "gold", "platinum"];

/// The settings until an owner writes them: off, silver from $20,000 a year, gold from $60,000,
/// platinum from $150,000; 1 %, 1.5 %, 2 % and 3 % back; points last 12 months.
#[must_use]
pub fn default_settings() -> loyalty_setting::Model {
    loyalty_setting::Model {
        id: 1,
        enabled: false,
        silver_from_cents: 2_000_000,
        gold_from_cents: 6_000_000,
        platinum_from_cents: 15_000_000,
        bronze_bp: 100,
        silver_bp: 150,
        gold_bp: 200,
        platinum_bp: 300,
        expiry_months: 12,
        updated_at: chrono::DateTime::UNIX_EPOCH,
    }
}

/// The business's settings (the defaults until written).
///
/// # Errors
/// Database errors.
pub async fn settings(db: &impl ConnectionTrait) -> Result<loyalty_setting::Model> {
    Ok(loyalty_setting::Entity::find_by_id(1)
        .one(db)
        .await?
        .unwrap_or_else(default_settings))
}

/// Writes the settings after checking them: thresholds rise with the tier, rates rise with it
/// and stay within 0–20 %, points last 1 to 60 months. Audited. Tiers follow the new
/// thresholds at the next sale or the nightly pass.
///
/// # Errors
/// [`Error::Validation`] naming the field.
pub async fn set_settings(
    db: &impl ConnectionTrait,
    actor: &Actor,
    s: loyalty_setting::Model,
) -> Result<loyalty_setting::Model> {
    if s.silver_from_cents <= 0 {
        return Err(Error::validation(
            "silver_from",
            "silver_from is above zero",
        ));
    }
    if s.gold_from_cents <= s.silver_from_cents {
        return Err(Error::validation(
            "gold_from",
            "gold_from is above silver_from",
        ));
    }
    if s.platinum_from_cents <= s.gold_from_cents {
        return Err(Error::validation(
            "platinum_from",
            "platinum_from is above gold_from",
        ));
    }
    if s.platinum_from_cents > crate::rules::money::MAX_CENTS {
        return Err(Error::validation(
            "platinum_from",
            "platinum_from is too large",
        ));
    }
    let rates = [
        ("bronze_rate", s.bronze_bp),
        ("silver_rate", s.silver_bp),
        ("gold_rate", s.gold_bp),
        ("platinum_rate", s.platinum_bp),
    ];
    for (field, bp) in rates {
        if !(0..=2000).contains(&bp) {
            return Err(Error::validation(field, format!("{field} is 0 to 20 %")));
        }
    }
    for w in rates.windows(2) {
        if w[1].1 < w[0].1 {
            return Err(Error::validation(
                w[1].0,
                format!("{} is at least {}", w[1].0, w[0].0),
            ));
        }
    }
    if !(1..=60).contains(&s.expiry_months) {
        return Err(Error::validation(
            "expiry_months",
            "expiry_months is 1 to 60",
        ));
    }
    let exists = loyalty_setting::Entity::find_by_id(1)
        .one(db)
        .await?
        .is_some();
    let mut am: loyalty_setting::ActiveModel = loyalty_setting::Model {
        id: 1,
        updated_at: crate::now(),
        ..s
    }
    .into();
    let saved = if exists {
        am = am.reset_all();
        am.update(db).await?
    } else {
        am.insert(db).await?
    };
    Entry::new("loyalty.settings_updated")
        .actor(actor.user_id)
        .target("loyalty_settings", 1)
        .request(None, actor.request_id.clone())
        .details(json!({
            "enabled": saved.enabled,
            "silver_from": Money(saved.silver_from_cents).to_string(),
            "gold_from": Money(saved.gold_from_cents).to_string(),
            "platinum_from": Money(saved.platinum_from_cents).to_string(),
            "rates_bp": [saved.bronze_bp, saved.silver_bp, saved.gold_bp, saved.platinum_bp],
            "expiry_months": saved.expiry_months,
        }))
        .record_tenant(db)
        .await?;
    Ok(saved)
}

/// The tier a 12-month spend reaches.
#[must_use]
pub fn tier_for(spend_cents: i64, s: &loyalty_setting::Model) -> &'static str {
    if spend_cents >= s.platinum_from_cents {
        "platinum"
    } else if spend_cents >= s.gold_from_cents {
        "gold"
    } else if spend_cents >= s.silver_from_cents {
        "silver"
    } else {
        "bronze"
    }
}

/// A tier's earning rate, basis points.
#[must_use]
pub fn rate_bp(tier: &str, s: &loyalty_setting::Model) -> i32 {
    match tier {
        "platinum" => s.platinum_bp,
        "gold" => s.gold_bp,
        "silver" => s.silver_bp,
        _ => s.bronze_bp,
    }
}

/// Points earned on `base_cents` paid at `bp`: rounded down, so the business never gives more
/// than its rate.
#[must_use]
pub fn points_for(base_cents: i64, bp: i32) -> i64 {
    i64::try_from(i128::from(Ord::max(base_cents, 0)) * i128::from(bp) / 10_000).unwrap_or(0)
}

/// The day an earning made on `today` expires: `months` later (the last day of a shorter
/// month).
#[must_use]
pub fn expiry(today: NaiveDate, months: i32) -> NaiveDate {
    today
        .checked_add_months(Months::new(u32::try_from(months).unwrap_or(12)))
        .unwrap_or(NaiveDate::MAX)
}

#[derive(Debug, FromQueryResult)]
struct Spend {
    spend: Option<i64>,
}

/// What a customer spent in the 365 days up to `today` (sales less refunds; cancelled sales do
/// not count).
///
/// # Errors
/// Database errors.
pub async fn spend_12m(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
    today: NaiveDate,
) -> Result<i64> {
    let since = window_start(today);
    let row = sale::Entity::find()
        .select_only()
        .column_as(
            Expr::cust("CAST(SUM(total_cents - refunded_cents) AS BIGINT)"),
            "spend",
        )
        .filter(sale::Column::CustomerId.eq(customer_id))
        .filter(sale::Column::Status.ne(sale::Status::Cancelled))
        .filter(sale::Column::CreatedAt.gte(since))
        .into_model::<Spend>()
        .one(db)
        .await?;
    Ok(row.and_then(|r| r.spend).unwrap_or(0))
}

/// The first instant of the rolling 12-month window ending `today`.
#[must_use]
pub fn window_start(today: NaiveDate) -> chrono::DateTime<chrono::Utc> {
    (today - chrono::Duration::days(364))
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
}

async fn find_customer(db: &impl ConnectionTrait, id: Uuid) -> Result<customer::Model> {
    customer::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "customer" })
}

/// Moves a customer to the tier `spend_cents` reaches, recording the change and a
/// `loyalty_tier_changed` event; none when the tier stays.
///
/// # Errors
/// Database errors.
pub async fn move_tier(
    db: &impl ConnectionTrait,
    c: &customer::Model,
    spend_cents: i64,
    s: &loyalty_setting::Model,
) -> Result<Option<tier_change::Model>> {
    let to = tier_for(spend_cents, s);
    if c.loyalty_tier == to {
        return Ok(None);
    }
    // Conditional on the tier read, so two sales at once record one change.
    let moved = customer::Entity::update_many()
        .col_expr(customer::Column::LoyaltyTier, Expr::value(to))
        .filter(customer::Column::Id.eq(c.id))
        .filter(customer::Column::LoyaltyTier.eq(c.loyalty_tier.as_str()))
        .exec(db)
        .await?;
    if moved.rows_affected != 1 {
        return Ok(None);
    }
    let change = tier_change::ActiveModel {
        id: sea_orm::NotSet,
        customer_id: Set(c.id),
        from_tier: Set(c.loyalty_tier.clone()),
        to_tier: Set(to.to_owned()),
        spend_cents: Set(spend_cents),
        created_at: Set(crate::now()),
    }
    .insert(db)
    .await?;
    events::record(
        db,
        LOYALTY_TIER_CHANGED,
        "customer",
        c.id,
        json!({
            "customer_id": c.id,
            "name": c.name,
            "from": change.from_tier,
            "to": change.to_tier,
            "spend_12m": Money(spend_cents).to_string(),
        }),
    )
    .await?;
    Ok(Some(change))
}

/// Earns points on `base_cents` paid towards `sale_id`, at the customer's tier's rate, once per
/// `ref_key`; then moves the tier if the 12-month spend now reaches another. Answers the points
/// earned (zero when the programme is off, nothing was paid, or `ref_key` already earned).
///
/// # Errors
/// [`Error::NotFound`] `customer`; database errors.
pub async fn earn(
    txn: &impl ConnectionTrait,
    customer_id: Uuid,
    sale_id: Uuid,
    base_cents: i64,
    ref_key: &str,
    actor_id: Option<Uuid>,
) -> Result<i64> {
    let s = settings(txn).await?;
    if !s.enabled {
        return Ok(0);
    }
    let c = find_customer(txn, customer_id).await?;
    let today = crate::today();
    let mut earned = 0;
    if base_cents > 0 {
        let points = points_for(base_cents, rate_bp(&c.loyalty_tier, &s));
        if points > 0 {
            let mut lot = lot(customer_id, points, ref_key, expiry(today, s.expiry_months));
            lot.sale_id = Set(Some(sale_id));
            lot.actor_id = Set(actor_id);
            if open_lot(txn, customer_id, points, lot).await? {
                earned = points;
            }
        }
    }
    let spend = spend_12m(txn, customer_id, today).await?;
    move_tier(txn, &c, spend, &s).await?;
    Ok(earned)
}

async fn add(txn: &impl ConnectionTrait, customer_id: Uuid, points: i64) -> Result<()> {
    customer::Entity::update_many()
        .col_expr(
            customer::Column::LoyaltyPointsCents,
            Expr::col(customer::Column::LoyaltyPointsCents).add(points),
        )
        .filter(customer::Column::Id.eq(customer_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Takes `points` off the customer only if they hold that many (a conditional update, so two
/// sales at once cannot spend them twice), then off the oldest lots.
async fn take(txn: &impl ConnectionTrait, customer_id: Uuid, points: i64) -> Result<bool> {
    let taken = customer::Entity::update_many()
        .col_expr(
            customer::Column::LoyaltyPointsCents,
            Expr::col(customer::Column::LoyaltyPointsCents).sub(points),
        )
        .filter(customer::Column::Id.eq(customer_id))
        .filter(customer::Column::LoyaltyPointsCents.gte(points))
        .exec(txn)
        .await?;
    if taken.rows_affected != 1 {
        return Ok(false);
    }
    let mut left = points;
    let lots = loyalty_entry::Entity::find()
        .filter(loyalty_entry::Column::CustomerId.eq(customer_id))
        .filter(loyalty_entry::Column::RemainingCents.gt(0))
        .order_by_asc(loyalty_entry::Column::ExpiresOn)
        .order_by_asc(loyalty_entry::Column::Id)
        .all(txn)
        .await?;
    for lot in lots {
        if left == 0 {
            break;
        }
        let n = Ord::min(left, lot.remaining_cents);
        loyalty_entry::Entity::update_many()
            .col_expr(
                loyalty_entry::Column::RemainingCents,
                Expr::col(loyalty_entry::Column::RemainingCents).sub(n),
            )
            .filter(loyalty_entry::Column::Id.eq(lot.id))
            .filter(loyalty_entry::Column::RemainingCents.gte(n))
            .exec(txn)
            .await?;
        left -= n;
    }
    if left != 0 {
        // The balance is the sum of open lots; a difference means the books disagree.
        return Err(Error::Internal(format!(
            "customer {customer_id}: points balance and lots disagree by {left}"
        )));
    }
    Ok(true)
}

fn entry(
    customer_id: Uuid,
    kind: Kind,
    points: i64,
    sale_id: Option<Uuid>,
    ref_key: String,
    actor_id: Option<Uuid>,
) -> loyalty_entry::ActiveModel {
    loyalty_entry::ActiveModel {
        id: sea_orm::NotSet,
        customer_id: Set(customer_id),
        kind: Set(kind),
        points_cents: Set(points),
        remaining_cents: Set(0),
        expires_on: Set(None),
        sale_id: Set(sale_id),
        ref_key: Set(Some(ref_key)),
        actor_id: Set(actor_id),
        note: Set(None),
        created_at: Set(crate::now()),
    }
}

/// Gives `points` as a new lot (a referral reward), once per `ref_key`, in the caller's
/// transaction; earns nothing else and moves no tier.
///
/// # Errors
/// Database errors.
pub async fn grant(
    txn: &impl ConnectionTrait,
    customer_id: Uuid,
    points: i64,
    ref_key: &str,
    note: &str,
    by: Uuid,
) -> Result<()> {
    let s = settings(txn).await?;
    let mut lot = lot(
        customer_id,
        points,
        ref_key,
        expiry(crate::today(), s.expiry_months),
    );
    lot.actor_id = Set(Some(by));
    lot.note = Set(Some(note.to_owned()));
    open_lot(txn, customer_id, points, lot).await?;
    Ok(())
}

/// An earning lot of `points` answering for `ref_key`.
fn lot(
    customer_id: Uuid,
    points: i64,
    ref_key: &str,
    expires_on: NaiveDate,
) -> loyalty_entry::ActiveModel {
    loyalty_entry::ActiveModel {
        id: sea_orm::NotSet,
        customer_id: Set(customer_id),
        kind: Set(Kind::Earn),
        points_cents: Set(points),
        remaining_cents: Set(points),
        expires_on: Set(Some(expires_on)),
        sale_id: Set(None),
        ref_key: Set(Some(ref_key.to_owned())),
        actor_id: Set(None),
        note: Set(None),
        created_at: Set(crate::now()),
    }
}

/// Writes `customer_id`'s lot of `points` unless its `ref_key` earned already, and adds it to
/// the customer's points;
/// `true` when written.
async fn open_lot(
    txn: &impl ConnectionTrait,
    customer_id: Uuid,
    points: i64,
    lot: loyalty_entry::ActiveModel,
) -> Result<bool> {
    let inserted = loyalty_entry::Entity::insert(lot)
        .on_conflict(
            OnConflict::columns([loyalty_entry::Column::Kind, loyalty_entry::Column::RefKey])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    if inserted == 1 {
        add(txn, customer_id, points).await?;
    }
    Ok(inserted == 1)
}

/// Spends `points` of the customer's on `sale_id` (the `points` payment). Runs in the sale's
/// transaction.
///
/// # Errors
/// [`Error::Conflict`] `points_insufficient` naming what the customer holds.
pub async fn redeem(
    txn: &impl ConnectionTrait,
    customer_id: Uuid,
    sale_id: Uuid,
    points: i64,
    by: Uuid,
) -> Result<()> {
    if !take(txn, customer_id, points).await? {
        let c = find_customer(txn, customer_id).await?;
        return Err(Error::conflict(
            "points_insufficient",
            format!(
                "the customer holds {} in points; {} cannot be paid with them",
                Money(c.loyalty_points_cents),
                Money(points)
            ),
        ));
    }
    entry(
        customer_id,
        Kind::Redeem,
        -points,
        Some(sale_id),
        format!("sale:{sale_id}"),
        Some(by),
    )
    .insert(txn)
    .await?;
    Ok(())
}

#[derive(Debug, FromQueryResult)]
struct Sum {
    n: Option<i64>,
}

async fn sum_of(txn: &impl ConnectionTrait, sale_id: Uuid, kind: Kind) -> Result<i64> {
    Ok(loyalty_entry::Entity::find()
        .select_only()
        .column_as(Expr::cust("CAST(SUM(points_cents) AS BIGINT)"), "n")
        .filter(loyalty_entry::Column::SaleId.eq(sale_id))
        .filter(loyalty_entry::Column::Kind.eq(kind))
        .into_model::<Sum>()
        .one(txn)
        .await?
        .and_then(|s| s.n)
        .unwrap_or(0))
}

/// What a return does to points, in the return's transaction: the points earned on the sale
/// are taken back in the share of the sale refunded (never more than the customer still holds:
/// points already spent are not clawed back), and of `to_pay_cents`, the refund still to pay,
/// what the sale was paid with points goes back as points (a new lot). Answers the points put
/// back; the caller pays the rest of the refund.
///
/// # Errors
/// Database errors.
pub async fn on_return(
    txn: &impl ConnectionTrait,
    doc: &sale::Model,
    return_id: Uuid,
    refund_cents: i64,
    to_pay_cents: i64,
    by: Uuid,
) -> Result<i64> {
    let Some(customer_id) = doc.customer_id else {
        return Ok(0);
    };
    let earned = sum_of(txn, doc.id, Kind::Earn).await?;
    if earned > 0 && doc.total_cents > 0 {
        let reversed = -sum_of(txn, doc.id, Kind::Reverse).await?;
        // The share of everything refunded so far, less what was taken back before: rounding
        // each return alone would drift from the whole.
        let refunded = Ord::min(doc.refunded_cents + refund_cents, doc.total_cents);
        let due_total =
            i64::try_from(i128::from(earned) * i128::from(refunded) / i128::from(doc.total_cents))
                .unwrap_or(earned);
        let c = find_customer(txn, customer_id).await?;
        let due = Ord::max(Ord::min(due_total - reversed, c.loyalty_points_cents), 0);
        if due > 0 && take(txn, customer_id, due).await? {
            entry(
                customer_id,
                Kind::Reverse,
                -due,
                Some(doc.id),
                format!("return:{return_id}"),
                Some(by),
            )
            .insert(txn)
            .await?;
        }
    }
    let redeemed = -sum_of(txn, doc.id, Kind::Redeem).await?;
    let given_back = sum_of(txn, doc.id, Kind::Refund).await?;
    let back = Ord::max(Ord::min(redeemed - given_back, to_pay_cents), 0);
    if back > 0 {
        let s = settings(txn).await?;
        let mut e = entry(
            customer_id,
            Kind::Refund,
            back,
            Some(doc.id),
            format!("return:{return_id}"),
            Some(by),
        );
        e.remaining_cents = Set(back);
        e.expires_on = Set(Some(expiry(crate::today(), s.expiry_months)));
        e.insert(txn).await?;
        add(txn, customer_id, back).await?;
    }
    Ok(back)
}

/// Expires what is left of every lot whose day has passed (before `today`), 500 lots a
/// transaction; each lot expires once (`lot:<id>`). Answers the lots expired.
///
/// # Errors
/// Database errors.
pub async fn expire(db: &sea_orm::DatabaseConnection, today: NaiveDate) -> Result<u64> {
    let mut done = 0;
    loop {
        let lots = loyalty_entry::Entity::find()
            .filter(loyalty_entry::Column::ExpiresOn.lt(today))
            .filter(loyalty_entry::Column::RemainingCents.gt(0))
            .order_by_asc(loyalty_entry::Column::Id)
            .limit(500)
            .all(db)
            .await?;
        if lots.is_empty() {
            return Ok(done);
        }
        // One transaction a batch: each lot's clearing is conditional on what was read, so a
        // second pass (or a concurrent one) expires nothing twice.
        let txn = crate::db::begin_write(db).await?;
        for lot in lots {
            let cleared = loyalty_entry::Entity::update_many()
                .col_expr(loyalty_entry::Column::RemainingCents, Expr::value(0i64))
                .filter(loyalty_entry::Column::Id.eq(lot.id))
                .filter(loyalty_entry::Column::RemainingCents.eq(lot.remaining_cents))
                .exec(&txn)
                .await?;
            if cleared.rows_affected == 1 {
                customer::Entity::update_many()
                    .col_expr(
                        customer::Column::LoyaltyPointsCents,
                        Expr::col(customer::Column::LoyaltyPointsCents).sub(lot.remaining_cents),
                    )
                    .filter(customer::Column::Id.eq(lot.customer_id))
                    .exec(&txn)
                    .await?;
                let mut e = entry(
                    lot.customer_id,
                    Kind::Expire,
                    -lot.remaining_cents,
                    lot.sale_id,
                    format!("lot:{}", lot.id),
                    None,
                );
                e.note = Set(lot.expires_on.map(|d| format!("expired on {d}")));
                e.insert(&txn).await?;
                done += 1;
            }
        }
        txn.commit().await?;
    }
}

#[derive(Debug, FromQueryResult)]
struct CustomerSpend {
    customer_id: Uuid,
    spend: Option<i64>,
}

/// Moves every customer whose tier no longer fits their 12-month spend (spend falls as old
/// sales leave the window), with one grouped query for the spends. Answers the changes.
///
/// # Errors
/// Database errors.
pub async fn refresh_tiers(db: &sea_orm::DatabaseConnection, today: NaiveDate) -> Result<u64> {
    let s = settings(db).await?;
    if !s.enabled {
        return Ok(0);
    }
    let spends: std::collections::HashMap<Uuid, i64> = sale::Entity::find()
        .select_only()
        .column(sale::Column::CustomerId)
        .column_as(
            Expr::cust("CAST(SUM(total_cents - refunded_cents) AS BIGINT)"),
            "spend",
        )
        .filter(sale::Column::CustomerId.is_not_null())
        .filter(sale::Column::Status.ne(sale::Status::Cancelled))
        .filter(sale::Column::CreatedAt.gte(window_start(today)))
        .group_by(sale::Column::CustomerId)
        .into_model::<CustomerSpend>()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.customer_id, r.spend.unwrap_or(0)))
        .collect();
    // Customers above bronze, and customers whose spend reaches above it: nobody else moves.
    let mut ids: Vec<Uuid> = spends
        .iter()
        .filter(|(_, v)| tier_for(**v, &s) != "bronze")
        .map(|(k, _)| *k)
        .collect();
    ids.extend(
        customer::Entity::find()
            .select_only()
            .column(customer::Column::Id)
            .filter(customer::Column::LoyaltyTier.ne("bronze"))
            .into_tuple::<Uuid>()
            .all(db)
            .await?,
    );
    ids.sort_unstable();
    ids.dedup();
    let mut moved = 0;
    for chunk in ids.chunks(500) {
        let rows = customer::Entity::find()
            .filter(customer::Column::Id.is_in(chunk.iter().copied()))
            .all(db)
            .await?;
        let txn = crate::db::begin_write(db).await?;
        for c in rows {
            let spend = spends.get(&c.id).copied().unwrap_or(0);
            if tier_for(spend, &s) != c.loyalty_tier
                && move_tier(&txn, &c, spend, &s).await?.is_some()
            {
                moved += 1;
            }
        }
        txn.commit().await?;
    }
    Ok(moved)
}

/// A customer's points ledger, newest first.
///
/// # Errors
/// [`Error::NotFound`] `customer`.
pub async fn ledger(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
    page: crate::PageRequest,
) -> Result<crate::Page<loyalty_entry::Model>> {
    find_customer(db, customer_id).await?;
    page.fetch(
        db,
        loyalty_entry::Entity::find()
            .filter(loyalty_entry::Column::CustomerId.eq(customer_id))
            .order_by_desc(loyalty_entry::Column::Id),
    )
    .await
}

/// A customer's tier changes, newest first.
///
/// # Errors
/// Database errors.
pub async fn tier_changes(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
) -> Result<Vec<tier_change::Model>> {
    Ok(tier_change::Entity::find()
        .filter(tier_change::Column::CustomerId.eq(customer_id))
        .order_by_desc(tier_change::Column::Id)
        .limit(100)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_start_at_their_thresholds() {
        let s = default_settings();
        assert_eq!(tier_for(0, &s), "bronze");
        assert_eq!(tier_for(1_999_999, &s), "bronze");
        assert_eq!(tier_for(2_000_000, &s), "silver");
        assert_eq!(tier_for(5_999_999, &s), "silver");
        assert_eq!(tier_for(6_000_000, &s), "gold");
        assert_eq!(tier_for(15_000_000, &s), "platinum");
    }

    #[test]
    fn points_are_rounded_down_to_the_centavo() {
        // $1,234.56 at 1.5 % is $18.5184: 1,851 centavos.
        assert_eq!(points_for(123_456, 150), 1_851);
        assert_eq!(points_for(99, 100), 0);
        assert_eq!(points_for(-500, 100), 0);
    }

    #[test]
    fn a_lot_expires_on_the_same_day_months_later_or_the_months_last_day() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(expiry(d(2026, 3, 15), 12), d(2027, 3, 15));
        assert_eq!(expiry(d(2026, 8, 31), 6), d(2027, 2, 28));
        assert_eq!(expiry(d(2027, 8, 31), 6), d(2028, 2, 29));
    }

    #[test]
    fn the_window_holds_365_days_today_included() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(
            window_start(today).date_naive(),
            NaiveDate::from_ymd_opt(2025, 12, 8).unwrap()
        );
    }
}
