//! Notifications: each user's in-app inbox and its live stream (`/notifications`), the
//! templates (`/notification-templates`), who is told of what (`/notification-rules`,
//! `/notification-settings`, `/customers/{id}/contact-preferences`) and the delivery log
//! (`/notifications/log`).

mod inbox;
mod log;
mod rules;
mod templates;
mod whatsapp;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// The notification routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(inbox::router())
        .merge(log::router())
        .merge(rules::router())
        .merge(templates::router())
        .merge(whatsapp::router())
}
