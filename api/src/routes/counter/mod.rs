//! The counter: the cart, checkout, sales, returns, tickets and quotes.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub mod cart;
pub mod quotes;
pub mod sales;

/// Every route of the area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(cart::router())
        .merge(sales::router())
        .merge(quotes::router())
}
