//! Nexus's HTTP API: a thin layer that authenticates, validates and commits through `entities`
//! (and, from the job platform on, enqueues through `jobs`). It never calls an external service
//! on the request path.

pub mod access;
pub mod auth;
pub mod contract;
pub mod error;
pub mod extract;
pub mod formats;
pub mod idempotency;
pub mod jwt;
pub mod metrics;
pub mod page;
pub mod redis_link;
pub mod request_id;
pub mod routes;
pub mod state;
pub mod stock_cache;
pub mod throttle;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

pub use error::{ApiError, ApiResult};
pub use state::{ApiConfig, AppState, BoxFuture, ReadinessProbe};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Nexus API",
        description = "Back end of Nexus, the point of sale and operations platform for Mexican auto-parts stores.",
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "auth", description = "Sign in, refresh, sign out"),
        (name = "branches", description = "Branches (sucursales) and their warehouses"),
        (name = "system", description = "Health, readiness, metrics and this document"),
        (name = "catalog", description = "The shared parts catalog: search by text, number and fitment; part detail"),
        (name = "workshop", description = "The workshop: service orders from reception to delivery, the budget and its supplements approved by the customer (also through a public link), parts held at approval and used at ready, labour, the kanban, technicians' time and photos, the printable order"),
        (name = "purchasing", description = "Buying: suppliers and price lists, purchase orders, receipts (also from the supplier's CFDI), returns to suppliers, reorder rules and alerts, suggested orders, lost sales, special orders"),
        (name = "inventory", description = "Items, stock by branch, adjustments, counts, the stock ledger, low-stock alerts and transfers between warehouses"),
        (name = "drawers", description = "Cash drawer sessions (corte de caja): opening float, cash in and out, closing count by denomination, X and Z reports"),
        (name = "users", description = "The business's staff: invitations, roles, branch scope, disabling, password resets"),
        (name = "fleets", description = "Fleets: fleet customers with their cost centres, drivers, units and contracts; odometer readings that only go up; maintenance plans per vehicle or model, whichever of km and months comes first, with their urgency; cost logs and stats per unit and fleet"),
        (name = "notifications", description = "Notifications: each user's in-app inbox and its live stream, templates per event and channel (versioned, checked against each event's variables, previewed), who is told of each event, customers' consent per channel, quiet hours, and the delivery log"),
        (name = "warranties", description = "Warranties: policies per item or brand, the warranty of each sold line, customers' claims (replace, refund, repair), claims to suppliers and what has not been recovered"),
        (name = "vehicles", description = "Vehicles: the catalog's year → make → model → engine cascade, VIN decoding (with NHTSA vPIC), plate look-up, the business's registered vehicles"),
    )
)]
struct ApiDoc;

struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Every route of the API with its OpenAPI description, before state and middleware.
#[must_use]
pub fn openapi_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::org::router())
        .merge(routes::catalog::router())
        .merge(routes::vehicles::router())
        .merge(routes::inventory::router())
        .merge(routes::pricing::router())
        .merge(routes::purchasing::router())
        .merge(routes::workshop::router())
        .merge(routes::customers::router())
        .merge(routes::counter::router())
        .merge(routes::cash::router())
        .merge(routes::invoicing::router())
        .merge(routes::warranties::router())
        .merge(routes::fleets::router())
        .merge(routes::notifications::router())
        .merge(routes::system::router())
}

/// The OpenAPI document of the API.
#[must_use]
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = openapi_router().split_for_parts().1;
    finish_document(&mut doc);
    doc
}

/// What the routes do not say of themselves: who may call them (403) and what the shared
/// machinery answers (401, 400, 413, 422, 409).
fn finish_document(doc: &mut utoipa::openapi::OpenApi) {
    access::document(doc);
    contract::document(doc);
}

async fn not_found() -> ApiError {
    ApiError::NotFound("route")
}

async fn method_not_allowed() -> Response {
    let mut r = ApiError::BadRequest {
        code: "method_not_allowed",
        message: "this path does not take that method".into(),
    }
    .into_response();
    *r.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    r
}

fn cors(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                request_id::HEADER.clone(),
                HeaderName::from_static("idempotency-key"),
            ])
            .expose_headers([request_id::HEADER.clone(), header::RETRY_AFTER])
            .max_age(std::time::Duration::from_secs(3600)),
    )
}

/// The complete API: routes, OpenAPI document, and the middleware stack (request ids, panics
/// caught into the error envelope, CORS, compression, body limit, metrics).
///
/// # Errors
/// When the OpenAPI document cannot be serialised.
pub fn router(state: AppState) -> Result<Router, serde_json::Error> {
    let (routes, mut doc) = openapi_router().split_for_parts();
    finish_document(&mut doc);
    let spec = routes::system::health::OpenApiJson(Arc::new(doc.to_pretty_json()?));
    let body_limit = state.config.body_limit;
    let cors = cors(&state.config.cors_origins);
    Ok(routes
        .route_layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            metrics::middleware,
        ))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::Extension(spec))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CompressionLayer::new())
        .layer(tower::util::option_layer(cors))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::Internal("handler panicked".into()).into_response()
        }))
        .layer(axum::middleware::from_fn(request_id::middleware))
        .with_state(state))
}
