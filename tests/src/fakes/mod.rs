//! Local fakes of third-party providers, following their documented contracts
//! (`reference/domain.md` §10), run on loopback ports. Test fixtures only: no production path
//! reaches them.

pub mod facturapi;
pub mod meili;
pub mod s3;
pub mod vpic;
