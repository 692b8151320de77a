//! Cash: drawer sessions (corte de caja), their movements and the X and Z reports.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub mod drawers;

/// Every route of the area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(drawers::router())
}
