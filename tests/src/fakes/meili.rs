//! A fake Meilisearch on `127.0.0.1:0`, following the real REST API for the calls Nexus makes:
//! indexes (list, get, create, delete), settings, documents (NDJSON and JSON, add-or-replace and
//! add-or-update), delete-batch, tasks (enqueued → processing → succeeded or failed, with
//! Meilisearch's error object), swap-indexes, and search.
//!
//! Search is simple but honest: documents are split into folded words over the searchable
//! attributes; every query word must match a word (the last one as a prefix), or two adjacent
//! query words together match one word (Meilisearch's concatenation); with `matchingStrategy`
//! `last` the words are dropped from the end until something matches, best buckets first.
//! Filters support `attr = n`, `attr IN [..]` and `AND`, on filterable attributes only. No
//! typo tolerance, no synonyms at query time.
//!
//! A task's effect is applied when it is enqueued, in order; its status then moves on with each
//! poll. Faults can be switched on: 500 or a failed task on document batches after N, a server
//! that never answers, and a stop. Every call is recorded. In sink mode (benchmarks) documents
//! are counted, not stored, and tasks succeed at once.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

/// What to do to document batches once the allowed number has gone through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer `500 internal`.
    Status500,
    /// Accept the batch, then fail its task with this message.
    TaskFails(String),
    /// Never answer.
    Hang,
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Call {
    /// HTTP method.
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Documents in the body (document routes).
    pub docs: usize,
}

#[derive(Debug, Default)]
struct Index {
    primary_key: Option<String>,
    docs: BTreeMap<String, Value>,
    settings: serde_json::Map<String, Value>,
    created_at: String,
}

#[derive(Debug)]
struct TaskRec {
    uid: u32,
    index_uid: Option<String>,
    kind: &'static str,
    details: Value,
    error: Option<Value>,
    enqueued_at: String,
    polls: u32,
}

#[derive(Debug, Default)]
struct Inner {
    key: Option<String>,
    sink: bool,
    indexes: BTreeMap<String, Index>,
    tasks: Vec<TaskRec>,
    calls: Vec<Call>,
    doc_batches_ok: usize,
    fault_after: Option<(usize, Fault)>,
    hang: bool,
    sink_docs: u64,
    sink_bytes: u64,
}

type Shared = Arc<Mutex<Inner>>;

fn lock(s: &Shared) -> MutexGuard<'_, Inner> {
    s.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn error(status: StatusCode, code: &str, kind: &str, message: &str) -> Response {
    (status, axum::Json(error_body(code, kind, message))).into_response()
}

fn error_body(code: &str, kind: &str, message: &str) -> Value {
    json!({
        "message": message,
        "code": code,
        "type": kind,
        "link": format!("https://docs.meilisearch.com/errors#{code}"),
    })
}

fn not_found(uid: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "index_not_found",
        "invalid_request",
        &format!("Index `{uid}` not found."),
    )
}

/// A running fake.
pub struct FakeMeili {
    /// `http://127.0.0.1:port`.
    pub url: String,
    /// Its master key.
    pub key: Option<String>,
    addr: SocketAddr,
    state: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for FakeMeili {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

impl FakeMeili {
    /// Starts a fake that requires `key` as a Bearer token (none: open, like a server without a
    /// master key).
    pub async fn start(key: Option<&str>) -> Self {
        Self::start_with("127.0.0.1:0", key, false).await
    }

    /// Starts a sink: documents are counted and dropped, tasks succeed at once.
    pub async fn start_sink(addr: &str) -> Self {
        Self::start_with(addr, None, true).await
    }

    /// Starts a fake (not a sink) on a given address, with an optional key.
    pub async fn start_on(addr: &str, key: Option<&str>) -> Self {
        Self::start_with(addr, key, false).await
    }

    async fn start_with(addr: &str, key: Option<&str>, sink: bool) -> Self {
        let state: Shared = Arc::new(Mutex::new(Inner {
            key: key.map(str::to_owned),
            sink,
            ..Inner::default()
        }));
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("binding the fake Meilisearch");
        let addr = listener.local_addr().expect("its address");
        let (stop, task) = serve(listener, state.clone());
        Self {
            url: format!("http://{addr}"),
            key: key.map(str::to_owned),
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops answering: the port is closed, connections are refused.
    pub async fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(mut t) = self.task.take() {
            // Hung requests keep a graceful shutdown waiting: cut them after a moment.
            if tokio::time::timeout(std::time::Duration::from_secs(1), &mut t)
                .await
                .is_err()
            {
                t.abort();
                let _ = t.await;
            }
        }
    }

    /// Listens again on the same port with the same data.
    pub async fn restart(&mut self) {
        self.stop().await;
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .expect("binding the fake Meilisearch again");
        let (stop, task) = serve(listener, self.state.clone());
        self.stop = Some(stop);
        self.task = Some(task);
    }

    /// After `ok` more successful document batches, apply `fault` to every further one.
    pub fn fail_documents_after(&self, ok: usize, fault: Fault) {
        let mut s = lock(&self.state);
        let done = s.doc_batches_ok;
        s.fault_after = Some((done + ok, fault));
    }

    /// Clears document faults and the hang.
    pub fn heal(&self) {
        let mut s = lock(&self.state);
        s.fault_after = None;
        s.hang = false;
    }

    /// Every request from now on hangs (never answers).
    pub fn hang(&self) {
        lock(&self.state).hang = true;
    }

    /// The requests received so far.
    pub fn calls(&self) -> Vec<Call> {
        lock(&self.state).calls.clone()
    }

    /// Forgets the recorded calls.
    pub fn clear_calls(&self) {
        lock(&self.state).calls.clear();
    }

    /// Index uids, sorted.
    pub fn index_uids(&self) -> Vec<String> {
        lock(&self.state).indexes.keys().cloned().collect()
    }

    /// An index's documents in primary-key order (`None` when it does not exist).
    pub fn documents(&self, uid: &str) -> Option<Vec<Value>> {
        lock(&self.state)
            .indexes
            .get(uid)
            .map(|i| i.docs.values().cloned().collect())
    }

    /// An index's settings as last set.
    pub fn settings(&self, uid: &str) -> Option<Value> {
        lock(&self.state)
            .indexes
            .get(uid)
            .map(|i| Value::Object(i.settings.clone()))
    }

    /// Documents and bytes received in sink mode.
    pub fn sink_counts(&self) -> (u64, u64) {
        let s = lock(&self.state);
        (s.sink_docs, s.sink_bytes)
    }
}

fn serve(
    listener: tokio::net::TcpListener,
    state: Shared,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let app = Router::new()
        .route(
            "/health",
            get(|| async { axum::Json(json!({"status": "available"})) }),
        )
        .route("/stats/sink", get(sink_stats))
        .route("/indexes", get(list_indexes).post(create_index))
        .route("/indexes/{uid}", get(get_index).delete(delete_index))
        .route(
            "/indexes/{uid}/settings",
            get(get_settings).patch(update_settings),
        )
        .route(
            "/indexes/{uid}/documents",
            post(add_replace).put(add_update),
        )
        .route("/indexes/{uid}/documents/delete-batch", post(delete_batch))
        .route("/indexes/{uid}/search", post(search))
        .route("/tasks/{uid}", get(get_task))
        .route("/swap-indexes", post(swap))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        // Meilisearch's default `--http-payload-size-limit`.
        .layer(axum::extract::DefaultBodyLimit::max(100 * 1024 * 1024))
        .with_state(state);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    (tx, task)
}

/// Records the call, hangs when asked to, checks the key like Meilisearch.
async fn guard(State(state): State<Shared>, mut req: Request, next: Next) -> Response {
    let (hang, key) = {
        let mut s = lock(&state);
        if !s.sink {
            s.calls.push(Call {
                method: req.method().to_string(),
                path: req.uri().path().to_owned(),
                docs: 0,
            });
            // Requests run concurrently: the handler finds its own record by index.
            let at = CallAt(s.calls.len() - 1);
            req.extensions_mut().insert(at);
        }
        (s.hang, s.key.clone())
    };
    if hang {
        std::future::pending::<()>().await;
    }
    if let Some(key) = key {
        match req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
        {
            None => {
                return error(
                    StatusCode::UNAUTHORIZED,
                    "missing_authorization_header",
                    "auth",
                    "The Authorization header is missing. It must use the bearer authorization method.",
                );
            }
            Some(v) if v.strip_prefix("Bearer ") != Some(key.as_str()) => {
                return error(
                    StatusCode::FORBIDDEN,
                    "invalid_api_key",
                    "auth",
                    "The provided API key is invalid.",
                );
            }
            Some(_) => {}
        }
    }
    next.run(req).await
}

/// Where a request's [`Call`] is in the record.
#[derive(Debug, Clone, Copy)]
struct CallAt(usize);

fn enqueue(
    s: &mut Inner,
    index_uid: Option<&str>,
    kind: &'static str,
    details: Value,
    error: Option<Value>,
) -> Response {
    let uid = u32::try_from(s.tasks.len()).unwrap_or(u32::MAX);
    let enqueued_at = now();
    let info = json!({
        "taskUid": uid,
        "indexUid": index_uid,
        "status": "enqueued",
        "type": kind,
        "enqueuedAt": enqueued_at,
    });
    s.tasks.push(TaskRec {
        uid,
        index_uid: index_uid.map(str::to_owned),
        kind,
        details,
        error,
        enqueued_at,
        polls: if s.sink { 2 } else { 0 },
    });
    (StatusCode::ACCEPTED, axum::Json(info)).into_response()
}

fn index_json(uid: &str, i: &Index) -> Value {
    json!({
        "uid": uid,
        "primaryKey": i.primary_key,
        "createdAt": i.created_at,
        "updatedAt": i.created_at,
    })
}

async fn sink_stats(State(state): State<Shared>) -> Response {
    let s = lock(&state);
    axum::Json(json!({"documents": s.sink_docs, "bytes": s.sink_bytes})).into_response()
}

async fn list_indexes(State(state): State<Shared>) -> Response {
    let s = lock(&state);
    let results: Vec<Value> = s.indexes.iter().map(|(u, i)| index_json(u, i)).collect();
    let total = results.len();
    axum::Json(json!({"results": results, "offset": 0, "limit": 20, "total": total}))
        .into_response()
}

async fn get_index(State(state): State<Shared>, Path(uid): Path<String>) -> Response {
    let s = lock(&state);
    match s.indexes.get(&uid) {
        Some(i) => axum::Json(index_json(&uid, i)).into_response(),
        None => not_found(&uid),
    }
}

fn new_index(primary_key: Option<String>) -> Index {
    Index {
        primary_key,
        created_at: now(),
        ..Index::default()
    }
}

async fn create_index(State(state): State<Shared>, body: Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "invalid_request",
            "The JSON payload is malformed.",
        );
    };
    let Some(uid) = v["uid"].as_str().map(str::to_owned) else {
        return error(
            StatusCode::BAD_REQUEST,
            "missing_index_uid",
            "invalid_request",
            "Missing field `uid`",
        );
    };
    let pk = v["primaryKey"].as_str().map(str::to_owned);
    let mut s = lock(&state);
    let err = if s.indexes.contains_key(&uid) {
        Some(error_body(
            "index_already_exists",
            "invalid_request",
            &format!("Index `{uid}` already exists."),
        ))
    } else {
        s.indexes.insert(uid.clone(), new_index(pk.clone()));
        None
    };
    enqueue(
        &mut s,
        Some(&uid),
        "indexCreation",
        json!({"primaryKey": pk}),
        err,
    )
}

async fn delete_index(State(state): State<Shared>, Path(uid): Path<String>) -> Response {
    let mut s = lock(&state);
    let (n, err) = match s.indexes.remove(&uid) {
        Some(i) => (Some(i.docs.len()), None),
        None => (
            None,
            Some(error_body(
                "index_not_found",
                "invalid_request",
                &format!("Index `{uid}` not found."),
            )),
        ),
    };
    enqueue(
        &mut s,
        Some(&uid),
        "indexDeletion",
        json!({"deletedDocuments": n}),
        err,
    )
}

async fn get_settings(State(state): State<Shared>, Path(uid): Path<String>) -> Response {
    let s = lock(&state);
    match s.indexes.get(&uid) {
        Some(i) => axum::Json(Value::Object(i.settings.clone())).into_response(),
        None => not_found(&uid),
    }
}

async fn update_settings(
    State(state): State<Shared>,
    Path(uid): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(Value::Object(new)) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "invalid_request",
            "The JSON payload is malformed.",
        );
    };
    let mut s = lock(&state);
    // Like Meilisearch, a settings update creates a missing index.
    let index = s
        .indexes
        .entry(uid.clone())
        .or_insert_with(|| new_index(None));
    for (k, v) in &new {
        index.settings.insert(k.clone(), v.clone());
    }
    enqueue(
        &mut s,
        Some(&uid),
        "settingsUpdate",
        Value::Object(new),
        None,
    )
}

fn parse_documents(headers: &HeaderMap, body: &[u8]) -> Result<Vec<Value>, Box<Response>> {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let bad = |m: String| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "malformed_payload",
            "invalid_request",
            &m,
        ))
    };
    if ct.starts_with("application/x-ndjson") {
        body.split(|b| *b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .map(|l| serde_json::from_slice::<Value>(l).map_err(|e| bad(format!("{e}"))))
            .collect()
    } else if ct.starts_with("application/json") {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Array(a)) => Ok(a),
            Ok(o @ Value::Object(_)) => Ok(vec![o]),
            Ok(_) => Err(bad("expected an array of documents".into())),
            Err(e) => Err(bad(format!("{e}"))),
        }
    } else {
        Err(Box::new(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_content_type",
            "invalid_request",
            &format!("The Content-Type `{ct}` is invalid."),
        )))
    }
}

fn doc_key(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

async fn add_documents(
    state: Shared,
    uid: String,
    params: BTreeMap<String, String>,
    headers: HeaderMap,
    body: Bytes,
    replace: bool,
    at: Option<CallAt>,
) -> Response {
    let fault = {
        let s = lock(&state);
        match &s.fault_after {
            Some((after, f)) if s.doc_batches_ok >= *after => Some(f.clone()),
            _ => None,
        }
    };
    match fault {
        Some(Fault::Hang) => std::future::pending::<()>().await,
        Some(Fault::Status500) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal",
                "fake Meilisearch: internal error on purpose",
            );
        }
        _ => {}
    }
    {
        let mut s = lock(&state);
        if s.sink {
            let ndjson = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|c| c.starts_with("application/x-ndjson"));
            // Counting, not keeping: NDJSON by its lines, a JSON array by skimming it.
            let n = if ndjson {
                body.iter().filter(|b| **b == b'\n').count() as u64
            } else {
                serde_json::from_slice::<Vec<serde::de::IgnoredAny>>(&body)
                    .map_or(0, |v| v.len() as u64)
            };
            s.sink_docs += n;
            s.sink_bytes += body.len() as u64;
            return enqueue(
                &mut s,
                Some(&uid),
                "documentAdditionOrUpdate",
                json!({"receivedDocuments": n, "indexedDocuments": n}),
                None,
            );
        }
    }
    let docs = match parse_documents(&headers, &body) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    let mut s = lock(&state);
    if let Some(c) = at.and_then(|CallAt(i)| s.calls.get_mut(i)) {
        c.docs = docs.len();
    }
    let n = docs.len();
    if let Some(Fault::TaskFails(message)) = fault {
        return enqueue(
            &mut s,
            Some(&uid),
            "documentAdditionOrUpdate",
            json!({"receivedDocuments": n, "indexedDocuments": 0}),
            Some(error_body("internal", "internal", &message)),
        );
    }
    s.doc_batches_ok += 1;
    let index = s
        .indexes
        .entry(uid.clone())
        .or_insert_with(|| new_index(None));
    if index.primary_key.is_none() {
        index.primary_key = params.get("primaryKey").cloned();
    }
    let pk = index.primary_key.clone().unwrap_or_else(|| "id".into());
    let mut err = None;
    for d in docs {
        let Some(key) = doc_key(&d[&pk]) else {
            err = Some(error_body(
                "missing_document_id",
                "invalid_request",
                &format!("Document doesn't have a `{pk}` attribute"),
            ));
            break;
        };
        match (replace, index.docs.get_mut(&key), d) {
            (false, Some(Value::Object(old)), Value::Object(new)) => old.extend(new),
            (_, _, d) => {
                index.docs.insert(key, d);
            }
        }
    }
    let indexed = if err.is_some() { 0 } else { n };
    enqueue(
        &mut s,
        Some(&uid),
        "documentAdditionOrUpdate",
        json!({"receivedDocuments": n, "indexedDocuments": indexed}),
        err,
    )
}

async fn add_replace(
    State(state): State<Shared>,
    at: Option<Extension<CallAt>>,
    Path(uid): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    add_documents(
        state,
        uid,
        params,
        headers,
        body,
        true,
        at.map(|Extension(a)| a),
    )
    .await
}

async fn add_update(
    State(state): State<Shared>,
    at: Option<Extension<CallAt>>,
    Path(uid): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    add_documents(
        state,
        uid,
        params,
        headers,
        body,
        false,
        at.map(|Extension(a)| a),
    )
    .await
}

async fn delete_batch(
    State(state): State<Shared>,
    Path(uid): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(Value::Array(ids)) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "invalid_request",
            "expected an array of ids",
        );
    };
    let mut s = lock(&state);
    let (deleted, err) = match s.indexes.get_mut(&uid) {
        Some(index) => (
            ids.iter()
                .filter_map(doc_key)
                .filter(|k| index.docs.remove(k).is_some())
                .count(),
            None,
        ),
        None => (
            0,
            Some(error_body(
                "index_not_found",
                "invalid_request",
                &format!("Index `{uid}` not found."),
            )),
        ),
    };
    enqueue(
        &mut s,
        Some(&uid),
        "documentDeletion",
        json!({"providedIds": ids.len(), "deletedDocuments": deleted, "originalFilter": null}),
        err,
    )
}

async fn swap(State(state): State<Shared>, body: Bytes) -> Response {
    let Ok(Value::Array(swaps)) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "invalid_request",
            "expected an array of swaps",
        );
    };
    let mut s = lock(&state);
    let mut err = None;
    let mut pairs = Vec::new();
    for sw in &swaps {
        let (Some(a), Some(b)) = (sw["indexes"][0].as_str(), sw["indexes"][1].as_str()) else {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_swap_indexes",
                "invalid_request",
                "`indexes` must be a pair of index uids",
            );
        };
        for u in [a, b] {
            if !s.indexes.contains_key(u) && err.is_none() {
                err = Some(error_body(
                    "index_not_found",
                    "invalid_request",
                    &format!("Index `{u}` not found."),
                ));
            }
        }
        pairs.push((a.to_owned(), b.to_owned()));
    }
    if err.is_none() {
        for (a, b) in pairs {
            if let (Some(x), Some(y)) = (s.indexes.remove(&a), s.indexes.remove(&b)) {
                s.indexes.insert(a, y);
                s.indexes.insert(b, x);
            }
        }
    }
    enqueue(&mut s, None, "indexSwap", json!({"swaps": swaps}), err)
}

async fn get_task(State(state): State<Shared>, Path(uid): Path<u32>) -> Response {
    let mut s = lock(&state);
    let Some(t) = s.tasks.get_mut(uid as usize) else {
        return error(
            StatusCode::NOT_FOUND,
            "task_not_found",
            "invalid_request",
            &format!("Task `{uid}` not found."),
        );
    };
    t.polls += 1;
    let status = match (t.polls, &t.error) {
        (1, _) => "enqueued",
        (2, _) => "processing",
        (_, Some(_)) => "failed",
        (_, None) => "succeeded",
    };
    let started = (status != "enqueued").then(now);
    let finished = matches!(status, "failed" | "succeeded").then(now);
    axum::Json(json!({
        "uid": t.uid,
        "indexUid": t.index_uid,
        "status": status,
        "type": t.kind,
        "canceledBy": null,
        "details": t.details,
        "error": if status == "failed" { t.error.clone() } else { None },
        "duration": finished.as_ref().map(|_| "PT0.001S"),
        "enqueuedAt": t.enqueued_at,
        "startedAt": started,
        "finishedAt": finished,
    }))
    .into_response()
}

// ---- search ----

fn words(text: &str) -> Vec<String> {
    entities::catalog::text::fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn collect_words(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.extend(words(s)),
        Value::Number(n) => out.push(n.to_string()),
        Value::Array(a) => a.iter().for_each(|x| collect_words(x, out)),
        _ => {}
    }
}

/// How many leading query words a document matches, and the best attribute rank of a match.
fn matched_prefix(
    doc_words: &[Vec<String>],
    terms: &[String],
    synonyms: &serde_json::Map<String, Value>,
    k: usize,
) -> Option<usize> {
    // `k` leading terms must all match; the last query term may match as a prefix.
    let last = terms.len() - 1;
    let mut best = usize::MAX;
    let mut i = 0;
    while i < k {
        let mut ok = false;
        let alternatives: Vec<&str> = synonyms
            .get(&terms[i])
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|s| !s.contains(' '))
            .collect();
        for (rank, ws) in doc_words.iter().enumerate() {
            let hit = ws.iter().any(|w| {
                w == &terms[i]
                    || (i == last && w.starts_with(terms[i].as_str()))
                    || alternatives.contains(&w.as_str())
            });
            if hit {
                ok = true;
                best = best.min(rank);
                break;
            }
        }
        if !ok && i + 1 < k {
            // Concatenation: this word and the next as one ("bp 1234" finds "bp1234").
            let joined = format!("{}{}", terms[i], terms[i + 1]);
            for (rank, ws) in doc_words.iter().enumerate() {
                if ws.contains(&joined) {
                    ok = true;
                    best = best.min(rank);
                    i += 1;
                    break;
                }
            }
        }
        if !ok {
            return None;
        }
        i += 1;
    }
    Some(best)
}

#[derive(Debug)]
enum Cond {
    Eq(String, f64),
    In(String, Vec<f64>),
}

fn parse_filter(f: &str) -> Option<Vec<Cond>> {
    f.split(" AND ")
        .map(|c| {
            let c = c.trim();
            if let Some((attr, rest)) = c.split_once(" IN ") {
                let list = rest.trim().strip_prefix('[')?.strip_suffix(']')?;
                let vals = list
                    .split(',')
                    .map(|x| x.trim().parse::<f64>().ok())
                    .collect::<Option<Vec<_>>>()?;
                Some(Cond::In(attr.trim().to_owned(), vals))
            } else {
                let (attr, v) = c.split_once('=')?;
                Some(Cond::Eq(attr.trim().to_owned(), v.trim().parse().ok()?))
            }
        })
        .collect()
}

fn value_in(v: &Value, set: &[f64]) -> bool {
    match v {
        Value::Number(n) => n.as_f64().is_some_and(|x| set.contains(&x)),
        Value::Array(a) => a.iter().any(|x| value_in(x, set)),
        _ => false,
    }
}

async fn search(State(state): State<Shared>, Path(uid): Path<String>, body: Bytes) -> Response {
    let started = std::time::Instant::now();
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "invalid_request",
            "The JSON payload is malformed.",
        );
    };
    let s = lock(&state);
    let Some(index) = s.indexes.get(&uid) else {
        return not_found(&uid);
    };
    let q = req["q"].as_str().unwrap_or("").to_owned();
    let offset = req["offset"].as_u64().unwrap_or(0) as usize;
    let limit = req["limit"].as_u64().unwrap_or(20) as usize;
    let strategy = req["matchingStrategy"].as_str().unwrap_or("last");
    let filterable: Vec<String> = index
        .settings
        .get("filterableAttributes")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let conds = match req["filter"].as_str() {
        None => Vec::new(),
        Some(f) => match parse_filter(f) {
            Some(c) => c,
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_search_filter",
                    "invalid_request",
                    &format!("fake Meilisearch cannot parse the filter `{f}`"),
                );
            }
        },
    };
    for c in &conds {
        let (Cond::Eq(a, _) | Cond::In(a, _)) = c;
        if !filterable.contains(a) {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_search_filter",
                "invalid_request",
                &format!("Attribute `{a}` is not filterable."),
            );
        }
    }
    let searchable: Option<Vec<String>> = index
        .settings
        .get("searchableAttributes")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .filter(|a: &Vec<String>| !a.iter().any(|x| x == "*"));
    let terms = words(&q);
    let no_synonyms = serde_json::Map::new();
    let synonyms = index
        .settings
        .get("synonyms")
        .and_then(Value::as_object)
        .unwrap_or(&no_synonyms);
    // (bucket: leading terms matched, attribute rank, position) of each matching document.
    let mut hits: Vec<(usize, usize, usize, &Value)> = Vec::new();
    for (pos, doc) in index.docs.values().enumerate() {
        let passes = conds.iter().all(|c| match c {
            Cond::Eq(a, v) => value_in(&doc[a], &[*v]),
            Cond::In(a, vs) => value_in(&doc[a], vs),
        });
        if !passes {
            continue;
        }
        if terms.is_empty() {
            hits.push((0, 0, pos, doc));
            continue;
        }
        let doc_words: Vec<Vec<String>> = match &searchable {
            Some(attrs) => attrs
                .iter()
                .map(|a| {
                    let mut w = Vec::new();
                    collect_words(&doc[a], &mut w);
                    w
                })
                .collect(),
            None => doc
                .as_object()
                .map(|o| {
                    o.values()
                        .map(|v| {
                            let mut w = Vec::new();
                            collect_words(v, &mut w);
                            w
                        })
                        .collect()
                })
                .unwrap_or_default(),
        };
        let lowest = if strategy == "all" { terms.len() } else { 1 };
        for k in (lowest..=terms.len()).rev() {
            if let Some(rank) = matched_prefix(&doc_words, &terms, synonyms, k) {
                hits.push((terms.len() - k, rank, pos, doc));
                break;
            }
        }
    }
    hits.sort_by_key(|(bucket, rank, pos, _)| (*bucket, *rank, *pos));
    let total = hits.len();
    let retrieve: Option<Vec<String>> = req["attributesToRetrieve"].as_array().map(|a| {
        a.iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    });
    let page: Vec<Value> = hits
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|(_, _, _, d)| match (&retrieve, d) {
            (Some(attrs), Value::Object(o)) if !attrs.iter().any(|a| a == "*") => Value::Object(
                o.iter()
                    .filter(|(k, _)| attrs.contains(k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            (_, d) => d.clone(),
        })
        .collect();
    axum::Json(json!({
        "hits": page,
        "query": q,
        "processingTimeMs": started.elapsed().as_millis(),
        "limit": limit,
        "offset": offset,
        "estimatedTotalHits": total,
    }))
    .into_response()
}
