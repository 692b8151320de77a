//! `POST /webhooks/facturapi?tenant=<id>`: Facturapi's events. The signature is checked over the
//! raw body with the business's webhook secret before anything is read; replays are dropped by
//! event id; an invoice's status follows the event.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use entities::invoicing::fiscal;
use entities::invoicing::invoices::{self, WebhookOutcome};
use entities::rules::cfdi;
use entities::{org::tables::tenant, org::tenants};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::AppQuery;
use crate::state::AppState;

/// The webhook routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(facturapi_webhook))
}

/// Which business the webhook is for (put it in the URL registered in Facturapi).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WebhookQuery {
    /// The tenant's id.
    pub tenant: Uuid,
}

/// What the event did.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAnswer {
    /// `applied`, `duplicate` or `ignored`.
    #[schema(value_type = String)]
    pub result: WebhookOutcome,
}

fn rejected() -> ApiError {
    ApiError::unauthenticated(
        "invalid_signature",
        "the Facturapi-Signature does not verify",
    )
}

/// Receives a Facturapi event. 401 when the signature does not verify over the raw body (or the
/// business has no webhook secret); 200 otherwise, also for a replay (`duplicate`), so Facturapi
/// stops sending it.
#[utoipa::path(
    post,
    path = "/webhooks/facturapi",
    tag = "invoicing",
    params(WebhookQuery, ("Facturapi-Signature" = String, Header, description = "Hex HMAC-SHA256 of the raw body")),
    request_body(content = String, content_type = "application/json"),
    responses((status = 200, body = WebhookAnswer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody))
)]
pub async fn facturapi_webhook(
    State(state): State<AppState>,
    AppQuery(q): AppQuery<WebhookQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<WebhookAnswer>> {
    let t = match tenants::find(&state.platform, q.tenant).await {
        Ok(t) if t.status == tenant::STATUS_ACTIVE => t,
        Ok(_) | Err(entities::Error::NotFound { .. }) => return Err(rejected()),
        Err(e) => return Err(e.into()),
    };
    let db = state.tenants.connection(&t).await?;
    let secret = fiscal::fiscal(&db)
        .await?
        .and_then(|s| s.webhook_secret)
        .ok_or_else(rejected)?;
    let sig = headers
        .get(cfdi::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(rejected)?;
    if !cfdi::verify_facturapi_signature(&secret, &body, sig) {
        tracing::warn!(tenant = %t.slug, "Facturapi webhook with a bad signature");
        return Err(rejected());
    }
    let event: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest {
            code: "malformed_json",
            message: e.to_string(),
        })?;
    let id = event["id"].as_str().unwrap_or_default();
    let kind = event["type"].as_str().unwrap_or_default();
    if id.is_empty() {
        return Err(ApiError::BadRequest {
            code: "malformed_event",
            message: "the event has no id".into(),
        });
    }
    // The event, its effect and its follow-up jobs commit together: a failed follow-up rolls the
    // event back, so Facturapi's retry is applied instead of dropped as a duplicate.
    let txn = entities::db::begin_write(&db).await?;
    let result = invoices::apply_webhook(&txn, id, kind, &event["data"]["object"]).await?;
    let mut queued = false;
    if result == WebhookOutcome::Applied {
        queued = crate::routes::invoicing::global::after_webhook(
            &state,
            &txn,
            t.id,
            kind,
            &event["data"]["object"],
        )
        .await?;
    }
    txn.commit().await?;
    if queued {
        state.waker.wake(t.id);
    }
    Ok(Json(WebhookAnswer { result }))
}
