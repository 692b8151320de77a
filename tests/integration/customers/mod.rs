//! Customers: records, fiscal data, vehicles, savings, the customer's account, the CRM
//! (tags, activities, timeline, segments), loyalty and analytics.

pub(crate) mod accounts;
pub(crate) mod credit;
pub(crate) mod crm;
pub(crate) mod loyalty;
pub(crate) mod records;
