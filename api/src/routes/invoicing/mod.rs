//! Invoicing (CFDI 4.0): fiscal settings, SAT keys, invoices of sales, credit notes, payments
//! and their complements, the global invoice, Facturapi's webhook. Every `/pos/api/invoices/*`
//! endpoint is here.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub mod access;
pub mod fiscal;
pub mod follow_up;
pub mod global;
pub mod invoices;
pub mod related;
pub mod sat_keys;
pub mod views;
pub mod webhooks;

/// Every route of the area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(fiscal::router())
        .merge(global::router())
        .merge(invoices::router())
        .merge(related::router())
        .merge(sat_keys::router())
        .merge(webhooks::router())
}
