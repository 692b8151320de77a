//! Items: the business's own SKUs, with their SAT keys, cost and reorder limits; validation, CRUD
//! and the audit trail of every change.

use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QueryOrder, Set, SqlErr,
};
use serde_json::json;
use uuid::Uuid;

use crate::inventory::tables::item;
use crate::org::audit::Entry;
use crate::org::branches::Actor;
use crate::rules::money::Money;
use crate::{Error, Page, PageRequest, Result};

/// Fields of a new item; `None` takes the default.
#[derive(Debug, Clone, Default)]
pub struct NewItem {
    /// The business's SKU (letters, digits, `-`, `_`, `.`, `/`; upper-cased), unique.
    pub sku: String,
    /// The shared catalog's part, unique among items.
    pub catalog_part_id: Option<i64>,
    /// Name on tickets; required unless a catalog part gives it ([`NewItem::or_from_part`]).
    pub name: Option<String>,
    /// Longer description.
    pub description: Option<String>,
    /// Brand.
    pub brand: Option<String>,
    /// Manufacturer part number.
    pub part_number: Option<String>,
    /// SAT ClaveProdServ: 8 digits.
    pub sat_product_key: Option<String>,
    /// SAT ClaveUnidad: 2 or 3 letters or digits (`H87`, `KT`).
    pub sat_unit_key: Option<String>,
    /// Last cost in MXN (at most 2 decimals); 0 by default.
    pub cost: Option<Decimal>,
    /// Maker's list price in MXN.
    pub retail_price: Option<Decimal>,
    /// Reorder point, ≥ 0; 0 by default.
    pub min_qty: Option<i64>,
    /// Most to keep, ≥ `min_qty`.
    pub max_qty: Option<i64>,
    /// `part` by default; a `service` is a labour operation of the workshop, never stocked.
    pub kind: Option<item::Kind>,
    /// The deposit for the old unit (casco) each unit sold adds, IVA included; none by default.
    pub core_charge: Option<Decimal>,
}

/// SAT keys of a labour operation when none are given: 78181500 (servicios de mantenimiento y
/// reparación de vehículos) and E48 (unidad de servicio), which LFPC art. 62's itemised receipt
/// and the CFDI expect for labour.
pub const SERVICE_KEYS: (&str, &str) = ("78181500", "E48");

/// A core charge as stored: 0 to 100 000 MXN, at most 2 decimals.
///
/// # Errors
/// [`Error::Validation`] on `core_charge`.
pub fn check_core_charge(v: Decimal) -> Result<i64> {
    let c = Money::from_decimal("core_charge", v)?.0;
    if !(0..=10_000_000).contains(&c) {
        return Err(Error::validation(
            "core_charge",
            "a core charge is between 0 and 100000.00",
        ));
    }
    Ok(c)
}

impl NewItem {
    /// The item with the catalog part's name, description, brand, number, SAT keys and retail
    /// price in the fields it leaves out: what was given wins. `brand` is the part's brand name.
    #[must_use]
    pub fn or_from_part(self, part: &crate::catalog::part::Model, brand: Option<String>) -> Self {
        Self {
            name: self.name.or_else(|| Some(part.name.clone())),
            description: self.description.or_else(|| part.description.clone()),
            brand: self.brand.or(brand),
            part_number: self.part_number.or_else(|| Some(part.number.clone())),
            sat_product_key: self
                .sat_product_key
                .or_else(|| part.sat_product_key.clone()),
            sat_unit_key: self.sat_unit_key.or_else(|| part.sat_unit_key.clone()),
            retail_price: self
                .retail_price
                .or_else(|| part.retail_price_cents.map(|c| Decimal::new(c, 2))),
            ..self
        }
    }
}

/// Changes to an item; `None` leaves a field as it is, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct ItemPatch {
    /// New SKU.
    pub sku: Option<String>,
    /// New catalog link, or none.
    pub catalog_part_id: Option<Option<i64>>,
    /// New name.
    pub name: Option<String>,
    /// New description, or none.
    pub description: Option<Option<String>>,
    /// New brand, or none.
    pub brand: Option<Option<String>>,
    /// New part number, or none.
    pub part_number: Option<Option<String>>,
    /// New SAT product key, or none.
    pub sat_product_key: Option<Option<String>>,
    /// New SAT unit key, or none.
    pub sat_unit_key: Option<Option<String>>,
    /// New cost in MXN.
    pub cost: Option<Decimal>,
    /// New list price, or none.
    pub retail_price: Option<Option<Decimal>>,
    /// New reorder point.
    pub min_qty: Option<i64>,
    /// New maximum, or none.
    pub max_qty: Option<Option<i64>>,
    /// Activate or deactivate.
    pub is_active: Option<bool>,
    /// New core charge (0 for none).
    pub core_charge: Option<Decimal>,
}

/// Filters of the item list.
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    /// Text contained in the SKU, name or part number (case-insensitive).
    pub q: Option<String>,
    /// Only active (`true`) or inactive (`false`) items.
    pub active: Option<bool>,
    /// Only the item linked to this catalog part.
    pub catalog_part_id: Option<i64>,
}

fn entry(actor: &Actor, action: &str, id: Uuid) -> Entry {
    Entry::new(action)
        .actor(actor.user_id)
        .target("item", id)
        .request(None, actor.request_id.clone())
}

/// The SKU as stored: trimmed and upper-cased, 1 to 64 letters, digits, `-`, `_`, `.` or `/`.
///
/// # Errors
/// [`Error::Validation`] on `sku`.
pub fn check_sku(sku: &str) -> Result<String> {
    let s = sku.trim().to_uppercase();
    if s.is_empty()
        || s.len() > 64
        || !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b))
    {
        return Err(Error::validation(
            "sku",
            "sku must be 1 to 64 letters, digits, '-', '_', '.' or '/'",
        ));
    }
    Ok(s)
}

fn check_name(name: &str) -> Result<String> {
    crate::rules::text::required("name", name, 200)
}

fn check_product_key(v: Option<String>) -> Result<Option<String>> {
    match v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
        Some(k) if k.len() == 8 && k.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(k)),
        Some(_) => Err(Error::validation(
            "sat_product_key",
            "sat_product_key must be 8 digits (ClaveProdServ)",
        )),
        None => Ok(None),
    }
}

fn check_unit_key(v: Option<String>) -> Result<Option<String>> {
    match v.map(|s| s.trim().to_uppercase()).filter(|s| !s.is_empty()) {
        // SAT's ClaveUnidad catalogue has two- and three-character keys (`KT` kit, `H87` piece).
        Some(k) if (2..=3).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            Ok(Some(k))
        }
        Some(_) => Err(Error::validation(
            "sat_unit_key",
            "sat_unit_key must be 2 or 3 letters or digits (ClaveUnidad, e.g. H87 or KT)",
        )),
        None => Ok(None),
    }
}

fn check_part_id(v: Option<i64>) -> Result<Option<i64>> {
    match v {
        Some(id) if id <= 0 => Err(Error::validation(
            "catalog_part_id",
            "catalog_part_id must be a catalog part id",
        )),
        other => Ok(other),
    }
}

fn check_limits(min: i64, max: Option<i64>) -> Result<()> {
    crate::rules::quantity::level("min_qty", min)?;
    if let Some(m) = max {
        crate::rules::quantity::level("max_qty", m)?;
    }
    if max.is_some_and(|m| m < min) {
        return Err(Error::validation(
            "max_qty",
            "max_qty must be at least min_qty",
        ));
    }
    Ok(())
}

/// Maps a unique violation of `items` to the code of the column it hit: the SKU and the catalog
/// link each have their own unique index, and the client must know which one to fix.
pub(crate) fn on_item_unique(e: DbErr) -> Error {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(msg)) if msg.contains("catalog_part") => {
            Error::conflict(
                "catalog_part_taken",
                "another item is already linked to this catalog part",
            )
        }
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            Error::conflict("sku_taken", "another item has this sku")
        }
        _ => Error::Db(e),
    }
}

/// Checks a new item by the rules of every item and gives the row to insert (a new id, created
/// now, active). The catalog part's fields are copied before, with [`NewItem::or_from_part`];
/// that the part exists and is linked to no other item is for the caller and the unique index.
///
/// # Errors
/// [`Error::Validation`] naming the field.
pub fn check_new_item(new: NewItem) -> Result<item::ActiveModel> {
    let Some(name) = new.name else {
        return Err(Error::validation(
            "name",
            "name is required without a catalog_part_id",
        ));
    };
    let min_qty = new.min_qty.unwrap_or(0);
    check_limits(min_qty, new.max_qty)?;
    let now = crate::now();
    let cost = Money::from_decimal("cost", new.cost.unwrap_or_default())?.0;
    let kind = new.kind.unwrap_or(item::Kind::Part);
    let core = check_core_charge(new.core_charge.unwrap_or_default())?;
    let (mut product_key, mut unit_key) = (
        check_product_key(new.sat_product_key)?,
        check_unit_key(new.sat_unit_key)?,
    );
    if kind == item::Kind::Service {
        if core > 0 {
            return Err(Error::validation(
                "core_charge",
                "a labour operation has no core charge",
            ));
        }
        product_key = product_key.or_else(|| Some(SERVICE_KEYS.0.to_owned()));
        unit_key = unit_key.or_else(|| Some(SERVICE_KEYS.1.to_owned()));
    }
    Ok(item::ActiveModel {
        id: Set(Uuid::now_v7()),
        sku: Set(check_sku(&new.sku)?),
        catalog_part_id: Set(check_part_id(new.catalog_part_id)?),
        name: Set(check_name(&name)?),
        description: Set(crate::rules::text::optional(
            "description",
            new.description,
            4000,
        )?),
        brand: Set(crate::rules::text::optional("brand", new.brand, 100)?),
        part_number: Set(crate::rules::text::optional(
            "part_number",
            new.part_number,
            100,
        )?),
        sat_product_key: Set(product_key),
        sat_unit_key: Set(unit_key),
        kind: Set(kind),
        core_charge_cents: Set(core),
        cost_cents: Set(cost),
        // The first average is the cost the item was entered at, until a receipt moves it.
        avg_cost_cents: Set(cost),
        retail_price_cents: Set(new
            .retail_price
            .map(|p| Money::from_decimal("retail_price", p).map(|m| m.0))
            .transpose()?),
        min_qty: Set(min_qty),
        max_qty: Set(new.max_qty),
        is_active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    })
}

/// Creates an item.
///
/// # Errors
/// [`Error::Validation`] naming the field; [`Error::Conflict`] `sku_taken` or
/// `catalog_part_taken`.
pub async fn create_item(
    db: &DatabaseConnection,
    actor: &Actor,
    new: NewItem,
) -> Result<item::Model> {
    let am = check_new_item(new)?;
    let txn = crate::db::begin_write(db).await?;
    let it = am.insert(&txn).await.map_err(on_item_unique)?;
    entry(actor, "item.created", it.id)
        .details(json!({
            "sku": it.sku,
            "name": it.name,
            "catalog_part_id": it.catalog_part_id,
            "cost_cents": it.cost_cents,
        }))
        .record_tenant(&txn)
        .await?;
    txn.commit().await?;
    Ok(it)
}

/// The SKU and name of each of `ids` that exists, for documents that show their lines by them.
///
/// # Errors
/// Database errors.
pub async fn labels(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, (String, String)>> {
    Ok(item::Entity::find()
        .filter(item::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, (i.sku, i.name)))
        .collect())
}

/// Finds an item.
///
/// # Errors
/// [`Error::NotFound`].
pub async fn get_item(db: &impl ConnectionTrait, id: Uuid) -> Result<item::Model> {
    item::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "item" })
}

/// Finds the item linked to a part of the shared catalog.
///
/// # Errors
/// [`Error::NotFound`] when no item is linked to it.
pub async fn item_by_catalog_part(db: &impl ConnectionTrait, part_id: i64) -> Result<item::Model> {
    item::Entity::find()
        .filter(item::Column::CatalogPartId.eq(part_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "item" })
}

/// Lists items by SKU.
///
/// # Errors
/// Database errors.
pub async fn list_items(
    db: &impl ConnectionTrait,
    page: PageRequest,
    filter: ItemFilter,
) -> Result<Page<item::Model>> {
    let mut q = item::Entity::find().order_by_asc(item::Column::Sku);
    if let Some(a) = filter.active {
        q = q.filter(item::Column::IsActive.eq(a));
    }
    if let Some(p) = filter.catalog_part_id {
        q = q.filter(item::Column::CatalogPartId.eq(p));
    }
    if let Some(text) = filter
        .q
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
    {
        // LIKE is case-sensitive on PostgreSQL and not on SQLite: compare lower-cased text on
        // both; `\` escapes the wildcards a user may type.
        let escaped: String = text
            .chars()
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        let pattern = format!("%{escaped}%");
        let like = |col: item::Column| {
            Expr::expr(Func::lower(Expr::col(col)))
                .like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        q = q.filter(
            Condition::any()
                .add(like(item::Column::Sku))
                .add(like(item::Column::Name))
                .add(like(item::Column::PartNumber)),
        );
    }
    page.fetch(db, q).await
}

/// Checks a patch against the item as it is, by the rules of every item, and gives the changed
/// row (updated now) with the fields it changes, as the audit trail records them.
///
/// # Errors
/// [`Error::Validation`] naming the field.
pub fn check_patch(
    current: item::Model,
    patch: ItemPatch,
) -> Result<(
    item::ActiveModel,
    serde_json::Map<String, serde_json::Value>,
)> {
    let min_qty = patch.min_qty.unwrap_or(current.min_qty);
    let max_qty = patch.max_qty.unwrap_or(current.max_qty);
    check_limits(min_qty, max_qty)?;
    let is_service = current.kind == item::Kind::Service;
    let mut am: item::ActiveModel = current.into();
    let mut changed = serde_json::Map::new();
    if let Some(v) = patch.sku {
        let v = check_sku(&v)?;
        changed.insert("sku".into(), json!(v));
        am.sku = Set(v);
    }
    if let Some(v) = patch.catalog_part_id {
        let v = check_part_id(v)?;
        changed.insert("catalog_part_id".into(), json!(v));
        am.catalog_part_id = Set(v);
    }
    if let Some(v) = patch.name {
        let v = check_name(&v)?;
        changed.insert("name".into(), json!(v));
        am.name = Set(v);
    }
    if let Some(v) = patch.description {
        let v = crate::rules::text::optional("description", v, 4000)?;
        changed.insert("description".into(), json!(v));
        am.description = Set(v);
    }
    if let Some(v) = patch.brand {
        let v = crate::rules::text::optional("brand", v, 100)?;
        changed.insert("brand".into(), json!(v));
        am.brand = Set(v);
    }
    if let Some(v) = patch.part_number {
        let v = crate::rules::text::optional("part_number", v, 100)?;
        changed.insert("part_number".into(), json!(v));
        am.part_number = Set(v);
    }
    if let Some(v) = patch.sat_product_key {
        let v = check_product_key(v)?;
        changed.insert("sat_product_key".into(), json!(v));
        am.sat_product_key = Set(v);
    }
    if let Some(v) = patch.sat_unit_key {
        let v = check_unit_key(v)?;
        changed.insert("sat_unit_key".into(), json!(v));
        am.sat_unit_key = Set(v);
    }
    if let Some(v) = patch.cost {
        let v = Money::from_decimal("cost", v)?.0;
        changed.insert("cost_cents".into(), json!(v));
        am.cost_cents = Set(v);
    }
    if let Some(v) = patch.retail_price {
        let v = v
            .map(|p| Money::from_decimal("retail_price", p).map(|m| m.0))
            .transpose()?;
        changed.insert("retail_price_cents".into(), json!(v));
        am.retail_price_cents = Set(v);
    }
    if let Some(v) = patch.min_qty {
        changed.insert("min_qty".into(), json!(v));
        am.min_qty = Set(v);
    }
    if let Some(v) = patch.max_qty {
        changed.insert("max_qty".into(), json!(v));
        am.max_qty = Set(v);
    }
    if let Some(v) = patch.is_active {
        changed.insert("is_active".into(), json!(v));
        am.is_active = Set(v);
    }
    if let Some(v) = patch.core_charge {
        let c = check_core_charge(v)?;
        if c > 0 && is_service {
            return Err(Error::validation(
                "core_charge",
                "a labour operation has no core charge",
            ));
        }
        changed.insert("core_charge_cents".into(), json!(c));
        am.core_charge_cents = Set(c);
    }
    am.updated_at = Set(crate::now());
    Ok((am, changed))
}

/// Applies a patch to an item.
///
/// # Errors
/// [`Error::NotFound`], [`Error::Validation`], [`Error::Conflict`] `sku_taken` or
/// `catalog_part_taken`.
pub async fn update_item(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    patch: ItemPatch,
) -> Result<item::Model> {
    let txn = crate::db::begin_write(db).await?;
    let current = get_item(&txn, id).await?;
    let (am, changed) = check_patch(current, patch)?;
    let it = am.update(&txn).await.map_err(on_item_unique)?;
    entry(actor, "item.updated", id)
        .details(changed.into())
        .record_tenant(&txn)
        .await?;
    txn.commit().await?;
    Ok(it)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_are_upper_cased_and_limited() {
        assert_eq!(check_sku(" bal-123/a ").unwrap(), "BAL-123/A");
        assert!(check_sku("").is_err());
        assert!(check_sku("BAL 123").is_err());
    }

    #[test]
    fn sat_keys_have_their_lengths() {
        assert_eq!(
            check_product_key(Some("25174004".into()))
                .unwrap()
                .as_deref(),
            Some("25174004")
        );
        assert!(check_product_key(Some("2517400".into())).is_err());
        assert!(check_product_key(Some("2517400A".into())).is_err());
        assert_eq!(
            check_unit_key(Some("h87".into())).unwrap().as_deref(),
            Some("H87")
        );
        assert_eq!(
            check_unit_key(Some("kt".into())).unwrap().as_deref(),
            Some("KT")
        );
        assert!(check_unit_key(Some("H".into())).is_err());
        assert!(check_unit_key(Some("H87X".into())).is_err());
    }

    #[test]
    fn the_maximum_is_not_below_the_minimum() {
        assert!(check_limits(0, None).is_ok());
        assert!(check_limits(2, Some(2)).is_ok());
        assert!(check_limits(-1, None).is_err());
        assert!(check_limits(3, Some(2)).is_err());
    }
}
