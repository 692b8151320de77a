//! Tables of inventory (tenant database).
//!
//! Each module is one table as sea-orm models it: `Model`, `Column`, `Relation`.

// Tables are sea-orm definitions whose column names say what they hold: a column gets a doc
// comment where its name is not enough (units, allowed values, why it exists), not filler.
#![allow(missing_docs)]

pub mod item;
pub mod item_import;
pub mod stock;
pub mod stock_alert;
pub mod stock_ledger;
pub mod transfer;
pub mod transfer_line;
