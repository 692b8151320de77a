//! Invoicing (CFDI 4.0 through Facturapi): fiscal settings, default SAT keys, nominative invoices,
//! credit notes, payment complements and the global invoice. The arithmetic of a CFDI is a pure
//! rule in [`crate::rules::cfdi`].

pub mod documents;
pub mod fiscal;
pub mod global;
pub mod invoices;
pub mod related;
pub mod sat_keys;
pub mod tables;
