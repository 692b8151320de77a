//! The job platform: outbox, relay, worker pools, crash and fault recovery, schedules.

mod faults;
mod outages;
mod outbox;
mod relay;
mod schedules;
mod workers;
