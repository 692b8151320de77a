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
        Ok(tokio::spawn(async move {
            let mut shutdown = shutdown;
            let Some(backend) = wait_for_queue_backend(&cfg, &mut shutdown).await else {
                return;
            };
            let config = workers::relay::RelayConfig {
                window: cfg.queue_window,
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
        self.run_workers_with(workers::handlers::all(), queues, shutdown)
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
        let runtime = Arc::new(workers::runtime::Runtime::new(
            self.platform.clone(),
            self.tenants.clone(),
            handlers,
        ));
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
    api_config.cors_origins = config.cors_origins.clone();
    let state = AppState::new(
        platform.clone(),
        tenants.clone(),
        api_config,
        registry.clone(),
        probes,
    )
    .context("registering metrics")?;
    let router = api::router(state.clone()).context("building the OpenAPI document")?;
    if config.shape() == Shape::Embedded {
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
        waker: jobs::RelayWaker::default(),
    })
}
