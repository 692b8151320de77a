//! Inventory: the business's items, stock per warehouse with its append-only ledger, adjustments,
//! counts, transfers between warehouses and low-stock alerts.

pub mod adjustments;
pub mod items;
pub mod movements;
pub mod stock_views;
pub mod tables;
pub mod transfers;
