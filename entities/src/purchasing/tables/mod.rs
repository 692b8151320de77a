//! The sea-orm definitions of the buying tables (tenant database).

// Tables are sea-orm definitions whose column names say what they hold: a column gets a doc
// comment where its name is not enough (units, allowed values, why it exists), not filler.
#![allow(missing_docs)]

pub mod lost_sale;
pub mod purchase_order;
pub mod purchase_order_line;
pub mod purchase_receipt;
pub mod purchase_receipt_line;
pub mod reorder_alert;
pub mod reorder_rule;
pub mod setting;
pub mod special_order;
pub mod supplier;
pub mod supplier_invoice;
pub mod supplier_price;
pub mod supplier_return;
pub mod supplier_return_line;
