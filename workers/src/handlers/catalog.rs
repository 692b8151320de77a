//! Keeping the Meilisearch catalog index in step with the catalog tables.
//!
//! - [`reindex`] builds a fresh index `<prefix>parts_<timestamp>` (settings first, then every
//!   part in keyset pages, a few NDJSON batches in flight), swaps it with the live
//!   `<prefix>parts` and deletes the old content. Any failure deletes the half-built index and
//!   leaves the live one serving.
//! - [`sync_changes`] applies the catalog change log from the saved cursor: upserts the parts
//!   that exist, deletes the ones that do not, and moves the cursor only after Meilisearch has
//!   taken the batch, so a crash re-sends (documents are replaced by id: idempotent) instead of
//!   losing.
//! - [`run_sync`] does that every few hundred milliseconds, or at once when woken.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use entities::catalog::changes::{self, SyncState};
use entities::catalog::docs::{self, PartDoc};
use entities::catalog::meili::live_index_uid;
use entities::catalog::text::SYNONYMS;
use meilisearch_sdk::settings::{Settings, TypoToleranceSettings};
use prometheus::{Gauge, IntCounter, IntCounterVec, IntGauge, Opts, Registry};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Serialize;

use crate::clients::meili::{MeiliError, MeiliWriter};

/// The name of this sync's cursor in `search_sync_state`.
pub const SYNC_NAME: &str = "meilisearch";

/// Attributes searched, in ranking order: a number match outranks a name match, which outranks
/// the description. There is no combined `text` attribute with the synonyms spelled out (the SQL
/// backends need one): Meilisearch applies [`index_settings`]' synonyms at query time, and
/// leaving it out halves the documents and the CPU of a reindex.
pub const SEARCHABLE: [&str; 7] = [
    "number_norm",
    "numbers",
    "number",
    "name",
    "brand",
    "category",
    "description",
];
/// Attributes searches filter on.
pub const FILTERABLE: [&str; 3] = ["vehicle_ids", "brand_id", "category_id"];
/// Attributes a result list may be sorted by.
pub const SORTABLE: [&str; 2] = ["retail_price_cents", "id"];
/// Number fields: a typo there is another part, not a misspelling.
pub const NO_TYPOS: [&str; 3] = ["number_norm", "numbers", "number"];

/// Why a sync failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The catalog database failed.
    #[error("catalog database: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// Meilisearch failed.
    #[error(transparent)]
    Meili(#[from] MeiliError),
    /// A sending task ended without an answer (it panicked or was cancelled).
    #[error("a document batch was lost: {0}")]
    Join(String),
}

/// Settings of the sync.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// `MEILI_INDEX_PREFIX`: the live index is `<prefix>parts`.
    pub index_prefix: String,
    /// Parts per NDJSON batch of a reindex.
    pub batch_docs: u64,
    /// Batches sent and not yet finished at once during a reindex.
    pub in_flight: usize,
    /// Tasks reading the catalog at once during a reindex, each over its own id stripe.
    pub readers: usize,
    /// Change-log rows read per incremental step.
    pub change_batch: u64,
    /// Time between incremental passes when nobody wakes the loop.
    pub interval: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            index_prefix: "nexus_".into(),
            batch_docs: 5_000,
            in_flight: 4,
            readers: 2,
            change_batch: 1_000,
            interval: Duration::from_millis(1_000),
        }
    }
}

/// The sync's Prometheus metrics.
#[derive(Debug, Clone)]
pub struct SearchSyncMetrics {
    docs_per_second: Gauge,
    lag: IntGauge,
    sent: IntCounter,
    failures: IntCounterVec,
}

impl SearchSyncMetrics {
    /// Registers `nexus_search_reindex_docs_per_second`, `nexus_search_sync_lag`,
    /// `nexus_search_documents_sent_total` and `nexus_search_sync_failures_total{op}`.
    ///
    /// # Errors
    /// When a metric of the same name is already registered.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let docs_per_second = Gauge::new(
            "nexus_search_reindex_docs_per_second",
            "Documents per second of the last full reindex",
        )?;
        let lag = IntGauge::new(
            "nexus_search_sync_lag",
            "Catalog changes logged but not yet applied to the search index (log head - cursor)",
        )?;
        let sent = IntCounter::new(
            "nexus_search_documents_sent_total",
            "Catalog documents accepted by the search index",
        )?;
        let failures = IntCounterVec::new(
            Opts::new(
                "nexus_search_sync_failures_total",
                "Failed search-index syncs, per operation (reindex, sync)",
            ),
            &["op"],
        )?;
        registry.register(Box::new(docs_per_second.clone()))?;
        registry.register(Box::new(lag.clone()))?;
        registry.register(Box::new(sent.clone()))?;
        registry.register(Box::new(failures.clone()))?;
        Ok(Self {
            docs_per_second,
            lag,
            sent,
            failures,
        })
    }
}

/// The index settings: searchable, filterable and sortable attributes, the counter's synonyms
/// (each term of a group mapped to the others), and no typo tolerance on numbers.
#[must_use]
pub fn index_settings() -> Settings {
    let mut synonyms: HashMap<String, Vec<String>> = HashMap::new();
    for group in SYNONYMS {
        for term in *group {
            let others = group.iter().filter(|t| *t != term).map(|t| (*t).to_owned());
            synonyms
                .entry((*term).to_owned())
                .or_default()
                .extend(others);
        }
    }
    Settings::new()
        .with_searchable_attributes(SEARCHABLE)
        .with_filterable_attributes(FILTERABLE)
        .with_sortable_attributes(SORTABLE)
        .with_synonyms(synonyms)
        .with_typo_tolerance(TypoToleranceSettings {
            enabled: Some(true),
            disable_on_attributes: Some(NO_TYPOS.iter().map(|s| (*s).to_owned()).collect()),
            disable_on_words: None,
            min_word_size_for_typos: None,
            disable_on_numbers: None,
        })
}

/// A part as sent to Meilisearch: the [`PartDoc`] fields.
#[derive(Serialize)]
struct IndexDoc<'a> {
    id: i64,
    number: &'a str,
    number_norm: &'a str,
    name: &'a str,
    description: Option<&'a str>,
    brand_id: i32,
    brand: &'a str,
    category_id: Option<i32>,
    category: Option<&'a str>,
    retail_price_cents: Option<i64>,
    numbers: &'a [String],
    vehicle_ids: &'a [i32],
}

/// Parts as NDJSON, one document per line.
#[must_use]
pub fn encode_ndjson(docs: &[PartDoc]) -> Vec<u8> {
    let mut out = Vec::with_capacity(docs.len() * 512);
    for d in docs {
        let doc = IndexDoc {
            id: d.id,
            number: &d.number,
            number_norm: &d.number_norm,
            name: &d.name,
            description: d.description.as_deref(),
            brand_id: d.brand_id,
            brand: &d.brand,
            category_id: d.category_id,
            category: d.category.as_deref(),
            retail_price_cents: d.retail_price_cents,
            numbers: &d.numbers,
            vehicle_ids: &d.vehicle_ids,
        };
        // Serialising plain strings and numbers into a Vec cannot fail.
        if serde_json::to_writer(&mut out, &doc).is_ok() {
            out.push(b'\n');
        }
    }
    out
}

/// What a full reindex did.
#[derive(Debug, Clone)]
pub struct ReindexReport {
    /// Documents indexed.
    pub docs: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// The live index (now holding them).
    pub index_uid: String,
    /// The change-log position the index reflects.
    pub last_seq: i64,
}

impl ReindexReport {
    /// Documents per second.
    #[must_use]
    pub fn docs_per_second(&self) -> f64 {
        #[expect(clippy::cast_precision_loss, reason = "a rate for people")]
        let docs = self.docs as f64;
        docs / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Rebuilds the index from the catalog tables and swaps it in; `progress` hears the number of
/// documents Meilisearch has taken so far.
///
/// # Errors
/// Database or Meilisearch failures; the half-built index is deleted first (best effort) and
/// the live one keeps serving.
pub async fn reindex(
    db: &DatabaseConnection,
    meili: &MeiliWriter,
    cfg: &SyncConfig,
    metrics: Option<&SearchSyncMetrics>,
    mut progress: impl FnMut(u64) + Send,
) -> Result<ReindexReport, SyncError> {
    let started = Instant::now();
    // Read before the first part: changes after this point are re-applied by the incremental
    // sync, which is harmless for parts the reindex already saw in their new state.
    let head = changes::head(db).await?;
    let live = live_index_uid(&cfg.index_prefix);
    let uid = format!(
        "{}parts_{}",
        cfg.index_prefix,
        chrono::Utc::now().format("%Y%m%d%H%M%S%3f")
    );
    let built = build_and_swap(db, meili, cfg, metrics, &uid, &live, &mut progress).await;
    let docs = match built {
        Ok(docs) => docs,
        Err(e) => {
            if let Some(m) = metrics {
                m.failures.with_label_values(&["reindex"]).inc();
            }
            if let Err(d) = meili.delete_index(&uid).await {
                tracing::warn!("reindex failed, and deleting the half-built index {uid} too: {d}");
            }
            return Err(e);
        }
    };
    // After the swap `uid` holds what the live index held before.
    if let Err(e) = meili.delete_index(&uid).await {
        tracing::warn!("reindex: the previous index, now {uid}, was not deleted: {e}");
    }
    changes::save_sync_state(
        db,
        SYNC_NAME,
        &SyncState {
            last_seq: head,
            index_uid: Some(live.clone()),
        },
    )
    .await?;
    let report = ReindexReport {
        docs,
        elapsed: started.elapsed(),
        index_uid: live,
        last_seq: head,
    };
    if let Some(m) = metrics {
        m.docs_per_second.set(report.docs_per_second());
        let now = changes::head(db).await?;
        m.lag.set(now - head);
    }
    Ok(report)
}

async fn build_and_swap(
    db: &DatabaseConnection,
    meili: &MeiliWriter,
    cfg: &SyncConfig,
    metrics: Option<&SearchSyncMetrics>,
    uid: &str,
    live: &str,
    progress: &mut (impl FnMut(u64) + Send),
) -> Result<u64, SyncError> {
    meili.create_index(uid).await?;
    // Settings before documents: Meilisearch indexes each document once, with the right
    // searchable and filterable attributes, instead of re-indexing everything afterwards.
    meili.set_settings(uid, &index_settings()).await?;

    let mut in_flight = tokio::task::JoinSet::new();
    let mut done = 0_u64;
    let mut finished = |r: Option<Result<Result<u64, SyncError>, tokio::task::JoinError>>| match r {
        Some(Ok(Ok(n))) => {
            done += n;
            if let Some(m) = metrics {
                m.sent.inc_by(n);
            }
            progress(done);
            Ok(())
        }
        Some(Ok(Err(e))) => Err(e),
        Some(Err(e)) => Err(SyncError::Join(e.to_string())),
        None => Ok(()),
    };
    let mut pages = read_pages(db, cfg).await?;
    while let Some(page) = pages.next().await {
        let page = page?;
        let n = page.len() as u64;
        while in_flight.len() >= cfg.in_flight.max(1) {
            finished(in_flight.join_next().await)?;
        }
        let (m, u) = (meili.clone(), uid.to_owned());
        in_flight.spawn(async move {
            // Building the JSON of thousands of parts is CPU work: off the async threads, and in
            // parallel with reading the next pages.
            let body = tokio::task::spawn_blocking(move || encode_ndjson(&page))
                .await
                .map_err(|e| SyncError::Join(e.to_string()))?;
            m.add_ndjson(&u, body).await?;
            Ok::<u64, SyncError>(n)
        });
    }
    while !in_flight.is_empty() {
        finished(in_flight.join_next().await)?;
    }

    // The first reindex has no live index to swap with: an empty one takes its place.
    meili.create_index_if_missing(live).await?;
    meili.swap(live, uid).await?;
    Ok(done)
}

/// The catalog in keyset pages, read by `cfg.readers` tasks over disjoint id stripes at once
/// (one reader leaves the database idle while it waits for each round trip), handed over through
/// a channel as small as the batches in flight, so memory stays bounded.
struct Pages {
    rx: tokio::sync::mpsc::Receiver<Result<Vec<PartDoc>, sea_orm::DbErr>>,
    // Dropping this aborts the readers (a failed reindex).
    _readers: tokio::task::JoinSet<()>,
}

impl Pages {
    async fn next(&mut self) -> Option<Result<Vec<PartDoc>, sea_orm::DbErr>> {
        self.rx.recv().await
    }
}

async fn read_pages(db: &DatabaseConnection, cfg: &SyncConfig) -> Result<Pages, SyncError> {
    let backend = db.get_database_backend();
    let max_id: i64 = db
        .query_one_raw(sea_orm::Statement::from_string(
            backend,
            "SELECT COALESCE(MAX(id), 0) AS m FROM catalog_parts",
        ))
        .await?
        .map(|r| r.try_get("", "m"))
        .transpose()?
        .unwrap_or(0);
    let readers = i64::try_from(cfg.readers.max(1)).unwrap_or(1);
    let stripe = max_id / readers + 1;
    let (tx, rx) = tokio::sync::mpsc::channel(cfg.in_flight.max(1));
    let mut set = tokio::task::JoinSet::new();
    for r in 0..readers {
        let lo = r * stripe;
        // The last stripe is open: parts added meanwhile are read too.
        let hi = if r + 1 == readers {
            i64::MAX
        } else {
            lo + stripe
        };
        let (db, tx, batch) = (db.clone(), tx.clone(), cfg.batch_docs);
        set.spawn(async move {
            let mut after = lo;
            loop {
                let mut page = match docs::page_after(&db, after, batch).await {
                    Ok(p) => p,
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                };
                let full = page.len() as u64 >= batch;
                let Some(last) = page.last().map(|d| d.id) else {
                    return;
                };
                // The page may run into the next stripe: that reader has those.
                page.retain(|d| d.id <= hi);
                if !page.is_empty() && tx.send(Ok(page)).await.is_err() {
                    return;
                }
                if !full || last >= hi {
                    return;
                }
                after = last;
            }
        });
    }
    Ok(Pages { rx, _readers: set })
}

/// What an incremental pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Parts upserted.
    pub upserted: u64,
    /// Parts deleted (no longer in the catalog).
    pub deleted: u64,
    /// The cursor after the pass.
    pub cursor: i64,
}

/// Applies the change log from the saved cursor to the live index, batch by batch, saving the
/// cursor after each batch Meilisearch has taken. Creates the live index (with its settings)
/// when it does not exist yet.
///
/// # Errors
/// Database or Meilisearch failures; the cursor stays at the last batch applied.
pub async fn sync_changes(
    db: &DatabaseConnection,
    meili: &MeiliWriter,
    cfg: &SyncConfig,
    metrics: Option<&SearchSyncMetrics>,
) -> Result<SyncReport, SyncError> {
    let result = sync_pass(db, meili, cfg, metrics).await;
    if let Some(m) = metrics {
        if result.is_err() {
            m.failures.with_label_values(&["sync"]).inc();
        }
        if let Ok(head) = changes::head(db).await {
            let cursor = match &result {
                Ok(r) => r.cursor,
                Err(_) => changes::sync_state(db, SYNC_NAME)
                    .await
                    .ok()
                    .flatten()
                    .map_or(0, |s| s.last_seq),
            };
            m.lag.set((head - cursor).max(0));
        }
    }
    result
}

async fn sync_pass(
    db: &DatabaseConnection,
    meili: &MeiliWriter,
    cfg: &SyncConfig,
    metrics: Option<&SearchSyncMetrics>,
) -> Result<SyncReport, SyncError> {
    let live = live_index_uid(&cfg.index_prefix);
    let mut report = SyncReport {
        cursor: changes::sync_state(db, SYNC_NAME)
            .await?
            .map_or(0, |s| s.last_seq),
        ..SyncReport::default()
    };
    let mut live_ready = false;
    while let Some(batch) = changes::after(db, report.cursor, cfg.change_batch).await? {
        if !live_ready {
            if meili.create_index_if_missing(&live).await? {
                meili.set_settings(&live, &index_settings()).await?;
            }
            live_ready = true;
        }
        let docs = docs::by_ids(db, &batch.part_ids).await?;
        let present: HashSet<i64> = docs.iter().map(|d| d.id).collect();
        let gone: Vec<i64> = batch
            .part_ids
            .iter()
            .copied()
            .filter(|id| !present.contains(id))
            .collect();
        if !docs.is_empty() {
            meili.add_ndjson(&live, encode_ndjson(&docs)).await?;
            if let Some(m) = metrics {
                m.sent.inc_by(docs.len() as u64);
            }
        }
        if !gone.is_empty() {
            meili.delete_documents(&live, &gone).await?;
        }
        // Only now: a crash before this line sends the batch again.
        changes::save_sync_state(
            db,
            SYNC_NAME,
            &SyncState {
                last_seq: batch.last_seq,
                index_uid: Some(live.clone()),
            },
        )
        .await?;
        report.upserted += docs.len() as u64;
        report.deleted += gone.len() as u64;
        report.cursor = batch.last_seq;
    }
    Ok(report)
}

/// Runs [`sync_changes`] every `cfg.interval` (at once when `wake` is notified) until
/// `shutdown` turns true. Failures are logged and counted; after one the loop waits longer, up
/// to 30 s, so a Meilisearch outage is not hammered.
pub async fn run_sync(
    db: DatabaseConnection,
    meili: MeiliWriter,
    cfg: SyncConfig,
    metrics: Option<SearchSyncMetrics>,
    wake: Arc<tokio::sync::Notify>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut pause = cfg.interval;
    while !*shutdown.borrow() {
        match sync_changes(&db, &meili, &cfg, metrics.as_ref()).await {
            Ok(r) => {
                if r.upserted + r.deleted > 0 {
                    tracing::debug!(
                        upserted = r.upserted,
                        deleted = r.deleted,
                        cursor = r.cursor,
                        "search index synced"
                    );
                }
                pause = cfg.interval;
            }
            Err(e) => {
                tracing::warn!("search index sync: {e}");
                pause = (pause * 2).clamp(cfg.interval, Duration::from_secs(30));
            }
        }
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = wake.notified() => {}
            _ = shutdown.changed() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synonyms_map_every_term_of_a_group_to_the_others() {
        let s = index_settings();
        let syn = s.synonyms.unwrap_or_default();
        let shock = &syn["shock"];
        assert!(shock.contains(&"amortiguador".to_owned()));
        assert!(!shock.contains(&"shock".to_owned()));
        assert!(syn["brake pad"].contains(&"balata".to_owned()));
    }

    #[test]
    fn a_document_line_carries_every_field_of_the_part() {
        let d = PartDoc {
            id: 7,
            number: "BP-1234".into(),
            number_norm: "BP1234".into(),
            name: "Balata delantera".into(),
            description: None,
            brand_id: 1,
            brand: "Brembo".into(),
            category_id: None,
            category: None,
            retail_price_cents: Some(45_000),
            numbers: vec!["ACD41993".into()],
            vehicle_ids: vec![3, 4],
        };
        let out = encode_ndjson(&[d.clone(), d]);
        let text = String::from_utf8(out).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap_or_default();
        assert_eq!(v["id"], 7);
        assert_eq!(v["vehicle_ids"], serde_json::json!([3, 4]));
        assert_eq!(v["numbers"], serde_json::json!(["ACD41993"]));
        assert_eq!(v["number_norm"], "BP1234");
    }
}
