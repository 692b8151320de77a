//! Tables of customers (tenant database).
//!
//! Each module is one table as sea-orm models it: `Model`, `Column`, `Relation`.

// Tables are sea-orm definitions whose column names say what they hold: a column gets a doc
// comment where its name is not enough (units, allowed values, why it exists), not filler.
#![allow(missing_docs)]

pub mod account_allocation;
pub mod account_entry;
pub mod activity;
pub mod credit_review;
pub mod customer;
pub mod customer_stat;
pub mod customer_tag;
pub mod loyalty_entry;
pub mod loyalty_setting;
pub mod referral;
pub mod referral_setting;
pub mod segment;
pub mod tier_change;
