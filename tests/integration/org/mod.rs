//! Sign-in, sessions, branches and warehouses, tenants.

mod auth;
mod branches;
mod tenants;
