//! `vehicles.enrich_vin`: asks NHTSA vPIC what it knows of a VIN and fills the shared decode
//! cache, enqueued by the API on a cache miss.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Job, Queue};

/// Decodes a VIN with NHTSA vPIC into the platform's `vin_decodes` cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrichVin {
    /// The tenant whose request caused it (the cache itself is shared).
    pub tenant_id: Uuid,
    /// The normalised VIN.
    pub vin: String,
    /// The model year to send with it (NHTSA recommends always sending one).
    #[serde(default)]
    pub model_year: Option<i32>,
}

impl Job for EnrichVin {
    const NAME: &'static str = "vehicles.enrich_vin";
    const QUEUE: Queue = Queue::Integrations;

    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}
