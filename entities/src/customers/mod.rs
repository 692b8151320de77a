//! Customers: the CRM record with fiscal data, contact details and price list.

pub mod records;
pub mod tables;
