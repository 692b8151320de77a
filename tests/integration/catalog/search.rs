//! The shared catalog: `nexus catalog generate`, SQL search (text, numbers, interchange,
//! synonyms, fitment filters), the vehicle cascade, part detail, and bad input.

use http::StatusCode;
use serde_json::json;
use tests::shop::Shop;
use tests::{TestApp, shape_tests};

shape_tests!(
    generating_twice_with_one_seed_gives_the_same_catalog_and_needs_replace,
    a_part_is_found_by_any_spelling_of_its_number_and_of_its_other_numbers,
    synonyms_find_parts_named_with_another_word,
    fitment_filters_keep_only_parts_that_fit_the_vehicle,
    the_cascade_goes_from_years_to_engines_and_is_cacheable,
    a_part_shows_its_fitment_and_interchange,
    bad_search_input_gets_a_clear_error_and_changes_nothing,
    a_demo_start_loads_a_small_catalog_once,
    search_answers_from_meilisearch_and_falls_back_to_sql_when_it_does_not_answer,
    hits_say_what_the_business_has_here_and_elsewhere_and_in_stock_keeps_only_those,
);

async fn generate(app: &TestApp, parts: &str) {
    app.cli(&["catalog", "generate", "--parts", parts, "--seed", "7"])
        .await
        .expect("generate the catalog");
}

async fn one<T: sea_orm::TryGetable>(app: &TestApp, sql: &str) -> T {
    app.platform_one(sql).await
}

async fn reader(app: &TestApp) -> String {
    let t = app.tenant("acme").await;
    app.token(&t.owner_email).await
}

async fn search(app: &TestApp, token: &str, query: &str) -> tests::TestResponse {
    app.session(token)
        .get(&format!("/pos/api/catalog/search?{query}"))
        .await
}

fn ids(r: &tests::TestResponse) -> Vec<i64> {
    r.json["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {}", r.text()))
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

async fn generating_twice_with_one_seed_gives_the_same_catalog_and_needs_replace(app: TestApp) {
    generate(&app, "300").await;
    let parts: i64 = one(&app, "SELECT count(*) FROM catalog_parts").await;
    assert_eq!(parts, 300);
    let fitment: i64 = one(&app, "SELECT count(*) FROM catalog_fitment").await;
    assert!((3_000..=6_000).contains(&fitment), "{fitment} fitment rows");
    let first: String = one(
        &app,
        "SELECT name || '|' || number FROM catalog_parts WHERE id = 17",
    )
    .await;

    let again = app
        .cli(&["catalog", "generate", "--parts", "300", "--seed", "7"])
        .await
        .unwrap_err();
    assert!(again.to_string().contains("--replace"), "{again}");

    app.cli(&[
        "catalog",
        "generate",
        "--parts",
        "300",
        "--seed",
        "7",
        "--replace",
    ])
    .await
    .unwrap();
    let same: String = one(
        &app,
        "SELECT name || '|' || number FROM catalog_parts WHERE id = 17",
    )
    .await;
    assert_eq!(first, same);
    let parts: i64 = one(&app, "SELECT count(*) FROM catalog_parts").await;
    assert_eq!(parts, 300, "replace does not add to the old catalog");
}

async fn a_part_is_found_by_any_spelling_of_its_number_and_of_its_other_numbers(app: TestApp) {
    generate(&app, "400").await;
    let token = reader(&app).await;
    let number: String = one(&app, "SELECT number FROM catalog_parts WHERE id = 42").await;
    let compact: String = number.chars().filter(char::is_ascii_alphanumeric).collect();
    let spaced = format!("{} {}", &compact[..2], &compact[2..]);
    let dashed = format!("{}-{}", &compact[..2], &compact[2..]);
    for spelling in [number.clone(), compact.to_lowercase(), spaced, dashed] {
        let r = search(&app, &token, &format!("q={}", urlencode(&spelling))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(ids(&r).first(), Some(&42), "{spelling}: {}", r.text());
        assert_eq!(r.headers["x-search-backend"], "sql");
    }
    let oe: String = one(
        &app,
        "SELECT number FROM catalog_interchange WHERE part_id = 42 AND kind = 'oe'",
    )
    .await;
    let r = search(
        &app,
        &token,
        &format!("q={}", urlencode(&oe.to_lowercase())),
    )
    .await;
    assert!(ids(&r).contains(&42), "OE {oe}: {}", r.text());
    let other: String = one(
        &app,
        "SELECT number FROM catalog_interchange WHERE part_id = 42 AND kind = 'aftermarket'",
    )
    .await;
    let r = search(
        &app,
        &token,
        &format!("q={}", urlencode(&other.replace('-', " "))),
    )
    .await;
    assert!(ids(&r).contains(&42), "aftermarket {other}: {}", r.text());
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn synonyms_find_parts_named_with_another_word(app: TestApp) {
    generate(&app, "600").await;
    let token = reader(&app).await;
    for (query, category) in [
        ("shock", "Amortiguador"),
        ("pastilla%20de%20freno", "Balata"),
        ("spark%20plug", "Bujía"),
        ("bujia", "Bujía"),
    ] {
        let r = search(&app, &token, &format!("q={query}&per_page=20")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let items = r.json["items"].as_array().unwrap();
        assert!(!items.is_empty(), "{query} found nothing");
        for i in items {
            assert_eq!(i["category"], category, "{query}: {i}");
        }
    }
}

async fn fitment_filters_keep_only_parts_that_fit_the_vehicle(app: TestApp) {
    generate(&app, "500").await;
    let token = reader(&app).await;
    let vehicle: i32 = one(
        &app,
        "SELECT vehicle_id FROM catalog_fitment WHERE part_id = 9 ORDER BY vehicle_id LIMIT 1",
    )
    .await;
    let (year, make, model): (i16, i32, i32) = (
        one(
            &app,
            &format!("SELECT year FROM catalog_vehicles WHERE id = {vehicle}"),
        )
        .await,
        one(
            &app,
            &format!("SELECT make_id FROM catalog_vehicles WHERE id = {vehicle}"),
        )
        .await,
        one(
            &app,
            &format!("SELECT model_id FROM catalog_vehicles WHERE id = {vehicle}"),
        )
        .await,
    );
    let fits: i64 = one(
        &app,
        &format!(
            "SELECT count(DISTINCT part_id) FROM catalog_fitment WHERE vehicle_id = {vehicle}"
        ),
    )
    .await;
    let r = search(&app, &token, &format!("vehicle_id={vehicle}&per_page=200")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["total"].as_i64(), Some(fits));
    assert!(ids(&r).contains(&9));

    let r = search(
        &app,
        &token,
        &format!("year={year}&make={make}&model={model}&per_page=200"),
    )
    .await;
    assert!(ids(&r).contains(&9), "{}", r.text());

    let name: String = one(&app, "SELECT name FROM catalog_parts WHERE id = 9").await;
    let word = name.split(' ').next().unwrap().to_owned();
    let r = search(
        &app,
        &token,
        &format!("q={}&vehicle_id={vehicle}", urlencode(&word)),
    )
    .await;
    assert!(ids(&r).contains(&9), "{}", r.text());
    let hits = ids(&r);
    for id in hits {
        let n: i64 = one(
            &app,
            &format!("SELECT count(*) FROM catalog_fitment WHERE part_id = {id} AND vehicle_id = {vehicle}"),
        )
        .await;
        assert_eq!(n, 1, "part {id} does not fit vehicle {vehicle}");
    }

    // Category and brand narrow the fitment, with and without text.
    let (category, brand): (i32, i32) = (
        one(&app, "SELECT category_id FROM catalog_parts WHERE id = 9").await,
        one(&app, "SELECT brand_id FROM catalog_parts WHERE id = 9").await,
    );
    for extra in [
        format!("category={category}"),
        format!("brand={brand}"),
        format!("category={category}&q={}", urlencode(&word)),
    ] {
        let r = search(
            &app,
            &token,
            &format!("vehicle_id={vehicle}&{extra}&per_page=200"),
        )
        .await;
        assert!(ids(&r).contains(&9), "{extra}: {}", r.text());
        for item in r.json["items"].as_array().unwrap() {
            if extra.starts_with("category") {
                assert_eq!(item["category_id"], category, "{extra}");
            } else {
                assert_eq!(item["brand_id"], brand, "{extra}");
            }
        }
    }

    // A vehicle that exists but none of whose parts match, and one that does not exist.
    let r = search(&app, &token, "vehicle_id=999999").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["total"], 0);
}

async fn the_cascade_goes_from_years_to_engines_and_is_cacheable(app: TestApp) {
    generate(&app, "50").await;
    let token = reader(&app).await;
    let r = app.session(&token).get("/pos/api/vehicles/years").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        r.headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let years = r.json["items"].as_array().unwrap();
    assert!(years.iter().any(|y| y == 2015));
    let r = app
        .session(&token)
        .get("/pos/api/vehicles/makes?year=2015")
        .await;
    let nissan = r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "Nissan")
        .cloned()
        .expect("Nissan in 2015");
    let make = nissan["id"].as_i64().unwrap();
    let r = app
        .session(&token)
        .get(&format!("/pos/api/vehicles/models?year=2015&make={make}"))
        .await;
    let sentra = r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "Sentra")
        .cloned()
        .expect("Sentra");
    let model = sentra["id"].as_i64().unwrap();
    let r = app
        .session(&token)
        .get(&format!(
            "/pos/api/vehicles/engines?year=2015&make={make}&model={model}"
        ))
        .await;
    let engines = r.json["items"].as_array().unwrap();
    assert_eq!(r.json["total"], 3);
    assert_eq!(engines.len(), 3, "{}", r.text());
    assert!(engines.iter().any(|e| e["engine"] == "1.8L L4 gasolina"));
    let id = engines[0]["id"].as_i64().unwrap();
    let r = app
        .session(&token)
        .get(&format!("/pos/api/vehicles/catalog/{id}"))
        .await;
    assert_eq!(r.json["model"], "Sentra");
    let r = app.session(&token).get("/pos/api/vehicles/makes").await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "year is required: {}",
        r.text()
    );
    assert_eq!(r.code(), "invalid_query");
    assert_eq!(r.json["error"]["field"], "year");
    // The counter may type names instead of ids, in any case and without accents.
    let r = app
        .session(&token)
        .get("/pos/api/vehicles/engines?year=2015&make=nissan&model=SENTRA")
        .await;
    assert_eq!(
        r.json["items"].as_array().map(Vec::len),
        Some(3),
        "{}",
        r.text()
    );
    let r = app
        .session(&token)
        .get("/pos/api/vehicles/models?year=2015&make=Nissan")
        .await;
    assert!(r.text().contains("Sentra"), "{}", r.text());
    let r = app
        .session(&token)
        .get("/pos/api/vehicles/models?year=2015&make=Patito")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    assert_eq!(r.code(), "make_not_found");
    assert_eq!(r.json["error"]["field"], "make");
    let cats = app.session(&token).get("/pos/api/catalog/categories").await;
    assert_eq!(cats.status, StatusCode::OK, "{}", cats.text());
    assert!(cats.text().contains("Balata"), "{}", cats.text());
    assert_eq!(
        cats.json["total"],
        cats.json["items"].as_array().unwrap().len()
    );
    let brands = app.session(&token).get("/pos/api/catalog/brands").await;
    assert!(
        brands.json["total"].as_u64().unwrap() > 0,
        "{}",
        brands.text()
    );
}

async fn a_part_shows_its_fitment_and_interchange(app: TestApp) {
    generate(&app, "50").await;
    let token = reader(&app).await;
    let r = app.session(&token).get("/pos/api/catalog/parts/3").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let fitment = r.json["fitment"].as_array().unwrap();
    assert!((10..=20).contains(&fitment.len()));
    assert_eq!(r.json["fitment_total"].as_u64(), Some(fitment.len() as u64));
    assert!(fitment[0]["vehicle"]["make"].is_string());
    let kinds: Vec<&str> = r.json["interchange"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"oe") && kinds.contains(&"aftermarket"),
        "{kinds:?}"
    );
    assert!(r.json["sat_product_key"].as_str().unwrap().len() == 8);
    let r = app
        .session(&token)
        .get("/pos/api/catalog/parts/999999")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "not_found");
}

async fn bad_search_input_gets_a_clear_error_and_changes_nothing(app: TestApp) {
    generate(&app, "100").await;
    let token = reader(&app).await;
    let r = search(&app, &token, "q=balata&per_page=1000000").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("per_page"));
    let r = search(&app, &token, "page=0").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = search(&app, &token, "engine=grande").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("engine"));
    let r = search(&app, &token, "colour=red").await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown parameters are refused"
    );
    assert_eq!(r.json["error"]["field"], "colour");
    let r = search(&app, &token, &format!("q={}", "x".repeat(201))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for evil in [
        "'; DROP TABLE catalog_parts; --",
        "\" OR 1=1 --",
        "balata\" OR numbers:*",
        "NEAR(a b) AND (",
        "*",
        "%",
        "\\",
        "a:* | !b",
    ] {
        let r = search(&app, &token, &format!("q={}", urlencode(evil))).await;
        assert_eq!(r.status, StatusCode::OK, "{evil}: {}", r.text());
    }
    let parts: i64 = one(&app, "SELECT count(*) FROM catalog_parts").await;
    assert_eq!(parts, 100);
    let r = app.get("/pos/api/catalog/search?q=balata", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn a_demo_start_loads_a_small_catalog_once(app: TestApp) {
    let first = ops::catalog::generate::ensure_demo_catalog(&app.app.platform)
        .await
        .unwrap()
        .expect("an empty catalog gets the demo one");
    assert_eq!(first.parts, ops::catalog::generate::DEMO_PARTS);
    let again = ops::catalog::generate::ensure_demo_catalog(&app.app.platform)
        .await
        .unwrap();
    assert!(again.is_none(), "a catalog with parts is left alone");
    let token = reader(&app).await;
    let r = search(&app, &token, "q=balata&per_page=5").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json["total"].as_u64().unwrap() > 10, "{}", r.text());
}

async fn search_answers_from_meilisearch_and_falls_back_to_sql_when_it_does_not_answer(
    mut app: TestApp,
) {
    use tests::fakes::meili::FakeMeili;
    generate(&app, "200").await;
    let fake = FakeMeili::start(Some("test-key")).await;
    app.reconfigure(&[
        ("MEILI_URL", fake.url.as_str()),
        ("MEILI_MASTER_KEY", "test-key"),
        ("MEILI_TIMEOUT_MS", "300"),
    ])
    .await;
    app.cli(&["search", "reindex"]).await.unwrap();
    let token = reader(&app).await;

    let r = search(&app, &token, "q=balata&per_page=5").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.headers["x-search-backend"], "meilisearch");
    assert!(r.headers.get("x-search-fallback").is_none());
    assert_eq!(r.json["backend"], "meilisearch");
    let from_meili = ids(&r);
    assert!(!from_meili.is_empty());

    // Meilisearch stops answering: the same search is served by SQL, and says so.
    fake.hang();
    let r = search(&app, &token, "q=balata&per_page=5").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.headers["x-search-backend"], "sql");
    assert_eq!(r.headers["x-search-fallback"], "meilisearch-unavailable");
    assert!(!ids(&r).is_empty());
    let fallbacks = app
        .app
        .registry
        .gather()
        .into_iter()
        .find(|m| m.name() == "nexus_catalog_search_fallbacks_total")
        .map(|m| m.get_metric()[0].get_counter().get_value())
        .unwrap_or(0.0);
    assert!(fallbacks >= 1.0, "the fallback is counted");

    // Back again.
    fake.heal();
    let r = search(&app, &token, "q=balata&per_page=5").await;
    assert_eq!(r.headers["x-search-backend"], "meilisearch");
}

/// The hit of part `id` in a search answer.
fn hit_of(r: &tests::TestResponse, id: i64) -> serde_json::Value {
    r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("part {id} is not in {}", r.text()))
}

async fn hits_say_what_the_business_has_here_and_elsewhere_and_in_stock_keeps_only_those(
    app: TestApp,
) {
    generate(&app, "200").await;
    let shop = Shop::open(&app, "acme").await;
    let r = search(&app, &shop.owner, "q=balata&per_page=200").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let found = ids(&r);
    assert!(found.len() >= 3, "{}", r.text());
    assert!(
        r.json["items"][0]["retail_price"].is_string(),
        "{}",
        r.text()
    );
    assert!(r.json["items"][0]["stock"].is_null(), "nothing is sold yet");
    let (stocked, empty, unsold) = (found[0], found[1], found[2]);
    let mut items = Vec::new();
    for (i, part) in [stocked, empty].into_iter().enumerate() {
        let r = app
            .session(&shop.owner)
            .post(
                "/pos/api/items",
                json!({"sku": format!("BAL-{i}"), "catalog_part_id": part}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        items.push(
            r.json["id"]
                .as_str()
                .unwrap()
                .parse::<uuid::Uuid>()
                .unwrap(),
        );
    }
    shop.stock(items[0], shop.wh, 4).await;
    shop.stock(items[0], shop.border_wh, 2).await;

    let at = |branch: uuid::Uuid, extra: &str| {
        format!("q=balata&per_page=200&branch_id={branch}{extra}")
    };
    let r = search(&app, &shop.owner, &at(shop.branch, "")).await;
    let hit = |id: i64| hit_of(&r, id);
    assert_eq!(hit(stocked)["stock"]["here"], 4, "{}", r.text());
    assert_eq!(hit(stocked)["stock"]["elsewhere"], 2);
    assert_eq!(hit(stocked)["stock"]["sku"], "BAL-0");
    assert_eq!(hit(stocked)["stock"]["item_id"], items[0].to_string());
    assert_eq!(hit(empty)["stock"]["here"], 0);
    assert_eq!(hit(empty)["stock"]["elsewhere"], 0);
    assert!(hit(unsold)["stock"].is_null());
    let border = hit_of(
        &search(&app, &shop.owner, &at(shop.border, "")).await,
        stocked,
    );
    assert_eq!(border["stock"]["here"], 2);
    assert_eq!(border["stock"]["elsewhere"], 4);
    // Without a branch, everything is elsewhere and nothing is here.
    let all = hit_of(
        &search(&app, &shop.owner, "q=balata&per_page=200").await,
        stocked,
    );
    assert!(all["stock"]["here"].is_null());
    assert_eq!(all["stock"]["elsewhere"], 6);

    // "In stock only" keeps the part with units, with or without text, per branch.
    for query in [
        "q=balata&in_stock=true".to_owned(),
        "in_stock=true".to_owned(),
        at(shop.border, "&in_stock=true"),
    ] {
        let r = search(&app, &shop.owner, &query).await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text());
        assert_eq!(ids(&r), vec![stocked], "{query}: {}", r.text());
        assert_eq!(r.json["total"], 1);
        assert_eq!(r.headers["x-search-backend"], "sql");
    }
    let r = search(&app, &shop.owner, "q=filtro&in_stock=true").await;
    assert_eq!(r.json["total"], 0, "{}", r.text());
    shop.stock(items[0], shop.border_wh, -2).await;
    let r = search(&app, &shop.owner, &at(shop.border, "&in_stock=true")).await;
    assert_eq!(r.json["total"], 0, "none left there: {}", r.text());

    // Another business's stock is not this one's, and a branch it cannot see is not found.
    let other = Shop::open(&app, "otra").await;
    let r = search(&app, &other.owner, "q=balata&per_page=200").await;
    assert!(
        r.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["stock"].is_null()),
        "{}",
        r.text()
    );
    let r = search(&app, &other.owner, &at(shop.branch, "")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    let r = search(&app, &other.owner, "in_stock=true").await;
    assert_eq!(r.json["total"], 0);
}
