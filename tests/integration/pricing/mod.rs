//! Pricing: lists, branch overrides, their sync, the exchange rate.

mod prices;
