//! Inventory: items and their bulk imports, stock by branch, adjustments, counts, the ledger,
//! alerts, transfers.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub mod imports;
pub mod items;
pub mod stock;
pub mod transfers;

/// Every route of the area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(items::router())
        .merge(imports::router())
        .merge(stock::router())
        .merge(transfers::router())
}
