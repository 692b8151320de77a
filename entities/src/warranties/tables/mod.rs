//! The sea-orm definitions of the warranty tables (tenant database).

// Tables are sea-orm definitions whose column names say what they hold: a column gets a doc
// comment where its name is not enough (units, allowed values, why it exists), not filler.
#![allow(missing_docs)]

pub mod claim;
pub mod claim_event;
pub mod policy;
pub mod setting;
pub mod supplier_claim;
pub mod warranty;
