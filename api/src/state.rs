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

use crate::metrics::{HttpMetrics, SearchMetrics};
use crate::stock_cache::StockCache;
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
    /// Where customers reach this deployment (`NEXUS_PUBLIC_URL`, no trailing slash): links sent
    /// to them are absolute when set, paths otherwise.
    pub public_url: Option<String>,
    /// Load balancers whose `X-Forwarded-For` names the client ([`crate::auth::ClientIp`]).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Failed logins allowed per account within [`Self::login_window`].
    pub login_failures_per_account: u32,
    /// Failed logins allowed per client address within [`Self::login_window`].
    pub login_failures_per_ip: u32,
    /// Window of the login throttle.
    pub login_window: Duration,
    /// Port of the operator console's listener; `/ops` on the API redirects there. `None` when
    /// the console is off.
    pub ops_port: Option<u16>,
    /// Whether VIN enrichment (NHTSA vPIC) is configured; without it VIN look-ups answer the
    /// local decode and say enrichment is unavailable, and enqueue nothing.
    pub vin_enrichment: bool,
    /// Whether CFDIs can be stamped (`NEXUS_FACTURAPI_URL` is not `off`): without it, a request
    /// for a new document is refused up front instead of leaving it pending.
    pub stamping: bool,
    /// `EXCHANGE_RATE_USD_MXN`: the USD rate until an admin sets one in the tenant.
    pub usd_rate: entities::rules::money::Rate,
    /// The Redis every API process shares (`REDIS_URL`): the stock cache and the login
    /// throttle's counters. `None` keeps both in the process.
    pub redis_url: Option<String>,
    /// Prefix of this deployment's keys in that Redis (`NEXUS_QUEUE_NAMESPACE`), so deployments
    /// (and tests) sharing a server do not count each other's logins.
    pub redis_namespace: String,
    /// The tenants' files (a folder, or an S3-compatible bucket): stamped invoices' XML and PDF.
    pub files: entities::files::FileStore,
    /// How long a cached stock view lives (`REDIS_STOCK_TTL`).
    pub stock_cache_ttl: Duration,
    /// How long a request waits for Redis (stock cache, login throttle) before it goes on
    /// without it (`REDIS_DEADLINE_MS`).
    pub redis_deadline: Duration,
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
            .field("public_url", &self.public_url)
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
            public_url: None,
            trusted_proxies: Vec::new(),
            login_failures_per_account: 5,
            login_failures_per_ip: 20,
            login_window: Duration::from_secs(15 * 60),
            ops_port: None,
            vin_enrichment: false,
            stamping: false,
            usd_rate: entities::rules::money::Rate(17_000_000),
            redis_url: None,
            redis_namespace: "nexus".into(),
            files: entities::files::FileStore::new("data/files"),
            stock_cache_ttl: Duration::from_secs(300),
            redis_deadline: crate::redis_link::REDIS_DEADLINE,
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
    /// Catalog search metrics.
    pub search_metrics: SearchMetrics,
    /// The catalog search backend in front of SQL (Meilisearch), set once by the binary.
    catalog_search: std::sync::OnceLock<Arc<dyn CatalogSearch>>,
    /// Where every metric of the process is registered (served at `/metrics`).
    pub registry: prometheus::Registry,
    /// Extra readiness checks.
    pub probes: Vec<Arc<dyn ReadinessProbe>>,
    /// Failed logins per account.
    pub account_throttle: Throttle,
    /// Failed logins per address.
    pub ip_throttle: Throttle,
    /// Wakes the outbox relay after a commit that wrote jobs.
    pub waker: jobs::RelayWaker,
    /// Stock views by item (Redis or in-process).
    stock_cache: StockCache,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Builds the state; HTTP metrics are registered in `registry`; `waker` is told of every
    /// commit that writes outbox rows.
    ///
    /// # Errors
    /// When the metrics cannot be registered (a name clash).
    pub fn new(
        platform: DatabaseConnection,
        tenants: Arc<TenantRegistry>,
        config: ApiConfig,
        registry: prometheus::Registry,
        probes: Vec<Arc<dyn ReadinessProbe>>,
        waker: jobs::RelayWaker,
    ) -> Result<Self, prometheus::Error> {
        let metrics = HttpMetrics::register(&registry)?;
        let search_metrics = SearchMetrics::register(&registry)?;
        let stock_cache = StockCache::new(
            config.redis_url.as_deref(),
            config.stock_cache_ttl,
            config.redis_deadline,
            &registry,
        )?;
        let jwt = JwtKeys::new(&config.jwt_secret, &config.jwt_issuer, &config.jwt_audience);
        Ok(Self(Arc::new(Inner {
            platform,
            tenants,
            account_throttle: Throttle::new(config.login_failures_per_account, config.login_window)
                .shared(
                    config.redis_url.as_deref(),
                    &format!("{}:login:account", config.redis_namespace),
                    config.redis_deadline,
                ),
            ip_throttle: Throttle::new(config.login_failures_per_ip, config.login_window).shared(
                config.redis_url.as_deref(),
                &format!("{}:login:ip", config.redis_namespace),
                config.redis_deadline,
            ),
            config,
            jwt,
            metrics,
            search_metrics,
            catalog_search: std::sync::OnceLock::new(),
            registry,
            probes,
            waker,
            stock_cache,
        })))
    }

    /// Puts a search backend in front of the SQL one. Only the first call takes effect.
    pub fn set_catalog_search(&self, backend: Arc<dyn CatalogSearch>) {
        let _ = self.0.catalog_search.set(backend);
    }

    /// Called after a commit that changed the stock of `items`: drops their cached stock views.
    pub async fn stock_changed(&self, tenant: uuid::Uuid, items: &[uuid::Uuid]) {
        self.stock_cache().invalidate(tenant, items).await;
    }

    /// The stock cache: invalidate the items a commit changed with
    /// `state.stock_cache().invalidate(tenant_id, &items)`.
    #[must_use]
    pub fn stock_cache(&self) -> &StockCache {
        &self.0.stock_cache
    }

    /// The search backend in front of SQL, when one is configured.
    #[must_use]
    pub fn catalog_search(&self) -> Option<Arc<dyn CatalogSearch>> {
        self.0.catalog_search.get().cloned()
    }
}
