//! Workers: one handler per job, the clients of external services, the worker runtime, and the
//! outbox relay that feeds the queues.
//!
//! This crate depends only on `entities` and `jobs`, never on the API or the schedules.

pub mod admin;
pub mod bench;
pub mod cfdi;
pub mod facturapi;
pub mod global_invoice;
pub mod handlers;
pub mod maintenance;
pub mod meili;
pub mod metrics;
pub mod pool;
pub mod pricing;
pub mod relay;
pub mod runtime;
pub mod sales;
pub mod search_sync;
pub mod services;
pub mod vehicles;
pub mod vpic;

pub use jobs::Queue;
