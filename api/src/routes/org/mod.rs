//! The organisation: sign-in and sessions (`/pos/api/auth`), branches and warehouses, the staff
//! (`/pos/api/users`) and manager overrides.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub mod auth;
pub mod branches;
pub mod staff;

/// Every route of the area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::router())
        .merge(branches::router())
        .merge(staff::router())
}
