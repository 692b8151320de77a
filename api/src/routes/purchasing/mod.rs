//! Buying: suppliers and their price lists, purchase orders, receipts (also from the supplier's
//! CFDI), returns to suppliers, reorder rules and alerts, suggested orders, lost sales, special
//! orders and the owner's purchasing settings.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub mod orders;
pub mod receiving;
pub mod reorder;
pub mod settings;
pub mod special_orders;
pub mod suppliers;

/// Every route of the area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(suppliers::router())
        .merge(orders::router())
        .merge(receiving::router())
        .merge(reorder::router())
        .merge(special_orders::router())
        .merge(settings::router())
}
