//! Schedules: the cron table of Nexus. Each entry only enqueues jobs (fanned out per tenant);
//! the work itself is done by the workers.

pub use jobs::Queue;
