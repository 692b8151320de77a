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
    /// The SMTP relay for e-mail; `None` when `NEXUS_SMTP_URL` is unset (e-mails are parked).
    pub smtp: Option<crate::clients::smtp::SmtpMailer>,
    /// Meta's WhatsApp Cloud API (each business's number and token are read per send); `None`
    /// when `NEXUS_WHATSAPP_API_URL` is `off`.
    pub whatsapp: Option<crate::clients::whatsapp::CloudApi>,
    /// The platform's WhatsApp Web bridge; `None` unless `WHATSAPP_BRIDGE_URL` is set.
    pub whatsapp_bridge: Option<crate::clients::whatsapp::Bridge>,
    /// Per-channel delivery metrics on `/metrics`.
    pub notify_metrics: Option<crate::handlers::notifications::NotifyMetrics>,
}

impl Services {
    /// No external service at all (tests and benchmarks of the job platform).
    #[must_use]
    pub fn none() -> Self {
        Self::default()
    }
}
