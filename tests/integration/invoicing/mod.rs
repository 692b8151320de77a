//! Invoicing: nominative invoices, credit notes, payment complements, the global invoice, the
//! Facturapi client's retries and faults, SAT keys.

mod cancellation_faults;
mod credit_notes;
mod facturapi;
mod global;
mod nominative;
mod payment_complements;
mod sat_keys;
