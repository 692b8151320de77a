//! Customers: the CRM record with fiscal data, contact details and price list, and the
//! customer's account (credit sales, payments on account, aging).

pub mod accounts;
pub mod records;
pub mod tables;
