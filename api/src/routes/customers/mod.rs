//! Customers: the CRM record, the customer's vehicles and savings, and the customer's account
//! (credit sales, payments on account, aging).

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub mod accounts;
pub mod records;

/// Every route of the area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(records::router())
        .merge(accounts::router())
}
