//! Customers: the CRM record, the customer's vehicles and savings.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub mod records;

/// Every route of the area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(records::router())
}
