//! The `nexus` binary's library: command line, configuration, telemetry, and the assembly of the
//! two runtime shapes (embedded SQLite, distributed PostgreSQL + Redis).

pub mod app;
pub mod catalog;
pub mod checkout_bench;
pub mod cli;
pub mod config;
pub mod console;
pub mod customers_bench;
pub mod demo;
pub mod fleets_bench;
pub mod notify_bench;
pub mod pipeline_bench;
pub mod probes;
pub mod provision;
pub mod reorder_bench;
pub mod search;
pub mod telemetry;
