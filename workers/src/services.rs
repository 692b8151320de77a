//! The external services the handlers may call, built once per process from configuration. A
//! service that is not configured is `None`: its jobs say so instead of pretending.

use crate::clients::vpic::VpicClient;

/// Clients of external services, handed to [`crate::handlers::all`].
#[derive(Debug, Clone, Default)]
pub struct Services {
    /// NHTSA vPIC, for VIN enrichment; `None` when `NEXUS_VPIC_URL` is `off`.
    pub vpic: Option<VpicClient>,
    /// Facturapi, for the `cfdi` jobs (each business's key is read per job); `None` when
    /// `NEXUS_FACTURAPI_URL` is `off`.
    pub facturapi: Option<crate::clients::facturapi::FacturapiConfig>,
    /// The tenant's files, where stamped invoices' XML and PDF are kept; `None` keeps none
    /// (tests of other things).
    pub files: Option<entities::files::FileStore>,
}

impl Services {
    /// No external service at all (tests and benchmarks of the job platform).
    #[must_use]
    pub fn none() -> Self {
        Self::default()
    }
}
