//! WhatsApp: the business's line (`/pos/api/whatsapp/settings`, secrets write-only) and Meta's
//! webhooks (`/webhooks/whatsapp?tenant=<id>`): the verification handshake, and signed
//! deliveries whose statuses move our messages (sent, delivered, read, failed, with the pricing
//! category) and whose inbound messages open the customer's 24-hour window. The signature is
//! checked over the raw bytes before anything is read; each item is applied once.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use entities::invoicing::fiscal::Secret;
use entities::notifications::tables::whatsapp_setting;
use entities::notifications::whatsapp::{self, SettingsInput, StatusOutcome};
use entities::{org::tables::tenant, org::tenants};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppQuery};
use crate::state::AppState;

/// The WhatsApp routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(verify_webhook, whatsapp_webhook))
}

/// The business's line as shown (secrets never).
#[derive(Debug, Serialize, ToSchema)]
pub struct WhatsAppView {
    /// `cloud`, `bridge`, or `none` until set.
    pub transport: String,
    /// The Cloud API's number id.
    pub phone_number_id: Option<String>,
    /// Whether a token is stored.
    pub access_token_set: bool,
    /// Whether the app secret is stored (webhooks are refused without it).
    pub app_secret_set: bool,
    /// Whether the verification token is stored.
    pub verify_token_set: bool,
}

impl From<Option<whatsapp_setting::Model>> for WhatsAppView {
    fn from(s: Option<whatsapp_setting::Model>) -> Self {
        match s {
            Some(s) => Self {
                transport: s.transport,
                phone_number_id: s.phone_number_id,
                access_token_set: s.access_token.is_some(),
                app_secret_set: s.app_secret.is_some(),
                verify_token_set: s.verify_token.is_some(),
            },
            None => Self {
                transport: "none".into(),
                phone_number_id: None,
                access_token_set: false,
                app_secret_set: false,
                verify_token_set: false,
            },
        }
    }
}

/// The business's WhatsApp line (managers).
#[utoipa::path(
    get, path = "/pos/api/whatsapp/settings", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = WhatsAppView), (status = 403, body = ErrorBody))
)]
pub async fn get_settings(ctx: TenantCtx) -> ApiResult<Json<WhatsAppView>> {
    Ok(Json(whatsapp::settings(&ctx.db).await?.into()))
}

/// The line as written.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhatsAppBody {
    /// `cloud` (Meta's Cloud API with the business's number) or `bridge` (the platform's).
    #[schema(pattern = "^(cloud|bridge)$")]
    pub transport: String,
    /// The Cloud API's number id (digits).
    #[schema(pattern = "^[0-9]{1,32}$")]
    pub phone_number_id: Option<String>,
    /// The system-user token; absent keeps it, `null` removes it. Never shown again.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, min_length = 8, max_length = 512)]
    pub access_token: Option<Option<String>>,
    /// The app secret webhooks are signed with; absent keeps it, `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, min_length = 8, max_length = 512)]
    pub app_secret: Option<Option<String>>,
    /// The verification handshake's token; absent keeps it, `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, min_length = 8, max_length = 512)]
    pub verify_token: Option<Option<String>>,
}

fn double_option<'de, D>(d: D) -> Result<Option<Option<String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<String>::deserialize(d).map(Some)
}

fn secret(v: Option<Option<String>>) -> Secret {
    match v {
        None => Secret::Keep,
        Some(None) => Secret::Clear,
        Some(Some(s)) => Secret::Set(s),
    }
}

/// Sets the business's WhatsApp line (admins); audited without its secrets.
#[utoipa::path(
    put, path = "/pos/api/whatsapp/settings", tag = "notifications", security(("bearer" = [])),
    request_body = WhatsAppBody,
    responses((status = 200, body = WhatsAppView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn put_settings(
    ctx: TenantCtx,
    AppJson(req): AppJson<WhatsAppBody>,
) -> ApiResult<Json<WhatsAppView>> {
    let input = SettingsInput {
        transport: req.transport,
        phone_number_id: req.phone_number_id,
        access_token: secret(req.access_token),
        app_secret: secret(req.app_secret),
        verify_token: secret(req.verify_token),
    };
    let txn = entities::db::begin_write(&ctx.db).await?;
    let saved = whatsapp::put_settings(&txn, &ctx.actor(), input).await?;
    txn.commit().await?;
    Ok(Json(Some(saved).into()))
}

/// Meta's verification handshake.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// The tenant's id (put it in the callback URL registered with Meta).
    pub tenant: Uuid,
    /// `subscribe`.
    #[serde(rename = "hub.mode")]
    #[param(rename = "hub.mode")]
    pub mode: Option<String>,
    /// The business's verification token.
    #[serde(rename = "hub.verify_token")]
    #[param(rename = "hub.verify_token")]
    pub verify_token: Option<String>,
    /// What to answer.
    #[serde(rename = "hub.challenge")]
    #[param(rename = "hub.challenge")]
    pub challenge: Option<String>,
}

async fn line_of(
    state: &AppState,
    tenant_id: Uuid,
) -> Option<(
    tenant::Model,
    sea_orm::DatabaseConnection,
    whatsapp_setting::Model,
)> {
    let t = tenants::find(&state.platform, tenant_id)
        .await
        .ok()
        .filter(|t| t.status == tenant::STATUS_ACTIVE)?;
    let db = state.tenants.connection(&t).await.ok()?;
    let s = whatsapp::settings(&db).await.ok()??;
    Some((t, db, s))
}

fn refused(code: &'static str, message: &str) -> ApiError {
    ApiError::forbidden(code, message)
}

/// Answers Meta's verification: the challenge when the mode is `subscribe` and the token is the
/// business's, 403 otherwise.
#[utoipa::path(
    get, path = "/webhooks/whatsapp", tag = "notifications",
    params(VerifyQuery),
    responses((status = 200, description = "The challenge, as sent", content_type = "text/plain", body = String), (status = 403, body = ErrorBody))
)]
pub async fn verify_webhook(
    State(state): State<AppState>,
    AppQuery(q): AppQuery<VerifyQuery>,
) -> ApiResult<impl IntoResponse> {
    let bad = || {
        refused(
            "verification_failed",
            "the verification token does not match",
        )
    };
    let (_, _, s) = line_of(&state, q.tenant).await.ok_or_else(bad)?;
    let ok = q.mode.as_deref() == Some("subscribe")
        && s.verify_token.is_some()
        && q.verify_token == s.verify_token;
    let challenge = q.challenge.filter(|c| c.len() <= 256).ok_or_else(bad)?;
    if !ok {
        return Err(bad());
    }
    Ok((StatusCode::OK, [("content-type", "text/plain")], challenge))
}

/// Which business a delivery is for.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WebhookQuery {
    /// The tenant's id.
    pub tenant: Uuid,
}

/// What a delivery did.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhatsAppWebhookAnswer {
    /// Items applied.
    pub applied: u32,
    /// Items seen before, behind the message's state, or about messages not ours.
    pub ignored: u32,
}

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| s.parse::<i64>().ok())
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .unwrap_or_else(entities::now)
}

/// Receives a signed delivery. 401 when `X-Hub-Signature-256` does not verify over the raw body
/// (or the business has no app secret); 200 otherwise, also for a replay, so Meta stops sending
/// it.
#[utoipa::path(
    post, path = "/webhooks/whatsapp", tag = "notifications",
    params(WebhookQuery, ("X-Hub-Signature-256" = String, Header, description = "`sha256=` and the hex HMAC-SHA256 of the raw body under the app secret")),
    request_body(content = String, content_type = "application/json"),
    responses((status = 200, body = WhatsAppWebhookAnswer), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody))
)]
pub async fn whatsapp_webhook(
    State(state): State<AppState>,
    AppQuery(q): AppQuery<WebhookQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<WhatsAppWebhookAnswer>> {
    let rejected = || {
        ApiError::unauthenticated(
            "invalid_signature",
            "the X-Hub-Signature-256 does not verify",
        )
    };
    let (t, db, s) = line_of(&state, q.tenant).await.ok_or_else(rejected)?;
    let secret = s.app_secret.ok_or_else(rejected)?;
    let sig = headers
        .get(entities::rules::whatsapp::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(rejected)?;
    if !entities::rules::whatsapp::verify(&secret, &body, sig) {
        tracing::warn!(tenant = %t.slug, "WhatsApp webhook with a bad signature");
        return Err(rejected());
    }
    let v: Value = serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest {
        code: "malformed_json",
        message: e.to_string(),
    })?;
    let mut answer = WhatsAppWebhookAnswer {
        applied: 0,
        ignored: 0,
    };
    let txn = entities::db::begin_write(&db).await?;
    let changes = v["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|e| e["changes"].as_array().into_iter().flatten())
        .filter(|c| c["field"] == "messages");
    for change in changes {
        let value = &change["value"];
        for st in value["statuses"].as_array().into_iter().flatten() {
            let (Some(id), Some(status)) = (st["id"].as_str(), st["status"].as_str()) else {
                answer.ignored += 1;
                continue;
            };
            let error = st["errors"][0]["title"]
                .as_str()
                .or_else(|| st["errors"][0]["message"].as_str())
                .map(|m| format!("WhatsApp: {m} (code {})", st["errors"][0]["code"]));
            let outcome = whatsapp::status(
                &txn,
                id,
                status,
                at(&st["timestamp"]),
                st["pricing"]["category"].as_str(),
                error.as_deref(),
            )
            .await?;
            if outcome == StatusOutcome::Applied {
                answer.applied += 1;
            } else {
                answer.ignored += 1;
            }
        }
        let names: Vec<(&str, &str)> = value["contacts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| Some((c["wa_id"].as_str()?, c["profile"]["name"].as_str()?)))
            .collect();
        for m in value["messages"].as_array().into_iter().flatten() {
            let (Some(id), Some(from)) = (m["id"].as_str(), m["from"].as_str()) else {
                answer.ignored += 1;
                continue;
            };
            let name = names.iter().find(|(w, _)| *w == from).map(|(_, n)| *n);
            if whatsapp::inbound(&txn, id, from, name, at(&m["timestamp"])).await? {
                answer.applied += 1;
            } else {
                answer.ignored += 1;
            }
        }
    }
    txn.commit().await?;
    Ok(Json(answer))
}
