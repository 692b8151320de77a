//! The Meilisearch side of catalog search, against the fake Meilisearch: full reindex with
//! swap, failures mid-reindex, the incremental change-log sync and its cursor, and the read
//! backend's fallbacks.

use std::time::Duration;

use entities::PageRequest;
use entities::catalog::changes;
use entities::catalog::meili::{MeiliSearch, live_index_uid};
use entities::catalog::search::{CatalogSearch, ResolvedQuery, SearchError, SearchPage};
use entities::catalog::text::{ParsedQuery, normalize_number};
use entities::catalog::{brand, category, fitment, interchange, make, model, part, vehicle};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use tests::fakes::meili::{FakeMeili, Fault};
use tests::{TestApp, shape_tests};
use workers::clients::meili::MeiliWriter;
use workers::handlers::catalog::{SYNC_NAME, SyncConfig};

shape_tests!(
    a_reindex_fills_the_live_index_with_every_part_after_its_settings,
    part_numbers_written_three_ways_find_the_same_part_in_meilisearch,
    a_meilisearch_failure_mid_reindex_deletes_the_half_index_and_the_live_one_keeps_serving,
    incremental_sync_applies_a_changed_part_and_a_deleted_part_and_moves_the_cursor,
    a_crash_before_the_cursor_is_saved_sends_the_batch_again,
    the_meilisearch_backend_is_unavailable_when_the_server_is_down_hangs_or_lacks_the_index,
    nexus_search_reindex_and_sync_run_from_the_command_line_and_need_meili_url,
);

const PREFIX: &str = "t_";
const KEY: &str = "fake-master-key";

/// Ids of what [`seed`] made.
struct Seeded {
    v1: i32,
    v2: i32,
    brembo: i32,
    /// "BP-1234" Balata delantera, fits v1, interchange ACD-41993.
    p1: i64,
    /// "BP1235" Balata trasera, fits v2.
    p2: i64,
    /// "MON-58700" Amortiguador delantero, fits v1 and v2.
    p3: i64,
    /// Every part.
    total: u64,
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

async fn add_part(
    db: &DatabaseConnection,
    brand_id: i32,
    category_id: Option<i32>,
    number: &str,
    name: &str,
    vehicles: &[i32],
) -> i64 {
    let p = part::Entity::insert(part::ActiveModel {
        brand_id: Set(brand_id),
        number: Set(number.into()),
        number_norm: Set(normalize_number(number)),
        name: Set(name.into()),
        description: Set(None),
        category_id: Set(category_id),
        attributes: Set(None),
        sat_product_key: Set(None),
        sat_unit_key: Set(None),
        retail_price_cents: Set(Some(45_000)),
        image_refs: Set(None),
        created_at: Set(now()),
        updated_at: Set(now()),
        ..Default::default()
    })
    .exec(db)
    .await
    .unwrap()
    .last_insert_id;
    for &v in vehicles {
        fitment::Entity::insert(fitment::ActiveModel {
            part_id: Set(p),
            vehicle_id: Set(v),
            position: Set(String::new()),
            qty: Set(1),
            qualifiers: Set(None),
            note: Set(None),
        })
        .exec(db)
        .await
        .unwrap();
    }
    changes::record(db, &[p]).await.unwrap();
    p
}

/// A small catalog: three parts that matter and `filler` more, every one in the change log.
async fn seed(db: &DatabaseConnection, filler: u64) -> Seeded {
    let mk = make::Entity::insert(make::ActiveModel {
        name: Set("Nissan".into()),
        ..Default::default()
    })
    .exec(db)
    .await
    .unwrap()
    .last_insert_id;
    let md = model::Entity::insert(model::ActiveModel {
        make_id: Set(mk),
        name: Set("Tsuru".into()),
        ..Default::default()
    })
    .exec(db)
    .await
    .unwrap()
    .last_insert_id;
    let mut vs = Vec::new();
    for year in [2015_i16, 2016] {
        vs.push(
            vehicle::Entity::insert(vehicle::ActiveModel {
                year: Set(year),
                make_id: Set(mk),
                model_id: Set(md),
                liters_x10: Set(Some(16)),
                ..Default::default()
            })
            .exec(db)
            .await
            .unwrap()
            .last_insert_id,
        );
    }
    let (v1, v2) = (vs[0], vs[1]);
    let brembo = brand::Entity::insert(brand::ActiveModel {
        name: Set("Brembo".into()),
        ..Default::default()
    })
    .exec(db)
    .await
    .unwrap()
    .last_insert_id;
    let monroe = brand::Entity::insert(brand::ActiveModel {
        name: Set("Monroe".into()),
        ..Default::default()
    })
    .exec(db)
    .await
    .unwrap()
    .last_insert_id;
    let frenos = category::Entity::insert(category::ActiveModel {
        name: Set("Frenos".into()),
        ..Default::default()
    })
    .exec(db)
    .await
    .unwrap()
    .last_insert_id;
    let p1 = add_part(
        db,
        brembo,
        Some(frenos),
        "BP-1234",
        "Balata delantera cerámica",
        &[v1],
    )
    .await;
    interchange::Entity::insert(interchange::ActiveModel {
        part_id: Set(p1),
        kind: Set("oe".into()),
        number_norm: Set(normalize_number("ACD-41993")),
        brand: Set("ACDelco".into()),
        number: Set("ACD-41993".into()),
    })
    .exec(db)
    .await
    .unwrap();
    let p2 = add_part(db, brembo, Some(frenos), "BP1235", "Balata trasera", &[v2]).await;
    let p3 = add_part(
        db,
        monroe,
        None,
        "MON-58700",
        "Amortiguador delantero",
        &[v1, v2],
    )
    .await;
    for i in 0..filler {
        add_part(
            db,
            monroe,
            None,
            &format!("FX-{i:05}"),
            "Tapón de radiador",
            &[],
        )
        .await;
    }
    Seeded {
        v1,
        v2,
        brembo,
        p1,
        p2,
        p3,
        total: 3 + filler,
    }
}

fn writer(fake: &FakeMeili) -> MeiliWriter {
    MeiliWriter::new(
        &fake.url,
        fake.key.as_deref(),
        Duration::from_secs(5),
        Duration::from_secs(10),
    )
    .unwrap()
}

fn cfg() -> SyncConfig {
    SyncConfig {
        index_prefix: PREFIX.into(),
        batch_docs: 10,
        in_flight: 4,
        readers: 2,
        change_batch: 100,
        interval: Duration::from_millis(50),
    }
}

fn reader(fake: &FakeMeili) -> MeiliSearch {
    MeiliSearch::new(
        &fake.url,
        fake.key.as_deref(),
        live_index_uid(PREFIX),
        Duration::from_millis(500),
    )
    .unwrap()
}

fn query(q: Option<&str>) -> ResolvedQuery {
    ResolvedQuery {
        text: q.map(ParsedQuery::parse),
        vehicle_ids: None,
        category_id: None,
        brand_id: None,
        part_ids: None,
        page: PageRequest {
            page: 1,
            per_page: 20,
        },
    }
}

async fn find(search: &MeiliSearch, q: &ResolvedQuery) -> SearchPage {
    search.search(q).await.unwrap()
}

fn ids(page: &SearchPage) -> Vec<i64> {
    page.items.iter().map(|h| h.id).collect()
}

async fn a_reindex_fills_the_live_index_with_every_part_after_its_settings(app: TestApp) {
    let db = &app.app.platform;
    let s = seed(db, 25).await;
    let fake = FakeMeili::start(Some(KEY)).await;
    let report = workers::handlers::catalog::reindex(db, &writer(&fake), &cfg(), None, |_| {})
        .await
        .unwrap();
    let live = live_index_uid(PREFIX);
    assert_eq!(report.docs, s.total);
    assert_eq!(report.index_uid, live);
    // The built index was swapped in and the old content deleted: only the live one is left.
    assert_eq!(fake.index_uids(), vec![live.clone()]);
    let docs = fake.documents(&live).unwrap();
    assert_eq!(docs.len() as u64, s.total);
    let p1 = docs.iter().find(|d| d["id"] == s.p1).unwrap();
    assert_eq!(p1["number_norm"], "BP1234");
    assert_eq!(p1["numbers"], serde_json::json!(["ACD41993"]));
    assert_eq!(p1["vehicle_ids"], serde_json::json!([s.v1]));

    let settings = fake.settings(&live).unwrap();
    assert_eq!(
        settings["filterableAttributes"],
        serde_json::json!(["vehicle_ids", "brand_id", "category_id"])
    );
    assert_eq!(
        settings["typoTolerance"]["disableOnAttributes"],
        serde_json::json!(["number_norm", "numbers", "number"])
    );
    assert!(settings["synonyms"]["shock"].as_array().unwrap().len() >= 2);
    let calls = fake.calls();
    let first = |m: &str, suffix: &str| {
        calls
            .iter()
            .position(|c| c.method == m && c.path.ends_with(suffix))
            .unwrap()
    };
    assert!(
        first("PATCH", "/settings") < first("POST", "/documents"),
        "settings go before documents: {calls:?}"
    );
    let batches: Vec<_> = calls
        .iter()
        .filter(|c| c.method == "POST" && c.path.ends_with("/documents"))
        .collect();
    // Pages of 10 over two readers' id stripes: one short page per stripe at most.
    let pages = batches.len() as u64;
    assert!(
        (s.total.div_ceil(10)..=s.total.div_ceil(10) + 1).contains(&pages),
        "{pages} batches"
    );
    assert!(batches.iter().all(|c| c.docs <= 10));
    assert_eq!(batches.iter().map(|c| c.docs as u64).sum::<u64>(), s.total);
    assert!(first("POST", "/documents") < first("POST", "/swap-indexes"));

    let state = changes::sync_state(db, SYNC_NAME).await.unwrap().unwrap();
    assert_eq!(state.last_seq, changes::head(db).await.unwrap());
    assert_eq!(state.index_uid.as_deref(), Some(live.as_str()));

    // A second reindex replaces the first the same way.
    let again = workers::handlers::catalog::reindex(db, &writer(&fake), &cfg(), None, |_| {})
        .await
        .unwrap();
    assert_eq!(again.docs, s.total);
    assert_eq!(fake.index_uids(), vec![live.clone()]);
    assert_eq!(fake.documents(&live).unwrap().len() as u64, s.total);
}

async fn part_numbers_written_three_ways_find_the_same_part_in_meilisearch(app: TestApp) {
    let db = &app.app.platform;
    let s = seed(db, 3).await;
    let fake = FakeMeili::start(Some(KEY)).await;
    workers::handlers::catalog::reindex(db, &writer(&fake), &cfg(), None, |_| {})
        .await
        .unwrap();
    let search = reader(&fake);
    for q in ["BP-1234", "bp1234", "BP 1234", "bp.1234"] {
        let page = find(&search, &query(Some(q))).await;
        assert_eq!(ids(&page).first(), Some(&s.p1), "{q}: {:?}", page.items);
    }
    // Printed without a dash, asked with one; and an interchange number.
    for (q, want) in [("BP-1235", s.p2), ("bp 1235", s.p2), ("ACD 41993", s.p1)] {
        let page = find(&search, &query(Some(q))).await;
        assert_eq!(ids(&page).first(), Some(&want), "{q}: {:?}", page.items);
    }
    // A synonym of the name's word, applied by Meilisearch at query time.
    assert_eq!(
        ids(&find(&search, &query(Some("pastilla"))).await).first(),
        Some(&s.p1)
    );
    assert_eq!(ids(&find(&search, &query(Some("shock"))).await), vec![s.p3]);
    // Words, with fitment and brand filters.
    let mut q = query(Some("balata"));
    assert_eq!(find(&search, &q).await.total, 2);
    q.vehicle_ids = Some(vec![s.v2]);
    assert_eq!(ids(&find(&search, &q).await), vec![s.p2]);
    let mut q = query(None);
    q.vehicle_ids = Some(vec![s.v1]);
    let mut got = ids(&find(&search, &q).await);
    got.sort_unstable();
    assert_eq!(got, vec![s.p1, s.p3]);
    q.brand_id = Some(s.brembo);
    assert_eq!(ids(&find(&search, &q).await), vec![s.p1]);
    // Nothing fits: no request needed, nothing found.
    q.vehicle_ids = Some(Vec::new());
    assert_eq!(find(&search, &q).await.total, 0);
    // Paging: offset and limit, with the total of every page.
    let mut q = query(None);
    q.page = PageRequest {
        page: 2,
        per_page: 4,
    };
    let page = find(&search, &q).await;
    assert_eq!(page.total, s.total);
    assert_eq!(page.items.len(), 2);
}

async fn a_meilisearch_failure_mid_reindex_deletes_the_half_index_and_the_live_one_keeps_serving(
    app: TestApp,
) {
    let db = &app.app.platform;
    let s = seed(db, 40).await;
    let fake = FakeMeili::start(Some(KEY)).await;
    let live = live_index_uid(PREFIX);
    workers::handlers::catalog::reindex(db, &writer(&fake), &cfg(), None, |_| {})
        .await
        .unwrap();
    let cursor = changes::sync_state(db, SYNC_NAME).await.unwrap().unwrap();
    // New parts the failed reindexes must not lose track of.
    add_part(db, s.brembo, None, "NEW-1", "Balata nueva", &[]).await;
    let search = reader(&fake);

    for fault in [
        Fault::Status500,
        Fault::TaskFails("index full on purpose".into()),
        Fault::Hang,
    ] {
        fake.fail_documents_after(2, fault.clone());
        let short = MeiliWriter::new(
            &fake.url,
            Some(KEY),
            Duration::from_millis(300),
            Duration::from_secs(5),
        )
        .unwrap();
        let err = workers::handlers::catalog::reindex(db, &short, &cfg(), None, |_| {})
            .await
            .unwrap_err()
            .to_string();
        match &fault {
            Fault::Status500 => assert!(err.contains("internal error on purpose"), "{err}"),
            Fault::TaskFails(m) => assert!(err.contains(m.as_str()), "{err}"),
            Fault::Hang => assert!(err.contains("no answer within 300 ms"), "{err}"),
        }
        fake.heal();
        // The half-built index is gone; the live one is whole and answers.
        assert_eq!(fake.index_uids(), vec![live.clone()], "after {fault:?}");
        assert_eq!(fake.documents(&live).unwrap().len() as u64, s.total);
        assert_eq!(
            ids(&find(&search, &query(Some("BP-1234"))).await).first(),
            Some(&s.p1)
        );
        // The cursor did not move: the new part will still be synced.
        assert_eq!(
            changes::sync_state(db, SYNC_NAME).await.unwrap().unwrap(),
            cursor
        );
    }
    let r = workers::handlers::catalog::sync_changes(db, &writer(&fake), &cfg(), None)
        .await
        .unwrap();
    assert_eq!((r.upserted, r.deleted), (1, 0));
    assert_eq!(fake.documents(&live).unwrap().len() as u64, s.total + 1);
}

async fn change_p1_and_delete_p3(db: &DatabaseConnection, s: &Seeded) {
    part::Entity::update_many()
        .col_expr(
            part::Column::Name,
            sea_orm::sea_query::Expr::value("Balata delantera reforzada"),
        )
        .filter(part::Column::Id.eq(s.p1))
        .exec(db)
        .await
        .unwrap();
    fitment::Entity::delete_many()
        .filter(fitment::Column::PartId.eq(s.p3))
        .exec(db)
        .await
        .unwrap();
    part::Entity::delete_by_id(s.p3).exec(db).await.unwrap();
    changes::record(db, &[s.p1, s.p3, s.p1]).await.unwrap();
}

async fn incremental_sync_applies_a_changed_part_and_a_deleted_part_and_moves_the_cursor(
    app: TestApp,
) {
    let db = &app.app.platform;
    let s = seed(db, 2).await;
    let fake = FakeMeili::start(Some(KEY)).await;
    let w = writer(&fake);
    workers::handlers::catalog::reindex(db, &w, &cfg(), None, |_| {})
        .await
        .unwrap();
    // Nothing changed since: nothing to send.
    fake.clear_calls();
    let r = workers::handlers::catalog::sync_changes(db, &w, &cfg(), None)
        .await
        .unwrap();
    assert_eq!((r.upserted, r.deleted), (0, 0));
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());

    change_p1_and_delete_p3(db, &s).await;
    let registry = prometheus::Registry::new();
    let metrics = workers::handlers::catalog::SearchSyncMetrics::register(&registry).unwrap();
    let r = workers::handlers::catalog::sync_changes(db, &w, &cfg(), Some(&metrics))
        .await
        .unwrap();
    assert_eq!((r.upserted, r.deleted), (1, 1));
    let head = changes::head(db).await.unwrap();
    assert_eq!(r.cursor, head);
    assert_eq!(
        changes::sync_state(db, SYNC_NAME)
            .await
            .unwrap()
            .unwrap()
            .last_seq,
        head
    );
    let live = live_index_uid(PREFIX);
    let docs = fake.documents(&live).unwrap();
    assert_eq!(docs.len() as u64, s.total - 1);
    assert!(docs.iter().all(|d| d["id"] != s.p3));
    let p1 = docs.iter().find(|d| d["id"] == s.p1).unwrap();
    assert_eq!(p1["name"], "Balata delantera reforzada");
    let text = prometheus::TextEncoder::new()
        .encode_to_string(&registry.gather())
        .unwrap();
    assert!(text.contains("\nnexus_search_sync_lag 0\n"), "{text}");
    assert!(
        text.contains("\nnexus_search_documents_sent_total 1\n"),
        "{text}"
    );

    // The search sees the new name and no longer finds the deleted part.
    let search = reader(&fake);
    assert_eq!(
        ids(&find(&search, &query(Some("reforzada"))).await),
        vec![s.p1]
    );
    assert_eq!(find(&search, &query(Some("MON-58700"))).await.total, 0);
}

async fn a_crash_before_the_cursor_is_saved_sends_the_batch_again(app: TestApp) {
    let db = &app.app.platform;
    let s = seed(db, 2).await;
    let fake = FakeMeili::start(Some(KEY)).await;
    let w = writer(&fake);
    workers::handlers::catalog::reindex(db, &w, &cfg(), None, |_| {})
        .await
        .unwrap();
    let before = changes::sync_state(db, SYNC_NAME).await.unwrap().unwrap();
    change_p1_and_delete_p3(db, &s).await;
    let live = live_index_uid(PREFIX);

    // Meilisearch fails the batch: the pass fails and the cursor stays.
    fake.fail_documents_after(0, Fault::Status500);
    assert!(
        workers::handlers::catalog::sync_changes(db, &w, &cfg(), None)
            .await
            .is_err()
    );
    assert_eq!(
        changes::sync_state(db, SYNC_NAME).await.unwrap().unwrap(),
        before
    );
    fake.heal();

    // A pass applied, then "crashed" before its cursor was saved: put the cursor back.
    let r = workers::handlers::catalog::sync_changes(db, &w, &cfg(), None)
        .await
        .unwrap();
    assert_eq!((r.upserted, r.deleted), (1, 1));
    let applied = fake.documents(&live).unwrap();
    changes::save_sync_state(db, SYNC_NAME, &before)
        .await
        .unwrap();
    fake.clear_calls();
    let again = workers::handlers::catalog::sync_changes(db, &w, &cfg(), None)
        .await
        .unwrap();
    assert_eq!(again, r, "the same batch is sent again");
    let sent: Vec<_> = fake
        .calls()
        .into_iter()
        .filter(|c| c.method == "POST" && c.path.contains("/documents"))
        .map(|c| c.path)
        .collect();
    assert_eq!(sent.len(), 2, "one upsert and one delete: {sent:?}");
    // Replaying changes nothing: documents are replaced by id.
    assert_eq!(fake.documents(&live).unwrap(), applied);
    assert_eq!(
        changes::sync_state(db, SYNC_NAME)
            .await
            .unwrap()
            .unwrap()
            .last_seq,
        changes::head(db).await.unwrap()
    );
}

async fn the_meilisearch_backend_is_unavailable_when_the_server_is_down_hangs_or_lacks_the_index(
    app: TestApp,
) {
    let db = &app.app.platform;
    seed(db, 1).await;
    let mut fake = FakeMeili::start(Some(KEY)).await;
    let search = reader(&fake);
    let unavailable = |r: Result<SearchPage, SearchError>| match r {
        Err(SearchError::Unavailable(m)) => m,
        other => panic!("expected Unavailable, got {other:?}"),
    };
    // No index yet (Meilisearch up, never synced).
    let m = unavailable(search.search(&query(Some("balata"))).await);
    assert!(m.contains("not found"), "{m}");
    // A wrong key.
    let wrong = MeiliSearch::new(
        &fake.url,
        Some("wrong"),
        live_index_uid(PREFIX),
        Duration::from_millis(500),
    )
    .unwrap();
    let m = unavailable(wrong.search(&query(Some("balata"))).await);
    assert!(
        m.contains("invalid_api_key") || m.contains("InvalidApiKey"),
        "{m}"
    );
    // A writer without a key is told so by Meilisearch.
    let anonymous = MeiliWriter::new(
        &fake.url,
        None,
        Duration::from_secs(1),
        Duration::from_secs(1),
    )
    .unwrap();
    let err = workers::handlers::catalog::reindex(db, &anonymous, &cfg(), None, |_| {})
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("Authorization header is missing"), "{err}");

    workers::handlers::catalog::reindex(db, &writer(&fake), &cfg(), None, |_| {})
        .await
        .unwrap();
    assert_eq!(
        search.search(&query(Some("balata"))).await.unwrap().total,
        2
    );

    // Hanging: the short timeout answers instead.
    fake.hang();
    let started = std::time::Instant::now();
    let m = unavailable(search.search(&query(Some("balata"))).await);
    assert!(m.contains("500 ms"), "{m}");
    assert!(started.elapsed() < Duration::from_secs(20));
    fake.heal();

    // Down: connection refused.
    fake.stop().await;
    unavailable(search.search(&query(Some("balata"))).await);
    // And back.
    fake.restart().await;
    assert_eq!(
        search.search(&query(Some("balata"))).await.unwrap().total,
        2
    );
}

async fn nexus(
    vars: &std::collections::HashMap<String, String>,
    args: &[&str],
) -> anyhow::Result<()> {
    use clap::Parser;
    let cli = ops::cli::Cli::try_parse_from(std::iter::once("nexus").chain(args.iter().copied()))?;
    let cfg = ops::config::Config::from_lookup(|k| vars.get(k).cloned())?;
    ops::cli::run(cli, cfg).await
}

async fn nexus_search_reindex_and_sync_run_from_the_command_line_and_need_meili_url(app: TestApp) {
    let db = &app.app.platform;
    let s = seed(db, 12).await;
    let err = nexus(&app.vars, &["search", "reindex"])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("MEILI_URL"), "{err}");
    let err = nexus(&app.vars, &["search", "sync"])
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("MEILI_URL"), "{err}");

    let fake = FakeMeili::start(Some(KEY)).await;
    let vars = app.vars_with(&[
        ("MEILI_URL", fake.url.as_str()),
        ("MEILI_MASTER_KEY", KEY),
        ("MEILI_INDEX_PREFIX", PREFIX),
    ]);
    // MEILI_ENABLED=false wins over the URL.
    let mut off = vars.clone();
    off.insert("MEILI_ENABLED".into(), "false".into());
    assert!(nexus(&off, &["search", "reindex"]).await.is_err());
    assert!(fake.calls().is_empty());

    nexus(&vars, &["search", "reindex"]).await.unwrap();
    let live = live_index_uid(PREFIX);
    assert_eq!(fake.documents(&live).unwrap().len() as u64, s.total);
    change_p1_and_delete_p3(db, &s).await;
    nexus(&vars, &["search", "sync"]).await.unwrap();
    let docs = fake.documents(&live).unwrap();
    assert_eq!(docs.len() as u64, s.total - 1);

    // The API is built with the Meilisearch backend when MEILI_URL is set.
    let built = TestApp::build(&vars).await.unwrap();
    let search = built.state.catalog_search().unwrap();
    assert_eq!(search.name(), "meilisearch");
    let page = search.search(&query(Some("reforzada"))).await.unwrap();
    assert_eq!(ids(&page), vec![s.p1]);
    assert!(app.app.state.catalog_search().is_none());
}
