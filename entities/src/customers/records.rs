//! Customers (the basic CRM record): validation of fiscal data and contact details, CRUD with
//! an audit trail, and the vehicles a customer owns.
//!
//! Fiscal fields follow CFDI 4.0: the RFC (generic `XAXX010101000`/`XEXX010101000` allowed), the
//! SAT tax regime key of the c_RegimenFiscal catalog and the fiscal postal code. Who may grant
//! a price list other than `mostrador` or credit is decided by the caller (the API); here only
//! the values are checked.

use sea_orm::sea_query::LikeExpr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::org::audit::Entry;
use crate::org::branches::Actor;
use crate::pricing::prices::{DEFAULT_LIST, check_list};
use crate::rules::cfdi;
use crate::rules::money::Money;
use crate::rules::rfc::Rfc;
use crate::{Error, Page, PageRequest, Result};
use crate::{customers::tables::customer, vehicles::tables::customer_vehicle};

/// SAT tax regime keys (c_RegimenFiscal) a customer may declare.
pub const TAX_REGIMES: [&str; 19] = [
    "601", "603", "605", "606", "607", "608", "610", "611", "612", "614", "615", "616", "620",
    "621", "622", "623", "624", "625", "626",
];

/// Fields of a new customer; `None` takes the default.
#[derive(Debug, Clone, Default)]
pub struct NewCustomer {
    /// Name or business name (required).
    pub name: String,
    /// RFC.
    pub rfc: Option<String>,
    /// SAT tax regime key.
    pub tax_regime: Option<String>,
    /// Fiscal postal code.
    pub zip: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// WhatsApp number, normalised to E.164.
    pub whatsapp_phone: Option<String>,
    /// Price list; `mostrador` by default.
    pub price_list: Option<String>,
    /// Credit limit; zero by default.
    pub credit_limit: Option<Money>,
    /// Notes.
    pub notes: Option<String>,
}

/// Changes to a customer; `None` leaves a field, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct CustomerPatch {
    /// New name.
    pub name: Option<String>,
    /// New RFC or none.
    pub rfc: Option<Option<String>>,
    /// New tax regime or none.
    pub tax_regime: Option<Option<String>>,
    /// New postal code or none.
    pub zip: Option<Option<String>>,
    /// New e-mail or none.
    pub email: Option<Option<String>>,
    /// New WhatsApp number or none.
    pub whatsapp_phone: Option<Option<String>>,
    /// New price list.
    pub price_list: Option<String>,
    /// New credit limit.
    pub credit_limit: Option<Money>,
    /// New notes or none.
    pub notes: Option<Option<String>>,
    /// Activate or deactivate.
    pub is_active: Option<bool>,
}

/// Filters of the customer list.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    /// Name, RFC or phone contains this (case-insensitive).
    pub q: Option<String>,
    /// Only this price list.
    pub price_list: Option<String>,
    /// Only active (`true`) or inactive (`false`) customers.
    pub active: Option<bool>,
}

pub(crate) fn blank_to_none(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn check_name(name: &str) -> Result<String> {
    crate::rules::text::required("name", name, 200)
}

/// Checks and normalises an RFC (upper case); generic RFCs are accepted.
///
/// # Errors
/// [`Error::Validation`] on `rfc`.
pub fn check_rfc(rfc: Option<String>) -> Result<Option<String>> {
    blank_to_none(rfc)
        .map(|r| Rfc::parse(&r).map(|r| r.as_str().to_owned()))
        .transpose()
}

/// Checks a SAT tax regime key against [`TAX_REGIMES`].
///
/// # Errors
/// [`Error::Validation`] on `tax_regime`.
pub fn check_tax_regime(regime: Option<String>) -> Result<Option<String>> {
    match blank_to_none(regime) {
        Some(r) if TAX_REGIMES.contains(&r.as_str()) => Ok(Some(r)),
        Some(r) => Err(Error::validation(
            "tax_regime",
            format!(
                "{r:?} is not a SAT tax regime key (c_RegimenFiscal): use one of {}",
                TAX_REGIMES.join(", ")
            ),
        )),
        None => Ok(None),
    }
}

/// An RFC and a tax regime stated together must fit each other (a company RFC with regime 612,
/// for personas físicas, is refused), by the same rule as the fiscal settings.
///
/// # Errors
/// [`Error::Validation`] on `tax_regime`.
pub fn check_fiscal_pair(rfc: Option<&str>, regime: Option<&str>) -> Result<()> {
    let (Some(rfc), Some(regime)) = (rfc, regime) else {
        return Ok(());
    };
    let checked = cfdi::check_rfc("rfc", rfc)?;
    cfdi::regime_fits("tax_regime", &checked, regime)?;
    Ok(())
}

fn check_zip(zip: Option<String>) -> Result<Option<String>> {
    match blank_to_none(zip) {
        Some(z) if z.len() == 5 && z.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(z)),
        Some(_) => Err(Error::validation("zip", "zip must be 5 digits")),
        None => Ok(None),
    }
}

pub(crate) fn check_email(email: Option<String>) -> Result<Option<String>> {
    let Some(e) = blank_to_none(email) else {
        return Ok(None);
    };
    crate::org::accounts::normalize_email(&e).map(Some)
}

/// Normalises a phone number to E.164. Ten digits are a Mexican number (`+52` is added); an old
/// mobile prefix `+52 1` is dropped, since Mexico stopped dialling it in 2019 and WhatsApp
/// identifies those numbers without it.
///
/// # Errors
/// [`Error::Validation`] on `whatsapp_phone`.
pub fn normalize_phone(phone: &str) -> Result<String> {
    let bad = || {
        Error::validation(
            "whatsapp_phone",
            "whatsapp_phone must be a 10-digit Mexican number or +country code and number",
        )
    };
    let p = phone.trim();
    if !p
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        || p.chars().skip(1).any(|c| c == '+')
    {
        return Err(bad());
    }
    let digits: String = p.chars().filter(char::is_ascii_digit).collect();
    let international = if p.starts_with('+') {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else if digits.len() == 10 {
        format!("52{digits}")
    } else if digits.len() == 12 && digits.starts_with("52") {
        digits
    } else {
        return Err(bad());
    };
    let international = match international.strip_prefix("521") {
        Some(rest) if rest.len() == 10 => format!("52{rest}"),
        _ => international,
    };
    if international.starts_with("52") && international.len() != 12 {
        return Err(bad());
    }
    if !(8..=15).contains(&international.len()) || international.starts_with('0') {
        return Err(bad());
    }
    Ok(format!("+{international}"))
}

fn check_phone(phone: Option<String>) -> Result<Option<String>> {
    blank_to_none(phone)
        .map(|p| normalize_phone(&p))
        .transpose()
}

pub(crate) fn check_notes(notes: Option<String>) -> Result<Option<String>> {
    match blank_to_none(notes) {
        Some(n) if n.chars().count() > 2000 => Err(Error::validation(
            "notes",
            "notes must be at most 2000 characters",
        )),
        other => Ok(other),
    }
}

fn entry(actor: &Actor, action: &str, id: Uuid) -> Entry {
    Entry::new(action)
        .actor(actor.user_id)
        .target("customer", id)
        .request(None, actor.request_id.clone())
}

/// Creates a customer.
///
/// # Errors
/// [`Error::Validation`] naming the field.
pub async fn create_customer(
    db: &DatabaseConnection,
    actor: &Actor,
    new: NewCustomer,
) -> Result<customer::Model> {
    let now = crate::now();
    let list = check_list(
        "price_list",
        new.price_list.as_deref().unwrap_or(DEFAULT_LIST),
    )?;
    let rfc = check_rfc(new.rfc)?;
    let tax_regime = check_tax_regime(new.tax_regime)?;
    check_fiscal_pair(rfc.as_deref(), tax_regime.as_deref())?;
    let am = customer::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(check_name(&new.name)?),
        search_text: Set(Some(search_text(&check_name(&new.name)?, rfc.as_deref()))),
        rfc: Set(rfc),
        tax_regime: Set(tax_regime),
        zip: Set(check_zip(new.zip)?),
        email: Set(check_email(new.email)?),
        whatsapp_phone: Set(check_phone(new.whatsapp_phone)?),
        price_list: Set(list.to_owned()),
        credit_limit_cents: Set(new.credit_limit.unwrap_or(Money::ZERO).0),
        balance_cents: Set(0),
        store_credit_cents: Set(0),
        loyalty_points_cents: Set(0),
        loyalty_tier: Set("bronze".into()),
        referral_code: Set(None),
        notes: Set(check_notes(new.notes)?),
        is_active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let txn = crate::db::begin_write(db).await?;
    let c = am.insert(&txn).await?;
    entry(actor, "customer.created", c.id)
        .details(json!({
            "name": c.name,
            "rfc": c.rfc,
            "price_list": c.price_list,
            "credit_limit_cents": c.credit_limit_cents,
        }))
        .record_tenant(&txn)
        .await?;
    txn.commit().await?;
    Ok(c)
}

/// Finds a customer.
///
/// # Errors
/// [`Error::NotFound`].
pub async fn get_customer(db: &impl ConnectionTrait, id: Uuid) -> Result<customer::Model> {
    customer::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "customer" })
}

/// A `LIKE` pattern matching `text` anywhere, its wildcards escaped.
pub(crate) fn contains_pattern(text: &str) -> LikeExpr {
    let escaped: String = text
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

/// What a customer is searched by: name and RFC, lower-cased without accents.
fn search_text(name: &str, rfc: Option<&str>) -> String {
    crate::catalog::text::fold(&format!("{name} {}", rfc.unwrap_or_default()))
}

/// Lists customers by name.
///
/// # Errors
/// [`Error::Validation`] for an unknown price list; database errors.
pub async fn list_customers(
    db: &impl ConnectionTrait,
    page: PageRequest,
    filter: CustomerFilter,
) -> Result<Page<customer::Model>> {
    let mut q = customer::Entity::find()
        .order_by_asc(customer::Column::Name)
        .order_by_asc(customer::Column::Id);
    if let Some(text) = blank_to_none(filter.q) {
        // Lower-cased on both sides: PostgreSQL's LIKE is case-sensitive, SQLite's is not.
        // Folded on both sides: `jose nunez` finds `José Núñez` on either database.
        let mut any = Condition::any().add(
            customer::Column::SearchText.like(contains_pattern(&crate::catalog::text::fold(&text))),
        );
        // A phone is stored as +52…: search by its digits.
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        if digits.len() >= 3 {
            any = any.add(customer::Column::WhatsappPhone.like(contains_pattern(&digits)));
        }
        q = q.filter(any);
    }
    if let Some(list) = filter.price_list {
        q = q.filter(customer::Column::PriceList.eq(check_list("price_list", &list)?));
    }
    if let Some(a) = filter.active {
        q = q.filter(customer::Column::IsActive.eq(a));
    }
    page.fetch(db, q).await
}

/// Applies a patch to a customer.
///
/// # Errors
/// [`Error::NotFound`], [`Error::Validation`] naming the field.
pub async fn update_customer(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    patch: CustomerPatch,
) -> Result<customer::Model> {
    let txn = crate::db::begin_write(db).await?;
    let mut am: customer::ActiveModel = get_customer(&txn, id).await?.into();
    let mut changed = serde_json::Map::new();
    if let Some(n) = patch.name {
        let n = check_name(&n)?;
        changed.insert("name".into(), json!(n));
        am.name = Set(n);
    }
    let both_given = patch.rfc.is_some() && patch.tax_regime.is_some();
    if let Some(v) = patch.rfc {
        let v = check_rfc(v)?;
        changed.insert("rfc".into(), json!(v));
        am.rfc = Set(v);
    }
    if let Some(v) = patch.tax_regime {
        let v = check_tax_regime(v)?;
        changed.insert("tax_regime".into(), json!(v));
        am.tax_regime = Set(v);
    }
    {
        // The pair as it will be stored: either half may come from the patch or the row.
        let stored = |v: &sea_orm::ActiveValue<Option<String>>| match v {
            sea_orm::ActiveValue::Set(v) | sea_orm::ActiveValue::Unchanged(v) => v.clone(),
            sea_orm::ActiveValue::NotSet => None,
        };
        // Two halves of one request that disagree are bad input; a half that disagrees with
        // the other half already stored conflicts with the record.
        check_fiscal_pair(
            stored(&am.rfc).as_deref(),
            stored(&am.tax_regime).as_deref(),
        )
        .map_err(|e| match e {
            Error::Validation { field, message } if !both_given => Error::conflict(
                "fiscal_pair_mismatch",
                format!("{field}: {message} (the customer's stored RFC and regime; send both)"),
            ),
            other => other,
        })?;
    }
    if let Some(v) = patch.zip {
        let v = check_zip(v)?;
        changed.insert("zip".into(), json!(v));
        am.zip = Set(v);
    }
    if let Some(v) = patch.email {
        let v = check_email(v)?;
        changed.insert("email".into(), json!(v));
        am.email = Set(v);
    }
    if let Some(v) = patch.whatsapp_phone {
        let v = check_phone(v)?;
        changed.insert("whatsapp_phone".into(), json!(v));
        am.whatsapp_phone = Set(v);
    }
    if let Some(v) = patch.price_list {
        let v = check_list("price_list", &v)?;
        changed.insert("price_list".into(), json!(v));
        am.price_list = Set(v.to_owned());
    }
    if let Some(v) = patch.credit_limit {
        changed.insert("credit_limit_cents".into(), json!(v.0));
        am.credit_limit_cents = Set(v.0);
    }
    if let Some(v) = patch.notes {
        let v = check_notes(v)?;
        // The notes themselves may hold personal data: the trail says they changed.
        changed.insert("notes".into(), json!(v.is_some()));
        am.notes = Set(v);
    }
    if let Some(a) = patch.is_active {
        changed.insert("is_active".into(), json!(a));
        am.is_active = Set(a);
    }
    if changed.contains_key("name") || changed.contains_key("rfc") {
        let name = match &am.name {
            sea_orm::ActiveValue::Set(v) | sea_orm::ActiveValue::Unchanged(v) => v.clone(),
            sea_orm::ActiveValue::NotSet => String::new(),
        };
        let rfc = match &am.rfc {
            sea_orm::ActiveValue::Set(v) | sea_orm::ActiveValue::Unchanged(v) => v.clone(),
            sea_orm::ActiveValue::NotSet => None,
        };
        am.search_text = Set(Some(search_text(&name, rfc.as_deref())));
    }
    am.updated_at = Set(crate::now());
    let c = am.update(&txn).await?;
    entry(actor, "customer.updated", id)
        .details(changed.into())
        .record_tenant(&txn)
        .await?;
    txn.commit().await?;
    Ok(c)
}

/// The vehicles registered to a customer, newest first.
///
/// # Errors
/// [`Error::NotFound`] for the customer.
pub async fn customer_vehicles(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Vec<customer_vehicle::Model>> {
    get_customer(db, id).await?;
    Ok(customer_vehicle::Entity::find()
        .filter(customer_vehicle::Column::CustomerId.eq(id))
        .order_by_desc(customer_vehicle::Column::CreatedAt)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_digit_numbers_become_mexican_e164() {
        assert_eq!(normalize_phone("81 1234 5678").unwrap(), "+528112345678");
        assert_eq!(normalize_phone("(55) 1234-5678").unwrap(), "+525512345678");
        assert_eq!(
            normalize_phone("+52 1 55 1234 5678").unwrap(),
            "+525512345678"
        );
        assert_eq!(normalize_phone("525512345678").unwrap(), "+525512345678");
        assert_eq!(
            normalize_phone("+1 (956) 555-0100").unwrap(),
            "+19565550100"
        );
        assert_eq!(normalize_phone("0019565550100").unwrap(), "+19565550100");
    }

    #[test]
    fn malformed_phones_are_refused() {
        for p in [
            "12345",
            "55-1234-567a",
            "+52 55 1234",
            "1+5512345678",
            "+0123456789",
        ] {
            assert!(normalize_phone(p).is_err(), "{p}");
        }
    }

    #[test]
    fn regimes_come_from_the_sat_catalog() {
        assert!(check_tax_regime(Some("601".into())).is_ok());
        assert!(check_tax_regime(Some("602".into())).is_err());
        assert_eq!(check_tax_regime(Some(" ".into())).unwrap(), None);
    }

    #[test]
    fn emails_and_zips_are_checked() {
        assert_eq!(
            check_email(Some(" Ana@Taller.MX ".into()))
                .unwrap()
                .as_deref(),
            Some("ana@taller.mx")
        );
        assert!(check_email(Some("ana@taller".into())).is_err());
        assert!(check_email(Some("ana taller@x.mx".into())).is_err());
        assert!(check_zip(Some("6400".into())).is_err());
        assert!(check_zip(Some("64000".into())).is_ok());
    }

    #[test]
    fn generic_rfcs_are_accepted() {
        assert_eq!(
            check_rfc(Some("xaxx010101000".into())).unwrap().as_deref(),
            Some("XAXX010101000")
        );
        assert!(check_rfc(Some("NOPE".into())).is_err());
    }
}
