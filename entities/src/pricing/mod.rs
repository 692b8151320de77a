//! Pricing: price lists, per-branch overrides, their propagation to branches, MXN/USD exchange
//! rates.

pub mod admin;
pub mod prices;
pub mod tables;
