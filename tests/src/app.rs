//! [`TestApp`]: the application in-process, with helpers to make tenants, users and requests.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use entities::Role;
use entities::org::accounts::{self, NewUser};
use entities::org::tables::tenant;
use entities::org::tenants::NewTenant;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use ops::app::App;
use ops::config::Config;
use ops::provision::{self, TenantSpec};
use serde_json::Value;
use tower::ServiceExt;

use crate::pg::PgScope;

/// Which runtime shape a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// SQLite files in a temporary folder.
    Embedded,
    /// PostgreSQL databases of the test's own, and Redis.
    Distributed,
}

/// The JWT secret of test apps.
pub const SECRET: &str = "test-secret-test-secret-test-secret-0123";

/// Password given to every user the harness creates.
pub const PASSWORD: &str = "correct horse battery staple";

/// The application under test.
pub struct TestApp {
    /// The shape it runs on.
    pub shape: Shape,
    /// The assembled application.
    pub app: App,
    /// The settings it was built from (to build a second app on the same data).
    pub vars: HashMap<String, String>,
    /// The queue backend, in a namespace of this test's own (its Redis keys are deleted at the
    /// end).
    pub queues: jobs::QueueBackend,
    /// The data folder (embedded) or scratch folder.
    pub dir: tempfile::TempDir,
    /// The runtime [`TestApp::run_jobs`] delivers through, while a test drives its jobs itself
    /// ([`TestApp::drive_jobs`]).
    pub(crate) driver: crate::run::DriverSlot,
    /// The migrated tenant database new tenants' databases are copied from (distributed).
    tenant_template: Option<String>,
    /// Databases to drop at the end (distributed). Declared last: dropped after the app.
    pub pg: Option<PgScope>,
}

/// A tenant made by the harness, with its owner's login.
#[derive(Debug, Clone)]
pub struct TestTenant {
    /// The tenant row.
    pub tenant: tenant::Model,
    /// Owner's e-mail.
    pub owner_email: String,
}

/// A response, read whole.
#[derive(Debug)]
pub struct TestResponse {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub bytes: Vec<u8>,
    /// Body as JSON (`Null` when it is not JSON).
    pub json: Value,
}

impl TestResponse {
    /// The error code of an error envelope.
    #[must_use]
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }

    /// The body as text.
    #[must_use]
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// Reads a router's response.
    pub async fn read(resp: http::Response<Body>) -> Self {
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            bytes,
            json,
        }
    }
}

fn env_or_none(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl TestApp {
    /// An app in the given shape. Panics when the distributed shape is not configured.
    pub async fn new(shape: Shape) -> Self {
        Self::with_redis(shape, None).await
    }

    /// An app in the given shape, on the Redis at `redis_url` instead of the shared test Redis
    /// (a private `redis-server` a test may stop); in the embedded shape it puts the queues there
    /// too.
    pub async fn with_redis(shape: Shape, redis_url: Option<String>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut vars: HashMap<String, String> = HashMap::new();
        vars.insert("NEXUS_DATA_DIR".into(), dir.path().display().to_string());
        vars.insert("POS_JWT_SECRET".into(), SECRET.into());
        // The whole suite shares two cores and one Redis: a call that takes 150 ms there is
        // slow, not lost, and a test that counts on the stock cache or the shared login throttle
        // must not see it fall back at random. Tests of a dead Redis stop it (refused at once).
        vars.insert("REDIS_DEADLINE_MS".into(), "3000".into());
        vars.insert(
            "NEXUS_QUEUE_NAMESPACE".into(),
            format!("nxt_{}", uuid::Uuid::now_v7().simple()),
        );
        let mut tenant_template = None;
        let pg = if shape == Shape::Distributed {
            let pg_url = env_or_none("NEXUS_TEST_POSTGRES_URL").expect("NEXUS_TEST_POSTGRES_URL");
            let shared_redis = env_or_none("NEXUS_TEST_REDIS_URL").expect("NEXUS_TEST_REDIS_URL");
            let scope = PgScope::new(&pg_url).await;
            let (platform_tpl, tenant_tpl) = crate::pg::templates(&scope.admin_url).await;
            scope.create_from("master", &platform_tpl).await;
            tenant_template = Some(tenant_tpl);
            vars.insert("MASTER_DB_URL".into(), scope.url("master"));
            vars.insert("TENANT_DB_URL_TEMPLATE".into(), scope.template());
            vars.insert("REDIS_URL".into(), shared_redis);
            Some(scope)
        } else {
            None
        };
        if let Some(url) = redis_url {
            vars.insert("REDIS_URL".into(), url);
        }
        let app = Self::build(&vars).await.expect("build the app");
        let queues = ops::app::queue_backend(&app.config)
            .await
            .expect("queue backend");
        Self {
            shape,
            app,
            queues,
            vars,
            dir,
            driver: crate::run::DriverSlot::default(),
            tenant_template,
            pg,
        }
    }

    /// An app in the distributed shape, or `None` (with a note) when its services are not
    /// configured. Under `CI` they must be.
    pub async fn distributed() -> Option<Self> {
        if env_or_none("NEXUS_TEST_POSTGRES_URL").is_none()
            || env_or_none("NEXUS_TEST_REDIS_URL").is_none()
        {
            assert!(
                env_or_none("CI").is_none(),
                "CI must set NEXUS_TEST_POSTGRES_URL and NEXUS_TEST_REDIS_URL"
            );
            eprintln!(
                "note: distributed shape skipped: NEXUS_TEST_POSTGRES_URL / NEXUS_TEST_REDIS_URL not set"
            );
            return None;
        }
        Some(Self::new(Shape::Distributed).await)
    }

    /// Builds an application from settings, as `nexus serve` does (migrating on the way).
    ///
    /// # Errors
    /// What start-up would print.
    pub async fn build(vars: &HashMap<String, String>) -> anyhow::Result<App> {
        let cfg = Config::from_lookup(|k| vars.get(k).cloned())?;
        ops::app::build(cfg, prometheus::Registry::new(), true).await
    }

    /// The first column of the first row of a query on the platform database.
    pub async fn platform_one<T: sea_orm::TryGetable>(&self, sql: &str) -> T {
        use sea_orm::ConnectionTrait;
        let db = &self.app.platform;
        db.query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await
        .expect("the query runs")
        .expect("a row")
        .try_get_by_index(0)
        .expect("a value of that type")
    }

    /// Runs a `nexus` command in-process on this app's settings.
    ///
    /// # Errors
    /// What the command would print as its error.
    pub async fn cli(&self, args: &[&str]) -> anyhow::Result<()> {
        use clap::Parser;
        let cli =
            ops::cli::Cli::try_parse_from(std::iter::once("nexus").chain(args.iter().copied()))?;
        let cfg = Config::from_lookup(|k| self.vars.get(k).cloned())?;
        ops::cli::run(cli, cfg).await
    }

    /// Settings with some changed, for a second app on the same databases.
    #[must_use]
    pub fn vars_with(&self, changes: &[(&str, &str)]) -> HashMap<String, String> {
        let mut v = self.vars.clone();
        for (k, val) in changes {
            v.insert((*k).to_owned(), (*val).to_owned());
        }
        v
    }

    /// Rebuilds the app on the same databases and queues with some settings changed (a
    /// provider's URL pointing at a fake, a feature switched off).
    pub async fn reconfigure(&mut self, changes: &[(&str, &str)]) {
        let vars = self.vars_with(changes);
        self.app = Self::build(&vars).await.expect("rebuild the app");
        self.vars = vars;
    }

    /// Creates a tenant with an owner `owner@<slug>.mx`.
    pub async fn tenant(&self, slug: &str) -> TestTenant {
        let owner_email = format!("owner@{slug}.mx");
        if let (Some(scope), Some(tpl)) = (&self.pg, &self.tenant_template) {
            // The database provisioning would make, made first as a copy of the migrated
            // template: provisioning finds it and its migrations have nothing left to do.
            scope
                .create_from(&format!("nexus_t_{}", slug.replace('-', "_")), tpl)
                .await;
        }
        let created = provision::create_tenant(
            &self.app.platform,
            &self.app.tenants,
            TenantSpec {
                tenant: NewTenant {
                    slug: slug.into(),
                    name: format!("Refaccionaria {slug}"),
                    rfc: "EKU9003173C9".into(),
                    db_url: None,
                },
                owner_email: owner_email.clone(),
                owner_name: "Dueño".into(),
                owner_password: PASSWORD.into(),
            },
        )
        .await
        .expect("create tenant");
        TestTenant {
            tenant: created.tenant,
            owner_email,
        }
    }

    /// Creates a user with a role in a tenant (optionally limited to branches); returns the e-mail.
    pub async fn user(
        &self,
        t: &TestTenant,
        role: Role,
        branches: Option<Vec<uuid::Uuid>>,
    ) -> String {
        let email = format!(
            "{}-{}@{}.mx",
            role,
            uuid::Uuid::now_v7().simple(),
            t.tenant.slug
        );
        let u = accounts::create_user(
            &self.app.platform,
            NewUser {
                email: email.clone(),
                full_name: format!("{role} de prueba"),
                password: PASSWORD.into(),
            },
        )
        .await
        .expect("create user");
        accounts::add_membership(&self.app.platform, u.id, t.tenant.id, role, branches)
            .await
            .expect("add membership");
        email
    }

    /// Logs in and returns the whole token response.
    pub async fn login(&self, email: &str) -> Value {
        let r = self
            .post(
                "/pos/api/auth/login",
                None,
                serde_json::json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "login of {email}: {}", r.text());
        r.json
    }

    /// Logs in and returns the access token.
    pub async fn token(&self, email: &str) -> String {
        self.login(email).await["access_token"]
            .as_str()
            .expect("access token")
            .to_owned()
    }

    /// Sends a request through the router.
    pub async fn send(&self, req: Request<Body>) -> TestResponse {
        let resp = self
            .app
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router is infallible");
        TestResponse::read(resp).await
    }

    /// Sends a request to the operator console (over this app's queues).
    pub async fn console(&self, req: Request<Body>) -> TestResponse {
        let resp = self
            .app
            .console(self.queues.clone())
            .oneshot(req)
            .await
            .expect("router is infallible");
        TestResponse::read(resp).await
    }

    /// Creates a platform operator (no business membership); returns the e-mail.
    pub async fn operator(&self) -> String {
        let email = format!("ops-{}@nexus.mx", uuid::Uuid::now_v7().simple());
        let u = accounts::create_user(
            &self.app.platform,
            NewUser {
                email: email.clone(),
                full_name: "Operadora".into(),
                password: PASSWORD.into(),
            },
        )
        .await
        .expect("create operator");
        accounts::grant_operator(&self.app.platform, u.id)
            .await
            .expect("grant operator");
        email
    }

    /// Builds a request with an optional bearer token, JSON body and client address.
    #[must_use]
    pub fn request(
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        ip: Option<&str>,
    ) -> Request<Body> {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        let mut req = match body {
            Some(v) => b
                .header("content-type", "application/json")
                .body(Body::from(v.to_string())),
            None => b.body(Body::empty()),
        }
        .expect("request");
        if let Some(ip) = ip {
            let addr: SocketAddr = format!("{ip}:40000").parse().expect("ip");
            req.extensions_mut().insert(ConnectInfo(addr));
        }
        req
    }

    /// GET.
    pub async fn get(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.send(Self::request(Method::GET, path, token, None, None))
            .await
    }

    /// POST JSON.
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.send(Self::request(Method::POST, path, token, Some(&body), None))
            .await
    }

    /// PUT JSON.
    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.send(Self::request(Method::PUT, path, token, Some(&body), None))
            .await
    }

    /// PATCH JSON.
    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.send(Self::request(Method::PATCH, path, token, Some(&body), None))
            .await
    }

    /// DELETE.
    pub async fn delete(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.send(Self::request(Method::DELETE, path, token, None, None))
            .await
    }

    /// The tenant's database.
    pub async fn tenant_db(&self, t: &TestTenant) -> sea_orm::DatabaseConnection {
        self.app
            .tenants
            .connection(&t.tenant)
            .await
            .expect("tenant db")
    }
}

impl TestApp {
    /// Points a tenant at a database that cannot be opened, as if its server were down, and
    /// closes its pool; [`TestApp::restore_tenant_database`] undoes it.
    pub async fn break_tenant_database(&self, t: &TestTenant) {
        let url = match self.shape {
            Shape::Embedded => "sqlite:///nonexistent-nexus-dir/none.db?mode=rw",
            Shape::Distributed => "postgres://postgres@127.0.0.1:1/none",
        };
        self.set_tenant_url(t, Some(url.to_owned())).await;
    }

    /// Points a tenant back at its own database.
    pub async fn restore_tenant_database(&self, t: &TestTenant) {
        self.set_tenant_url(t, None).await;
    }

    async fn set_tenant_url(&self, t: &TestTenant, url: Option<String>) {
        use sea_orm::{ActiveModelTrait, Set};
        let mut am: tenant::ActiveModel = t.tenant.clone().into();
        am.db_url = Set(url);
        am.update(&self.app.platform).await.expect("tenant url");
        self.app.tenants.close(t.tenant.id).await;
    }

    /// A relay over this app's tenants and queues.
    #[must_use]
    pub fn relay(&self, config: workers::relay::RelayConfig) -> workers::relay::Relay {
        workers::relay::Relay::new(
            self.app.platform.clone(),
            self.app.tenants.clone(),
            self.queues.clone(),
            self.app.waker.clone(),
            config,
            None,
        )
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if self.queues.name() == "redis" {
            let queues = self.queues.clone();
            // Drop runs inside the test's runtime; the clean-up gets a runtime of its own.
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    let _ = rt.block_on(queues.purge());
                }
            })
            .join();
        }
    }
}

/// A signed-in user: every request carries their token, so a test says who acts once.
///
/// ```ignore
/// let owner = app.signed_in(&t.owner_email).await;
/// let r = owner.post("/pos/api/branches", json!({"code": "MTY-02", "name": "Centro"})).await;
/// ```
#[derive(Clone, Copy)]
pub struct Session<'a> {
    app: &'a TestApp,
    token: &'a str,
}

impl<'a> Session<'a> {
    /// The bearer token the requests carry.
    #[must_use]
    pub fn token(&self) -> &'a str {
        self.token
    }

    /// GET as this user.
    pub async fn get(&self, path: &str) -> TestResponse {
        self.app.get(path, Some(self.token)).await
    }

    /// POST JSON as this user.
    pub async fn post(&self, path: &str, body: Value) -> TestResponse {
        self.app.post(path, Some(self.token), body).await
    }

    /// PUT JSON as this user.
    pub async fn put(&self, path: &str, body: Value) -> TestResponse {
        self.app.put(path, Some(self.token), body).await
    }

    /// PATCH JSON as this user.
    pub async fn patch(&self, path: &str, body: Value) -> TestResponse {
        self.app.patch(path, Some(self.token), body).await
    }

    /// DELETE as this user.
    pub async fn delete(&self, path: &str) -> TestResponse {
        self.app.delete(path, Some(self.token)).await
    }
}

impl TestApp {
    /// Requests as the holder of `token` (a token the test keeps, e.g. in its fixture).
    #[must_use]
    pub fn session<'a>(&'a self, token: &'a str) -> Session<'a> {
        Session { app: self, token }
    }
}
