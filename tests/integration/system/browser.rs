//! Pages Nexus serves, in a real browser: headless Chromium, driven over WebDriver. The operator
//! console signs in through the form, sees a failed job with its reason, presses Retry, and opens
//! the queue board; `/docs` renders the API document, composed schemas included.
//!
//! Needs `chromedriver` and Chromium (Debian: `chromium chromium-driver`; `.ci/run` installs
//! them). Without them the test is skipped with a note, unless `NEXUS_TEST_CHROMEDRIVER` names
//! the driver, as CI does, and then it must run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use entities::jobs::tables::job_run;
use jobs::{Job, Queue};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tests::run::{start_workers, wait_until};
use tests::{PASSWORD, TestApp, shape_tests};
use uuid::Uuid;
use workers::runtime::{Handlers, JobCtx, JobError, RetryPolicy, Runtime};

shape_tests!(
    an_operator_retries_a_failed_job_from_the_console_in_chromium,
    the_docs_page_renders_composed_schemas_in_chromium_offline,
    a_customer_approves_a_workshop_budget_from_its_link_in_chromium,
);

/// The W3C WebDriver name of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn chromedriver() -> Option<String> {
    if let Ok(p) = std::env::var("NEXUS_TEST_CHROMEDRIVER")
        && !p.trim().is_empty()
    {
        assert!(
            std::path::Path::new(&p).exists(),
            "NEXUS_TEST_CHROMEDRIVER={p} does not exist"
        );
        return Some(p);
    }
    ["/usr/bin/chromedriver", "/usr/local/bin/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(str::to_owned)
}

/// Serves `router` on a free loopback port for the browser; answers its base URL.
async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    base
}

/// A chromedriver process and one browser session; both end on drop.
struct Browser {
    driver: std::process::Child,
    http: reqwest::Client,
    base: String,
    session: String,
}

impl Browser {
    async fn start(driver: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let mut b = Self {
            driver: child,
            http,
            base,
            session: String::new(),
        };
        let started = Instant::now();
        loop {
            if let Ok(r) = b.http.get(format!("{}/status", b.base)).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(
                started.elapsed() < tests::run::PATIENCE,
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let chrome = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("chromium next to chromedriver");
        let s = b
            .call(
                "POST",
                "/session",
                json!({"capabilities": {"alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": chrome,
                        "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                                 "--disable-dev-shm-usage", "--window-size=1280,900"]
                    }
                }}}),
            )
            .await;
        b.session = s["sessionId"].as_str().expect("session id").to_owned();
        b
    }

    async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "POST" => self.http.post(url).json(&body),
            "DELETE" => self.http.delete(url),
            _ => self.http.get(url),
        };
        let r = req.send().await.expect("webdriver answers");
        let v: Value = r.json().await.expect("webdriver JSON");
        assert!(v["value"].get("error").is_none(), "{method} {path}: {v}");
        v["value"].clone()
    }

    async fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
            .await
    }

    async fn goto(&self, url: &str) {
        self.cmd("POST", "/url", json!({"url": url})).await;
    }

    async fn source(&self) -> String {
        self.cmd("GET", "/source", Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .cmd(
                "POST",
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        v[ELEMENT].as_str().expect("element").to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.cmd(
            "POST",
            &format!("/element/{e}/value"),
            json!({"text": text}),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.cmd("POST", &format!("/element/{e}/click"), json!({}))
            .await;
    }

    /// Waits until the page's source contains `text`.
    async fn wait_for(&self, text: &str, limit: Duration) -> String {
        let started = Instant::now();
        loop {
            let src = self.source().await;
            if src.contains(text) {
                return src;
            }
            assert!(
                started.elapsed() < tests::run::patience(limit),
                "the page never showed `{text}`:\n{src}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let url = format!("{}/session/{}", self.base, self.session);
            // Ends Chromium; the driver goes with the kill below.
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    let _ = rt.block_on(reqwest::Client::new().delete(url).send());
                }
            })
            .join();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Stamp {
    tenant_id: Uuid,
}

impl Job for Stamp {
    const NAME: &'static str = "test_stamp";
    const QUEUE: Queue = Queue::Cfdi;
    fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }
}

fn handlers(down: Arc<AtomicBool>) -> Handlers {
    workers::handlers::all(workers::services::Services::none()).with::<Stamp, _, _>(
        RetryPolicy::default(),
        move |_job: Stamp, _ctx: JobCtx| {
            let down = down.clone();
            async move {
                if down.load(Ordering::SeqCst) {
                    Err(JobError::permanent("el PAC rechazó el sello"))
                } else {
                    Ok(())
                }
            }
        },
    )
}

async fn runs(app: &TestApp, t: &tests::TestTenant, status: &str) -> usize {
    job_run::Entity::find()
        .filter(job_run::Column::Status.eq(status))
        .all(&app.tenant_db(t).await)
        .await
        .unwrap()
        .len()
}

async fn an_operator_retries_a_failed_job_from_the_console_in_chromium(app: TestApp) {
    let Some(driver) = chromedriver() else {
        eprintln!("note: browser test skipped: no chromedriver (apt install chromium-driver)");
        return;
    };
    let t = app.tenant("acme").await;
    let email = app.operator().await;
    let down = Arc::new(AtomicBool::new(true));
    let rt = Arc::new(Runtime::new(
        app.app.platform.clone(),
        app.app.tenants.clone(),
        handlers(down.clone()),
    ));
    let _stop = start_workers(&app, rt);
    jobs::outbox::enqueue(
        &app.tenant_db(&t).await,
        &Stamp {
            tenant_id: t.tenant.id,
        },
    )
    .await
    .unwrap();
    app.app.waker.wake(t.tenant.id);
    wait_until("the job to die", Duration::from_secs(20), || async {
        runs(&app, &t, "dead").await == 1
    })
    .await;

    // The console on a real port.
    let console = serve(app.app.console(app.queues.clone())).await;

    let b = Browser::start(&driver).await;
    b.goto(&format!("{console}/nexus/jobs")).await;
    b.wait_for("id=\"sign-in\"", Duration::from_secs(10)).await;
    b.type_into("#email", &email).await;
    b.type_into("#password", PASSWORD).await;
    b.click("#sign-in").await;
    let page = b
        .wait_for("el PAC rechazó el sello", Duration::from_secs(10))
        .await;
    assert!(page.contains("test_stamp"), "{page}");

    down.store(false, Ordering::SeqCst);
    b.click("#failed button.retry").await;
    b.wait_for("id=\"done\"", Duration::from_secs(10)).await;
    wait_until(
        "the retried job to run",
        Duration::from_secs(20),
        || async { runs(&app, &t, "done").await == 1 },
    )
    .await;
    assert_eq!(runs(&app, &t, "dead").await, 0);
    b.goto(&format!("{console}/nexus/jobs")).await;
    b.wait_for("id=\"no-failed\"", Duration::from_secs(10))
        .await;

    // The board's own UI loads with the same cookie and lists this deployment's queues.
    b.goto(&format!("{console}/")).await;
    b.wait_for(&app.queues.queue_name(Queue::Cfdi), Duration::from_secs(30))
        .await;
}

async fn the_docs_page_renders_composed_schemas_in_chromium_offline(app: TestApp) {
    let Some(driver) = chromedriver() else {
        eprintln!("note: browser test skipped: no chromedriver (apt install chromium-driver)");
        return;
    };
    let api = serve(app.app.router.clone()).await;
    let b = Browser::start(&driver).await;
    b.goto(&format!("{api}/docs")).await;
    // Redoc has rendered the operations once the sale's summary shows.
    let page = b.wait_for("Makes a sale", Duration::from_secs(30)).await;
    // The sale's answer is an allOf (the summary flattened into the view with lines and
    // payments): its fields from both parts are on the page.
    for field in ["folio", "drawer_session_id", "returned_qty", "amount_mxn"] {
        assert!(
            page.contains(field),
            "`{field}` missing from the rendered /docs"
        );
    }
}

async fn a_customer_approves_a_workshop_budget_from_its_link_in_chromium(app: TestApp) {
    use crate::workshop::{garage, id, link_token, step};
    let Some(driver) = chromedriver() else {
        eprintln!("note: browser test skipped: no chromedriver (apt install chromium-driver)");
        return;
    };
    let g = garage(&app, "taller-navegador").await;
    let o = g.receive(&app, g.owner(), json!({})).await;
    let oid = id(&o);
    step(&app, g.owner(), oid, "diagnose", json!({})).await;
    g.part(&app, g.owner(), oid, g.pads, 2).await;
    step(&app, g.owner(), oid, "submit", json!({})).await;
    let token = link_token(&o);

    // The customer opens the link from WhatsApp, types their name and approves.
    let api = serve(app.app.router.clone()).await;
    let b = Browser::start(&driver).await;
    b.goto(&format!("{api}/so/{token}")).await;
    let page = b
        .wait_for("Apruebo el presupuesto", Duration::from_secs(10))
        .await;
    assert!(page.contains("Por aprobar: $900.00 MXN"), "{page}");
    b.type_into("input[name=name]", "Juan Garza").await;
    b.click("button[value=approve]").await;
    b.wait_for("Su aprobación quedó registrada", Duration::from_secs(10))
        .await;

    let o = app
        .session(g.owner())
        .get(&format!("/pos/api/service-orders/{oid}"))
        .await
        .json;
    assert_eq!(o["status"], "in_repair", "{o}");
    assert_eq!(o["approval_channel"], "link");
    assert_eq!(o["approved_by"], "Juan Garza");
    assert_eq!(
        g.s.reserved(g.pads, g.s.wh).await,
        2,
        "the approval held the parts"
    );
}
