//! Warranties: the owner's policies per item or brand, the warranty of each sold line (a copy
//! of its policy), customers' claims through to a replacement, a refund or a repair, claims to
//! suppliers with what has not been recovered, and the warranty settings.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub mod claims;
pub mod coverage;
pub mod policies;
pub mod supplier_claims;

/// Every route of the area.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(policies::router())
        .merge(coverage::router())
        .merge(claims::router())
        .merge(supplier_claims::router())
}

/// A `coverage` or `starts_on` text parsed, or the 422 naming the field.
pub(crate) fn parse_text<T: std::str::FromStr>(
    field: &str,
    v: &str,
    allowed: &str,
) -> Result<T, entities::Error> {
    v.parse::<T>()
        .map_err(|_| entities::Error::validation(field, format!("{field} is {allowed}")))
}
