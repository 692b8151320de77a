//! Customers: records, fiscal data, vehicles, savings.

pub(crate) mod records;
