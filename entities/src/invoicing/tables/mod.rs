//! Tables of invoicing (tenant database).
//!
//! Each module is one table as sea-orm models it: `Model`, `Column`, `Relation`.

// Tables are sea-orm definitions whose column names say what they hold: a column gets a doc
// comment where its name is not enough (units, allowed values, why it exists), not filler.
#![allow(missing_docs)]

pub mod category_sat_key;
pub mod credit_note;
pub mod fiscal_setting;
pub mod global_invoice;
pub mod global_invoice_sale;
pub mod invoice;
pub mod invoice_file;
pub mod invoice_payment;
pub mod webhook_event;
