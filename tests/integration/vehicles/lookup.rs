//! `/pos/api/vehicles`: VIN decoding (local at once, NHTSA vPIC enrichment through a job against
//! the vPIC fake), plate look-up, the registry of the business's vehicles.
//!
//! vPIC down: each delivery that fails transiently keeps the decode `pending` and is retried on
//! the client's policy; the last try that fails leaves it `unavailable` with the reason (and the
//! job dead, for operators). A later look-up asks again after a day.

use std::sync::Arc;
use std::time::Duration;

use entities::Role;
use entities::vehicles::tables::vin_decode;
use entities::{jobs::tables::outbox, org::tables::audit_log};
use http::StatusCode;
use jobs::Job;
use jobs::vehicles::EnrichVin;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use tests::fakes::vpic::{self, Mode, VpicFake};
use tests::run::start_workers;
use tests::{TestApp, TestTenant, shape_tests};
use workers::clients::vpic::VpicClient;
use workers::runtime::{Outcome, RetryPolicy, Runtime};
use workers::services::Services;

shape_tests!(
    a_valid_vin_decodes_at_once_and_its_enrichment_goes_from_pending_to_done,
    wait_ms_answers_with_the_finished_enrichment,
    a_decoded_vin_is_served_from_the_shared_cache_without_calling_vpic_again,
    a_vin_with_the_letter_o_is_refused_with_its_position,
    vins_of_the_wrong_length_or_with_symbols_are_refused,
    a_wrong_check_digit_answers_200_with_a_warning,
    when_vpic_keeps_failing_the_enrichment_ends_unavailable_with_the_reason,
    a_throttled_call_is_retried_after_retry_after_and_then_succeeds,
    a_vin_vpic_does_not_know_is_unavailable_and_a_mexico_only_vin_decodes_partially,
    without_a_configured_decoder_a_vin_answers_unavailable_and_enqueues_nothing,
    with_vpic_off_a_vin_still_leads_to_the_catalog_vehicles_of_its_maker_and_year,
    a_plate_registered_with_a_catalog_vehicle_answers_its_year_make_and_model,
    a_plate_written_with_dashes_and_lower_case_finds_the_registered_vehicle,
    an_unknown_plate_is_404_plate_not_found_asking_for_the_vin,
    a_malformed_plate_is_400_invalid_plate,
    registering_a_plate_or_vin_twice_is_a_conflict,
    another_tenants_vehicle_is_not_found,
    unknown_json_fields_are_refused,
    registered_vehicles_are_listed_changed_and_deleted_with_an_audit_trail,
    a_viewer_reads_vehicles_but_cannot_register_them,
    a_second_delivery_or_a_second_job_for_a_decoded_vin_calls_vpic_no_more,
);

fn quick() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base: Duration::from_millis(20),
        max: Duration::from_millis(50),
    }
}

/// Points the app at a fresh vPIC fake.
async fn with_fake(app: &mut TestApp) -> VpicFake {
    let fake = VpicFake::start().await;
    app.reconfigure(&[("NEXUS_VPIC_URL", &fake.url)]).await;
    fake
}

/// The job runtime with a vPIC client of the fake.
fn runtime(app: &TestApp, fake: &VpicFake) -> Arc<Runtime> {
    let client = VpicClient::new(&fake.url, Duration::from_secs(5))
        .unwrap()
        .with_retry(quick());
    let handlers = workers::handlers::all(Services {
        vpic: Some(client),
        ..Services::default()
    });
    Arc::new(Runtime::new(
        app.app.platform.clone(),
        app.app.tenants.clone(),
        handlers,
    ))
}

/// Starts the relay and the worker pools with a vPIC client of the fake: for the tests of
/// `wait_ms`, where a request waits for workers running beside it.
fn workers(app: &TestApp, fake: &VpicFake) -> tokio::sync::watch::Sender<bool> {
    start_workers(app, runtime(app, fake))
}

/// The enrichment jobs with a vPIC client of the fake, driven by the test itself.
fn driven(app: &TestApp, fake: &VpicFake) -> tests::run::Driving {
    app.drive_jobs(runtime(app, fake))
}

async fn vin(app: &TestApp, token: &str, path: &str) -> Value {
    let r = app
        .session(token)
        .get(&format!("/pos/api/vehicles/vin/{path}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json
}

async fn enrich_jobs(app: &TestApp, t: &TestTenant) -> u64 {
    outbox::Entity::find()
        .filter(outbox::Column::JobName.eq(EnrichVin::NAME))
        .count(&app.tenant_db(t).await)
        .await
        .unwrap()
}

async fn wait_for_status(app: &TestApp, token: &str, vin_: &str, status: &str) -> Value {
    let started = std::time::Instant::now();
    loop {
        app.run_jobs().await;
        let r = vin(app, token, vin_).await;
        if r["enrichment"]["status"] == status {
            return r;
        }
        assert!(
            started.elapsed() < tests::run::PATIENCE,
            "timed out waiting for enrichment {status} of {vin_}: {r}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_valid_vin_decodes_at_once_and_its_enrichment_goes_from_pending_to_done(
    mut app: TestApp,
) {
    let fake = with_fake(&mut app).await;
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;

    let first = vin(&app, &token, "1hgcm82633a004352").await;
    assert_eq!(first["vin"], vpic::HONDA_ACCORD);
    assert_eq!(first["check_digit_valid"], true);
    assert_eq!(first["model_year"], 2003);
    assert_eq!(first["manufacturer"], "Honda");
    assert_eq!(first["country"], "United States");
    assert_eq!(first["warnings"], json!([]));
    assert_eq!(first["enrichment"]["status"], "pending");
    // A second look-up before the job ran finds the claim and enqueues nothing more.
    let again = vin(&app, &token, vpic::HONDA_ACCORD).await;
    assert_eq!(again["enrichment"]["status"], "pending");
    assert_eq!(enrich_jobs(&app, &t).await, 1);
    assert!(fake.calls().is_empty(), "the API never calls vPIC itself");

    let _jobs = driven(&app, &fake);
    let done = wait_for_status(&app, &token, vpic::HONDA_ACCORD, "done").await;
    let data = &done["enrichment"]["data"];
    assert_eq!(data["make"], "HONDA");
    assert_eq!(data["model"], "Accord");
    assert_eq!(data["model_year"], 2003);
    assert_eq!(data["engine_cylinders"], 6);
    assert_eq!(data["displacement_l"], "3.0");
    assert_eq!(data["error_codes"], json!([0]));
    assert!(data.get("trim").is_none(), "empty vPIC values are absent");
    let calls = fake.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].vin, vpic::HONDA_ACCORD);
    assert_eq!(
        calls[0].query.get("format").map(String::as_str),
        Some("json")
    );
    assert_eq!(
        calls[0].query.get("modelyear").map(String::as_str),
        Some("2003")
    );
}

async fn wait_ms_answers_with_the_finished_enrichment(mut app: TestApp) {
    app.cli(&["catalog", "generate", "--parts", "10"])
        .await
        .unwrap();
    let fake = with_fake(&mut app).await;
    let _stop = workers(&app, &fake);
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let r = vin(
        &app,
        &token,
        &format!("{}?wait_ms=5000", vpic::NISSAN_VERSA),
    )
    .await;
    assert_eq!(r["enrichment"]["status"], "done", "{r}");
    assert_eq!(r["enrichment"]["data"]["model"], "Versa");
    assert_eq!(r["enrichment"]["data"]["plant_country"], "MEXICO");
    assert_eq!(r["manufacturer"], "Nissan Mexicana");
    assert_eq!(r["model_year"], 2019);
    // The decoded make, model, year and displacement point into the shared catalog.
    let found = r["catalog_vehicles"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{r}");
    assert_eq!(found[0]["model"], "Versa");
    assert_eq!(found[0]["year"], 2019);
    assert_eq!(found[0]["liters"], "1.6");
    assert_eq!(r["catalog_match"], "vpic");

    // The wait is capped, and a wait on a finished decode returns at once.
    let started = std::time::Instant::now();
    let r = vin(
        &app,
        &token,
        &format!("{}?wait_ms=600000", vpic::NISSAN_VERSA),
    )
    .await;
    assert_eq!(r["enrichment"]["status"], "done");
    assert!(started.elapsed() < Duration::from_secs(30));
}

async fn a_decoded_vin_is_served_from_the_shared_cache_without_calling_vpic_again(
    mut app: TestApp,
) {
    let fake = with_fake(&mut app).await;
    let _stop = workers(&app, &fake);
    let a = app.tenant("acme").await;
    let b = app.tenant("bravo").await;
    let token_a = app.token(&a.owner_email).await;
    let token_b = app.token(&b.owner_email).await;
    let r = vin(
        &app,
        &token_a,
        &format!("{}?wait_ms=5000", vpic::HONDA_ACCORD),
    )
    .await;
    assert_eq!(r["enrichment"]["status"], "done");
    let r = vin(&app, &token_b, vpic::HONDA_ACCORD).await;
    assert_eq!(r["enrichment"]["status"], "done");
    assert_eq!(r["enrichment"]["data"]["make"], "HONDA");
    assert_eq!(enrich_jobs(&app, &b).await, 0);
    assert_eq!(fake.calls().len(), 1);
}

async fn a_vin_with_the_letter_o_is_refused_with_its_position(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let r = app
        .session(&token)
        .get("/pos/api/vehicles/vin/1HGCM82633AOO4352")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert_eq!(r.code(), "invalid_vin");
    let msg = r.json["error"]["message"].as_str().unwrap();
    assert!(msg.contains("position 12") && msg.contains('O'), "{msg}");
    for bad in ["IHGCM82633A004352", "1HGCM82633A00435Q"] {
        let r = app
            .session(&token)
            .get(&format!("/pos/api/vehicles/vin/{bad}"))
            .await;
        assert_eq!(r.code(), "invalid_vin", "{bad}");
    }
    assert_eq!(
        vin_decode::Entity::find()
            .count(&app.app.platform)
            .await
            .unwrap(),
        0
    );
}

async fn vins_of_the_wrong_length_or_with_symbols_are_refused(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    for (bad, expect) in [
        ("1HGCM82633A00435", "has 16"),
        ("1HGCM82633A0043521", "has 18"),
        ("1HGCM8%2D633A004352", "position 7"),
        ("1HGCM82633A00435%C3%91", "position 17"),
    ] {
        let r = app
            .session(&token)
            .get(&format!("/pos/api/vehicles/vin/{bad}"))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text());
        assert_eq!(r.code(), "invalid_vin");
        let msg = r.json["error"]["message"].as_str().unwrap();
        assert!(msg.contains(expect), "{bad}: {msg}");
    }
    let r = app
        .session(&token)
        .get("/pos/api/vehicles/vin/1HGCM82633A004352?colour=red")
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.code(), "invalid_query");
    assert_eq!(r.json["error"]["field"], "colour");
    let r = app
        .session(&token)
        .get("/pos/api/vehicles/vin/1HGCM82633A004352?year=1850")
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .get("/pos/api/vehicles/vin/1HGCM82633A004352", None)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

async fn a_wrong_check_digit_answers_200_with_a_warning(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let r = vin(&app, &token, "1HGCM82643A004352").await;
    assert_eq!(r["check_digit_valid"], false);
    assert_eq!(r["check_digit"], "4");
    assert_eq!(r["expected_check_digit"], "3");
    assert_eq!(r["warnings"], json!(["check_digit_mismatch"]));
    assert_eq!(r["model_year"], 2003);
}

async fn when_vpic_keeps_failing_the_enrichment_ends_unavailable_with_the_reason(mut app: TestApp) {
    let fake = with_fake(&mut app).await;
    fake.set_mode(Mode::ServerError);
    let _jobs = driven(&app, &fake);
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let first = vin(&app, &token, vpic::HONDA_ACCORD).await;
    assert_eq!(first["enrichment"]["status"], "pending");
    let end = wait_for_status(&app, &token, vpic::HONDA_ACCORD, "unavailable").await;
    let reason = end["enrichment"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("kept failing") && reason.contains("500"),
        "{reason}"
    );
    assert_eq!(fake.calls().len(), 3, "one call per try of the policy");
    let row = vin_decode::Entity::find_by_id(vpic::HONDA_ACCORD.to_owned())
        .one(&app.app.platform)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.attempts, 3);
    // vPIC comes back: the unavailable decode is not asked again at once (a day later it is).
    fake.set_mode(Mode::Normal);
    let again = vin(&app, &token, vpic::HONDA_ACCORD).await;
    assert_eq!(again["enrichment"]["status"], "unavailable");
    assert_eq!(enrich_jobs(&app, &t).await, 1);
}

async fn a_throttled_call_is_retried_after_retry_after_and_then_succeeds(mut app: TestApp) {
    let fake = with_fake(&mut app).await;
    fake.set_mode(Mode::Throttled);
    let _jobs = driven(&app, &fake);
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    vin(&app, &token, vpic::HONDA_ACCORD).await;
    let started = std::time::Instant::now();
    loop {
        app.run_jobs().await;
        let pending = vin(&app, &token, vpic::HONDA_ACCORD).await;
        assert_eq!(pending["enrichment"]["status"], "pending", "{pending}");
        if pending["enrichment"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("429"))
        {
            break;
        }
        assert!(
            started.elapsed() < tests::run::PATIENCE,
            "no throttled call"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    fake.set_mode(Mode::Normal);
    let done = wait_for_status(&app, &token, vpic::HONDA_ACCORD, "done").await;
    assert_eq!(done["enrichment"]["data"]["make"], "HONDA");
    assert!(done["enrichment"].get("reason").is_none());
    let calls = fake.calls();
    // Retry-After: 1 was honoured: the policy alone (50 ms at most) would have spent every try
    // on the throttled fake before the mode changed.
    assert_eq!(calls.len(), 2, "{calls:?}");
}

async fn a_vin_vpic_does_not_know_is_unavailable_and_a_mexico_only_vin_decodes_partially(
    mut app: TestApp,
) {
    let fake = with_fake(&mut app).await;
    let _stop = workers(&app, &fake);
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;

    let unknown = vin(
        &app,
        &token,
        &format!("{}?wait_ms=5000", vpic::UNKNOWN_TO_VPIC),
    )
    .await;
    assert_eq!(unknown["enrichment"]["status"], "unavailable", "{unknown}");
    let reason = unknown["enrichment"]["reason"].as_str().unwrap();
    assert!(reason.contains("no make or model"), "{reason}");
    assert_eq!(unknown["enrichment"]["data"]["error_codes"], json!([7]));
    // The local decode still says what it can.
    assert_eq!(unknown["country"], "Mexico");
    assert!(
        unknown["warnings"]
            .as_array()
            .unwrap()
            .contains(&json!("unknown_manufacturer"))
    );

    let partial = vin(&app, &token, &format!("{}?wait_ms=5000", vpic::MEXICO_ONLY)).await;
    assert_eq!(partial["enrichment"]["status"], "done", "{partial}");
    let data = &partial["enrichment"]["data"];
    assert_eq!(data["make"], "VOLKSWAGEN");
    assert!(data.get("model").is_none());
    assert_eq!(data["error_codes"], json!([8, 14]));
    assert_eq!(partial["manufacturer"], "Volkswagen de México");
    assert_eq!(partial["model_year"], 2020);
}

async fn without_a_configured_decoder_a_vin_answers_unavailable_and_enqueues_nothing(
    mut app: TestApp,
) {
    app.reconfigure(&[("NEXUS_VPIC_URL", "off")]).await;
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let r = vin(
        &app,
        &token,
        &format!("{}?wait_ms=1000", vpic::HONDA_ACCORD),
    )
    .await;
    assert_eq!(r["model_year"], 2003, "the local decode still works");
    assert_eq!(r["enrichment"]["status"], "unavailable");
    assert!(r["enrichment"].get("data").is_none());
    let reason = r["enrichment"]["reason"].as_str().unwrap();
    assert!(reason.contains("NEXUS_VPIC_URL"), "{reason}");
    assert_eq!(enrich_jobs(&app, &t).await, 0);
    assert_eq!(
        vin_decode::Entity::find()
            .count(&app.app.platform)
            .await
            .unwrap(),
        0
    );
}

async fn with_vpic_off_a_vin_still_leads_to_the_catalog_vehicles_of_its_maker_and_year(
    mut app: TestApp,
) {
    app.cli(&["catalog", "generate", "--parts", "10"])
        .await
        .unwrap();
    app.reconfigure(&[("NEXUS_VPIC_URL", "off")]).await;
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    // 3N1: Nissan Mexicana; position 10 `K` with a letter at position 7: 2019.
    let r = vin(&app, &token, vpic::NISSAN_VERSA).await;
    assert_eq!(r["enrichment"]["status"], "unavailable");
    assert_eq!(r["catalog_match"], "maker_year", "{r}");
    let found = r["catalog_vehicles"].as_array().unwrap();
    assert!(!found.is_empty(), "{r}");
    assert!(
        found
            .iter()
            .all(|v| v["make"] == "Nissan" && v["year"] == 2019),
        "{r}"
    );
    assert!(found.iter().any(|v| v["model"] == "Versa"), "{r}");
    // The ids are the cascade's, so a search by one of them works.
    let id = found[0]["id"].as_i64().unwrap();
    let s = app
        .session(&token)
        .get(&format!("/pos/api/catalog/search?vehicle_id={id}"))
        .await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.text());
    // A maker the catalog does not carry under that name leads nowhere, and says so.
    let r = vin(&app, &token, vpic::HONDA_ACCORD).await;
    assert_eq!(r["model_year"], 2003);
    if r["catalog_vehicles"].as_array().unwrap().is_empty() {
        assert_eq!(r["catalog_match"], "none", "{r}");
    } else {
        assert_eq!(r["catalog_match"], "maker_year", "{r}");
    }
}

async fn a_plate_registered_with_a_catalog_vehicle_answers_its_year_make_and_model(app: TestApp) {
    app.cli(&["catalog", "generate", "--parts", "10"])
        .await
        .unwrap();
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let engines = app
        .session(&token)
        .get("/pos/api/vehicles/engines?year=2019&make=Nissan&model=Versa")
        .await;
    let cv = engines.json["items"][0].clone();
    assert!(cv["id"].is_i64(), "{}", engines.text());
    let v = register(
        &app,
        &token,
        json!({"plate": "XYZ-987-B", "catalog_vehicle_id": cv["id"]}),
    )
    .await;
    assert_eq!(v["year"], 2019);
    assert_eq!(v["make"], "Nissan");
    assert_eq!(v["model"], "Versa");
    assert_eq!(v["engine"], cv["engine"]);
    let r = app
        .session(&token)
        .get("/pos/api/vehicles/plate/xyz987b")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["catalog_vehicle_id"], cv["id"]);
    assert_eq!(r.json["model"], "Versa");
    assert_eq!(r.json["year"], 2019);
    // What the counter typed wins over the catalog's words.
    let w = register(
        &app,
        &token,
        json!({"plate": "XYZ-988-B", "catalog_vehicle_id": cv["id"], "model": "Versa Sense"}),
    )
    .await;
    assert_eq!(w["model"], "Versa Sense");
    assert_eq!(w["make"], "Nissan");
    // An id the catalog does not have is not found and registers nothing.
    let r = app
        .session(&token)
        .post(
            "/pos/api/vehicles/registered",
            json!({"plate": "XYZ-989-B", "catalog_vehicle_id": 999_999_999}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "catalog_vehicle_id");
    let none = app
        .session(&token)
        .get("/pos/api/vehicles/plate/XYZ989B")
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
}

async fn register(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app
        .session(token)
        .post("/pos/api/vehicles/registered", body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json
}

async fn a_plate_written_with_dashes_and_lower_case_finds_the_registered_vehicle(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let cashier = app.user(&t, Role::Cashier, None).await;
    let cashier = app.token(&cashier).await;
    let v = register(
        &app,
        &cashier,
        json!({"plate": "ABC123A", "vin": "3n1cn7ad3kl812345", "year": 2019, "make": "Nissan", "model": "Versa", "engine": "1.6L 4 cil"}),
    )
    .await;
    assert_eq!(v["plate"], "ABC123A");
    assert_eq!(v["plate_kind"], "private_car");
    assert_eq!(v["vin"], vpic::NISSAN_VERSA);
    for written in ["abc-123-a", "ABC 123 A", "abc123a"] {
        let r = app
            .session(&token)
            .get(&format!(
                "/pos/api/vehicles/plate/{}",
                written.replace(' ', "%20")
            ))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{written}: {}", r.text());
        assert_eq!(r.json["id"], v["id"]);
        assert_eq!(r.json["model"], "Versa");
    }
}

async fn an_unknown_plate_is_404_plate_not_found_asking_for_the_vin(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let r = app
        .session(&token)
        .get("/pos/api/vehicles/plate/XYZ-987-B")
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    assert_eq!(r.code(), "plate_not_found");
    let msg = r.json["error"]["message"].as_str().unwrap();
    assert!(msg.contains("XYZ987B") && msg.contains("VIN"), "{msg}");
}

async fn a_malformed_plate_is_400_invalid_plate(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    for bad in ["HOLAMUNDO", "AB1", "ABO-123", "ABCDEFGH12345"] {
        let r = app
            .session(&token)
            .get(&format!("/pos/api/vehicles/plate/{bad}"))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text());
        assert_eq!(r.code(), "invalid_plate");
    }
}

async fn registering_a_plate_or_vin_twice_is_a_conflict(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    register(&app, &token, json!({"plate": "ABC-123-A"})).await;
    let r = app
        .session(&token)
        .post(
            "/pos/api/vehicles/registered",
            json!({"plate": "abc 123 a", "make": "Nissan"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "plate_registered");
    register(&app, &token, json!({"vin": vpic::HONDA_ACCORD})).await;
    let r = app
        .session(&token)
        .post(
            "/pos/api/vehicles/registered",
            json!({"plate": "JKL-1234", "vin": "1hgcm82633a004352"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "vin_registered");
    // Neither plate nor VIN, or a bad one: 422 naming the field.
    let r = app
        .session(&token)
        .post("/pos/api/vehicles/registered", json!({"make": "VW"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json["error"]["field"], "plate");
    let r = app
        .session(&token)
        .post(
            "/pos/api/vehicles/registered",
            json!({"vin": "1HGCM82633AOO4352"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json["error"]["field"], "vin");
    let list = app
        .session(&token)
        .get("/pos/api/vehicles/registered")
        .await;
    assert_eq!(list.json["total"], 2);
}

async fn another_tenants_vehicle_is_not_found(app: TestApp) {
    let a = app.tenant("acme").await;
    let b = app.tenant("bravo").await;
    let token_a = app.token(&a.owner_email).await;
    let token_b = app.token(&b.owner_email).await;
    let v = register(&app, &token_a, json!({"plate": "ABC-123-A"})).await;
    let path = format!("/pos/api/vehicles/registered/{}", v["id"].as_str().unwrap());
    assert_eq!(
        app.session(&token_b).get(&path).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.session(&token_b)
            .patch(&path, json!({"notes": "mío"}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.session(&token_b).delete(&path).await.status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .session(&token_b)
        .get("/pos/api/vehicles/plate/ABC123A")
        .await;
    assert_eq!(r.code(), "plate_not_found");
    let list = app
        .session(&token_b)
        .get("/pos/api/vehicles/registered")
        .await;
    assert_eq!(list.json["total"], 0);
    // Bravo may register the same plate: plates are unique per business.
    register(&app, &token_b, json!({"plate": "ABC123A"})).await;
    assert_eq!(
        app.session(&token_a).get(&path).await.json["notes"],
        Value::Null
    );
}

async fn unknown_json_fields_are_refused(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let r = app
        .session(&token)
        .post(
            "/pos/api/vehicles/registered",
            json!({"plate": "ABC-123-A", "tenant_id": "00000000-0000-0000-0000-000000000000"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.code(), "invalid_body");
    let v = register(&app, &token, json!({"plate": "ABC-123-A"})).await;
    let r = app
        .session(&token)
        .patch(
            &format!("/pos/api/vehicles/registered/{}", v["id"].as_str().unwrap()),
            json!({"colour": "rojo"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.code(), "invalid_body");
}

async fn registered_vehicles_are_listed_changed_and_deleted_with_an_audit_trail(app: TestApp) {
    tests::shop::small_catalog(&app).await;
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let a = register(&app, &token, json!({"plate": "ABC-123-A", "make": "VW"})).await;
    register(&app, &token, json!({"plate": "ABD-1234"})).await;
    register(
        &app,
        &token,
        json!({"vin": vpic::HONDA_ACCORD, "year": 2003}),
    )
    .await;

    let all = app
        .session(&token)
        .get("/pos/api/vehicles/registered?per_page=2")
        .await;
    assert_eq!(all.json["total"], 3);
    assert_eq!(all.json["items"].as_array().unwrap().len(), 2);
    let ab = app
        .session(&token)
        .get("/pos/api/vehicles/registered?plate=ab")
        .await;
    assert_eq!(ab.json["total"], 2);
    let abc = app
        .session(&token)
        .get("/pos/api/vehicles/registered?plate=abc-1")
        .await;
    assert_eq!(abc.json["total"], 1);
    let by_vin = app
        .session(&token)
        .get("/pos/api/vehicles/registered?vin=1hg")
        .await;
    assert_eq!(by_vin.json["total"], 1);
    let bad = app
        .session(&token)
        .get("/pos/api/vehicles/registered?plate=a%25")
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    let path = format!("/pos/api/vehicles/registered/{}", a["id"].as_str().unwrap());
    let upd = app
        .session(&token).patch(&path, json!({"plate": "abc-123-b", "vin": vpic::NISSAN_VERSA, "make": null, "year": 2019, "catalog_vehicle_id": 42}))
        .await;
    assert_eq!(upd.status, StatusCode::OK, "{}", upd.text());
    assert_eq!(upd.json["plate"], "ABC123B");
    assert_eq!(upd.json["make"], Value::Null);
    assert_eq!(upd.json["catalog_vehicle_id"], 42);
    let clash = app
        .session(&token)
        .patch(&path, json!({"plate": "ABD1234"}))
        .await;
    assert_eq!(clash.code(), "plate_registered");
    let r = app
        .session(&token)
        .patch(&path, json!({"plate": null, "vin": null}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a vehicle keeps a plate or VIN"
    );

    let del = app.session(&token).delete(&path).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.session(&token).get(&path).await.status,
        StatusCode::NOT_FOUND
    );

    let actions: Vec<String> = audit_log::Entity::find()
        .filter(audit_log::Column::TargetType.eq("vehicle"))
        .order_by_asc(audit_log::Column::Id)
        .all(&app.tenant_db(&t).await)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "vehicle.created",
            "vehicle.created",
            "vehicle.created",
            "vehicle.updated",
            "vehicle.deleted"
        ]
    );
}

async fn a_viewer_reads_vehicles_but_cannot_register_them(app: TestApp) {
    let t = app.tenant("acme").await;
    let owner = app.token(&t.owner_email).await;
    let v = register(&app, &owner, json!({"plate": "ABC-123-A"})).await;
    let viewer = app.user(&t, Role::Viewer, None).await;
    let viewer = app.token(&viewer).await;
    let r = app
        .session(&viewer)
        .post("/pos/api/vehicles/registered", json!({"plate": "XYZ-987"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.session(&viewer)
            .get("/pos/api/vehicles/plate/ABC123A")
            .await
            .status,
        StatusCode::OK
    );
    let mechanic = app.user(&t, Role::Mechanic, None).await;
    let mechanic = app.token(&mechanic).await;
    register(&app, &mechanic, json!({"plate": "XYZ-987"})).await;
    let path = format!("/pos/api/vehicles/registered/{}", v["id"].as_str().unwrap());
    assert_eq!(
        app.session(&mechanic).delete(&path).await.status,
        StatusCode::FORBIDDEN,
        "deleting needs a manager"
    );
}

async fn a_second_delivery_or_a_second_job_for_a_decoded_vin_calls_vpic_no_more(mut app: TestApp) {
    let fake = with_fake(&mut app).await;
    let rt = runtime(&app, &fake);
    let a = app.tenant("acme").await;
    let b = app.tenant("bravo").await;
    let mut envelopes = Vec::new();
    for t in [&a, &b] {
        let job = EnrichVin {
            tenant_id: t.tenant.id,
            vin: vpic::HONDA_ACCORD.into(),
            model_year: Some(2003),
        };
        let outbox_id = jobs::outbox::enqueue(&app.tenant_db(t).await, &job)
            .await
            .unwrap();
        envelopes.push(jobs::Envelope {
            name: EnrichVin::NAME.into(),
            tenant_id: t.tenant.id,
            outbox_id,
            attempt: 0,
            payload: serde_json::to_value(&job).unwrap(),
            due_at_us: None,
            requeued: 0,
        });
    }
    let deliver = |env: &jobs::Envelope| {
        let (rt, raw) = (rt.clone(), serde_json::to_value(env).unwrap());
        async move { rt.execute(raw).await }
    };
    assert_eq!(deliver(&envelopes[0]).await, Outcome::Done);
    assert_eq!(deliver(&envelopes[0]).await, Outcome::Skipped);
    assert_eq!(deliver(&envelopes[1]).await, Outcome::Done);
    assert_eq!(fake.calls().len(), 1, "the decode is done: no second call");
    let row = vin_decode::Entity::find_by_id(vpic::HONDA_ACCORD.to_owned())
        .one(&app.app.platform)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "done");
    assert_eq!(row.attempts, 1);
}
