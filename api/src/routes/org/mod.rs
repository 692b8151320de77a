//! The organisation: sign-in and sessions (`/pos/api/auth`), branches and warehouses.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub mod auth;
pub mod branches;

/// Every route of the area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::router())
        .merge(branches::router())
}
