//! Jobs: what the API asks the workers to do.
//!
//! Each job is a serde payload of ids (always with the tenant) with a stable name and a queue
//! ([`Job`]). A business change records its jobs with [`outbox::enqueue`] inside its own
//! database transaction, so a committed change always has its jobs and a rolled-back one never
//! does; the relay moves committed rows to the queue backend. The API, the workers and the
//! schedules meet only here.

pub mod backend;
pub mod counter;
pub mod customers;
pub mod fleets;
pub mod follow_up;
pub mod inventory;
pub mod invoicing;
pub mod job;
pub mod maintenance;
pub mod noop;
pub mod notifications;
pub mod outbox;
pub mod pricing;
pub mod purchasing;
pub mod queue;
pub mod vehicles;
pub mod waker;
pub mod warranties;

pub use backend::{BackendError, QueueBackend};
pub use job::{Envelope, Job};
pub use queue::Queue;
pub use waker::RelayWaker;
