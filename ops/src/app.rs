//! Assembling the running application from a [`Config`]: databases, registry, probes, router.

use std::sync::Arc;

use anyhow::{Context, Result};
use api::{ApiConfig, AppState, ReadinessProbe};
use entities::registry::TenantRegistry;
use rand::RngCore;
use sea_orm::DatabaseConnection;

use crate::config::{Config, Shape};
use crate::probes::RedisProbe;
use crate::provision;

/// A built application, ready to serve.
pub struct App {
    /// The configuration it was built from.
    pub config: Config,
    /// The platform database.
    pub platform: DatabaseConnection,
    /// Tenant database handles.
    pub tenants: Arc<TenantRegistry>,
    /// Shared API state.
    pub state: AppState,
    /// The HTTP router.
    pub router: axum::Router,
    /// Where every metric is registered.
    pub registry: prometheus::Registry,
    /// Wakes the outbox relay after commits.
    pub waker: jobs::RelayWaker,
    /// Clients of external services for the job handlers.
    pub services: workers::services::Services,
    /// Wakes the search sync after catalog writes in this process.
    pub search_wake: Arc<tokio::sync::Notify>,
}

/// Builds the clients of the configured external services.
///
/// # Errors
/// One line naming the setting when a client cannot be built.
pub fn services(cfg: &Config) -> Result<workers::services::Services> {
    let vpic = cfg
        .vpic_url
        .as_deref()
        .map(|url| {
            workers::clients::vpic::VpicClient::new(url, workers::clients::vpic::DEFAULT_TIMEOUT)
        })
        .transpose()
        .context("NEXUS_VPIC_URL")?;
    let facturapi =
        cfg.facturapi_url
            .clone()
            .map(|base_url| workers::clients::facturapi::FacturapiConfig {
                base_url,
                timeout: std::time::Duration::from_secs(30),
                retry: workers::handlers::invoicing::RETRY,
            });
    let smtp = cfg
        .smtp_url
        .as_deref()
        .map(|url| {
            workers::clients::smtp::SmtpMailer::new(
                url,
                &cfg.smtp_from,
                workers::clients::smtp::DEFAULT_TIMEOUT,
            )
        })
        .transpose()
        .context("NEXUS_SMTP_URL / NEXUS_SMTP_FROM")?;
    let whatsapp = cfg
        .whatsapp_api_url
        .as_deref()
        .map(|url| {
            workers::clients::whatsapp::CloudApi::new(
                url,
                workers::clients::whatsapp::DEFAULT_TIMEOUT,
            )
        })
        .transpose()
        .context("NEXUS_WHATSAPP_API_URL")?;
    let whatsapp_bridge = match (&cfg.whatsapp_bridge_url, &cfg.whatsapp_bridge_key) {
        (Some(url), Some(key)) => Some(
            workers::clients::whatsapp::Bridge::new(
                url,
                key,
                workers::clients::whatsapp::DEFAULT_TIMEOUT,
            )
            .context("WHATSAPP_BRIDGE_URL")?,
        ),
        (Some(_), None) => anyhow::bail!("WHATSAPP_BRIDGE_URL is set without WHATSAPP_BRIDGE_KEY"),
        _ => None,
    };
    Ok(workers::services::Services {
        vpic,
        facturapi,
        files: Some(cfg.file_store()?),
        smtp,
        whatsapp,
        whatsapp_bridge,
        notify_metrics: None,
    })
}

/// Opens the queue backend of the configured shape: Redis with `REDIS_URL`, else the SQLite file
/// `data/queue.db`.
///
/// # Errors
/// One line naming the setting when the backend cannot be opened.
pub async fn queue_backend(cfg: &Config) -> Result<jobs::QueueBackend> {
    let backend = match &cfg.redis_url {
        Some(url) => jobs::QueueBackend::redis(url, &cfg.queue_namespace)
            .await
            .context("REDIS_URL: the queue backend"),
        None => jobs::QueueBackend::sqlite(&cfg.queue_db_path(), &cfg.queue_namespace)
            .await
            .with_context(|| {
                format!(
                    "NEXUS_DATA_DIR: the queue database {}",
                    cfg.queue_db_path().display()
                )
            }),
    }?;
    Ok(backend.with_heartbeat(cfg.queue_heartbeat))
}

/// Opens the queue backend, trying again every 2 s while it is down (Redis down must not stop
/// the API); `None` when shutdown comes first.
pub async fn wait_for_queue_backend(
    cfg: &Config,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
) -> Option<jobs::QueueBackend> {
    loop {
        if *shutdown.borrow() {
            return None;
        }
        match queue_backend(cfg).await {
            Ok(b) => return Some(b),
            Err(e) => {
                tracing::warn!("waiting for the queue backend: {e:#}");
                tokio::select! {
                    () = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
                    _ = shutdown.changed() => return None,
                }
            }
        }
    }
}

/// Resolves when `shutdown` turns true.
pub async fn stopped(mut shutdown: tokio::sync::watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        if shutdown.changed().await.is_err() {
            return;
        }
    }
}

impl App {
    /// Runs the outbox relay until `shutdown` turns true.
    ///
    /// # Errors
    /// When its metrics cannot be registered.
    pub fn spawn_relay(
        &self,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> Result<tokio::task::JoinHandle<()>> {
        let metrics = workers::relay::RelayMetrics::register(&self.registry)
            .context("registering relay metrics")?;
        let (cfg, platform, tenants, waker) = (
            self.config.clone(),
            self.platform.clone(),
            self.tenants.clone(),
            self.waker.clone(),
        );
        if let Some(url) = &cfg.redis_url {
            // Commits in API processes wake this relay through Redis.
            let client = redis::Client::open(url.as_str()).context("REDIS_URL")?;
            let (waker, namespace, stop) = (
                self.waker.clone(),
                cfg.queue_namespace.clone(),
                shutdown.clone(),
            );
            tokio::spawn(async move { waker.listen(client, &namespace, stop).await });
        }
        Ok(tokio::spawn(async move {
            let mut shutdown = shutdown;
            let Some(backend) = wait_for_queue_backend(&cfg, &mut shutdown).await else {
                return;
            };
            let config = workers::relay::RelayConfig {
                window: cfg.queue_window,
                repush_after: cfg.outbox_repush,
                ..Default::default()
            };
            let relay = Arc::new(workers::relay::Relay::new(
                platform,
                tenants,
                backend,
                waker,
                config,
                Some(metrics),
            ));
            relay.run(shutdown).await;
        }))
    }

    /// Runs the cron table (apalis-cron, Mexico City time) until `shutdown` turns true. Every
    /// replica may run it: each tick is claimed once in the platform database, and its jobs go
    /// through the tenants' outboxes, so the relay (here or in a worker process) pushes them.
    ///
    /// # Errors
    /// When the scheduler fails.
    pub async fn run_scheduler(&self, shutdown: tokio::sync::watch::Receiver<bool>) -> Result<()> {
        let mut wait = shutdown.clone();
        let Some(backend) = wait_for_queue_backend(&self.config, &mut wait).await else {
            return Ok(());
        };
        let scheduler = Arc::new(
            schedules::Scheduler::new(
                self.platform.clone(),
                self.tenants.clone(),
                self.waker.clone(),
                self.config.retention,
            )
            .with_queues(backend),
        );
        tracing::info!(
            "scheduler {} on {} ({})",
            scheduler.replica(),
            schedules::TIMEZONE,
            schedules::Schedule::ALL
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>()
                .join(", ")
        );
        scheduler
            .run(stopped(shutdown))
            .await
            .context("the scheduler")
    }

    /// Runs worker pools for `queues` with the handlers of every job kind until `shutdown` turns
    /// true; running jobs finish, fetched ones go back to the queue.
    ///
    /// # Errors
    /// When the pools fail.
    pub async fn run_workers(
        &self,
        queues: Vec<jobs::Queue>,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> Result<()> {
        self.run_workers_with(
            workers::handlers::all(self.services.clone()),
            queues,
            shutdown,
        )
        .await
    }

    /// [`App::run_workers`] with other handlers: test binaries add job kinds of their own (a job
    /// that sleeps, one that aborts its process) to the production ones.
    ///
    /// # Errors
    /// When the pools fail.
    pub async fn run_workers_with(
        &self,
        handlers: workers::runtime::Handlers,
        queues: Vec<jobs::Queue>,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> Result<()> {
        let mut wait = shutdown.clone();
        let Some(backend) = wait_for_queue_backend(&self.config, &mut wait).await else {
            return Ok(());
        };
        let mut runtime =
            workers::runtime::Runtime::new(self.platform.clone(), self.tenants.clone(), handlers);
        match workers::metrics::JobMetrics::register(&self.registry) {
            Ok(m) => runtime = runtime.with_metrics(m),
            // Pools started twice on one registry (tests): the first set keeps counting.
            Err(e) => tracing::debug!("job metrics not registered again: {e}"),
        }
        let runtime = Arc::new(runtime);
        let cfg = workers::pool::PoolConfig {
            queues,
            concurrency: self.config.worker_concurrency,
            ..Default::default()
        };
        tracing::info!(
            "worker pools on {} ({}): {}",
            backend.name(),
            backend.namespace,
            cfg.queues
                .iter()
                .map(|q| q.name())
                .collect::<Vec<_>>()
                .join(", ")
        );
        workers::pool::run(backend, runtime, cfg, stopped(shutdown)).await?;
        Ok(())
    }
}

impl App {
    /// Runs the Meilisearch sync of the catalog change log until `shutdown` turns true; `None`
    /// when Meilisearch is not configured. Several processes may run it: they send the same
    /// documents (replaced by id) and save the same cursor.
    ///
    /// # Errors
    /// A key that cannot be used in a header.
    pub fn spawn_search_sync(
        &self,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> Result<Option<tokio::task::JoinHandle<()>>> {
        if self.config.meili_url.is_none() {
            return Ok(None);
        }
        let writer = crate::search::writer(&self.config)?;
        let metrics = match workers::handlers::catalog::SearchSyncMetrics::register(&self.registry)
        {
            Ok(m) => Some(m),
            // Started twice on one registry (tests): the first set keeps counting.
            Err(e) => {
                tracing::debug!("search sync metrics not registered again: {e}");
                None
            }
        };
        let cfg = crate::search::sync_config(&self.config);
        tracing::info!(
            "catalog search sync into {}",
            entities::catalog::meili::live_index_uid(&cfg.index_prefix)
        );
        Ok(Some(tokio::spawn(workers::handlers::catalog::run_sync(
            self.platform.clone(),
            writer,
            cfg,
            metrics,
            self.search_wake.clone(),
            shutdown,
        ))))
    }
}

impl App {
    /// Samples every queue's counts into `nexus_queue_jobs` every 5 s until `shutdown` turns
    /// true (the API's `/metrics` shows them).
    ///
    /// # Errors
    /// When the gauges cannot be registered.
    pub fn spawn_queue_gauges(
        &self,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> Result<tokio::task::JoinHandle<()>> {
        let gauges = workers::metrics::QueueGauges::register(&self.registry)
            .context("registering queue metrics")?;
        let cfg = self.config.clone();
        Ok(tokio::spawn(async move {
            let mut wait = shutdown.clone();
            let Some(backend) = wait_for_queue_backend(&cfg, &mut wait).await else {
                return;
            };
            gauges
                .run(backend, std::time::Duration::from_secs(5), shutdown)
                .await;
        }))
    }

    /// Serves `/metrics` and `/healthz` on `NEXUS_METRICS_ADDR`, for processes without the API
    /// (`nexus worker`, `nexus scheduler`), until `shutdown` turns true. `None` when it is off.
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub async fn spawn_metrics_listener(
        &self,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> Result<Option<(std::net::SocketAddr, tokio::task::JoinHandle<()>)>> {
        let Some(addr) = self.config.metrics_addr else {
            return Ok(None);
        };
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("NEXUS_METRICS_ADDR: cannot listen on {addr}"))?;
        let registry = self.registry.clone();
        let router = axum::Router::new()
            .route(
                "/metrics",
                axum::routing::get(move || {
                    let registry = registry.clone();
                    async move { api::metrics::exposition(&registry) }
                }),
            )
            .route("/healthz", axum::routing::get(|| async { "ok" }));
        let addr = listener.local_addr().unwrap_or(addr);
        tracing::info!("metrics on http://{addr}/metrics");
        Ok(Some((
            addr,
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router)
                    .with_graceful_shutdown(stopped(shutdown))
                    .await
                {
                    tracing::error!("metrics listener stopped: {e}");
                }
            }),
        )))
    }

    /// The operator console over a queue backend.
    pub fn console(&self, backend: jobs::QueueBackend) -> axum::Router {
        crate::console::router(crate::console::Console {
            state: self.state.clone(),
            backend,
            waker: self.waker.clone(),
        })
    }

    /// Serves the operator console on `listener` until `shutdown` turns true; it opens once the
    /// queue backend answers.
    pub fn spawn_console(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let (cfg, state, waker) = (self.config.clone(), self.state.clone(), self.waker.clone());
        tokio::spawn(async move {
            let mut wait = shutdown.clone();
            let Some(backend) = wait_for_queue_backend(&cfg, &mut wait).await else {
                return;
            };
            let router = crate::console::router(crate::console::Console {
                state,
                backend,
                waker,
            });
            let served = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(stopped(shutdown))
            .await;
            if let Err(e) = served {
                tracing::error!("operator console stopped: {e}");
            }
        })
    }
}

/// Reads `POS_JWT_SECRET`, or in the embedded shape the secret stored in the data folder,
/// generating and storing one on first start.
///
/// # Errors
/// When the stored secret cannot be read or written.
pub fn jwt_secret(cfg: &Config) -> Result<Vec<u8>> {
    if let Some(s) = &cfg.jwt_secret {
        return Ok(s.clone());
    }
    let path = cfg.data_dir.join("jwt_secret");
    if let Ok(s) = std::fs::read_to_string(&path) {
        let s = s.trim().to_owned();
        if s.len() >= 32 {
            return Ok(s.into_bytes());
        }
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("NEXUS_DATA_DIR: cannot create {}", cfg.data_dir.display()))?;
    write_private(&path, &secret)
        .with_context(|| format!("cannot store the JWT secret in {}", path.display()))?;
    tracing::info!(
        "POS_JWT_SECRET is not set: generated one and stored it in {}",
        path.display()
    );
    Ok(secret.into_bytes())
}

fn write_private(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(content.as_bytes())
}

/// Opens (and with `migrate`, migrates) every database, then builds the router.
///
/// # Errors
/// One line naming the setting at fault when a database cannot be reached.
pub async fn build(config: Config, registry: prometheus::Registry, migrate: bool) -> Result<App> {
    let platform = provision::open_platform(&config, migrate).await?;
    let tenants = Arc::new(TenantRegistry::new(
        config.tenant_location.clone(),
        config.tenant_max_connections,
        config.tenant_idle,
    ));
    if migrate {
        provision::migrate_all(&platform, &tenants, false)
            .await
            .context("migrating tenant databases")?;
    }

    let mut probes: Vec<Arc<dyn ReadinessProbe>> = Vec::new();
    if let Some(url) = &config.redis_url {
        let probe = RedisProbe::new(url).context("REDIS_URL")?;
        if let Err(e) = probe.ping().await {
            // Redis down must not stop sales: the API starts and /readyz reports it.
            tracing::warn!("REDIS_URL: Redis is not answering yet ({e}); /readyz will say so");
        }
        probes.push(Arc::new(probe));
    } else {
        // The embedded queue is a local file: open it now, so a broken data folder stops start-up.
        probes.push(Arc::new(crate::probes::QueueProbe::new(
            queue_backend(&config).await?,
        )));
    }
    let mut api_config = ApiConfig::with_secret(jwt_secret(&config)?);
    api_config.access_ttl = config.access_ttl;
    api_config.refresh_ttl = config.refresh_ttl;
    api_config.body_limit = config.body_limit;
    api_config.files = config.file_store()?;
    api_config.cors_origins = config.cors_origins.clone();
    api_config.public_url = config.public_url.clone();
    api_config.trusted_proxies = config.trusted_proxies.clone();
    api_config.ops_port = config.ops_addr.map(|a| a.port());
    api_config.vin_enrichment = config.vpic_url.is_some();
    api_config.stamping = config.facturapi_url.is_some();
    api_config.usd_rate = entities::rules::money::Rate::from_decimal(
        "EXCHANGE_RATE_USD_MXN",
        config.exchange_rate_usd_mxn,
    )
    .context("EXCHANGE_RATE_USD_MXN")?;
    api_config.redis_url = config.redis_url.clone();
    api_config.redis_namespace = config.queue_namespace.clone();
    api_config.stock_cache_ttl = config.redis_stock_ttl;
    api_config.redis_deadline = config.redis_deadline;
    let mut services = services(&config)?;
    services.notify_metrics = workers::handlers::notifications::NotifyMetrics::register(&registry)
        .map_err(|e| tracing::debug!("notification metrics not registered again: {e}"))
        .ok();
    // The relay may run in another process (distributed shape): wake-ups go through Redis too.
    let waker = match &config.redis_url {
        Some(url) => jobs::RelayWaker::with_redis(
            redis::Client::open(url.as_str()).context("REDIS_URL")?,
            &config.queue_namespace,
        ),
        None => jobs::RelayWaker::default(),
    };
    let state = AppState::new(
        platform.clone(),
        tenants.clone(),
        api_config,
        registry.clone(),
        probes,
        waker.clone(),
    )
    .context("registering metrics")?;
    if let Some(search) = crate::search::catalog_search(&config)? {
        state.set_catalog_search(search);
    }
    let router = api::router(state.clone()).context("building the OpenAPI document")?;
    if config.shape() == Shape::Embedded && config.files_s3.is_none() {
        std::fs::create_dir_all(config.files_dir()).with_context(|| {
            format!(
                "NEXUS_DATA_DIR: cannot create {}",
                config.files_dir().display()
            )
        })?;
    }
    Ok(App {
        config,
        platform,
        tenants,
        state,
        router,
        registry,
        waker,
        services,
        search_wake: Arc::new(tokio::sync::Notify::new()),
    })
}
