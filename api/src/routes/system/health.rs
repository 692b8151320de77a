//! Process endpoints: liveness, readiness, metrics, the OpenAPI document and its page.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The process routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(openapi_json))
        .routes(routes!(docs))
        .routes(routes!(docs_renderer))
}

/// The serialised OpenAPI document, shared with its handler.
#[derive(Clone, Debug)]
pub struct OpenApiJson(pub Arc<String>);

/// Liveness.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
    /// Version of the binary.
    pub version: &'static str,
}

/// One dependency's readiness.
#[derive(Debug, Serialize, ToSchema)]
pub struct Check {
    /// Dependency name.
    pub name: &'static str,
    /// Whether it answered.
    pub ok: bool,
    /// Why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Readiness of every dependency.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    pub status: &'static str,
    /// Each check.
    pub checks: Vec<Check>,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// The platform database and every configured dependency (Redis…) answer.
#[utoipa::path(
    get, path = "/readyz", tag = "system",
    responses((status = 200, body = Readiness), (status = 503, description = "A dependency is down", body = Readiness))
)]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let timeout = std::time::Duration::from_secs(2);
    let mut checks = Vec::with_capacity(1 + state.probes.len());
    let db = tokio::time::timeout(timeout, state.platform.ping()).await;
    checks.push(match db {
        Ok(Ok(())) => Check {
            name: "platform_db",
            ok: true,
            error: None,
        },
        Ok(Err(e)) => Check {
            name: "platform_db",
            ok: false,
            error: Some(e.to_string()),
        },
        Err(_) => Check {
            name: "platform_db",
            ok: false,
            error: Some("timed out".into()),
        },
    });
    for probe in &state.probes {
        let r = tokio::time::timeout(timeout, probe.check()).await;
        checks.push(match r {
            Ok(Ok(())) => Check {
                name: probe.name(),
                ok: true,
                error: None,
            },
            Ok(Err(e)) => Check {
                name: probe.name(),
                ok: false,
                error: Some(e),
            },
            Err(_) => Check {
                name: probe.name(),
                ok: false,
                error: Some("timed out".into()),
            },
        });
    }
    let ready = checks.iter().all(|c| c.ok);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Readiness {
            status: if ready { "ready" } else { "not_ready" },
            checks,
        }),
    )
}

/// Prometheus metrics in the text format.
#[utoipa::path(
    get, path = "/metrics", tag = "system",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain"))
)]
pub async fn metrics(State(state): State<AppState>) -> Response {
    crate::metrics::exposition(&state.registry)
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(
    get, path = "/api-docs/openapi.json", tag = "system",
    responses((status = 200, description = "OpenAPI document", content_type = "application/json"))
)]
pub async fn openapi_json(Extension(doc): Extension<OpenApiJson>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.0.as_str().to_owned(),
    )
        .into_response()
}

/// A browsable page of the OpenAPI document, rendered by Redoc served from this process: it loads
/// nothing from the internet.
#[utoipa::path(
    get, path = "/docs", tag = "system",
    responses((status = 200, description = "HTML page", content_type = "text/html"))
)]
pub async fn docs() -> Html<&'static str> {
    Html(include_str!("../../docs.html"))
}

/// Redoc's standalone bundle (vendored, `api/assets/redoc/README.md`), for `/docs`.
#[utoipa::path(
    get, path = "/docs/redoc.standalone.js", tag = "system",
    responses((status = 200, description = "JavaScript", content_type = "text/javascript"))
)]
pub async fn docs_renderer() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../../../assets/redoc/redoc.standalone.js"),
    )
        .into_response()
}
