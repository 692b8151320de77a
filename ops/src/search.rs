//! Catalog search on Meilisearch from the configuration: the API's read backend, and the writer
//! and settings of the sync.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use entities::catalog::meili::{MeiliSearch, live_index_uid};
use entities::catalog::search::CatalogSearch;
use workers::clients::meili::MeiliWriter;
use workers::handlers::catalog::SyncConfig;

use crate::config::Config;

/// How long one document batch or swap may stay unfinished on the server: indexing a few
/// thousand parts on a loaded server takes seconds, not milliseconds.
const TASK_TIMEOUT: Duration = Duration::from_secs(600);

/// The API's Meilisearch backend, when `MEILI_URL` is set (and `MEILI_ENABLED` is not false).
///
/// # Errors
/// When the key cannot be used in a header.
pub fn catalog_search(cfg: &Config) -> Result<Option<Arc<dyn CatalogSearch>>> {
    let Some(url) = &cfg.meili_url else {
        return Ok(None);
    };
    let search = MeiliSearch::new(
        url,
        cfg.meili_api_key.as_deref(),
        live_index_uid(&cfg.meili_index_prefix),
        cfg.meili_timeout,
    )
    .context("MEILI_MASTER_KEY: not usable as an HTTP header")?;
    Ok(Some(Arc::new(search)))
}

/// The sync's writer, or a clear error when Meilisearch is not configured.
///
/// # Errors
/// No `MEILI_URL` (or `MEILI_ENABLED=false`), or a key that cannot be used in a header.
pub fn writer(cfg: &Config) -> Result<MeiliWriter> {
    let url = cfg.meili_url.as_deref().context(
        "MEILI_URL: not set (or MEILI_ENABLED=false); set it to the Meilisearch server, e.g. \
         http://127.0.0.1:7700",
    )?;
    // Writes get a longer deadline than searches: a batch of documents is megabytes.
    let request = cfg.meili_timeout.max(Duration::from_secs(30));
    MeiliWriter::new(url, cfg.meili_api_key.as_deref(), request, TASK_TIMEOUT)
        .context("MEILI_MASTER_KEY: not usable as an HTTP header")
}

/// The sync's settings from the configuration.
#[must_use]
pub fn sync_config(cfg: &Config) -> SyncConfig {
    SyncConfig {
        index_prefix: cfg.meili_index_prefix.clone(),
        interval: cfg.meili_sync_interval,
        ..SyncConfig::default()
    }
}
