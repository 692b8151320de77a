//! Workers: one handler per job, the clients of external services, the worker runtime, and the
//! outbox relay that feeds the queues.
//!
//! This crate depends only on `entities` and `jobs`, never on the API or the schedules.

// The platform: runtime, pools, relay, metrics, operator views, benchmarks.
pub mod activity;
pub mod admin;
pub mod bench;
pub mod breaker;
pub mod metrics;
pub mod pool;
pub mod relay;
pub mod runtime;
pub mod services;

// The work: handlers per business area and the clients of external services.
pub mod clients;
pub mod handlers;

pub use jobs::Queue;
