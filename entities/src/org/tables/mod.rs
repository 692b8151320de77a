//! Tables of the organisation. `tenant`, `user`, `membership`, `operator`, `refresh_token`,
//! `refresh_token_family`, `api_key` and `platform_audit_log` live in the platform database;
//! `branch`, `warehouse` and `audit_log` in each tenant's database.
//!
//! Each module is one table as sea-orm models it: `Model`, `Column`, `Relation`.

// Tables are sea-orm definitions whose column names say what they hold: a column gets a doc
// comment where its name is not enough (units, allowed values, why it exists), not filler.
#![allow(missing_docs)]

pub mod api_key;
pub mod audit_log;
pub mod branch;
pub mod manager_override;
pub mod membership;
pub mod operator;
pub mod platform_audit_log;
pub mod refresh_token;
pub mod refresh_token_family;
pub mod setup_token;
pub mod tenant;
pub mod user;
pub mod warehouse;
