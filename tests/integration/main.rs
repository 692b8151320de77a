//! The integration suite: one binary, every scenario in both runtime shapes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: a failed step is a failed test"
)]

mod cash;
mod catalog;
mod counter;
mod customers;
mod fleets;
mod inventory;
mod invoicing;
mod jobs;
mod notifications;
mod org;
mod pricing;
mod purchasing;
mod system;
mod vehicles;
mod warranties;
mod workshop;
