//! The shared parts catalog: search, the part, its fitment.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub mod search;

/// Every route of the area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(search::router())
}
