//! Tables of the job bookkeeping. `schedule_tick` lives in the platform database, the others
//! in each tenant's database.
//!
//! Each module is one table as sea-orm models it: `Model`, `Column`, `Relation`.

pub mod idempotency_key;
pub mod job_run;
pub mod outbox;
pub mod processed_job;
pub mod schedule_tick;
