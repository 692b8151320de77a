//! The operator console, on a listener of its own (`NEXUS_OPS_ADDR`): the apalis-board
//! dashboard at the root (it cannot live under a path), and Nexus's own pages under `/nexus/`
//! for what the board cannot do (failed runs with their reason, retry, discard, counts that are
//! right on Redis). Queues hold every tenant's work, so everything but `/login` needs a platform
//! operator: a browser signs in with the form (a cookie), a script sends its Bearer token;
//! business accounts, owners included, get 403.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use apalis_board::axum::framework::{ApiBuilder, RegisterRoute};
use apalis_board::axum::ui::ServeUI;
use api::auth::{ClientIp, OPS_COOKIE, Operator};
use api::routes::org::auth::{LoginRequest, sign_in};
use api::routes::system::console::wants_html;
use api::{ApiError, AppState};
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Json, Router};
use entities::org::audit::Entry;
use entities::org::sessions;
use jobs::backend::Engine;
use jobs::{Queue, QueueBackend, RelayWaker};
use serde::{Deserialize, Serialize};
use workers::admin::{self, AdminError};

/// What the console's handlers share.
#[derive(Clone)]
pub struct Console {
    /// The API's state: the platform database, tenants, token keys.
    pub state: AppState,
    /// The queues.
    pub backend: QueueBackend,
    /// Wakes the relay after a retry.
    pub waker: RelayWaker,
}

impl axum::extract::FromRef<Console> for AppState {
    fn from_ref(c: &Console) -> Self {
        c.state.clone()
    }
}

/// The console's router.
pub fn router(console: Console) -> Router {
    let protected = Router::new()
        .route("/nexus", get(|| async { Redirect::to("/nexus/jobs") }))
        .route("/nexus/jobs", get(jobs_page))
        .route("/nexus/jobs/retry", post(retry_form))
        .route("/nexus/jobs/discard", post(discard_form))
        .route("/nexus/api/stats", get(api_stats))
        .route("/nexus/api/failed", get(api_failed))
        .route("/nexus/api/runs/{key}/retry", post(api_retry))
        .route("/nexus/api/runs/{key}/discard", post(api_discard))
        .route("/logout", post(logout))
        .with_state(console.clone())
        .nest(
            "/api/v1",
            board_api(&console.backend).layer(axum::middleware::from_fn_with_state(
                console.backend.clone(),
                board_guard,
            )),
        )
        .fallback_service(ServeUI::new())
        .layer(axum::middleware::from_fn_with_state(console.clone(), gate));
    Router::new()
        .route("/login", get(login_page).post(login_form))
        .with_state(console)
        .merge(protected)
        .layer(axum::middleware::from_fn(api::request_id::middleware))
}

/// The board's JSON API: apalis-board's per-queue routes, and our own root routes, because
/// apalis-redis 1.0's `ListQueues` and overview fail on its own keys (`ZCARD` on sets, a
/// statistics list where queue records are expected) and list every deployment's queues. The
/// board's all-tasks page is not served for the same reason; each queue's task list is.
fn board_api(backend: &QueueBackend) -> Router {
    let mut b = ApiBuilder::new_with_router(Router::new(), false);
    for q in Queue::ALL {
        let name = backend.queue_name(q);
        b = match &backend.engine {
            Engine::Redis(conn) => RegisterRoute::<_, serde_json::Value>::register(
                b,
                &name,
                backend.redis_storage::<serde_json::Value>(conn, q, 100),
            ),
            Engine::Sqlite(pool) => RegisterRoute::<_, serde_json::Value>::register(
                b,
                &name,
                backend.sqlite_storage::<serde_json::Value>(pool, q, 100),
            ),
        };
    }
    let root = Router::new()
        .route("/queues", get(board_queues))
        .route("/overview", get(board_overview))
        .route("/workers", get(board_workers))
        .with_state(backend.clone());
    b.build().merge(root)
}

/// A statistic as the board reads it (`apalis_core::backend::Statistic`).
fn stat(title: &str, value: u64, priority: u64) -> serde_json::Value {
    serde_json::json!({
        "title": title,
        "stat_type": "Number",
        "value": value.to_string(),
        "priority": priority,
    })
}

fn stats_of(c: &jobs::backend::QueueCounts) -> Vec<serde_json::Value> {
    vec![
        stat("RUNNING_JOBS", c.running, 1),
        stat("PENDING_JOBS", c.waiting + c.delayed, 2),
        stat("FAILED_JOBS", c.dead, 3),
        stat("DONE_JOBS", c.done, 4),
        stat(
            "TOTAL_JOBS",
            c.running + c.waiting + c.delayed + c.dead + c.done,
            5,
        ),
    ]
}

fn backend_error(e: &jobs::BackendError) -> ApiError {
    ApiError::Internal(format!("queue backend: {e}"))
}

/// Every queue of this deployment, as `apalis_core::backend::QueueInfo`.
async fn board_queues(
    State(backend): State<QueueBackend>,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    let mut out = Vec::new();
    for q in Queue::ALL {
        let counts = backend.counts(q).await.map_err(|e| backend_error(&e))?;
        let workers = backend.workers(q).await.map_err(|e| backend_error(&e))?;
        out.push(serde_json::json!({
            "name": backend.queue_name(q),
            "stats": stats_of(&counts),
            "workers": workers.into_iter().map(|w| w.name).collect::<Vec<_>>(),
            "activity": [],
        }));
    }
    Ok(Json(out))
}

/// Totals over every queue.
async fn board_overview(
    State(backend): State<QueueBackend>,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    let mut total = jobs::backend::QueueCounts::default();
    for q in Queue::ALL {
        let c = backend.counts(q).await.map_err(|e| backend_error(&e))?;
        total.waiting += c.waiting;
        total.delayed += c.delayed;
        total.running += c.running;
        total.done += c.done;
        total.dead += c.dead;
    }
    Ok(Json(stats_of(&total)))
}

/// Every worker of this deployment, as `apalis_core::backend::RunningWorker`.
async fn board_workers(
    State(backend): State<QueueBackend>,
) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    let mut out = Vec::new();
    for q in Queue::ALL {
        for w in backend.workers(q).await.map_err(|e| backend_error(&e))? {
            out.push(serde_json::json!({
                "id": w.name,
                "queue": backend.queue_name(q),
                "backend": backend.name(),
                "started_at": 0,
                "last_heartbeat": w.last_seen,
                "layers": "",
            }));
        }
    }
    Ok(Json(out))
}

/// The board may look, not push: a job pushed past the outbox would skip the processed marks,
/// the start counter and the audit trail (retry and discard are Nexus's own pages). A queue's
/// statistics are answered from our counts, because apalis-redis 1.0's per-queue statistics
/// script fails (it reads a timestamp it is never given).
async fn board_guard(State(backend): State<QueueBackend>, req: Request, next: Next) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = ApiError::BadRequest {
            code: "read_only",
            message: "the board is read-only here; retry or discard failed runs at /nexus/jobs"
                .into(),
        }
        .into_response();
        *r.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        return r;
    }
    let path = req.uri().path();
    let queue = path
        .strip_prefix("/api/v1/queues/")
        .or_else(|| path.strip_prefix("/queues/"))
        .and_then(|rest| rest.strip_suffix("/stats"))
        .and_then(|name| {
            Queue::ALL
                .into_iter()
                .find(|q| backend.queue_name(*q) == name)
        });
    match queue {
        Some(q) => match backend.counts(q).await {
            Ok(c) => Json(stats_of(&c)).into_response(),
            Err(e) => backend_error(&e).into_response(),
        },
        None => next.run(req).await,
    }
}

/// Lets operators through; a browser without a session gets the login form (with 401), anyone
/// else the JSON error. Cookie-authenticated writes must come from the console's own pages.
async fn gate(State(c): State<Console>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    match Operator::from_request_parts(&mut parts, &c.state).await {
        Ok(op) => {
            let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD);
            if unsafe_method && !same_origin(&parts.headers) {
                return ApiError::forbidden(
                    "cross_origin",
                    "this form was not sent from the console's own pages",
                )
                .into_response();
            }
            parts.extensions.insert(op);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(e)
            if e.status_and_code().0 == StatusCode::UNAUTHORIZED && wants_html(&parts.headers) =>
        {
            (StatusCode::UNAUTHORIZED, Html(login_html(None))).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// A browser's write is same-origin when `Sec-Fetch-Site` says so, or, lacking it, when its
/// `Origin` (or `Referer`) names the host it was sent to. Only a Bearer token skips the check:
/// a browser never attaches one on its own, while it does attach a cached Basic credential, and
/// the console's auth then falls back to the cookie, so any other `Authorization` proves nothing.
fn same_origin(h: &HeaderMap) -> bool {
    let bearer = h
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .is_some_and(|(scheme, token)| {
            scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()
        });
    if bearer {
        return true;
    }
    if let Some(site) = h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin";
    }
    let Some(host) = h.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let from = h
        .get(header::ORIGIN)
        .or_else(|| h.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    from.is_some_and(|o| {
        let rest = o
            .strip_prefix("http://")
            .or_else(|| o.strip_prefix("https://"))
            .unwrap_or("");
        rest.split('/').next() == Some(host)
    })
}

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1b1b}\
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;\
text-align:left;font-size:.9rem}th{background:#f3f3f3}.msg{background:#eef7ee;padding:.5rem}\
.err{background:#fbeaea;padding:.5rem}form.inline{display:inline}code{font-size:.85rem}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"es\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <style>{STYLE}</style></head><body>{body}</body></html>",
        t = esc(title)
    )
}

fn login_html(error: Option<&str>) -> String {
    let err = error.map_or(String::new(), |e| {
        format!("<p class=\"err\" id=\"error\">{}</p>", esc(e))
    });
    page(
        "Nexus operators: sign in",
        &format!(
            "<h1>Nexus operators</h1><p>The queues hold every business's work: platform \
             operators only.</p>{err}<form method=\"post\" action=\"/login\">\
             <p><label>E-mail <input id=\"email\" name=\"email\" type=\"email\" required></label></p>\
             <p><label>Password <input id=\"password\" name=\"password\" type=\"password\" \
             required></label></p><p><button id=\"sign-in\" type=\"submit\">Sign in</button></p>\
             </form>"
        ),
    )
}

async fn login_page() -> Html<String> {
    Html(login_html(None))
}

/// The login form's fields.
#[derive(Debug, Deserialize)]
struct LoginForm {
    email: String,
    password: String,
}

async fn login_form(
    State(c): State<Console>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let req = LoginRequest {
        email: f.email,
        password: f.password,
        tenant: None,
        scope: Some("ops".into()),
    };
    match sign_in(&c.state, ip, req).await {
        Ok(tokens) => {
            let secure = headers
                .get("x-forwarded-proto")
                .is_some_and(|v| v.as_bytes() == b"https");
            let cookie = format!(
                "{OPS_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}",
                tokens.access_token,
                tokens.expires_in,
                if secure { "; Secure" } else { "" }
            );
            let mut r = Redirect::to("/nexus/jobs").into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Err(e) => {
            let status = e.status_and_code().0;
            (status, Html(login_html(Some(&e.to_string())))).into_response()
        }
    }
}

async fn logout(State(c): State<Console>, Extension(op): Extension<Operator>) -> Response {
    if let Err(e) = sessions::revoke_family(&c.state.platform, op.session_id, "logout").await {
        tracing::warn!("ending operator session: {e}");
    }
    let mut r = Redirect::to("/login").into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("nexus_ops=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    r
}

fn admin_error(e: AdminError) -> ApiError {
    match e {
        AdminError::NotFound(m) => ApiError::Unprocessable {
            code: "unknown_run",
            message: m,
            field: Some("key".into()),
        },
        AdminError::Invalid(m) => ApiError::Conflict {
            code: "run_not_failed",
            message: m,
        },
        other => ApiError::Internal(other.to_string()),
    }
}

/// One queue in the stats.
#[derive(Debug, Serialize)]
struct QueueView {
    queue: &'static str,
    #[serde(flatten)]
    stats: admin::QueueStats,
}

/// The queues, and the tenants whose database could not be read for them.
async fn stats(c: &Console) -> Result<(Vec<QueueView>, Vec<admin::Unreachable>), ApiError> {
    let s = admin::stats(&c.state.platform, &c.state.tenants, &c.backend)
        .await
        .map_err(admin_error)?;
    for u in &s.unreachable {
        tracing::warn!(tenant = %u.tenant, "queue stats: tenant left out: {}", u.error);
    }
    Ok((
        s.queues
            .into_iter()
            .map(|(queue, stats)| QueueView { queue, stats })
            .collect(),
        s.unreachable,
    ))
}

/// A failed run as the console shows it.
#[derive(Debug, Serialize)]
struct FailedView {
    tenant: String,
    key: String,
    job: String,
    queue: String,
    status: String,
    attempt: i32,
    starts: i32,
    reason: Option<String>,
    started_at: chrono::DateTime<chrono::Utc>,
    finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Filters of the failed list.
#[derive(Debug, Deserialize)]
struct FailedQuery {
    tenant: Option<String>,
    limit: Option<u64>,
    done: Option<String>,
    error: Option<String>,
}

async fn failed(c: &Console, q: &FailedQuery) -> Result<Vec<FailedView>, ApiError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let tenant = q.tenant.as_deref().filter(|t| !t.is_empty());
    let runs = admin::failed(&c.state.platform, &c.state.tenants, tenant, limit)
        .await
        .map_err(|e| match e {
            AdminError::Domain(entities::Error::NotFound { .. }) => ApiError::Unprocessable {
                code: "unknown_tenant",
                message: format!("no tenant `{}`", tenant.unwrap_or_default()),
                field: Some("tenant".into()),
            },
            other => admin_error(other),
        })?;
    for u in &runs.unreachable {
        tracing::warn!(tenant = %u.tenant, "failed jobs: tenant left out: {}", u.error);
    }
    Ok(runs
        .runs
        .into_iter()
        .map(|f| FailedView {
            tenant: f.tenant,
            key: f.run.push_key,
            job: f.run.job_name,
            queue: f.run.queue,
            status: f.run.status.to_string(),
            attempt: f.run.attempt,
            starts: f.run.starts,
            reason: f.run.last_error,
            started_at: f.run.started_at,
            finished_at: f.run.finished_at,
        })
        .collect())
}

async fn api_stats(State(c): State<Console>) -> Result<Json<Vec<QueueView>>, ApiError> {
    stats(&c).await.map(|(queues, _)| Json(queues))
}

async fn api_failed(
    State(c): State<Console>,
    Query(q): Query<FailedQuery>,
) -> Result<Json<Vec<FailedView>>, ApiError> {
    failed(&c, &q).await.map(Json)
}

/// The outcome of a retry.
#[derive(Debug, Serialize)]
struct Retried {
    retried: String,
    next: String,
}

async fn do_retry(c: &Console, op: &Operator, key: &str) -> Result<String, ApiError> {
    let next = admin::retry(&c.state.platform, &c.state.tenants, key)
        .await
        .map_err(admin_error)?;
    if let Some(t) = key.split(':').next().and_then(|t| t.parse().ok()) {
        c.waker.wake(t);
    }
    audit(c, op, "jobs.retry", key).await;
    Ok(next)
}

async fn do_discard(c: &Console, op: &Operator, key: &str) -> Result<(), ApiError> {
    admin::discard(&c.state.platform, &c.state.tenants, key)
        .await
        .map_err(admin_error)?;
    audit(c, op, "jobs.discard", key).await;
    Ok(())
}

async fn audit(c: &Console, op: &Operator, action: &str, key: &str) {
    let entry = Entry::new(action)
        .actor(Some(op.user_id))
        .target("job_run", key)
        .request(None, api::request_id::current());
    if let Err(e) = entry.record_platform(&c.state.platform).await {
        tracing::warn!("audit of {action}: {e}");
    }
}

async fn api_retry(
    State(c): State<Console>,
    Extension(op): Extension<Operator>,
    Path(key): Path<String>,
) -> Result<Json<Retried>, ApiError> {
    let next = do_retry(&c, &op, &key).await?;
    Ok(Json(Retried { retried: key, next }))
}

async fn api_discard(
    State(c): State<Console>,
    Extension(op): Extension<Operator>,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    do_discard(&c, &op, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A retry or discard button's field.
#[derive(Debug, Deserialize)]
struct KeyForm {
    key: String,
}

fn back(done: Result<String, ApiError>) -> Redirect {
    let q = match done {
        Ok(msg) => format!("done={}", urlencode(&msg)),
        Err(e) => format!("error={}", urlencode(&e.to_string())),
    };
    Redirect::to(&format!("/nexus/jobs?{q}"))
}

fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

async fn retry_form(
    State(c): State<Console>,
    Extension(op): Extension<Operator>,
    Form(f): Form<KeyForm>,
) -> Redirect {
    back(
        do_retry(&c, &op, &f.key)
            .await
            .map(|next| format!("retried {}; it runs again as {next}", f.key)),
    )
}

async fn discard_form(
    State(c): State<Console>,
    Extension(op): Extension<Operator>,
    Form(f): Form<KeyForm>,
) -> Redirect {
    back(
        do_discard(&c, &op, &f.key)
            .await
            .map(|()| format!("discarded {}", f.key)),
    )
}

async fn jobs_page(
    State(c): State<Console>,
    Extension(op): Extension<Operator>,
    Query(q): Query<FailedQuery>,
) -> Result<Html<String>, ApiError> {
    let (queues, unreachable) = stats(&c).await?;
    let runs = failed(&c, &q).await?;
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>Nexus jobs</h1><p>Signed in as {} · <a href=\"/\">queue board</a> · \
         <form class=\"inline\" method=\"post\" action=\"/logout\"><button>Sign out</button>\
         </form></p>",
        esc(&op.email)
    );
    if let Some(m) = &q.done {
        let _ = write!(b, "<p class=\"msg\" id=\"done\">{}</p>", esc(m));
    }
    if let Some(m) = &q.error {
        let _ = write!(b, "<p class=\"err\" id=\"error\">{}</p>", esc(m));
    }
    if !unreachable.is_empty() {
        // A tenant whose database is down is left out of the counts below, and said so.
        b.push_str(
            "<p class=\"err\" id=\"unreachable\">Left out, their database could not be read: ",
        );
        let list: Vec<String> = unreachable
            .iter()
            .map(|u| format!("<b>{}</b> ({})", esc(&u.tenant), esc(&u.error)))
            .collect();
        b.push_str(&list.join(", "));
        b.push_str("</p>");
    }
    b.push_str(
        "<h2>Queues</h2><table id=\"queues\"><tr><th>queue</th><th>waiting</th><th>delayed</th>\
         <th>running</th><th>done (kept)</th><th>outbox (not pushed)</th>\
         <th title=\"pushed over a minute ago, no run started: waiting deep in the queue, or lost \
         by it and about to be pushed again\">pushed, not started</th><th>runs by status</th></tr>",
    );
    for v in &queues {
        let runs: BTreeMap<&str, u64> =
            v.stats.runs.iter().map(|(k, n)| (k.as_str(), *n)).collect();
        let runs = runs
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let c = &v.stats.backend;
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td></tr>",
            v.queue,
            c.waiting,
            c.delayed,
            c.running,
            c.done,
            v.stats.outbox,
            v.stats.unstarted,
            esc(&runs)
        );
    }
    b.push_str("</table>");
    let _ = write!(
        b,
        "<h2>Failed runs</h2><p>Dead (out of attempts, or a permanent error) and quarantined \
         (their worker died on each start). Newest first, {} shown.</p>",
        runs.len()
    );
    if runs.is_empty() {
        b.push_str("<p id=\"no-failed\">None.</p>");
    } else {
        b.push_str(
            "<table id=\"failed\"><tr><th>tenant</th><th>job</th><th>queue</th><th>status</th>\
             <th>starts</th><th>reason</th><th>started</th><th>key</th><th></th></tr>",
        );
        for r in &runs {
            let key = esc(&r.key);
            let _ = write!(
                b,
                "<tr data-key=\"{key}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td><td>{}</td><td><code>{key}</code></td><td>\
                 <form class=\"inline\" method=\"post\" action=\"/nexus/jobs/retry\">\
                 <input type=\"hidden\" name=\"key\" value=\"{key}\">\
                 <button class=\"retry\">Retry</button></form> \
                 <form class=\"inline\" method=\"post\" action=\"/nexus/jobs/discard\">\
                 <input type=\"hidden\" name=\"key\" value=\"{key}\">\
                 <button class=\"discard\">Discard</button></form></td></tr>",
                esc(&r.tenant),
                esc(&r.job),
                esc(&r.queue),
                esc(&r.status),
                r.starts,
                esc(r.reason.as_deref().unwrap_or("")),
                r.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
            );
        }
        b.push_str("</table>");
    }
    Ok(Html(page("Nexus jobs", &b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            esc("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn writes_are_same_origin_only_when_origin_names_the_host() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8081"));
        assert!(!same_origin(&h), "no origin at all");
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8081"),
        );
        assert!(same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(!same_origin(&h));
    }
}
