//! Customers: the CRM record with fiscal data, contact details and price list, the customer's
//! account (credit sales, payments on account, aging), and the CRM around it: tags, segments,
//! activities and tasks, the timeline, loyalty and analytics.

pub mod accounts;
pub mod activities;
pub mod analytics;
pub mod credit;
pub mod loyalty;
pub mod records;
pub mod referrals;
pub mod segments;
pub mod tables;
pub mod tags;
pub mod timeline;
