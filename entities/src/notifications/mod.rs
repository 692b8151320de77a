//! Notifications: the business events worth telling, who is told of each and on which channel,
//! the templates messages are rendered from, the messages with their delivery states, and each
//! user's in-app inbox.

pub mod catalog;
pub mod dispatch;
pub mod events;
pub mod inbox;
pub mod messages;
pub mod rules;
pub mod tables;
pub mod templates;
pub mod whatsapp;
