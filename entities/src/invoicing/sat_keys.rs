//! Default SAT keys per part type, and which keys an invoice line takes.
//!
//! A line's ClaveProdServ and ClaveUnidad are resolved each on its own, the first that names one
//! winning: the item's own, the shared catalog part's (linked by `items.catalog_part_id`), the
//! default of the part's type (its catalog category, set here by the business), and the
//! business-wide default of the fiscal settings. A counter that stocks thousands of parts sets
//! a dozen part types ("Balata delantera" → 25171700) instead of every item.

use std::collections::HashMap;

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;
use uuid::Uuid;

use crate::catalog::schema::{category, part};
use crate::org::audit::Entry;
use crate::rules::cfdi;
use crate::{Error, Result};
use crate::{
    inventory::tables::item, invoicing::tables::category_sat_key, invoicing::tables::fiscal_setting,
};

/// The keys to set for a part type; `None` leaves that key to the business-wide default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CategoryKeys {
    /// ClaveProdServ (8 digits).
    pub product_key: Option<String>,
    /// ClaveUnidad (1–3 capital letters or digits).
    pub unit_key: Option<String>,
}

/// Checks one key the way SAT's catalogs shape it, naming `field`.
fn checked(field: &str, key: Option<String>, product: bool) -> Result<Option<String>> {
    let Some(k) = key.map(|k| k.trim().to_ascii_uppercase()) else {
        return Ok(None);
    };
    // `validate_keys` checks a pair: the other half is a known-good placeholder.
    let r = if product {
        cfdi::validate_keys(0, &k, "H87")
    } else {
        cfdi::validate_keys(0, "01010101", &k)
    };
    r.map_err(|e| Error::validation(field, e.to_string()))?;
    Ok(Some(k))
}

/// Sets the default keys of part type `category_id` (a category of the shared catalog, read
/// from `catalog`, the platform database).
///
/// # Errors
/// [`Error::NotFound`] `category`; [`Error::Validation`] on `product_key` / `unit_key` (bad
/// shape, or neither given).
pub async fn set(
    db: &impl ConnectionTrait,
    catalog: &impl ConnectionTrait,
    user: Option<Uuid>,
    category_id: i32,
    keys: CategoryKeys,
) -> Result<category_sat_key::Model> {
    let product = checked("product_key", keys.product_key, true)?;
    let unit = checked("unit_key", keys.unit_key, false)?;
    if product.is_none() && unit.is_none() {
        return Err(Error::validation(
            "product_key",
            "name a product_key, a unit_key or both (DELETE removes the part type's defaults)",
        ));
    }
    category::Entity::find_by_id(category_id)
        .one(catalog)
        .await?
        .ok_or(Error::NotFound { entity: "category" })?;
    let row = category_sat_key::ActiveModel {
        category_id: Set(category_id),
        product_key: Set(product),
        unit_key: Set(unit),
        updated_by: Set(user),
        updated_at: Set(crate::now()),
    };
    category_sat_key::Entity::insert(row)
        .on_conflict(
            OnConflict::column(category_sat_key::Column::CategoryId)
                .update_columns([
                    category_sat_key::Column::ProductKey,
                    category_sat_key::Column::UnitKey,
                    category_sat_key::Column::UpdatedBy,
                    category_sat_key::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(db)
        .await?;
    let saved = category_sat_key::Entity::find_by_id(category_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "category" })?;
    Entry::new("sat_keys.category_set")
        .actor(user)
        .target("category", category_id)
        .details(json!({"product_key": saved.product_key, "unit_key": saved.unit_key}))
        .record_tenant(db)
        .await?;
    Ok(saved)
}

/// Removes the default keys of a part type; `false` when it had none.
///
/// # Errors
/// Database errors.
pub async fn clear(
    db: &impl ConnectionTrait,
    user: Option<Uuid>,
    category_id: i32,
) -> Result<bool> {
    let gone = category_sat_key::Entity::delete_by_id(category_id)
        .exec(db)
        .await?
        .rows_affected
        > 0;
    if gone {
        Entry::new("sat_keys.category_cleared")
            .actor(user)
            .target("category", category_id)
            .record_tenant(db)
            .await?;
    }
    Ok(gone)
}

/// The part types with default keys, by category id.
///
/// # Errors
/// Database errors.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<category_sat_key::Model>> {
    Ok(category_sat_key::Entity::find()
        .order_by_asc(category_sat_key::Column::CategoryId)
        .all(db)
        .await?)
}

/// The SAT keys a line takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineKeys {
    /// ClaveProdServ.
    pub product_key: String,
    /// ClaveUnidad.
    pub unit_key: String,
}

/// The SAT keys of each item, resolved as the module describes.
///
/// # Errors
/// Database errors.
pub async fn resolve(
    db: &impl ConnectionTrait,
    catalog: &impl ConnectionTrait,
    items: &[item::Model],
    settings: &fiscal_setting::Model,
) -> Result<HashMap<Uuid, LineKeys>> {
    let part_ids: Vec<i64> = items.iter().filter_map(|i| i.catalog_part_id).collect();
    let parts = if part_ids.is_empty() {
        Vec::new()
    } else {
        part::Entity::find()
            .filter(part::Column::Id.is_in(part_ids))
            .all(catalog)
            .await?
    };
    let categories: Vec<i32> = parts.iter().filter_map(|p| p.category_id).collect();
    let defaults = if categories.is_empty() {
        Vec::new()
    } else {
        category_sat_key::Entity::find()
            .filter(category_sat_key::Column::CategoryId.is_in(categories))
            .all(db)
            .await?
    };
    Ok(items
        .iter()
        .map(|it| {
            let p = it
                .catalog_part_id
                .and_then(|id| parts.iter().find(|p| p.id == id));
            let d = p
                .and_then(|p| p.category_id)
                .and_then(|c| defaults.iter().find(|d| d.category_id == c));
            let product_key = it
                .sat_product_key
                .clone()
                .or_else(|| p.and_then(|p| p.sat_product_key.clone()))
                .or_else(|| d.and_then(|d| d.product_key.clone()))
                .unwrap_or_else(|| settings.default_product_key.clone());
            let unit_key = it
                .sat_unit_key
                .clone()
                .or_else(|| p.and_then(|p| p.sat_unit_key.clone()))
                .or_else(|| d.and_then(|d| d.unit_key.clone()))
                .unwrap_or_else(|| settings.default_unit_key.clone());
            (
                it.id,
                LineKeys {
                    product_key,
                    unit_key,
                },
            )
        })
        .collect())
}
