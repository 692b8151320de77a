//! The workshop: service orders from reception to delivery, their budget lines and the
//! customer's approvals, the kanban, technicians' time and photos, the public approval link
//! and the printable order.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub mod actions;
pub mod board;
pub mod cores;
pub mod lines;
pub mod orders;
pub mod public;
pub mod records;

/// Every route of the area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(orders::router())
        .merge(lines::router())
        .merge(actions::router())
        .merge(board::router())
        .merge(cores::router())
        .merge(records::router())
        .merge(public::router())
}
