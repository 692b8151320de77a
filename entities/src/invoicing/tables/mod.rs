//! Tables of invoicing (tenant database).
//!
//! Each module is one table as sea-orm models it: `Model`, `Column`, `Relation`.

pub mod category_sat_key;
pub mod credit_note;
pub mod fiscal_setting;
pub mod global_invoice;
pub mod global_invoice_sale;
pub mod invoice;
pub mod invoice_file;
pub mod invoice_payment;
pub mod webhook_event;
