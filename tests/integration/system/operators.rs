//! Platform operators and the operator console: who gets in (operators by cookie or Bearer; 401
//! for strangers, 403 for business accounts, owners included), the failed list with retry and
//! discard, `/ops` on the API, per-queue metrics.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::Body;
use entities::jobs::tables::job_run;
use http::{Method, Request, StatusCode};
use jobs::{Job, Queue};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tests::run::{start_workers, wait_until};
use tests::{PASSWORD, TestApp, shape_tests};
use uuid::Uuid;
use workers::runtime::{Handlers, JobCtx, JobError, RetryPolicy, Runtime};

shape_tests!(
    operators_sign_in_without_a_tenant_and_cannot_act_in_a_business,
    the_console_lets_operators_in_and_refuses_strangers_and_business_accounts,
    the_console_form_login_sets_a_cookie_that_opens_the_jobs_page,
    a_failed_job_shows_in_the_console_and_its_retry_runs_it_again,
    ops_on_the_api_sends_operators_to_the_console,
    the_jobs_page_names_a_tenant_whose_database_is_down_and_shows_the_rest,
);

fn get(path: &str) -> http::request::Builder {
    Request::builder().method(Method::GET).uri(path)
}

fn bearer(b: http::request::Builder, token: &str) -> http::request::Builder {
    b.header("authorization", format!("Bearer {token}"))
}

async fn operator_token(app: &TestApp) -> String {
    let email = app.operator().await;
    app.token(&email).await
}

async fn operators_sign_in_without_a_tenant_and_cannot_act_in_a_business(app: TestApp) {
    let email = app.operator().await;
    let login = app.login(&email).await;
    assert_eq!(login["user"]["role"], "operator");
    assert!(login.get("tenant").is_none(), "{login}");
    let token = login["access_token"].as_str().unwrap();

    // No business data through an operator session.
    let r = app.session(token).get("/pos/api/branches").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(r.code(), "operator_session");

    // The session refreshes into another operator session.
    let r = app
        .post(
            "/pos/api/auth/refresh",
            None,
            json!({"refresh_token": login["refresh_token"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["user"]["role"], "operator");

    // A business account asking for an operator session is refused; a bad scope is a 422.
    let t = app.tenant("acme").await;
    let r = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": t.owner_email, "password": PASSWORD, "scope": "ops"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(r.code(), "not_an_operator");
    let r = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": email, "password": PASSWORD, "scope": "root"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.code(), "invalid_scope");
}

async fn the_console_lets_operators_in_and_refuses_strangers_and_business_accounts(app: TestApp) {
    let t = app.tenant("acme").await;
    let owner = app.token(&t.owner_email).await;
    let op = operator_token(&app).await;

    let cfdi = app.queues.queue_name(Queue::Cfdi);
    let queue_tasks = format!("/api/v1/queues/{cfdi}/tasks");
    let queue_stats = format!("/api/v1/queues/{cfdi}/stats");
    for path in [
        "/nexus/api/stats",
        "/nexus/jobs",
        "/api/v1/queues",
        "/api/v1/overview",
        "/api/v1/workers",
        &queue_tasks,
        &queue_stats,
        "/",
    ] {
        let anon = app.console(get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(anon.status, StatusCode::UNAUTHORIZED, "{path}");
        let owner_r = app
            .console(bearer(get(path), &owner).body(Body::empty()).unwrap())
            .await;
        assert_eq!(owner_r.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(owner_r.code(), "not_an_operator", "{path}");
        let op_r = app
            .console(bearer(get(path), &op).body(Body::empty()).unwrap())
            .await;
        assert_eq!(op_r.status, StatusCode::OK, "{path}: {}", op_r.text());
    }

    // A browser without a session sees the login form, still with 401.
    let page = app
        .console(
            get("/nexus/jobs")
                .header("accept", "text/html")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(page.text().contains("id=\"sign-in\""), "{}", page.text());

    // Every queue is counted; the board serves its UI and its read-only API.
    let stats = app
        .console(
            bearer(get("/nexus/api/stats"), &op)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let names: Vec<&str> = stats
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["queue"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), Queue::ALL.len(), "{}", stats.text());
    let ui = app
        .console(bearer(get("/"), &op).body(Body::empty()).unwrap())
        .await;
    assert!(ui.text().contains("Apalis Board"), "{}", ui.text());
    let push = app
        .console(
            bearer(
                Request::builder().method(Method::PUT).uri(format!(
                    "/api/v1/queues/{}/tasks",
                    app.queues.queue_name(Queue::Cfdi)
                )),
                &op,
            )
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap(),
        )
        .await;
    assert_eq!(
        push.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "{}",
        push.text()
    );

    // Taking the grant away shuts the door at once, for the same token.
    let ops = entities::org::accounts::operators(&app.app.platform)
        .await
        .unwrap();
    entities::org::accounts::revoke_operator(&app.app.platform, ops[0].id)
        .await
        .unwrap();
    let r = app
        .console(
            bearer(get("/nexus/api/stats"), &op)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
}

fn form(path: &str, body: &str, cookie: Option<&str>, origin: Option<&str>) -> Request<Body> {
    let mut b = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("host", "127.0.0.1:8081")
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        b = b.header("cookie", c);
    }
    if let Some(o) = origin {
        b = b.header("origin", o);
    }
    b.body(Body::from(body.to_owned())).unwrap()
}

fn urlenc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Posts the console's login form.
async fn login_form(app: &TestApp, email: &str, password: &str) -> tests::TestResponse {
    app.console(form(
        "/login",
        &format!("email={}&password={}", urlenc(email), urlenc(password)),
        None,
        None,
    ))
    .await
}

/// Signs in through the console's form; returns the `name=value` cookie.
async fn console_cookie(app: &TestApp, email: &str) -> String {
    let r = login_form(app, email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(r.headers["location"], "/nexus/jobs");
    let set = r.headers["set-cookie"].to_str().unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    set.split(';').next().unwrap().to_owned()
}

async fn the_console_form_login_sets_a_cookie_that_opens_the_jobs_page(app: TestApp) {
    let email = app.operator().await;
    let cookie = console_cookie(&app, &email).await;
    let page = app
        .console(
            get("/nexus/jobs")
                .header("cookie", &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(page.text().contains(&email), "{}", page.text());
    assert!(page.text().contains("id=\"queues\""));

    // A wrong password shows the form again with the reason; an owner is refused.
    let r = login_form(&app, &email, "wrong-password").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.text().contains("wrong e-mail or password"),
        "{}",
        r.text()
    );
    let t = app.tenant("acme").await;
    let r = login_form(&app, &t.owner_email, PASSWORD).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());

    // Signing out ends the session: the cookie no longer opens anything.
    let out = app
        .console(form(
            "/logout",
            "",
            Some(&cookie),
            Some("http://127.0.0.1:8081"),
        ))
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.text());
    let after = app
        .console(
            get("/nexus/api/stats")
                .header("cookie", &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.text());
    assert_eq!(after.code(), "session_ended");
}

#[derive(Debug, Serialize, Deserialize)]
struct Invoice {
    tenant_id: Uuid,
}

impl Job for Invoice {
    const NAME: &'static str = "test_invoice";
    const QUEUE: Queue = Queue::Cfdi;
    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}

/// A job that fails for good while the provider is "down", and succeeds once it is back.
fn handlers(down: Arc<AtomicBool>) -> Handlers {
    workers::handlers::all(workers::services::Services::none()).with::<Invoice, _, _>(
        RetryPolicy::default(),
        move |_job: Invoice, _ctx: JobCtx| {
            let down = down.clone();
            async move {
                if down.load(Ordering::SeqCst) {
                    Err(JobError::permanent("the PAC refused the certificate"))
                } else {
                    Ok(())
                }
            }
        },
    )
}

async fn runs_of(app: &TestApp, t: &tests::TestTenant, status: &str) -> Vec<job_run::Model> {
    job_run::Entity::find()
        .filter(job_run::Column::Status.eq(status))
        .all(&app.tenant_db(t).await)
        .await
        .unwrap()
}

async fn a_failed_job_shows_in_the_console_and_its_retry_runs_it_again(app: TestApp) {
    let t = app.tenant("acme").await;
    let email = app.operator().await;
    let cookie = console_cookie(&app, &email).await;
    let down = Arc::new(AtomicBool::new(true));
    let metrics = workers::metrics::JobMetrics::register(&app.app.registry).unwrap();
    let rt = Arc::new(
        Runtime::new(
            app.app.platform.clone(),
            app.app.tenants.clone(),
            handlers(down.clone()),
        )
        .with_metrics(metrics),
    );
    let _stop = start_workers(&app, rt);
    jobs::outbox::enqueue(
        &app.tenant_db(&t).await,
        &Invoice {
            tenant_id: t.tenant.id,
        },
    )
    .await
    .unwrap();
    app.app.waker.wake(t.tenant.id);
    wait_until("the job to die", Duration::from_secs(20), || async {
        !runs_of(&app, &t, "dead").await.is_empty()
    })
    .await;

    // The page lists it with its reason and its buttons.
    let page = app
        .console(
            get("/nexus/jobs")
                .header("cookie", &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let html = page.text();
    assert!(html.contains("the PAC refused the certificate"), "{html}");
    assert!(html.contains("test_invoice") && html.contains("class=\"retry\""));
    let key = runs_of(&app, &t, "dead").await.remove(0).push_key;

    // A write from another site is refused, even with the cookie; so is one carrying a cached
    // Basic credential the browser attaches (it proves nothing), and one the browser itself says
    // is cross-site, whatever its Origin claims.
    let retry_form = |origin: &'static str, extra: Option<(&'static str, &'static str)>| {
        let mut r = form(
            "/nexus/jobs/retry",
            &format!("key={}", urlenc(&key)),
            Some(&cookie),
            Some(origin),
        );
        if let Some((name, value)) = extra {
            r.headers_mut()
                .insert(name, http::HeaderValue::from_static(value));
        }
        r
    };
    for forged in [
        retry_form("http://evil.example", None),
        retry_form(
            "http://evil.example",
            Some(("authorization", "Basic b3A6cGFzcw==")),
        ),
        retry_form(
            "http://127.0.0.1:8081",
            Some(("sec-fetch-site", "cross-site")),
        ),
    ] {
        let r = app.console(forged).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    }

    // The provider is back; the operator presses Retry and the job runs again, once.
    down.store(false, Ordering::SeqCst);
    let r = app
        .console(form(
            "/nexus/jobs/retry",
            &format!("key={}", urlenc(&key)),
            Some(&cookie),
            Some("http://127.0.0.1:8081"),
        ))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let location = r.headers["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/nexus/jobs?done="), "{location}");
    wait_until(
        "the retried job to finish",
        Duration::from_secs(20),
        || async { !runs_of(&app, &t, "done").await.is_empty() },
    )
    .await;
    assert_eq!(runs_of(&app, &t, "retried").await.len(), 1);
    assert!(runs_of(&app, &t, "dead").await.is_empty());

    // Retrying again is a clear 409; an unknown key a 422; both through the JSON API.
    let op = app.token(&email).await;
    let again = app
        .console(
            bearer(
                Request::builder()
                    .method(Method::POST)
                    .uri(format!("/nexus/api/runs/{key}/retry")),
                &op,
            )
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text());
    let unknown = app
        .console(
            bearer(
                Request::builder()
                    .method(Method::POST)
                    .uri("/nexus/api/runs/nope/discard"),
                &op,
            )
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.text()
    );

    // The retry is in the platform audit trail, with the operator.
    let audit = entities::org::tables::platform_audit_log::Entity::find()
        .filter(entities::org::tables::platform_audit_log::Column::Action.eq("jobs.retry"))
        .all(&app.app.platform)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);

    // The board sees the queue's finished jobs.
    let cfdi = app.queues.queue_name(Queue::Cfdi);
    for path in [
        format!("/api/v1/queues/{cfdi}/tasks"),
        format!("/api/v1/queues/{cfdi}/stats"),
        "/api/v1/queues".to_owned(),
    ] {
        let r = app
            .console(bearer(get(&path), &op).body(Body::empty()).unwrap())
            .await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
    }
    // The backend acknowledges a job just after its run is recorded: wait for the count.
    let stats_path = format!("/api/v1/queues/{cfdi}/stats");
    wait_until(
        "the board to count the done job",
        Duration::from_secs(10),
        || async {
            let stats = app
                .console(bearer(get(&stats_path), &op).body(Body::empty()).unwrap())
                .await;
            stats
                .json
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["title"] == "DONE_JOBS" && s["value"].as_str().is_some_and(|v| v != "0"))
        },
    )
    .await;

    // And the runs are in the per-queue metrics (counted just after the run is recorded).
    let lines = [
        "nexus_jobs_finished_total{outcome=\"dead\",queue=\"cfdi\"} 1",
        "nexus_jobs_finished_total{outcome=\"done\",queue=\"cfdi\"} 1",
        "nexus_job_duration_seconds_count{queue=\"cfdi\"} 2",
        "nexus_job_start_latency_seconds_count{queue=\"cfdi\"} 2",
    ];
    wait_until(
        "the metrics of both runs",
        Duration::from_secs(10),
        || async {
            let m = app.get("/metrics", None).await.text();
            lines.iter().all(|l| m.contains(l))
        },
    )
    .await;
}

async fn ops_on_the_api_sends_operators_to_the_console(app: TestApp) {
    let t = app.tenant("acme").await;
    let owner = app.token(&t.owner_email).await;
    let op = operator_token(&app).await;
    let r = app.session(&op).get("/ops").await;
    assert_eq!(r.status, StatusCode::TEMPORARY_REDIRECT, "{}", r.text());
    assert_eq!(r.headers["location"], "http://127.0.0.1:8081/");
    let r = app.get("/ops/", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app.session(&owner).get("/ops").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let browser = app
        .send(
            Request::builder()
                .uri("/ops/")
                .header("accept", "text/html")
                .header("host", "tienda.local:8080")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(browser.status, StatusCode::SEE_OTHER);
    assert_eq!(
        browser.headers["location"],
        "http://tienda.local:8081/login"
    );
}

/// A tenant whose database cannot be opened does not take the operator's jobs page down: the
/// page names it, with the error, and shows the queues of the others.
async fn the_jobs_page_names_a_tenant_whose_database_is_down_and_shows_the_rest(app: TestApp) {
    let email = app.operator().await;
    let cookie = console_cookie(&app, &email).await;
    app.tenant("sana").await;
    let down = app.tenant("caida").await;
    app.break_tenant_database(&down).await;
    let page = app
        .console(
            get("/nexus/jobs")
                .header("cookie", &cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let html = page.text();
    assert!(html.contains("id=\"unreachable\""), "{html}");
    assert!(html.contains("<b>caida</b>"), "{html}");
    assert!(!html.contains("<b>sana</b>"), "{html}");
    assert!(html.contains("id=\"queues\""), "{html}");
}
