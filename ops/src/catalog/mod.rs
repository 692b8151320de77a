//! Catalog data in: the synthetic generator, ACES and PIES imports, and the bulk loader they
//! share.

pub mod bulk;
pub mod generate;
pub mod import;
pub mod xml;
