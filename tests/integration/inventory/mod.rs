//! Inventory: items, stock, adjustments, counts, the ledger, alerts, transfers.

mod stock;
mod transfers;
