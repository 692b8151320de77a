//! The platform's own endpoints: health, readiness, metrics, this API's document, and the way
//! into the operator console.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub mod console;
pub mod health;

/// Every route of the area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(console::router())
        .merge(health::router())
}
