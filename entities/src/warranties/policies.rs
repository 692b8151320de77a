//! Warranty policies: per item or per brand (matched case-insensitively to the items' brand), an
//! item's own policy winning over its brand's. Changing a policy never touches the warranties
//! already given: each carries its own copy ([`crate::warranties::coverage`]).

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::error::OnUnique;
use crate::org::seller::Seller;
use crate::warranties::tables::policy::{self, Coverage, StartsOn};
use crate::{Error, Page, PageRequest, Result};

/// The terms of a policy: what a warranty of it covers.
#[derive(Debug, Clone)]
pub struct Terms {
    /// 1 to 120 calendar months.
    pub months: i32,
    /// Kilometres, whichever comes first; none for no distance limit.
    pub km: Option<i64>,
    /// Parts, or parts and labour.
    pub coverage: Coverage,
    /// From the sale or from the installation.
    pub starts_on: StartsOn,
    /// What the supplier covers, months (1 to 120).
    pub supplier_months: Option<i32>,
    /// What the supplier covers, kilometres.
    pub supplier_km: Option<i64>,
    /// Printed on the receipt (LFPC art. 62), at most 2000 characters.
    pub terms: Option<String>,
}

/// A policy to create: of one item or of one brand.
#[derive(Debug, Clone)]
pub struct NewPolicy {
    /// The item (or `brand`).
    pub item_id: Option<Uuid>,
    /// The brand (or `item_id`).
    pub brand: Option<String>,
    /// Its terms.
    pub terms: Terms,
}

/// Filters of the policy list.
#[derive(Debug, Clone, Default)]
pub struct PolicyFilter {
    /// One item's.
    pub item_id: Option<Uuid>,
    /// One brand's (any case).
    pub brand: Option<String>,
}

/// The most months a policy (or a supplier's warranty) runs.
pub const MAX_MONTHS: i32 = 120;
/// The largest distance limit, km.
pub const MAX_KM: i64 = 1_000_000;

/// The terms checked and trimmed.
///
/// # Errors
/// [`Error::Validation`] naming the field.
pub fn checked(mut t: Terms) -> Result<Terms> {
    if !(1..=MAX_MONTHS).contains(&t.months) {
        return Err(Error::validation(
            "months",
            format!("months is 1 to {MAX_MONTHS}"),
        ));
    }
    for (field, v) in [("km", t.km), ("supplier_km", t.supplier_km)] {
        if v.is_some_and(|k| !(1..=MAX_KM).contains(&k)) {
            return Err(Error::validation(
                field,
                format!("{field} is 1 to {MAX_KM}"),
            ));
        }
    }
    if t.supplier_months
        .is_some_and(|m| !(1..=MAX_MONTHS).contains(&m))
    {
        return Err(Error::validation(
            "supplier_months",
            format!("supplier_months is 1 to {MAX_MONTHS}"),
        ));
    }
    t.terms = crate::rules::text::optional("terms", t.terms, 2000)?;
    Ok(t)
}

/// A policy by id.
///
/// # Errors
/// [`Error::NotFound`] `warranty_policy`.
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<policy::Model> {
    policy::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "warranty_policy",
        })
}

/// Creates a policy (managers and up), audited.
///
/// # Errors
/// [`Error::Forbidden`] below manager; [`Error::Validation`] naming the field;
/// [`Error::Missing`] `item_not_found`; [`Error::Conflict`] `warranty_policy_exists` when the item
/// or brand has one.
pub async fn create(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    new: NewPolicy,
) -> Result<policy::Model> {
    require_manager(seller)?;
    let brand = crate::rules::text::optional("brand", new.brand, 120)?;
    match (new.item_id, &brand) {
        (Some(_), Some(_)) => {
            return Err(Error::validation(
                "brand",
                "a policy is of an item or of a brand, not both",
            ));
        }
        (None, None) => {
            return Err(Error::validation(
                "item_id",
                "name the item_id or the brand the policy covers",
            ));
        }
        _ => {}
    }
    let t = checked(new.terms)?;
    if let Some(i) = new.item_id {
        crate::inventory::adjustments::check_item(txn, "item_id", i).await?;
    }
    let now = crate::now();
    let id = Uuid::now_v7();
    let p = policy::ActiveModel {
        id: Set(id),
        item_id: Set(new.item_id),
        brand_key: Set(brand.as_deref().map(str::to_lowercase)),
        brand: Set(brand),
        months: Set(t.months),
        km: Set(t.km),
        coverage: Set(t.coverage),
        starts_on: Set(t.starts_on),
        supplier_months: Set(t.supplier_months),
        supplier_km: Set(t.supplier_km),
        terms: Set(t.terms),
        created_by: Set(Some(seller.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await
    .on_unique(
        "warranty_policy_exists",
        "this item or brand already has a policy: change that one",
    )?;
    seller
        .entry("warranty_policy.created", "warranty_policy", id)
        .details(json!({"item_id": p.item_id, "brand": p.brand, "months": p.months, "km": p.km}))
        .record_tenant(txn)
        .await?;
    Ok(p)
}

/// Replaces a policy's terms (managers and up), audited. Warranties already given keep theirs.
///
/// # Errors
/// [`Error::Forbidden`]; [`Error::NotFound`]; [`Error::Validation`] naming the field.
pub async fn update(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    id: Uuid,
    terms: Terms,
) -> Result<policy::Model> {
    require_manager(seller)?;
    let t = checked(terms)?;
    let mut am: policy::ActiveModel = get(txn, id).await?.into();
    am.months = Set(t.months);
    am.km = Set(t.km);
    am.coverage = Set(t.coverage);
    am.starts_on = Set(t.starts_on);
    am.supplier_months = Set(t.supplier_months);
    am.supplier_km = Set(t.supplier_km);
    am.terms = Set(t.terms);
    am.updated_at = Set(crate::now());
    let p = am.update(txn).await?;
    seller
        .entry("warranty_policy.updated", "warranty_policy", id)
        .details(json!({"months": p.months, "km": p.km, "coverage": p.coverage.as_str()}))
        .record_tenant(txn)
        .await?;
    Ok(p)
}

/// Deletes a policy (managers and up), audited. Warranties already given keep their copy.
///
/// # Errors
/// [`Error::Forbidden`]; [`Error::NotFound`].
pub async fn delete(txn: &impl ConnectionTrait, seller: &Seller, id: Uuid) -> Result<()> {
    require_manager(seller)?;
    let p = get(txn, id).await?;
    policy::Entity::delete_by_id(id).exec(txn).await?;
    seller
        .entry("warranty_policy.deleted", "warranty_policy", id)
        .details(json!({"item_id": p.item_id, "brand": p.brand}))
        .record_tenant(txn)
        .await?;
    Ok(())
}

/// Policies, items' first then brands', newest first.
///
/// # Errors
/// Database errors.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: PolicyFilter,
    page: PageRequest,
) -> Result<Page<policy::Model>> {
    let mut q = policy::Entity::find()
        .order_by_desc(policy::Column::CreatedAt)
        .order_by_desc(policy::Column::Id);
    if let Some(i) = filter.item_id {
        q = q.filter(policy::Column::ItemId.eq(i));
    }
    if let Some(b) = filter.brand {
        if b.chars().count() > 120 {
            return Err(Error::validation(
                "brand",
                "a brand is at most 120 characters",
            ));
        }
        q = q.filter(policy::Column::BrandKey.eq(b.trim().to_lowercase()));
    }
    page.fetch(db, q).await
}

fn require_manager(seller: &Seller) -> Result<()> {
    if seller.role.is_manager() {
        Ok(())
    } else {
        Err(Error::Forbidden {
            code: "forbidden",
            message: format!(
                "warranty policies are set by managers; you are {}",
                seller.role
            ),
        })
    }
}
