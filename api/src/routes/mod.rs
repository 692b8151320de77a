//! Routers, one module per area.

pub mod auth;
pub mod branches;
pub mod catalog;
pub mod inventory;
pub mod items;
pub mod ops;
pub mod system;
pub mod transfers;
pub mod vehicles;
