//! The platform database: who the tenants are, who may sign in, and with which role.

pub mod accounts;
pub mod api_key;
pub mod audit;
pub mod audit_log;
pub mod membership;
pub mod operator;
pub mod refresh_token;
pub mod refresh_token_family;
pub mod schedule_tick;
pub mod sessions;
pub mod tenant;
pub mod tenants;
pub mod user;
pub mod vin_decode;
pub mod vin_decodes;
