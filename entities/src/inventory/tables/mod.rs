//! Tables of inventory (tenant database).
//!
//! Each module is one table as sea-orm models it: `Model`, `Column`, `Relation`.

pub mod item;
pub mod stock;
pub mod stock_alert;
pub mod stock_ledger;
pub mod transfer;
pub mod transfer_line;
