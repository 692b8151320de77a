//! The integration suite: one binary, every scenario in both runtime shapes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failed step is a failed test"
)]

mod auth;
mod branches;
mod browser;
mod cancellation_faults;
mod catalog;
mod catalog_import;
mod checkout_faults;
mod cli;
mod credit_notes;
mod customers;
mod facturapi;
mod faults;
mod file_store;
mod global_invoice;
mod http;
mod inventory;
mod invoicing;
mod openapi;
mod operators;
mod outbox;
mod payment_complements;
mod prices;
mod quotes;
mod relay;
mod sales;
mod sat_keys;
mod schedules;
mod search_sync;
mod startup;
mod tenants;
mod transfers;
mod vehicles;
mod workers;
mod workspace;
