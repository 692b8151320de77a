//! Sign-in, sessions, branches and warehouses, tenants.

mod access;
mod auth;
mod branches;
mod tenants;
