//! Suppliers: who the business buys from, their terms, and a soft delete that keeps them on the
//! orders that name them.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::customers::records::{blank_to_none, check_email, check_notes, contains_pattern};
use crate::org::audit::Entry;
use crate::org::branches::Actor;
use crate::purchasing::tables::supplier;
use crate::rules::money::Currency;
use crate::{Error, Page, PageRequest, Result};

/// A supplier to create.
#[derive(Debug, Clone, Default)]
pub struct NewSupplier {
    /// Trade or legal name.
    pub name: String,
    /// RFC (validated when given).
    pub rfc: Option<String>,
    /// Who to talk to.
    pub contact_name: Option<String>,
    /// Where orders are e-mailed.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Days of credit (0 to 365).
    pub payment_terms_days: Option<i32>,
    /// `MXN` (default) or `USD`.
    pub currency: Option<String>,
    /// Days from order to delivery (0 to 365).
    pub lead_days: Option<i32>,
    /// Notes.
    pub notes: Option<String>,
}

/// Changes to a supplier: a field left `None` is unchanged; `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct SupplierPatch {
    /// New name.
    pub name: Option<String>,
    /// New RFC or none.
    pub rfc: Option<Option<String>>,
    /// New contact or none.
    pub contact_name: Option<Option<String>>,
    /// New e-mail or none.
    pub email: Option<Option<String>>,
    /// New phone or none.
    pub phone: Option<Option<String>>,
    /// New terms.
    pub payment_terms_days: Option<i32>,
    /// New currency.
    pub currency: Option<String>,
    /// New lead time.
    pub lead_days: Option<i32>,
    /// New notes or none.
    pub notes: Option<Option<String>>,
    /// Active or not.
    pub is_active: Option<bool>,
}

/// Filters of the supplier list.
#[derive(Debug, Clone, Default)]
pub struct SupplierFilter {
    /// Text in the name, RFC or contact (accents and case ignored).
    pub q: Option<String>,
    /// Only active (true) or inactive (false) ones.
    pub active: Option<bool>,
}

/// A number of days from 0 to 365 (payment terms, lead times).
///
/// # Errors
/// [`Error::Validation`] on `field`.
pub(crate) fn check_days(field: &str, days: i32) -> Result<i32> {
    if (0..=365).contains(&days) {
        Ok(days)
    } else {
        Err(Error::validation(
            field,
            format!("{field} is 0 to 365 days"),
        ))
    }
}

fn check_rfc(rfc: Option<String>) -> Result<Option<String>> {
    blank_to_none(rfc)
        .map(|r| crate::rules::rfc::Rfc::parse(&r).map(|r| r.as_str().to_owned()))
        .transpose()
}

fn check_phone(phone: Option<String>) -> Result<Option<String>> {
    blank_to_none(phone)
        .map(|p| {
            crate::customers::records::normalize_phone(&p).map_err(|_| {
                Error::validation(
                    "phone",
                    "phone must be 10 digits or +country code and number",
                )
            })
        })
        .transpose()
}

fn search_text(name: &str, rfc: Option<&str>, contact: Option<&str>) -> String {
    crate::catalog::text::fold(&format!(
        "{name} {} {}",
        rfc.unwrap_or_default(),
        contact.unwrap_or_default()
    ))
}

fn entry(actor: &Actor, action: &str, id: Uuid) -> Entry {
    Entry::new(action)
        .actor(actor.user_id)
        .target("supplier", id)
        .request(None, actor.request_id.clone())
}

/// Creates a supplier.
///
/// # Errors
/// [`Error::Validation`] naming the field; [`Error::Conflict`] `supplier_rfc_taken` when an
/// active supplier has the RFC already.
pub async fn create_supplier(
    db: &impl ConnectionTrait,
    actor: &Actor,
    new: NewSupplier,
) -> Result<supplier::Model> {
    let name = crate::rules::text::required("name", &new.name, 200)?;
    let rfc = check_rfc(new.rfc)?;
    let contact = crate::rules::text::optional("contact_name", new.contact_name, 200)?;
    let currency = Currency::parse("currency", new.currency.as_deref().unwrap_or("MXN"))?;
    if let Some(r) = &rfc {
        rfc_free(db, r, None).await?;
    }
    let now = crate::now();
    let s = supplier::ActiveModel {
        id: Set(Uuid::now_v7()),
        search_text: Set(search_text(&name, rfc.as_deref(), contact.as_deref())),
        name: Set(name),
        rfc: Set(rfc),
        contact_name: Set(contact),
        email: Set(check_email(new.email)?),
        phone: Set(check_phone(new.phone)?),
        payment_terms_days: Set(check_days(
            "payment_terms_days",
            new.payment_terms_days.unwrap_or(0),
        )?),
        currency: Set(currency.code().to_owned()),
        lead_days: Set(check_days("lead_days", new.lead_days.unwrap_or(0))?),
        notes: Set(check_notes(new.notes)?),
        is_active: Set(true),
        deleted_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    entry(actor, "supplier.created", s.id)
        .details(json!({"name": s.name, "rfc": s.rfc}))
        .record_tenant(db)
        .await?;
    Ok(s)
}

async fn rfc_free(db: &impl ConnectionTrait, rfc: &str, except: Option<Uuid>) -> Result<()> {
    let mut q = supplier::Entity::find()
        .filter(supplier::Column::Rfc.eq(rfc))
        .filter(supplier::Column::DeletedAt.is_null());
    if let Some(id) = except {
        q = q.filter(supplier::Column::Id.ne(id));
    }
    if q.one(db).await?.is_some() {
        return Err(Error::conflict(
            "supplier_rfc_taken",
            format!("another supplier has RFC {rfc}"),
        ));
    }
    Ok(())
}

/// A supplier that is not deleted.
///
/// # Errors
/// [`Error::NotFound`] `supplier`.
pub async fn get_supplier(db: &impl ConnectionTrait, id: Uuid) -> Result<supplier::Model> {
    supplier::Entity::find_by_id(id)
        .filter(supplier::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "supplier" })
}

/// A supplier named by a request field: missing is 404 naming the field, inactive is 409.
///
/// # Errors
/// [`Error::Missing`] `supplier_not_found`; [`Error::Conflict`] `supplier_inactive`.
pub async fn usable_supplier(
    db: &impl ConnectionTrait,
    field: &str,
    id: Uuid,
) -> Result<supplier::Model> {
    let s = supplier::Entity::find_by_id(id)
        .filter(supplier::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| {
            Error::missing(
                field,
                "supplier_not_found",
                format!("supplier {id} does not exist"),
            )
        })?;
    if !s.is_active {
        return Err(Error::conflict(
            "supplier_inactive",
            format!("{field}: supplier {} is inactive", s.name),
        ));
    }
    Ok(s)
}

/// Suppliers by name.
///
/// # Errors
/// [`Error::Validation`] on `q` past 100 characters.
pub async fn list_suppliers(
    db: &impl ConnectionTrait,
    page: PageRequest,
    filter: SupplierFilter,
) -> Result<Page<supplier::Model>> {
    let mut q = supplier::Entity::find()
        .filter(supplier::Column::DeletedAt.is_null())
        .order_by_asc(supplier::Column::Name)
        .order_by_asc(supplier::Column::Id);
    if let Some(text) = blank_to_none(filter.q) {
        if text.chars().count() > 100 {
            return Err(Error::validation("q", "q is at most 100 characters"));
        }
        q = q.filter(
            supplier::Column::SearchText.like(contains_pattern(&crate::catalog::text::fold(&text))),
        );
    }
    if let Some(a) = filter.active {
        q = q.filter(supplier::Column::IsActive.eq(a));
    }
    page.fetch(db, q).await
}

/// Applies a patch; the audit entry lists what changed.
///
/// # Errors
/// [`Error::NotFound`] `supplier`; [`Error::Validation`] naming the field;
/// [`Error::Conflict`] `supplier_rfc_taken`.
pub async fn update_supplier(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    patch: SupplierPatch,
) -> Result<supplier::Model> {
    let s = get_supplier(db, id).await?;
    let mut changed = Map::new();
    let mut am: supplier::ActiveModel = s.clone().into();
    let mut name = s.name.clone();
    let mut rfc = s.rfc.clone();
    let mut contact = s.contact_name.clone();
    if let Some(n) = patch.name {
        name = crate::rules::text::required("name", &n, 200)?;
        changed.insert("name".into(), json!(name));
        am.name = Set(name.clone());
    }
    if let Some(r) = patch.rfc {
        rfc = check_rfc(r)?;
        if let Some(r) = &rfc {
            rfc_free(db, r, Some(id)).await?;
        }
        changed.insert("rfc".into(), json!(rfc));
        am.rfc = Set(rfc.clone());
    }
    if let Some(c) = patch.contact_name {
        contact = crate::rules::text::optional("contact_name", c, 200)?;
        changed.insert("contact_name".into(), json!(contact));
        am.contact_name = Set(contact.clone());
    }
    if let Some(e) = patch.email {
        let e = check_email(e)?;
        changed.insert("email".into(), json!(e));
        am.email = Set(e);
    }
    if let Some(p) = patch.phone {
        let p = check_phone(p)?;
        changed.insert("phone".into(), json!(p));
        am.phone = Set(p);
    }
    if let Some(d) = patch.payment_terms_days {
        changed.insert("payment_terms_days".into(), json!(d));
        am.payment_terms_days = Set(check_days("payment_terms_days", d)?);
    }
    if let Some(c) = patch.currency {
        let c = Currency::parse("currency", &c)?.code().to_owned();
        changed.insert("currency".into(), json!(c));
        am.currency = Set(c);
    }
    if let Some(d) = patch.lead_days {
        changed.insert("lead_days".into(), json!(d));
        am.lead_days = Set(check_days("lead_days", d)?);
    }
    if let Some(n) = patch.notes {
        let n = check_notes(n)?;
        changed.insert("notes".into(), json!(n));
        am.notes = Set(n);
    }
    if let Some(a) = patch.is_active {
        changed.insert("is_active".into(), json!(a));
        am.is_active = Set(a);
    }
    if changed.is_empty() {
        return Ok(s);
    }
    am.search_text = Set(search_text(&name, rfc.as_deref(), contact.as_deref()));
    am.updated_at = Set(crate::now());
    let s = am.update(db).await?;
    entry(actor, "supplier.updated", id)
        .details(Value::Object(changed))
        .record_tenant(db)
        .await?;
    Ok(s)
}

/// Soft-deletes a supplier: gone from lists and new orders, kept on the orders that name it.
///
/// # Errors
/// [`Error::NotFound`] `supplier`; [`Error::Conflict`] `supplier_has_open_orders` while an order
/// to it is open.
pub async fn delete_supplier(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> Result<()> {
    use crate::purchasing::tables::purchase_order::{self, Status};
    let s = get_supplier(db, id).await?;
    let open = purchase_order::Entity::find()
        .filter(purchase_order::Column::SupplierId.eq(id))
        .filter(purchase_order::Column::Status.is_in([
            Status::Sent,
            Status::Confirmed,
            Status::PartiallyReceived,
        ]))
        .one(db)
        .await?;
    if let Some(po) = open {
        return Err(Error::conflict(
            "supplier_has_open_orders",
            format!("purchase order {} to {} is still open", po.folio, s.name),
        ));
    }
    let now = crate::now();
    let mut am: supplier::ActiveModel = s.into();
    am.deleted_at = Set(Some(now));
    am.is_active = Set(false);
    am.updated_at = Set(now);
    am.update(db).await?;
    entry(actor, "supplier.deleted", id).record_tenant(db).await
}
