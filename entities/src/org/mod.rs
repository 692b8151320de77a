//! The organisation: tenants (businesses), users and their memberships and roles, sessions,
//! branches and warehouses, and the audit trail of both databases.

pub mod accounts;
pub mod audit;
pub mod branches;
pub mod password;
pub mod role;
pub mod seller;
pub mod sessions;
pub mod staff;
pub mod tables;
pub mod tenants;
