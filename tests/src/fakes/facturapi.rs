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
use entities::rules::cfdi::{self, ReceiverInput};
use serde_json::{Value, json};

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

fn micros(v: Option<&Value>) -> Option<i128> {
    let f = v?.as_f64()?;
    // Amounts of a CFDI have at most 6 decimals.
    Some((f * 1e6).round() as i128)
}

fn round_cents(micros: i128) -> i128 {
    // Half away from zero, from micro-units to centavos.
    let q = micros.abs() / 10_000;
    let r = micros.abs() % 10_000;
    let c = if r >= 5_000 { q + 1 } else { q };
    if micros < 0 { -c } else { c }
}

/// Checks the body as Facturapi's InvoiceIngresoInput would (the subset of domain.md §10.1).
fn validate(body: &Value) -> Result<(), Response> {
    let kind = body.get("type").and_then(Value::as_str).unwrap_or("I");
    if !matches!(kind, "I" | "E" | "P") {
        return Err(invalid("type", "El campo \"type\" debe ser I, E o P."));
    }
    let Some(customer) = body.get("customer").filter(|c| c.is_object()) else {
        return Err(invalid("customer", "El campo \"customer\" es requerido."));
    };
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    for (k, p) in [
        ("legal_name", "customer.legal_name"),
        ("tax_id", "customer.tax_id"),
        ("tax_system", "customer.tax_system"),
    ] {
        if s(customer, k).trim().is_empty() {
            return Err(invalid(p, &format!("El campo \"{p}\" es requerido.")));
        }
    }
    let zip = customer
        .get("address")
        .map(|a| s(a, "zip"))
        .unwrap_or_default();
    let default_use = if kind == "P" { "CP01" } else { "G01" };
    let cfdi_use = body
        .get("use")
        .and_then(Value::as_str)
        .unwrap_or(default_use)
        .to_owned();
    let (legal_name, tax_id, tax_system) = (
        s(customer, "legal_name"),
        s(customer, "tax_id"),
        s(customer, "tax_system"),
    );
    cfdi::validate_receiver(
        &ReceiverInput {
            tax_id: &tax_id,
            legal_name: &legal_name,
            tax_system: &tax_system,
            zip: &zip,
            cfdi_use: &cfdi_use,
        },
        EXPEDITION_ZIP,
    )
    .map_err(|e| invalid(e.field(), &e.to_string()))?;
    let general_public = tax_id == cfdi::RFC_GENERAL_PUBLIC
        && legal_name
            .trim()
            .eq_ignore_ascii_case(cfdi::GENERAL_PUBLIC_NAME);
    match body.get("global") {
        Some(g) if !g.is_null() => {
            if tax_id != cfdi::RFC_GENERAL_PUBLIC || cfdi_use != cfdi::USE_NO_TAX_EFFECTS {
                return Err(invalid(
                    "global",
                    "La información global solo aplica a XAXX010101000 con uso S01.",
                ));
            }
            let periodicity: Option<cfdi::Periodicity> = g
                .get("periodicity")
                .cloned()
                .and_then(|p| serde_json::from_value(p).ok());
            let year = g.get("year").and_then(Value::as_i64).unwrap_or(0);
            let Some(periodicity) = periodicity else {
                return Err(invalid("global.periodicity", "Periodicidad inválida."));
            };
            cfdi::validate_global(
                periodicity,
                &s(g, "months"),
                i32::try_from(year).unwrap_or(0),
            )
            .map_err(|e| invalid(e.field(), &e.to_string()))?;
        }
        _ if general_public && kind == "I" => {
            // SAT's CFDI 4.0 rule: PUBLICO EN GENERAL with the generic RFC is a global invoice.
            return Err(invalid(
                "global",
                "El campo \"global\" es requerido para PUBLICO EN GENERAL.",
            ));
        }
        _ => {}
    }
    if let (Some(form), Some(method)) = (
        body.get("payment_form").and_then(Value::as_str),
        body.get("payment_method").and_then(Value::as_str),
    ) {
        cfdi::validate_payment(form, method).map_err(|e| invalid(e.field(), &e.to_string()))?;
    }
    let items = body
        .get("items")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if kind == "P" {
        let ok = body
            .get("complements")
            .and_then(Value::as_array)
            .is_some_and(|c| {
                c.iter()
                    .any(|c| c.get("type").and_then(Value::as_str) == Some("pago"))
            });
        if !ok {
            return Err(invalid(
                "complements",
                "Un comprobante de pago requiere el complemento \"pago\".",
            ));
        }
        return validate_payments(body);
    }
    if kind == "E" {
        validate_related(body)?;
    }
    if items.is_empty() {
        return Err(invalid(
            "items",
            "El campo \"items\" debe tener al menos un elemento.",
        ));
    }
    if items.len() > 5_000 {
        return Err(invalid(
            "items",
            "El campo \"items\" admite como máximo 5000 elementos.",
        ));
    }
    for (i, item) in items.iter().enumerate() {
        if micros(item.get("quantity")).is_none_or(|q| q <= 0) {
            return Err(invalid(
                &format!("items[{i}].quantity"),
                "La cantidad debe ser mayor que cero.",
            ));
        }
        let Some(product) = item.get("product").filter(|p| p.is_object()) else {
            return Err(invalid(
                &format!("items[{i}].product"),
                "El campo \"product\" es requerido.",
            ));
        };
        if s(product, "description").trim().is_empty() {
            return Err(invalid(
                &format!("items[{i}].product.description"),
                "La descripción es requerida.",
            ));
        }
        cfdi::validate_keys(
            i,
            &s(product, "product_key"),
            product
                .get("unit_key")
                .and_then(Value::as_str)
                .unwrap_or("H87"),
        )
        .map_err(|e| invalid(e.field(), &e.to_string()))?;
        if micros(product.get("price")).is_none_or(|p| p < 0) {
            return Err(invalid(
                &format!("items[{i}].product.price"),
                "El precio debe ser un número positivo.",
            ));
        }
    }
    Ok(())
}

/// Checks the `pago` complements of a type P body: each payment names a real form (never 99)
/// and settles documents by UUID with an installment from 1 and an amount above zero and within
/// the document's previous balance (domain.md §1.5 subcode
/// `amount_exceeds_related_document_balance`).
fn validate_payments(body: &Value) -> Result<(), Response> {
    let complements = body
        .get("complements")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    for (ci, c) in complements.iter().enumerate() {
        if c.get("type").and_then(Value::as_str) != Some("pago") {
            continue;
        }
        let data = c
            .get("data")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if data.is_empty() {
            return Err(invalid(
                &format!("complements[{ci}].data"),
                "El complemento de pago requiere al menos un pago.",
            ));
        }
        for (di, d) in data.iter().enumerate() {
            let at = format!("complements[{ci}].data[{di}]");
            let form = d.get("payment_form").and_then(Value::as_str).unwrap_or("");
            if form == cfdi::PAYMENT_FORM_TO_BE_DEFINED
                || !cfdi::PAYMENT_FORMS.iter().any(|(k, _)| *k == form)
            {
                return Err(invalid(
                    &format!("{at}.payment_form"),
                    "La forma de pago del pago debe existir en el catálogo y no puede ser 99.",
                ));
            }
            let docs = d
                .get("related_documents")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            if docs.is_empty() {
                return Err(invalid(
                    &format!("{at}.related_documents"),
                    "El pago debe relacionar al menos un documento.",
                ));
            }
            for (ri, r) in docs.iter().enumerate() {
                let rp = format!("{at}.related_documents[{ri}]");
                if r.get("uuid")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    return Err(invalid(
                        &format!("{rp}.uuid"),
                        "El campo \"uuid\" es requerido.",
                    ));
                }
                if r.get("installment")
                    .and_then(Value::as_i64)
                    .is_none_or(|n| n < 1)
                {
                    return Err(invalid(
                        &format!("{rp}.installment"),
                        "El número de parcialidad debe ser mayor que cero.",
                    ));
                }
                let amount = micros(r.get("amount")).unwrap_or(0);
                let last = micros(r.get("last_balance")).unwrap_or(0);
                if amount <= 0 {
                    return Err(invalid(
                        &format!("{rp}.amount"),
                        "El importe pagado debe ser mayor que cero.",
                    ));
                }
                if amount > last {
                    let path = format!("{rp}.amount");
                    let msg =
                        "El importe pagado excede el saldo anterior del documento relacionado.";
                    return Err(error(
                        StatusCode::BAD_REQUEST,
                        "invalid_request",
                        msg,
                        Some(&path),
                        json!([{ "message": msg, "code": "amount_exceeds_related_document_balance",
                                 "source": "facturapi", "location": "body", "path": path }]),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A credit note (type E) relates to the documents it credits: at least one group with a
/// c_TipoRelacion key and at least one UUID.
fn validate_related(body: &Value) -> Result<(), Response> {
    let groups = body
        .get("related_documents")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if groups.is_empty() {
        return Err(invalid(
            "related_documents",
            "Un comprobante de egreso debe relacionar los documentos que acredita.",
        ));
    }
    for (i, g) in groups.iter().enumerate() {
        let rel = g.get("relationship").and_then(Value::as_str).unwrap_or("");
        if !matches!(
            rel,
            "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08" | "09"
        ) {
            return Err(invalid(
                &format!("related_documents[{i}].relationship"),
                "El tipo de relación no existe en el catálogo c_TipoRelacion.",
            ));
        }
        let docs = g
            .get("documents")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if docs.is_empty() || docs.iter().any(|d| d.as_str().is_none_or(str::is_empty)) {
            return Err(invalid(
                &format!("related_documents[{i}].documents"),
                "Cada relación debe listar los UUID de los documentos relacionados.",
            ));
        }
    }
    Ok(())
}

/// The total Facturapi would compute: per line, price × quantity − discount, plus each
/// transferred rate on that base when the price excludes taxes, rounded to centavos.
fn total_cents(body: &Value) -> i128 {
    let items = body
        .get("items")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let mut total = 0i128;
    for item in items {
        let qty = micros(item.get("quantity")).unwrap_or(0);
        let product = item.get("product").cloned().unwrap_or(Value::Null);
        let price = micros(product.get("price")).unwrap_or(0);
        let discount = micros(item.get("discount")).unwrap_or(0);
        let amount = round_cents(qty * price / 1_000_000 - discount);
        let tax_included = product
            .get("tax_included")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        if tax_included {
            total += amount;
            continue;
        }
        let mut taxes = 0i128;
        let list = product
            .get("taxes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_else(|| vec![json!({"type": "IVA", "rate": 0.16})]);
        for t in &list {
            let exempt = t.get("factor").and_then(Value::as_str) == Some("Exento");
            let withholding = t
                .get("withholding")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let rate = micros(t.get("rate")).unwrap_or(0);
            let tax = round_cents(amount * 10_000 * rate / 1_000_000);
            if !exempt {
                taxes += if withholding { -tax } else { tax };
            }
        }
        total += amount + taxes;
    }
    total
}

fn stamp_now(inv: &mut Value, seq: u64) {
    inv["status"] = json!("valid");
    inv["uuid"] = json!(format!("{:08X}-FA4E-4C0D-9A1B-{:012X}", seq, seq * 7919));
    inv["stamp"] = json!({
        "date": chrono::Utc::now().to_rfc3339(),
        "signature": format!("fake-cfdi-seal-{seq}"),
        "sat_cert_number": "30001000000500003456",
        "sat_signature": format!("fake-sat-seal-{seq}"),
    });
    inv["verification_url"] = json!(format!(
        "https://verificacfdi.facturaelectronica.sat.gob.mx/default.aspx?id={}",
        inv["uuid"].as_str().unwrap_or_default()
    ));
}

async fn create(
    State(inner): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    bytes: Bytes,
) -> Response {
    let query = query.unwrap_or_default();
    let body: Option<Value> = serde_json::from_slice(&bytes).ok();
    let (idx, mode, livemode) = match begin(
        &inner,
        &headers,
        &Method::POST,
        "/v2/invoices",
        &query,
        body.as_ref(),
    ) {
        Ok(x) => x,
        Err((idx, resp)) => return finish(&inner, idx, resp),
    };
    let Some(body) = body.filter(Value::is_object) else {
        return finish(
            &inner,
            idx,
            error(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                "El cuerpo no es JSON válido.",
                None,
                json!([]),
            ),
        );
    };
    if mode == Mode::KeyInUse {
        return finish(
            &inner,
            idx,
            error(
                StatusCode::CONFLICT,
                "idempotency_key_in_use",
                "La llave de idempotencia está siendo usada por otra solicitud.",
                None,
                json!([]),
            ),
        );
    }
    if let Err(resp) = validate(&body) {
        return finish(&inner, idx, resp);
    }
    let key = body
        .get("idempotency_key")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .map(str::to_owned);
    let delay = {
        let mut g = lock(&inner);
        if let Some(k) = &key {
            match g.keys.get(k) {
                Some(KeyEntry {
                    state: KeyState::InFlight,
                    ..
                }) => {
                    drop(g);
                    return finish(
                        &inner,
                        idx,
                        error(
                            StatusCode::CONFLICT,
                            "idempotency_key_in_use",
                            "La llave de idempotencia está siendo usada por otra solicitud.",
                            None,
                            json!([]),
                        ),
                    );
                }
                Some(KeyEntry {
                    state: KeyState::Done(id),
                    body: first,
                }) => {
                    let resp = if *first == body {
                        let inv = g
                            .invoices
                            .get(id)
                            .map(|s| s.invoice.clone())
                            .unwrap_or(Value::Null);
                        (StatusCode::OK, axum::Json(inv)).into_response()
                    } else {
                        error(
                            StatusCode::CONFLICT,
                            "conflict",
                            "La llave de idempotencia ya se usó con otro contenido.",
                            Some("idempotency_key"),
                            json!([]),
                        )
                    };
                    drop(g);
                    return finish(&inner, idx, resp);
                }
                None => {
                    g.keys.insert(
                        k.clone(),
                        KeyEntry {
                            body: body.clone(),
                            state: KeyState::InFlight,
                        },
                    );
                }
            }
        }
        g.stamp_delay
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if mode == Mode::SatValidationError {
        if let Some(k) = &key {
            lock(&inner).keys.remove(k);
        }
        let msg = "CFDI40145 - El campo Nombre del receptor, debe pertenecer al nombre asociado al RFC registrado en el campo Rfc del Receptor.";
        return finish(
            &inner,
            idx,
            error(
                StatusCode::BAD_REQUEST,
                "invoice_stamping_validation_error",
                msg,
                None,
                json!([{ "message": msg, "code": "CFDI40145", "source": "sat" }]),
            ),
        );
    }
    let asynchronous = query.split('&').any(|p| p == "async=true");
    let (invoice, hang) = {
        let mut g = lock(&inner);
        g.seq += 1;
        let seq = g.seq;
        let id = format!("{:024x}", 0x6650_0000_0000_0000_u64 + seq);
        let external_id = body.get("external_id").cloned().unwrap_or(Value::Null);
        let cents = total_cents(&body);
        let mut inv = json!({
            "id": id,
            "created_at": chrono::Utc::now().to_rfc3339(),
            "livemode": livemode,
            "status": "pending",
            "cancellation_status": "none",
            "verification_url": null,
            "date": chrono::Utc::now().to_rfc3339(),
            "type": body.get("type").cloned().unwrap_or(json!("I")),
            "customer": body.get("customer").cloned().unwrap_or(Value::Null),
            "items": body.get("items").cloned().unwrap_or(json!([])),
            "total": (cents as f64) / 100.0,
            "uuid": null,
            "folio_number": body.get("folio_number").cloned().unwrap_or(json!(seq)),
            "series": body.get("series").cloned().unwrap_or(Value::Null),
            "external_id": external_id,
            "idempotency_key": key.clone(),
            "payment_form": body.get("payment_form").cloned().unwrap_or(Value::Null),
            "payment_method": body.get("payment_method").cloned().unwrap_or(json!("PUE")),
            "use": body.get("use").cloned().unwrap_or(Value::Null),
            "currency": body.get("currency").cloned().unwrap_or(json!("MXN")),
            "exchange": body.get("exchange").cloned().unwrap_or(json!(1)),
            "related_documents": body.get("related_documents").cloned().unwrap_or(json!([])),
            "global": body.get("global").cloned().unwrap_or(Value::Null),
            "stamp": null,
        });
        let polls_left = match mode {
            Mode::PendingThenValid { polls } => polls.max(1),
            _ if asynchronous => 1,
            _ => {
                stamp_now(&mut inv, seq);
                0
            }
        };
        if let Some(e) = external_id.as_str() {
            *g.stamps.entry(e.to_owned()).or_insert(0) += 1;
        }
        g.order.push(id.clone());
        g.invoices.insert(
            id.clone(),
            Stored {
                invoice: inv.clone(),
                polls_left,
            },
        );
        if let Some(k) = &key
            && let Some(entry) = g.keys.get_mut(k)
        {
            entry.state = KeyState::Done(id);
        }
        (inv, g.hang)
    };
    match mode {
        Mode::PendingThenValid { .. } => finish(
            &inner,
            idx,
            (StatusCode::ACCEPTED, axum::Json(invoice)).into_response(),
        ),
        Mode::TimeoutAfterStamp => {
            tokio::time::sleep(hang).await;
            finish(
                &inner,
                idx,
                (StatusCode::OK, axum::Json(invoice)).into_response(),
            )
        }
        Mode::DropAfterStamp => dropped(&inner, idx, &invoice),
        _ => finish(
            &inner,
            idx,
            (StatusCode::OK, axum::Json(invoice)).into_response(),
        ),
    }
}

/// An answer whose body fails on its first frame: hyper aborts the connection, so the client
/// gets no complete answer although the fake did what was asked. Recorded as never answered.
fn dropped(inner: &Shared, idx: usize, body: &Value) -> Response {
    let broken =
        http_body_util::Limited::new(http_body_util::Full::new(Bytes::from(body.to_string())), 1);
    let mut resp = Response::new(Body::new(broken));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    lock(inner).requests[idx].status = 0;
    resp
}

fn not_found(idx: usize, inner: &Shared) -> Response {
    finish(
        inner,
        idx,
        error(
            StatusCode::NOT_FOUND,
            "invoice_not_found",
            "No se encontró la factura.",
            None,
            json!([]),
        ),
    )
}

async fn get_one(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let path = format!("/v2/invoices/{id}");
    let idx = match begin(&inner, &headers, &Method::GET, &path, "", None) {
        Ok((idx, ..)) => idx,
        Err((idx, resp)) => return finish(&inner, idx, resp),
    };
    let inv = {
        let mut g = lock(&inner);
        let seq = g.seq + 1;
        match g.invoices.get_mut(&id) {
            Some(stored) => {
                if stored.polls_left > 0 {
                    stored.polls_left -= 1;
                    if stored.polls_left == 0 {
                        stamp_now(&mut stored.invoice, seq);
                    }
                }
                Some(stored.invoice.clone())
            }
            None => None,
        }
    };
    match inv {
        Some(inv) => finish(
            &inner,
            idx,
            (StatusCode::OK, axum::Json(inv)).into_response(),
        ),
        None => not_found(idx, &inner),
    }
}

async fn list(
    State(inner): State<Shared>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let idx = match begin(
        &inner,
        &headers,
        &Method::GET,
        "/v2/invoices",
        &raw.unwrap_or_default(),
        None,
    ) {
        Ok((idx, ..)) => idx,
        Err((idx, resp)) => return finish(&inner, idx, resp),
    };
    let data: Vec<Value> = {
        let g = lock(&inner);
        g.order
            .iter()
            .rev()
            .filter_map(|id| g.invoices.get(id))
            .map(|s| s.invoice.clone())
            .filter(|inv| {
                q.get("external_id")
                    .is_none_or(|e| inv["external_id"].as_str() == Some(e))
            })
            .collect()
    };
    let n = data.len();
    finish(
        &inner,
        idx,
        axum::Json(json!({ "page": 1, "total_pages": 1, "total_results": n, "data": data }))
            .into_response(),
    )
}

async fn cancel(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let path = format!("/v2/invoices/{id}");
    let (idx, mode) = match begin(
        &inner,
        &headers,
        &Method::DELETE,
        &path,
        &raw.unwrap_or_default(),
        None,
    ) {
        Ok((idx, mode, _)) => (idx, mode),
        Err((idx, resp)) => return finish(&inner, idx, resp),
    };
    let motive = q.get("motive").map(String::as_str).unwrap_or("");
    let substitution = q
        .get("substitution")
        .map(String::as_str)
        .filter(|s| !s.is_empty());
    let Some(m) = cfdi::CancellationMotive::parse(motive) else {
        return finish(
            &inner,
            idx,
            error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "El motivo debe ser 01, 02, 03 o 04.",
                Some("motive"),
                json!([]),
            ),
        );
    };
    let mut g = lock(&inner);
    if m.requires_substitution() {
        let Some(sub) = substitution else {
            drop(g);
            return finish(
                &inner,
                idx,
                error(
                    StatusCode::BAD_REQUEST,
                    "substitution_invoice_required",
                    "El motivo 01 requiere la factura que sustituye.",
                    Some("substitution"),
                    json!([]),
                ),
            );
        };
        let exists = g.invoices.values().any(|s| {
            (s.invoice["id"].as_str() == Some(sub) || s.invoice["uuid"].as_str() == Some(sub))
                && s.invoice["status"] == json!("valid")
        });
        if !exists {
            drop(g);
            return finish(
                &inner,
                idx,
                error(
                    StatusCode::BAD_REQUEST,
                    "substitution_invoice_not_found",
                    "No se encontró la factura sustituta.",
                    Some("substitution"),
                    json!([]),
                ),
            );
        }
    }
    let Some(stored) = g.invoices.get_mut(&id) else {
        drop(g);
        return not_found(idx, &inner);
    };
    let inv = &mut stored.invoice;
    if inv["status"] != json!("valid") {
        drop(g);
        return finish(
            &inner,
            idx,
            error(
                StatusCode::BAD_REQUEST,
                "invoice_not_cancelable",
                "Solo se pueden cancelar facturas válidas.",
                None,
                json!([]),
            ),
        );
    }
    if matches!(
        inv["cancellation_status"].as_str(),
        Some("pending" | "verifying")
    ) {
        drop(g);
        return finish(
            &inner,
            idx,
            error(
                StatusCode::CONFLICT,
                "invoice_cancellation_in_progress",
                "Ya hay una solicitud de cancelación en curso.",
                None,
                json!([]),
            ),
        );
    }
    if mode == Mode::CancelRefusedBySat {
        drop(g);
        let msg = "El SAT no permite cancelar la factura: tiene documentos relacionados vigentes.";
        return finish(
            &inner,
            idx,
            error(
                StatusCode::BAD_REQUEST,
                "invoice_not_cancelable_by_sat",
                msg,
                None,
                json!([{ "message": msg, "code": "invoice_not_cancelable_by_sat", "source": "sat" }]),
            ),
        );
    }
    // SAT cancels without the receiver's acceptance up to $1,000, for the general public and
    // for egresos/payments (domain.md §1.6); otherwise the receiver has 3 business days.
    let small = inv["total"].as_f64().unwrap_or(f64::MAX) <= 1_000.0;
    let public = inv["customer"]["tax_id"].as_str() == Some(cfdi::RFC_GENERAL_PUBLIC);
    let no_acceptance = matches!(inv["type"].as_str(), Some("E" | "P"));
    if (small || public || no_acceptance) && mode != Mode::CancelPending {
        inv["status"] = json!("canceled");
        inv["cancellation_status"] = json!("accepted");
    } else {
        inv["cancellation_status"] = json!("pending");
    }
    inv["cancellation"] = json!({ "motive": m.key(), "substitution": substitution });
    let out = inv.clone();
    *g.cancellations.entry(id).or_insert(0) += 1;
    drop(g);
    if mode == Mode::CancelThenDrop {
        return dropped(&inner, idx, &out);
    }
    finish(&inner, idx, axum::Json(out).into_response())
}

async fn download(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Path((id, format)): Path<(String, String)>,
) -> Response {
    let path = format!("/v2/invoices/{id}/{format}");
    let idx = match begin_with(&inner, &headers, &Method::GET, &path, "", None, false) {
        Ok((idx, ..)) => idx,
        Err((idx, resp)) => return finish(&inner, idx, resp),
    };
    let inv = lock(&inner).invoices.get(&id).map(|s| s.invoice.clone());
    let Some(inv) = inv else {
        return not_found(idx, &inner);
    };
    if !matches!(inv["status"].as_str(), Some("valid" | "canceled")) {
        return finish(
            &inner,
            idx,
            error(
                StatusCode::BAD_REQUEST,
                "invoice_not_stamped",
                "La factura no ha sido timbrada.",
                None,
                json!([]),
            ),
        );
    }
    let uuid = inv["uuid"].as_str().unwrap_or_default();
    let (ctype, bytes) = match format.as_str() {
        "xml" => (
            "application/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<cfdi:Comprobante xmlns:cfdi=\"http://www.sat.gob.mx/cfd/4\" Version=\"4.0\" Total=\"{}\"><cfdi:Complemento><tfd:TimbreFiscalDigital xmlns:tfd=\"http://www.sat.gob.mx/TimbreFiscalDigital\" Version=\"1.1\" UUID=\"{uuid}\"/></cfdi:Complemento></cfdi:Comprobante>\n",
                inv["total"]
            )
            .into_bytes(),
        ),
        "pdf" => ("application/pdf", format!("%PDF-1.4\n% fake CFDI {uuid}\n%%EOF\n").into_bytes()),
        _ => return not_found(idx, &inner),
    };
    let mut resp = Response::new(Body::from(bytes));
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{id}.{format}\"")) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    finish(&inner, idx, resp)
}

/// A webhook delivery body as Facturapi sends it (domain.md §1.9): `{id, created_at,
/// organization, livemode, type, data: {type, object}}`.
#[must_use]
pub fn webhook_body(event_id: &str, event_type: &str, object: &Value) -> Vec<u8> {
    let kind = event_type.split('.').next().unwrap_or("invoice");
    json!({
        "id": event_id,
        "created_at": chrono::Utc::now().to_rfc3339(),
        "organization": "fake-organization",
        "livemode": object.get("livemode").cloned().unwrap_or(json!(false)),
        "type": event_type,
        "data": { "type": kind, "object": object },
    })
    .to_string()
    .into_bytes()
}

/// The `Facturapi-Signature` of a body: hex HMAC-SHA256 under the webhook secret.
#[must_use]
pub fn sign_webhook(secret: &str, body: &[u8]) -> String {
    cfdi::facturapi_signature(secret, body)
}

/// Delivers a signed webhook to `url` and returns the receiver's status.
///
/// # Errors
/// The transport error.
pub async fn send_webhook(url: &str, secret: &str, body: Vec<u8>) -> reqwest::Result<u16> {
    let sig = sign_webhook(secret, &body);
    let resp = reqwest::Client::new()
        .post(url)
        .header(header::CONTENT_TYPE, "application/json")
        .header(cfdi::SIGNATURE_HEADER, sig)
        .body(body)
        .send()
        .await?;
    Ok(resp.status().as_u16())
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
