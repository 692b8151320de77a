//! A fake of Meta's WhatsApp Cloud API (domain.md §5 and §10.3), with its own copy of the rules
//! it checks: the Bearer token (190 otherwise), the number id in the path (100), a
//! `messaging_product` of `whatsapp`, free text only within 24 hours of the customer's last
//! message (131047 otherwise; `521…` and `52…` are one number), templates only by an approved
//! name (132001) with as many parameters as it declares (132000); switchable 429 (130429) and
//! 500 answers; a latency for benchmarks. It signs the webhooks it builds as Meta does
//! (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256>`), with its own HMAC.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// The number id the fake serves.
pub const PHONE_NUMBER_ID: &str = "106540352242922";
/// The token it accepts.
pub const TOKEN: &str = "EAAG-test-system-user-token";

/// A message the fake took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The `wamid` it answered.
    pub id: String,
    /// `to`, as sent.
    pub to: String,
    /// `text` or `template`.
    pub kind: String,
    /// The text, or the template's name.
    pub body: String,
    /// A template's parameters.
    pub params: Vec<String>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Approved templates and their parameter counts.
    templates: HashMap<String, usize>,
    /// When each number (without the Mexican `1`) last wrote.
    wrote: HashMap<String, DateTime<Utc>>,
    sent: Vec<Sent>,
    /// Answers to give before serving normally: 429 or 500.
    next_errors: Vec<u16>,
    latency: Duration,
    calls: usize,
}

/// The running fake; stops when dropped.
#[derive(Debug)]
pub struct WhatsAppFake {
    /// The base URL for `NEXUS_WHATSAPP_API_URL`.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Meta's key for a number: the digits, with a Mexican mobile's `521` as `52`.
fn key(number: &str) -> String {
    let d: String = number.chars().filter(char::is_ascii_digit).collect();
    match d.strip_prefix("521") {
        Some(rest) if rest.len() == 10 => format!("52{rest}"),
        _ => d,
    }
}

fn error(status: StatusCode, code: i64, message: &str) -> Response {
    (
        status,
        Json(
            json!({"error": {"message": message, "type": "OAuthException", "code": code,
                               "error_data": {"messaging_product": "whatsapp", "details": message},
                               "fbtrace_id": "AbCdEf"}}),
        ),
    )
        .into_response()
}

async fn messages(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(phone_id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let latency = {
        let mut i = inner.lock().unwrap_or_else(PoisonError::into_inner);
        i.calls += 1;
        i.latency
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut i = inner.lock().unwrap_or_else(PoisonError::into_inner);
    if !i.next_errors.is_empty() {
        return match i.next_errors.remove(0) {
            429 => error(
                StatusCode::TOO_MANY_REQUESTS,
                130_429,
                "(#130429) Rate limit hit",
            ),
            _ => error(
                StatusCode::INTERNAL_SERVER_ERROR,
                2,
                "Service temporarily unavailable",
            ),
        };
    }
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if auth != format!("Bearer {TOKEN}") {
        return error(StatusCode::UNAUTHORIZED, 190, "Invalid OAuth access token");
    }
    if phone_id != PHONE_NUMBER_ID {
        return error(
            StatusCode::BAD_REQUEST,
            100,
            "Unsupported post request: unknown phone number id",
        );
    }
    if body["messaging_product"] != "whatsapp" {
        return error(
            StatusCode::BAD_REQUEST,
            100,
            "messaging_product is required",
        );
    }
    let to = body["to"].as_str().unwrap_or_default().to_owned();
    if !(8..=15).contains(&to.len()) || !to.bytes().all(|b| b.is_ascii_digit()) {
        return error(StatusCode::BAD_REQUEST, 100, "Invalid parameter: to");
    }
    let (kind, text, params) = match body["type"].as_str() {
        Some("text") => {
            let text = body["text"]["body"].as_str().unwrap_or_default();
            if text.is_empty() || text.chars().count() > 4096 {
                return error(
                    StatusCode::BAD_REQUEST,
                    100,
                    "text.body is 1 to 4096 characters",
                );
            }
            let open = i
                .wrote
                .get(&key(&to))
                .is_some_and(|t| *t > Utc::now() - chrono::Duration::hours(24));
            if !open {
                return error(
                    StatusCode::BAD_REQUEST,
                    131_047,
                    "Re-engagement message: more than 24 hours since the customer last replied",
                );
            }
            ("text", text.to_owned(), Vec::new())
        }
        Some("template") => {
            let name = body["template"]["name"].as_str().unwrap_or_default();
            let Some(wanted) = i.templates.get(name).copied() else {
                return error(
                    StatusCode::NOT_FOUND,
                    132_001,
                    "Template name does not exist in the translation",
                );
            };
            if body["template"]["language"]["code"].as_str().is_none() {
                return error(
                    StatusCode::BAD_REQUEST,
                    100,
                    "template.language.code is required",
                );
            }
            let params: Vec<String> = body["template"]["components"][0]["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p["text"].as_str().map(str::to_owned))
                .collect();
            if params.len() != wanted {
                return error(
                    StatusCode::BAD_REQUEST,
                    132_000,
                    "Number of parameters does not match the expected number of params",
                );
            }
            ("template", name.to_owned(), params)
        }
        _ => return error(StatusCode::BAD_REQUEST, 100, "Unsupported message type"),
    };
    let id = format!("wamid.HBgM{}", uuid::Uuid::now_v7().simple());
    i.sent.push(Sent {
        id: id.clone(),
        to: to.clone(),
        kind: kind.into(),
        body: text,
        params,
    });
    Json(json!({"messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": id, "message_status": "accepted"}]}))
    .into_response()
}

impl WhatsAppFake {
    /// Starts the fake on a loopback port.
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let router = axum::Router::new()
            .route("/{phone_id}/messages", axum::routing::post(messages))
            .with_state(inner.clone());
        let (url, stop) = super::serve_on_loopback(router, "WhatsApp fake").await;
        Self {
            url,
            inner,
            _stop: stop,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Approves a template with `params` body parameters.
    pub fn approve(&self, name: &str, params: usize) {
        self.lock().templates.insert(name.to_owned(), params);
    }

    /// The customer `number` wrote at `at` (their window opens for 24 hours).
    pub fn wrote(&self, number: &str, at: DateTime<Utc>) {
        self.lock().wrote.insert(key(number), at);
    }

    /// Forgets that `number` wrote (its window is closed).
    pub fn close_window(&self, number: &str) {
        self.lock().wrote.remove(&key(number));
    }

    /// The next answers: 429 or 500 each, then normal service.
    pub fn fail_next(&self, statuses: &[u16]) {
        self.lock().next_errors.extend_from_slice(statuses);
    }

    /// Time every send takes.
    pub fn set_latency(&self, d: Duration) {
        self.lock().latency = d;
    }

    /// Every message taken.
    #[must_use]
    pub fn sent(&self) -> Vec<Sent> {
        self.lock().sent.clone()
    }

    /// Calls received, errors included.
    #[must_use]
    pub fn calls(&self) -> usize {
        self.lock().calls
    }
}

/// Signs a webhook body as Meta does.
#[must_use]
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

fn envelope(value: &Value) -> String {
    let v = json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398",
        "changes": [{"field": "messages", "value": value}]}]});
    // Meta escapes non-ASCII as \uXXXX: the signature is over those exact bytes.
    serde_json::to_string(&v)
        .expect("json")
        .chars()
        .map(|c| {
            if c.is_ascii() {
                c.to_string()
            } else {
                let mut buf = [0u16; 2];
                c.encode_utf16(&mut buf)
                    .iter()
                    .map(|u| format!("\\u{u:04x}"))
                    .collect()
            }
        })
        .collect()
}

/// A status delivery for a message we sent.
#[must_use]
pub fn status_body(wamid: &str, status: &str, recipient: &str, category: &str) -> String {
    envelope(&json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
        "statuses": [{"id": wamid, "status": status, "timestamp": Utc::now().timestamp().to_string(),
                      "recipient_id": recipient,
                      "conversation": {"id": "c1", "origin": {"type": category}},
                      "pricing": {"billable": true, "pricing_model": "CBP", "category": category}}]
    }))
}

/// A customer's text message.
#[must_use]
pub fn inbound_body(wa_id: &str, name: &str, message_id: &str, text: &str) -> String {
    envelope(&json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
        "messages": [{"from": wa_id, "id": message_id, "timestamp": Utc::now().timestamp().to_string(),
                      "type": "text", "text": {"body": text}}]
    }))
}
