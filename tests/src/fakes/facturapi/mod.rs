//! A fake of Facturapi's invoice API v2 (domain.md §1 and §10.1), on a loopback port.
//!
//! What it follows from the documented contract: Bearer organisation keys; `POST /v2/invoices`
//! with body validation answering the error envelope of errors.mdx (`{ok:false, message, status,
//! code, location?, path?, errors:[{message, code, source, location?, path?}]}`); `idempotency_key`
//! as a body field; `external_id` searchable and not unique; 200 `valid` or 202 `pending`;
//! 429 `rate_limit_exceeded` with `Retry-After`; cancellation with motives 01–04; XML and PDF
//! downloads; webhook bodies signed in `Facturapi-Signature` (hex HMAC-SHA256 of the raw body).
//!
//! What it decides where the docs are silent (domain.md §1.4 says so; keep in mind when
//! comparing with the real service): a completed duplicate key with the same body replays the
//! stored invoice with 200; a duplicate while the first is in flight answers 409
//! `idempotency_key_in_use`; the same key with another body answers 409 `conflict`; a failed
//! validation stores nothing under the key. Totals are computed with integer micro-units, line
//! by line (price × quantity − discount, plus each rate on that base when prices exclude tax).

#![allow(
    clippy::result_large_err,
    reason = "the helpers return the response to send; boxing it buys nothing in a test fake"
)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

mod invoices;
mod sat;
mod validate;
mod webhooks;

use invoices::{cancel, create, download, get_one, list};
pub use webhooks::{send_webhook, sign_webhook, webhook_body};

/// The test key the fake accepts (test mode).
pub const SECRET_KEY: &str = "sk_test_nexusfake0123456789abcdef";
/// The live key the fake accepts (its invoices carry `livemode: true`).
pub const LIVE_KEY: &str = "sk_live_nexusfake0123456789abcdef";
/// The secret of the fake's webhook.
pub const WEBHOOK_SECRET: &str = "whsec_nexusfake_2c0ffee";
/// The organisation's expedition zip (LugarExpedicion), used for generic receivers.
pub const EXPEDITION_ZIP: &str = "64000";

/// How the fake answers a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// As Facturapi does when all is well: 200 `valid`.
    Ok,
    /// 202 `pending` (PAC intermittent error); `valid` after `polls` reads of the invoice.
    PendingThenValid {
        /// `GET /invoices/{id}` calls before it becomes valid.
        polls: u32,
    },
    /// 429 `rate_limit_exceeded` with `Retry-After`.
    RateLimited {
        /// Seconds in `Retry-After`.
        retry_after_secs: u64,
    },
    /// 500 `internal_error`, before doing anything.
    ServerError,
    /// Stamps the invoice, then answers only after the hang time (longer than the client's
    /// timeout): the client never learns the outcome.
    TimeoutAfterStamp,
    /// Stamps the invoice, then breaks the connection before a complete answer.
    DropAfterStamp,
    /// 409 `idempotency_key_in_use`, as if a concurrent request held the key.
    KeyInUse,
    /// 400 `invoice_stamping_validation_error` with a SAT detail (CFDI40145, name mismatch).
    SatValidationError,
    /// Cancels the invoice as asked, then breaks the connection before a complete answer: the
    /// cancellation went through and the client never learns it.
    CancelThenDrop,
    /// Leaves a cancellation `pending` whatever the invoice (SAT or the receiver still
    /// deciding), until [`FacturapiFake::resolve_cancellation`] ends it.
    CancelPending,
    /// Refuses a cancellation as the SAT does (400 `invoice_not_cancelable_by_sat`, a related
    /// document still valid): nothing changes at Facturapi, the invoice stays valid.
    CancelRefusedBySat,
}

/// One request received.
#[derive(Debug, Clone)]
pub struct Request {
    /// When it arrived.
    pub at: Instant,
    /// HTTP method.
    pub method: String,
    /// Path, without the query.
    pub path: String,
    /// The raw query.
    pub query: String,
    /// `idempotency_key` of a create.
    pub idempotency_key: Option<String>,
    /// `external_id` of a create.
    pub external_id: Option<String>,
    /// The JSON body received, if any.
    pub body: Option<Value>,
    /// Status answered; 0 while (or if never) answered.
    pub status: u16,
    /// `Retry-After` sent with a 429.
    pub retry_after: Option<u64>,
}

impl Request {
    /// What identifies "the same request again": the key of a create, else method and URL.
    #[must_use]
    pub fn identity(&self) -> String {
        match &self.idempotency_key {
            Some(k) => format!("key:{k}"),
            None => format!("{} {}?{}", self.method, self.path, self.query),
        }
    }
}

/// A request repeated before the `Retry-After` of its 429 had passed.
#[derive(Debug, Clone)]
pub struct EarlyRetry {
    /// [`Request::identity`].
    pub identity: String,
    /// What the 429 asked for.
    pub retry_after: Duration,
    /// How long the client actually waited.
    pub waited: Duration,
}

/// How a pending cancellation ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancellationOutcome {
    /// The receiver accepted (or stayed silent): cancelled.
    Accepted,
    /// The receiver refused: the invoice stays valid.
    Rejected,
}

#[derive(Debug)]
enum KeyState {
    InFlight,
    Done(String),
}

#[derive(Debug)]
struct KeyEntry {
    body: Value,
    state: KeyState,
}

#[derive(Debug)]
struct Stored {
    invoice: Value,
    polls_left: u32,
}

#[derive(Debug)]
struct Inner {
    mode: Mode,
    next: VecDeque<Mode>,
    keys: HashMap<String, KeyEntry>,
    invoices: HashMap<String, Stored>,
    order: Vec<String>,
    stamps: HashMap<String, u32>,
    cancellations: HashMap<String, u32>,
    requests: Vec<Request>,
    seq: u64,
    stamp_delay: Duration,
    hang: Duration,
}

type Shared = Arc<Mutex<Inner>>;

fn lock(inner: &Shared) -> MutexGuard<'_, Inner> {
    inner
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The running fake; stops when dropped.
#[derive(Debug)]
pub struct FacturapiFake {
    /// The base URL to give the client (ends in `/v2`, as Facturapi's).
    pub url: String,
    inner: Shared,
    _stop: tokio::sync::oneshot::Sender<()>,
}

fn error(
    status: StatusCode,
    code: &str,
    message: &str,
    path: Option<&str>,
    errors: Value,
) -> Response {
    let mut body = json!({
        "ok": false,
        "message": message,
        "status": status.as_u16(),
        "code": code,
        "errors": errors,
    });
    if let Some(p) = path {
        body["location"] = json!("body");
        body["path"] = json!(p);
    }
    let mut resp = (status, axum::Json(body)).into_response();
    resp.headers_mut().insert(
        "x-facturapi-log-id",
        HeaderValue::from_static("fake-log-id"),
    );
    resp
}

fn invalid(path: &str, message: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        message,
        Some(path),
        json!([{ "message": message, "code": "invalid", "source": "facturapi",
                 "location": "body", "path": path }]),
    )
}

/// Starts a request: authenticates, records it and picks the mode (a queued one first).
fn begin(
    inner: &Shared,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
    query: &str,
    body: Option<&Value>,
) -> Result<(usize, Mode, bool), (usize, Response)> {
    begin_with(inner, headers, method, path, query, body, true)
}

/// As [`begin`]; `takes_queued` false leaves the queued modes to the calls a test steers (file
/// downloads happen after `valid`, at moments a test does not control, and must not eat the
/// fault it queued for its next create, read or cancel).
fn begin_with(
    inner: &Shared,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
    query: &str,
    body: Option<&Value>,
    takes_queued: bool,
) -> Result<(usize, Mode, bool), (usize, Response)> {
    let mut g = lock(inner);
    let str_of = |k: &str| {
        body.and_then(|b| b.get(k))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    g.requests.push(Request {
        at: Instant::now(),
        method: method.to_string(),
        path: path.to_owned(),
        query: query.to_owned(),
        idempotency_key: str_of("idempotency_key").filter(|k| !k.is_empty()),
        external_id: str_of("external_id"),
        body: body.cloned(),
        status: 0,
        retry_after: None,
    });
    let idx = g.requests.len() - 1;
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let livemode = match key {
        Some(SECRET_KEY) => false,
        Some(LIVE_KEY) => true,
        Some(_) => {
            return Err((
                idx,
                error(
                    StatusCode::UNAUTHORIZED,
                    "api_key_invalid",
                    "La llave de API no es válida.",
                    None,
                    json!([]),
                ),
            ));
        }
        None => {
            return Err((
                idx,
                error(
                    StatusCode::UNAUTHORIZED,
                    "missing_credentials",
                    "No se encontró la llave de API.",
                    None,
                    json!([]),
                ),
            ));
        }
    };
    let queued = if takes_queued {
        g.next.pop_front()
    } else {
        None
    };
    let mode = queued.unwrap_or(g.mode);
    match mode {
        Mode::RateLimited { retry_after_secs } => {
            g.requests[idx].retry_after = Some(retry_after_secs);
            let mut resp = error(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_exceeded",
                "Has excedido el límite de solicitudes.",
                None,
                json!([]),
            );
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_str(&retry_after_secs.to_string())
                    .unwrap_or(HeaderValue::from_static("1")),
            );
            Err((idx, resp))
        }
        Mode::ServerError => Err((
            idx,
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Ocurrió un error inesperado.",
                None,
                json!([]),
            ),
        )),
        m => Ok((idx, m, livemode)),
    }
}

fn finish(inner: &Shared, idx: usize, resp: Response) -> Response {
    lock(inner).requests[idx].status = resp.status().as_u16();
    resp
}

impl FacturapiFake {
    /// Starts the fake on a free loopback port, every request answered [`Mode::Ok`].
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            mode: Mode::Ok,
            next: VecDeque::new(),
            keys: HashMap::new(),
            invoices: HashMap::new(),
            order: Vec::new(),
            stamps: HashMap::new(),
            cancellations: HashMap::new(),
            requests: Vec::new(),
            seq: 0,
            stamp_delay: Duration::ZERO,
            hang: Duration::from_secs(5),
        }));
        let router = axum::Router::new()
            .route("/v2/invoices", axum::routing::post(create).get(list))
            .route(
                "/v2/invoices/{id}",
                axum::routing::get(get_one).delete(cancel),
            )
            .route("/v2/invoices/{id}/{format}", axum::routing::get(download))
            .with_state(inner.clone());
        let (base, stop) = super::serve_on_loopback(router, "Facturapi fake").await;
        Self {
            url: format!("{base}/v2"),
            inner,
            _stop: stop,
        }
    }

    /// Answers every later request in `mode` (after any queued with [`Self::push_modes`]).
    pub fn set_mode(&self, mode: Mode) {
        lock(&self.inner).mode = mode;
    }

    /// Answers the next `n` requests in `mode`, then falls back: creates, reads and
    /// cancellations take queued modes; XML and PDF downloads do not (see `begin_with`).
    pub fn push_modes(&self, mode: Mode, n: usize) {
        let mut g = lock(&self.inner);
        g.next.extend(std::iter::repeat_n(mode, n));
    }

    /// Time a create spends "at the PAC" holding its idempotency key (so concurrent duplicates
    /// see it in flight).
    pub fn set_stamp_delay(&self, d: Duration) {
        lock(&self.inner).stamp_delay = d;
    }

    /// How long [`Mode::TimeoutAfterStamp`] withholds the answer (5 s by default).
    pub fn set_hang(&self, d: Duration) {
        lock(&self.inner).hang = d;
    }

    /// Invoices created (stamped or pending) under an `external_id`: at most 1 is the rule.
    #[must_use]
    pub fn stamp_count(&self, external_id: &str) -> u32 {
        lock(&self.inner)
            .stamps
            .get(external_id)
            .copied()
            .unwrap_or(0)
    }

    /// Cancellations the fake carried out (accepted or left pending) of an invoice, by its
    /// Facturapi id: refused requests do not count. At most 1 is the rule.
    #[must_use]
    pub fn cancellation_count(&self, id: &str) -> u32 {
        lock(&self.inner)
            .cancellations
            .get(id)
            .copied()
            .unwrap_or(0)
    }

    /// Stamp counts of every `external_id`.
    #[must_use]
    pub fn stamp_counts(&self) -> HashMap<String, u32> {
        lock(&self.inner).stamps.clone()
    }

    /// Every request received so far.
    #[must_use]
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.inner).requests.clone()
    }

    /// Requests repeated before the `Retry-After` of their 429 had passed: should be empty.
    #[must_use]
    pub fn early_retries(&self) -> Vec<EarlyRetry> {
        let reqs = self.requests();
        let mut out = Vec::new();
        for (i, r) in reqs.iter().enumerate() {
            let Some(secs) = r.retry_after else { continue };
            let id = r.identity();
            if let Some(next) = reqs[i + 1..].iter().find(|n| n.identity() == id) {
                let waited = next.at.duration_since(r.at);
                let retry_after = Duration::from_secs(secs);
                if waited < retry_after {
                    out.push(EarlyRetry {
                        identity: id,
                        retry_after,
                        waited,
                    });
                }
            }
        }
        out
    }

    /// An invoice as the fake holds it.
    #[must_use]
    pub fn invoice(&self, id: &str) -> Option<Value> {
        lock(&self.inner)
            .invoices
            .get(id)
            .map(|s| s.invoice.clone())
    }

    /// The bodies of the creates received for `external_id`, oldest first, each with the status
    /// answered.
    pub fn bodies_for(&self, external_id: &str) -> Vec<(u16, Value)> {
        lock(&self.inner)
            .requests
            .iter()
            .filter(|r| r.method == "POST" && r.external_id.as_deref() == Some(external_id))
            .filter_map(|r| r.body.clone().map(|b| (r.status, b)))
            .collect()
    }

    /// Ends a pending cancellation as the receiver decides.
    pub fn resolve_cancellation(&self, id: &str, outcome: CancellationOutcome) {
        if let Some(s) = lock(&self.inner).invoices.get_mut(id) {
            match outcome {
                CancellationOutcome::Accepted => {
                    s.invoice["status"] = json!("canceled");
                    s.invoice["cancellation_status"] = json!("accepted");
                }
                CancellationOutcome::Rejected => {
                    s.invoice["cancellation_status"] = json!("rejected");
                }
            }
        }
    }

    /// The signed webhook Facturapi would send about an invoice now: `(body, signature)`.
    #[must_use]
    pub fn webhook_for(
        &self,
        event_id: &str,
        event_type: &str,
        invoice_id: &str,
    ) -> Option<(Vec<u8>, String)> {
        let inv = self.invoice(invoice_id)?;
        let body = webhook_body(event_id, event_type, &inv);
        let sig = sign_webhook(WEBHOOK_SECRET, &body);
        Some((body, sig))
    }
}
