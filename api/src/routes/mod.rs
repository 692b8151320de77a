//! Routers, one module per area.

pub mod auth;
pub mod branches;
pub mod cart;
pub mod catalog;
pub mod cfdi_documents;
pub mod customers;
pub mod fiscal;
pub mod global_invoices;
pub mod inventory;
pub mod invoices;
pub mod items;
pub mod ops;
pub mod prices;
pub mod quotes;
pub mod sales;
pub mod sat_keys;
pub mod system;
pub mod transfers;
pub mod vehicles;
pub mod webhooks;
