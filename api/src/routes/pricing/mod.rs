//! Pricing: prices per list and branch, their sync, the exchange rate.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub mod prices;

/// Every route of the area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(prices::router())
}
