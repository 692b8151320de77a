//! Referrals (embajadores): each customer has a referral code; a new customer who names it is
//! referred once, and their first paid sale of at least the business's minimum rewards the
//! ambassador once (points or store credit). Guards: nobody refers themselves, a customer with
//! the ambassador's RFC or WhatsApp number is the ambassador, and a customer who has bought
//! before is not new.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, Set, SqlErr, Statement,
};
use serde_json::json;
use uuid::Uuid;

use crate::counter::tables::sale;
use crate::customers::records::get_customer;
use crate::customers::tables::{customer, referral, referral_setting};
use crate::org::audit::Entry;
use crate::org::branches::Actor;
use crate::rules::money::Money;
use crate::{Error, Page, PageRequest, Result};

/// Letters and digits that are not mistaken for each other when read aloud or typed.
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// Generic RFCs (público en general, extranjero) shared by many customers: not a match.
const GENERIC_RFCS: [&str; 2] = ["XAXX010101000", "XEXX010101000"];

/// The settings until an owner writes them: off; $100 in points for a first sale of $500.
#[must_use]
pub fn default_settings() -> referral_setting::Model {
    referral_setting::Model {
        id: 1,
        enabled: false,
        reward_kind: "points".into(),
        reward_cents: 10_000,
        min_sale_cents: 50_000,
        updated_at: chrono::DateTime::UNIX_EPOCH,
    }
}

/// The business's settings.
///
/// # Errors
/// Database errors.
pub async fn settings(db: &impl ConnectionTrait) -> Result<referral_setting::Model> {
    Ok(referral_setting::Entity::find_by_id(1)
        .one(db)
        .await?
        .unwrap_or_else(default_settings))
}

/// Writes the settings after checking them; audited.
///
/// # Errors
/// [`Error::Validation`] naming the field.
pub async fn set_settings(
    db: &impl ConnectionTrait,
    actor: &Actor,
    s: referral_setting::Model,
) -> Result<referral_setting::Model> {
    if !["points", "store_credit"].contains(&s.reward_kind.as_str()) {
        return Err(Error::validation(
            "reward_kind",
            "reward_kind is points or store_credit",
        ));
    }
    if !(1..=crate::rules::money::MAX_CENTS).contains(&s.reward_cents) {
        return Err(Error::validation("reward", "a reward is above zero"));
    }
    if !(0..=crate::rules::money::MAX_CENTS).contains(&s.min_sale_cents) {
        return Err(Error::validation("min_sale", "min_sale is zero or more"));
    }
    let exists = referral_setting::Entity::find_by_id(1)
        .one(db)
        .await?
        .is_some();
    let am: referral_setting::ActiveModel = referral_setting::Model {
        id: 1,
        updated_at: crate::now(),
        ..s
    }
    .into();
    let saved = if exists {
        am.reset_all().update(db).await?
    } else {
        am.insert(db).await?
    };
    Entry::new("referrals.settings_updated")
        .actor(actor.user_id)
        .target("referral_settings", 1)
        .request(None, actor.request_id.clone())
        .details(json!({
            "enabled": saved.enabled,
            "reward_kind": saved.reward_kind,
            "reward": Money(saved.reward_cents).to_string(),
            "min_sale": Money(saved.min_sale_cents).to_string(),
        }))
        .record_tenant(db)
        .await?;
    Ok(saved)
}

fn new_code() -> String {
    let bytes = Uuid::new_v4().into_bytes();
    bytes
        .iter()
        .take(8)
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

/// A customer's referral code, made (and kept) on first ask.
///
/// # Errors
/// [`Error::NotFound`] `customer`.
pub async fn code_of(db: &impl ConnectionTrait, customer_id: Uuid) -> Result<String> {
    let c = get_customer(db, customer_id).await?;
    if let Some(code) = c.referral_code {
        return Ok(code);
    }
    for _ in 0..5 {
        let code = new_code();
        let set = customer::Entity::update_many()
            .col_expr(customer::Column::ReferralCode, Expr::value(code.clone()))
            .filter(customer::Column::Id.eq(customer_id))
            .filter(customer::Column::ReferralCode.is_null())
            .exec(db)
            .await;
        match set {
            Ok(r) if r.rows_affected == 1 => return Ok(code),
            // Another request set it first: that one stands.
            Ok(_) => break,
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
            Err(e) => return Err(e.into()),
        }
    }
    get_customer(db, customer_id)
        .await?
        .referral_code
        .ok_or_else(|| Error::Internal("no free referral code after five tries".into()))
}

fn same_rfc(a: Option<&str>, b: Option<&str>) -> bool {
    matches!((a, b), (Some(x), Some(y)) if x == y && !GENERIC_RFCS.contains(&x))
}

/// Records that `referred_id` came with `code`, audited.
///
/// # Errors
/// [`Error::Validation`] `code`; [`Error::NotFound`] `customer` or `referral_code`;
/// [`Error::Conflict`] `self_referral`, `same_person`, `not_a_new_customer`,
/// `already_referred`.
pub async fn refer(
    db: &impl ConnectionTrait,
    actor: &Actor,
    referred_id: Uuid,
    code: &str,
) -> Result<referral::Model> {
    let code = code.trim().to_ascii_uppercase();
    if code.is_empty() || code.len() > 12 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::validation(
            "code",
            "a referral code is 1 to 12 letters and digits",
        ));
    }
    let referred = get_customer(db, referred_id).await?;
    let ambassador = customer::Entity::find()
        .filter(customer::Column::ReferralCode.eq(code.as_str()))
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "referral_code",
        })?;
    if ambassador.id == referred.id {
        return Err(Error::conflict(
            "self_referral",
            "a customer cannot refer themselves",
        ));
    }
    let same_phone = matches!((&ambassador.whatsapp_phone, &referred.whatsapp_phone), (Some(x), Some(y)) if x == y);
    if same_rfc(ambassador.rfc.as_deref(), referred.rfc.as_deref()) || same_phone {
        return Err(Error::conflict(
            "same_person",
            "the referred customer has the ambassador's RFC or WhatsApp number",
        ));
    }
    let bought = sale::Entity::find()
        .filter(sale::Column::CustomerId.eq(referred.id))
        .filter(sale::Column::Status.ne(sale::Status::Cancelled))
        .count(db)
        .await?;
    if bought > 0 {
        return Err(Error::conflict(
            "not_a_new_customer",
            "the customer has bought before: referrals are for new customers",
        ));
    }
    let r = referral::ActiveModel {
        id: Set(Uuid::now_v7()),
        ambassador_id: Set(ambassador.id),
        referred_id: Set(referred.id),
        code: Set(code),
        status: Set("pending".into()),
        reward_kind: Set(None),
        reward_cents: Set(0),
        sale_id: Set(None),
        created_by: Set(actor.user_id),
        created_at: Set(crate::now()),
        rewarded_at: Set(None),
    }
    .insert(db)
    .await
    .map_err(|e| {
        if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
            Error::conflict("already_referred", "the customer was referred already")
        } else {
            e.into()
        }
    })?;
    Entry::new("customer.referred")
        .actor(actor.user_id)
        .target("customer", referred.id)
        .request(None, actor.request_id.clone())
        .details(json!({"ambassador_id": ambassador.id, "referral_id": r.id}))
        .record_tenant(db)
        .await?;
    Ok(r)
}

/// After a sale to `customer_id` paid `paid_cents` now: rewards the ambassador of a pending
/// referral when the sale reaches the minimum, once (a conditional update of the referral), in
/// the sale's transaction. Answers the reward given.
///
/// # Errors
/// Database errors.
pub async fn on_paid_sale(
    txn: &impl ConnectionTrait,
    customer_id: Uuid,
    sale_id: Uuid,
    paid_cents: i64,
    by: Uuid,
) -> Result<i64> {
    let Some(r) = referral::Entity::find()
        .filter(referral::Column::ReferredId.eq(customer_id))
        .filter(referral::Column::Status.eq("pending"))
        .one(txn)
        .await?
    else {
        return Ok(0);
    };
    let s = settings(txn).await?;
    if !s.enabled || paid_cents <= 0 || paid_cents < s.min_sale_cents {
        return Ok(0);
    }
    let won = referral::Entity::update_many()
        .col_expr(referral::Column::Status, Expr::value("rewarded"))
        .col_expr(
            referral::Column::RewardKind,
            Expr::value(s.reward_kind.clone()),
        )
        .col_expr(referral::Column::RewardCents, Expr::value(s.reward_cents))
        .col_expr(referral::Column::SaleId, Expr::value(sale_id))
        .col_expr(referral::Column::RewardedAt, Expr::value(crate::now()))
        .filter(referral::Column::Id.eq(r.id))
        .filter(referral::Column::Status.eq("pending"))
        .exec(txn)
        .await?;
    if won.rows_affected != 1 {
        return Ok(0);
    }
    if s.reward_kind == "store_credit" {
        crate::customers::accounts::grant_store_credit(
            txn,
            r.ambassador_id,
            s.reward_cents,
            format!("referral:{}", r.id),
            "referral reward",
            by,
        )
        .await?;
    } else {
        crate::customers::loyalty::grant(
            txn,
            r.ambassador_id,
            s.reward_cents,
            &format!("referral:{}", r.id),
            "referral reward",
            by,
        )
        .await?;
    }
    Entry::new("customer.referral_rewarded")
        .actor(Some(by))
        .target("customer", r.ambassador_id)
        .details(json!({
            "referral_id": r.id,
            "referred_id": customer_id,
            "sale_id": sale_id,
            "reward_kind": s.reward_kind,
            "reward": Money(s.reward_cents).to_string(),
        }))
        .record_tenant(txn)
        .await?;
    Ok(s.reward_cents)
}

/// Filters of the referral list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// One ambassador's.
    pub ambassador_id: Option<Uuid>,
    /// `pending` or `rewarded`.
    pub status: Option<String>,
}

/// Referrals, newest first.
///
/// # Errors
/// [`Error::Validation`] `status`.
pub async fn list(
    db: &impl ConnectionTrait,
    f: &Filter,
    page: PageRequest,
) -> Result<Page<referral::Model>> {
    let mut q = referral::Entity::find()
        .order_by_desc(referral::Column::CreatedAt)
        .order_by_desc(referral::Column::Id);
    if let Some(a) = f.ambassador_id {
        q = q.filter(referral::Column::AmbassadorId.eq(a));
    }
    if let Some(s) = &f.status {
        if !["pending", "rewarded"].contains(&s.as_str()) {
            return Err(Error::validation("status", "status is pending or rewarded"));
        }
        q = q.filter(referral::Column::Status.eq(s.as_str()));
    }
    page.fetch(db, q).await
}

/// An ambassador's conversions.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct Conversions {
    /// The ambassador.
    pub ambassador_id: Uuid,
    /// Customers referred.
    pub referred: i64,
    /// Of those, rewarded (their first qualifying sale happened).
    pub converted: i64,
    /// Rewards paid, MXN centavos.
    pub rewards_cents: i64,
}

/// Conversions per ambassador, most referred first (counted in SQL).
///
/// # Errors
/// Database errors.
pub async fn report(db: &impl ConnectionTrait) -> Result<Vec<Conversions>> {
    Ok(Conversions::find_by_statement(Statement::from_string(
        db.get_database_backend(),
        "SELECT ambassador_id, CAST(COUNT(*) AS BIGINT) AS referred, \
         CAST(SUM(CASE WHEN status = 'rewarded' THEN 1 ELSE 0 END) AS BIGINT) AS converted, \
         CAST(SUM(reward_cents) AS BIGINT) AS rewards_cents FROM referrals \
         GROUP BY ambassador_id ORDER BY referred DESC, ambassador_id LIMIT 500",
    ))
    .all(db)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_eight_unambiguous_characters() {
        for _ in 0..100 {
            let c = new_code();
            assert_eq!(c.len(), 8);
            assert!(c.bytes().all(|b| ALPHABET.contains(&b)), "{c}");
            assert!(!c.contains('O') && !c.contains('0') && !c.contains('I') && !c.contains('1'));
        }
    }

    #[test]
    fn a_generic_rfc_is_not_the_same_person() {
        assert!(same_rfc(Some("GUHE800101AB1"), Some("GUHE800101AB1")));
        assert!(!same_rfc(Some("XAXX010101000"), Some("XAXX010101000")));
        assert!(!same_rfc(None, None));
    }
}
