//! The tenant schema: every business has its own database with these tables.

pub mod audit_log;
pub mod branch;
pub mod branches;
pub mod customer_vehicle;
pub mod job_run;
pub mod outbox;
pub mod processed_job;
pub mod vehicles;
pub mod warehouse;
