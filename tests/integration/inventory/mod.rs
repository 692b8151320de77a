//! Inventory: items and their bulk imports, stock, adjustments, counts, the ledger, alerts,
//! transfers.

mod imports;
pub(crate) mod stock;
mod transfers;
