//! Customers: the CRM record, the customer's vehicles and savings, the customer's account
//! (credit sales, payments on account, aging), tags, activities, the timeline, segments and
//! loyalty.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub mod accounts;
pub mod credit;
pub mod crm;
pub mod loyalty;
pub mod records;

/// Every route of the area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(records::router())
        .merge(accounts::router())
        .merge(crm::router())
        .merge(credit::router())
        .merge(loyalty::router())
}
