//! Buying: suppliers and their price lists, purchase orders, receipts (also from the supplier's
//! CFDI) with the item's average cost, returns to suppliers, reorder rules and alerts, the
//! nightly velocity, lost sales and customers' special orders.

pub mod invoices;
pub mod lost_sales;
pub mod orders;
pub mod prices;
pub mod receiving;
pub mod reorder;
pub mod settings;
pub mod special_orders;
pub mod suppliers;
pub mod tables;
pub mod velocity;

use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::org::tables::{branch, warehouse};
use crate::{Error, Result};

/// A warehouse named by a request field, with its branch: missing is 404 naming the field,
/// inactive is 409.
///
/// # Errors
/// [`Error::Missing`] `warehouse_not_found`; [`Error::Conflict`] `warehouse_inactive`.
pub async fn usable_warehouse(
    db: &impl ConnectionTrait,
    field: &str,
    id: Uuid,
) -> Result<(warehouse::Model, branch::Model)> {
    let missing = || {
        Error::missing(
            field,
            "warehouse_not_found",
            format!("warehouse {id} does not exist"),
        )
    };
    let w = warehouse::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(missing)?;
    let b = branch::Entity::find_by_id(w.branch_id)
        .one(db)
        .await?
        .ok_or_else(missing)?;
    if !w.is_active {
        return Err(Error::conflict(
            "warehouse_inactive",
            format!("{field}: warehouse {} is inactive", w.code),
        ));
    }
    Ok((w, b))
}
