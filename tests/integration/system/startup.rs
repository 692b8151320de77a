//! Start-up: bad settings and unreachable services stop it with one line naming the setting;
//! a restart keeps everything; CORS and the generated JWT secret.

use std::collections::HashMap;

use axum::body::Body;
use http::{Request, StatusCode};
use tests::app::SECRET;
use tests::{Shape, TestApp};

fn vars(pairs: &[(&str, &str)]) -> (tempfile::TempDir, HashMap<String, String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut v: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    v.insert("NEXUS_DATA_DIR".into(), dir.path().display().to_string());
    (dir, v)
}

#[tokio::test]
async fn an_unreachable_postgres_stops_start_up_with_one_line_naming_master_db_url() {
    let (_dir, v) = vars(&[
        ("MASTER_DB_URL", "postgres://postgres@127.0.0.1:1/nexus"),
        ("POS_JWT_SECRET", SECRET),
    ]);
    let e = TestApp::build(&v).await.err().expect("start-up must fail");
    let line = format!("{e:#}");
    assert!(
        line.starts_with("MASTER_DB_URL: cannot connect to postgres://postgres@127.0.0.1:1/nexus"),
        "{line}"
    );
    assert!(!line.contains('\n'), "{line}");
}

#[tokio::test]
async fn a_malformed_redis_url_stops_start_up_naming_redis_url() {
    let (_dir, v) = vars(&[("REDIS_URL", "redis//oops")]);
    let e = TestApp::build(&v).await.err().expect("start-up must fail");
    let line = format!("{e:#}");
    assert!(line.starts_with("REDIS_URL: "), "{line}");
    assert!(!line.contains('\n'));
}

#[tokio::test]
async fn an_unreachable_redis_does_not_stop_sales_but_readyz_reports_it() {
    let (_dir, v) = vars(&[("REDIS_URL", "redis://127.0.0.1:1/")]);
    let app = TestApp::build(&v)
        .await
        .expect("Redis down must not stop start-up");
    let resp = tower::ServiceExt::oneshot(
        app.router.clone(),
        Request::get("/readyz").body(Body::empty()).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["status"], "not_ready");
    assert_eq!(json["checks"][1]["name"], "redis");
    assert_eq!(json["checks"][1]["ok"], false);
}

#[tokio::test]
async fn the_embedded_shape_generates_one_jwt_secret_and_keeps_it_across_restarts() {
    let (dir, v) = vars(&[]);
    let first = TestApp::build(&v).await.unwrap();
    let path = dir.path().join("jwt_secret");
    let secret = std::fs::read_to_string(&path).unwrap();
    assert_eq!(secret.len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    drop(first);
    TestApp::build(&v).await.unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), secret);
    assert!(dir.path().join("master.db").exists());
    assert!(dir.path().join("files").is_dir());
}

#[tokio::test]
async fn tokens_survive_a_restart_on_the_same_data() {
    let app = TestApp::new(Shape::Embedded).await;
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let restarted = TestApp::build(&app.vars).await.unwrap();
    let req = TestApp::request(
        http::Method::GET,
        "/pos/api/auth/me",
        Some(&token),
        None,
        None,
    );
    let resp = tower::ServiceExt::oneshot(restarted.router.clone(), req)
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn cors_is_off_by_default_and_answers_configured_origins() {
    let app = TestApp::new(Shape::Embedded).await;
    let preflight = |router: axum::Router| async move {
        let req = Request::options("/pos/api/auth/login")
            .header("origin", "https://pos.acme.mx")
            .header("access-control-request-method", "POST")
            .body(Body::empty())
            .unwrap();
        tower::ServiceExt::oneshot(router, req).await.unwrap()
    };
    let off = preflight(app.app.router.clone()).await;
    assert!(off.headers().get("access-control-allow-origin").is_none());
    let with = TestApp::build(&app.vars_with(&[("NEXUS_CORS_ORIGINS", "https://pos.acme.mx")]))
        .await
        .unwrap();
    let on = preflight(with.router.clone()).await;
    assert_eq!(
        on.headers()["access-control-allow-origin"],
        "https://pos.acme.mx"
    );
}

#[tokio::test]
async fn a_worker_process_serves_its_metrics_on_nexus_metrics_addr() {
    let (_dir, v) = vars(&[("NEXUS_METRICS_ADDR", "127.0.0.1:0")]);
    let app = TestApp::build(&v).await.unwrap();
    let gauges = workers::metrics::QueueGauges::register(&app.registry).unwrap();
    gauges
        .sample(&ops::app::queue_backend(&app.config).await.unwrap())
        .await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let (addr, handle) = app.spawn_metrics_listener(stopped).await.unwrap().unwrap();
    let body = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("nexus_queue_jobs{queue=\"cfdi\",state=\"waiting\"} 0"),
        "{body}"
    );
    assert!(body.contains("nexus_queue_backend_up 1"), "{body}");
    let health = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert!(health.status().is_success());
    stop.send(true).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), handle)
        .await
        .expect("the listener stops on shutdown")
        .unwrap();

    // Off unless configured.
    let (_dir, v) = vars(&[]);
    let app = TestApp::build(&v).await.unwrap();
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    assert!(app.spawn_metrics_listener(stopped).await.unwrap().is_none());
}
