//! Tables of notifications (tenant database).
//!
//! Each module is one table as sea-orm models it: `Model`, `Column`, `Relation`.

// Tables are sea-orm definitions whose column names say what they hold: a column gets a doc
// comment where its name is not enough (units, allowed values, why it exists), not filler.
#![allow(missing_docs)]

pub mod business_event;
pub mod notification;
pub mod preference;
pub mod rule;
pub mod setting;
pub mod template;
pub mod whatsapp_contact;
pub mod whatsapp_setting;
pub mod whatsapp_webhook_event;
