//! Inventory: items and their bulk imports, stock, adjustments, counts, the ledger, alerts,
//! transfers.

mod imports;
mod stock;
mod transfers;
