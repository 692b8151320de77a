//! Customers: records, fiscal data, vehicles, savings, and the customer's account.

pub(crate) mod accounts;
pub(crate) mod records;
