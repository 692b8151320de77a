//! Fakes of external services, run in-process on loopback ports.

pub mod meili;
