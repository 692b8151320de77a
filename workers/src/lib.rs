//! Workers: one handler per job, the clients of external services, and the worker runtime.
//!
//! Handlers arrive with the job platform; this crate depends only on `entities` and `jobs`, never
//! on the API or the schedules.

pub use jobs::Queue;
