//! Sign-in, sessions, branches and warehouses, tenants, staff and manager overrides.

mod access;
mod auth;
mod branches;
mod staff;
mod tenants;
