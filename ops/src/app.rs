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
        registry,
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
    })
}
