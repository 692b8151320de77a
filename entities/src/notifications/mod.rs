//! Notifications: outgoing messages per channel, written with the job that delivers them,
//! and the business events they will be sent for.

pub mod events;
pub mod messages;
pub mod tables;
