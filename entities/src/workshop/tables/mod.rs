//! The sea-orm definitions of the workshop tables (tenant database).

// Tables are sea-orm definitions whose column names say what they hold: a column gets a doc
// comment where its name is not enough (units, allowed values, why it exists), not filler.
#![allow(missing_docs)]

pub mod core_batch;
pub mod core_entry;
pub mod labour_entry;
pub mod service_order;
pub mod service_order_event;
pub mod service_order_line;
pub mod service_order_photo;
pub mod setting;
