//! The job bookkeeping: the transactional outbox, job runs with their leases, processed marks,
//! `Idempotency-Key` answers and the scheduler's claimed ticks. The job payloads live in the
//! `jobs` crate; the runtime that reads these tables lives in `workers`.

pub mod idempotency;
pub mod tables;
