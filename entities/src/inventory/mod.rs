//! Inventory: the business's items, stock per warehouse with its append-only ledger, adjustments,
//! counts, transfers between warehouses, low-stock alerts and bulk imports of items from a CSV.

pub mod adjustments;
pub mod imports;
pub mod items;
pub mod movements;
pub mod stock_views;
pub mod tables;
pub mod transfers;
