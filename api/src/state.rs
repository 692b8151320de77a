//! What every handler can reach: the platform database, the tenant registry, configuration,
//! keys, metrics and readiness probes.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use entities::catalog::search::CatalogSearch;
use entities::registry::TenantRegistry;
use sea_orm::DatabaseConnection;

use crate::jwt::JwtKeys;
use crate::metrics::HttpMetrics;
use crate::throttle::Throttle;

/// Settings of the HTTP API (built by the binary from the environment, by tests in code).
#[derive(Clone)]
pub struct ApiConfig {
    /// HMAC secret of access tokens, at least 32 bytes.
    pub jwt_secret: Vec<u8>,
    /// `iss` of access tokens.
    pub jwt_issuer: String,
    /// `aud` of access tokens.
    pub jwt_audience: String,
    /// Life of an access token.
    pub access_ttl: Duration,
    /// Life of a refresh token.
    pub refresh_ttl: Duration,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Origins allowed by CORS; empty disables CORS, `*` allows any.
    pub cors_origins: Vec<String>,
    /// Failed logins allowed per account within [`Self::login_window`].
    pub login_failures_per_account: u32,
    /// Failed logins allowed per client address within [`Self::login_window`].
    pub login_failures_per_ip: u32,
    /// Window of the login throttle.
    pub login_window: Duration,
    /// Port of the operator console's listener; `/ops` on the API redirects there. `None` when
    /// the console is off.
    pub ops_port: Option<u16>,
}

impl std::fmt::Debug for ApiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiConfig")
            .field("jwt_secret", &"<redacted>")
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .field("access_ttl", &self.access_ttl)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("body_limit", &self.body_limit)
            .field("cors_origins", &self.cors_origins)
            .finish_non_exhaustive()
    }
}

impl ApiConfig {
    /// Defaults around a secret: 15-minute access tokens, 30-day refresh tokens, 1 MiB bodies,
    /// no CORS, 5 failed logins per account and 20 per address in 15 minutes.
    #[must_use]
    pub fn with_secret(jwt_secret: Vec<u8>) -> Self {
        Self {
            jwt_secret,
            jwt_issuer: "nexus".into(),
            jwt_audience: "nexus-pos".into(),
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            body_limit: 1024 * 1024,
            cors_origins: Vec::new(),
            login_failures_per_account: 5,
            login_failures_per_ip: 20,
            login_window: Duration::from_secs(15 * 60),
            ops_port: None,
        }
    }
}

/// A boxed future, for object-safe async probes.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A dependency `/readyz` checks (Redis, queue backend…), supplied by the binary.
pub trait ReadinessProbe: Send + Sync {
    /// Name shown in the readiness report.
    fn name(&self) -> &'static str;
    /// `Ok` when the dependency answers, else why not.
    fn check(&self) -> BoxFuture<'_, Result<(), String>>;
}

/// Shared state of the API.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// The contents of [`AppState`].
pub struct Inner {
    /// The platform database.
    pub platform: DatabaseConnection,
    /// Tenant database handles.
    pub tenants: Arc<TenantRegistry>,
    /// Settings.
    pub config: ApiConfig,
    /// Token keys.
    pub jwt: JwtKeys,
    /// HTTP metrics.
    pub metrics: HttpMetrics,
    /// Where every metric of the process is registered (served at `/metrics`).
    pub registry: prometheus::Registry,
    /// Extra readiness checks.
    pub probes: Vec<Arc<dyn ReadinessProbe>>,
    /// Failed logins per account.
    pub account_throttle: Throttle,
    /// Failed logins per address.
    pub ip_throttle: Throttle,
    /// The catalog search backend other than SQL (Meilisearch), when configured; searches fall
    /// back to SQL when it is `None` or answers [`entities::catalog::search::SearchError::Unavailable`].
    pub catalog_search: Option<Arc<dyn CatalogSearch>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Builds the state; HTTP metrics are registered in `registry`.
    ///
    /// # Errors
    /// When the metrics cannot be registered (a name clash).
    pub fn new(
        platform: DatabaseConnection,
        tenants: Arc<TenantRegistry>,
        config: ApiConfig,
        registry: prometheus::Registry,
        probes: Vec<Arc<dyn ReadinessProbe>>,
    ) -> Result<Self, prometheus::Error> {
        let metrics = HttpMetrics::register(&registry)?;
        let jwt = JwtKeys::new(&config.jwt_secret, &config.jwt_issuer, &config.jwt_audience);
        Ok(Self(Arc::new(Inner {
            platform,
            tenants,
            account_throttle: Throttle::new(config.login_failures_per_account, config.login_window),
            ip_throttle: Throttle::new(config.login_failures_per_ip, config.login_window),
            config,
            jwt,
            metrics,
            registry,
            probes,
            catalog_search: None,
        })))
    }

    /// Sets the catalog search backend. Call it on a fresh state, before it is cloned into a
    /// router: a shared state is left as it is (and says so in the log).
    #[must_use]
    pub fn with_catalog_search(mut self, search: Arc<dyn CatalogSearch>) -> Self {
        match Arc::get_mut(&mut self.0) {
            Some(inner) => inner.catalog_search = Some(search),
            None => {
                tracing::warn!("catalog search backend not set: the API state is already shared")
            }
        }
        self
    }
}
