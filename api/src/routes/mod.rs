//! Routers, one folder per business area; each area's `router()` merges its files' routes.

pub mod cash;
pub mod catalog;
pub mod counter;
pub mod customers;
pub mod fleets;
pub mod inventory;
pub mod invoicing;
pub mod notifications;
pub mod org;
pub mod pricing;
pub mod purchasing;
pub mod system;
pub mod vehicles;
pub mod warranties;
pub mod workshop;
