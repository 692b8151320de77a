//! The tenant schema: every business has its own database with these tables.

pub mod audit_log;
pub mod branch;
pub mod branches;
pub mod outbox;
pub mod warehouse;
