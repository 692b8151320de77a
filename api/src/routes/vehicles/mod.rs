//! Vehicles: the catalog cascade, VIN decoding, plate look-up, registered vehicles.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub mod lookup;

/// Every route of the area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(lookup::router())
}
