//! Notifications: outgoing messages per channel, written with the job that delivers them.

pub mod messages;
pub mod tables;
