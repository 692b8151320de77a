//! `/ops` on the API's address: the way into the operator console, which lives on a listener of
//! its own (`NEXUS_OPS_ADDR`) because the queue board must sit at the root of a host or port.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;

use crate::auth::Operator;
use crate::error::ApiError;
use crate::state::AppState;

/// The `/ops` routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .route("/ops", get(enter))
        .route("/ops/", get(enter))
        .route("/ops/{*rest}", get(enter))
}

/// Whether the caller is a browser that wants a page rather than JSON.
#[must_use]
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// The console's base URL as seen by this caller: the host they used, the console's port.
fn console_url(headers: &HeaderMap, port: u16) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map_or("127.0.0.1", |h| {
            // `host:port`, or `[v6]:port`: keep the host part only.
            match h.rsplit_once(':') {
                Some((name, p)) if p.chars().all(|c| c.is_ascii_digit()) => name,
                _ => h,
            }
        });
    format!("http://{host}:{port}")
}

/// Operators go on to the console; a browser without a session goes to its login; anyone else
/// is refused: 401 without credentials, 403 for business accounts (owners included).
async fn enter(State(state): State<AppState>, req: Request) -> Response {
    let Some(port) = state.config.ops_port else {
        return ApiError::NotFound("operator console (it is off: set NEXUS_OPS_ADDR)")
            .into_response();
    };
    let (mut parts, _) = req.into_parts();
    let base = console_url(&parts.headers, port);
    let who = <Operator as axum::extract::FromRequestParts<AppState>>::from_request_parts(
        &mut parts, &state,
    )
    .await;
    match who {
        Ok(_) => Redirect::temporary(&format!("{base}/")).into_response(),
        Err(e)
            if e.status_and_code().0 == StatusCode::UNAUTHORIZED && wants_html(&parts.headers) =>
        {
            Redirect::to(&format!("{base}/login")).into_response()
        }
        Err(e) => e.into_response(),
    }
}
