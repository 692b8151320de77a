//! Clients of external services, one module per provider; each is tested against a local fake
//! of the provider's documented contract.

pub mod facturapi;
pub mod meili;
pub mod vpic;
