//! Fleet customers: a profile on an existing customer, its cost centres, drivers and units, and
//! the refusals (another customer's vehicle, a driver of another fleet, twice the same unit).

use entities::Role;
use http::StatusCode;
use serde_json::json;
use tests::{TestApp, shape_tests};

use super::{fleet, oid};

shape_tests!(
    a_fleet_lists_its_units_with_their_driver_cost_centre_and_odometer,
    a_vehicle_of_another_customer_or_a_driver_of_another_fleet_is_refused,
    a_viewer_reads_fleets_but_cannot_make_one,
);

async fn a_fleet_lists_its_units_with_their_driver_cost_centre_and_odometer(app: TestApp) {
    let g = fleet(&app, "flota-alta").await;
    let owner = app.session(g.owner());
    let base = format!("/pos/api/fleets/{}", g.customer);
    let r = owner
        .post(
            &format!("{base}/cost-centres"),
            json!({"code": "ruta-norte", "name": "Ruta norte"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["code"], "RUTA-NORTE");
    let cc = oid(&r.json);
    let r = owner
        .post(
            &format!("{base}/cost-centres"),
            json!({"code": "RUTA-NORTE", "name": "Otra"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "cost_centre_exists");
    let r = owner
        .post(
            &format!("{base}/drivers"),
            json!({"name": "Pedro Salas", "license_no": "NL-123", "license_expires_on": "2027-03-31"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let driver = oid(&r.json);
    // A second vehicle of the customer, with its driver and cost centre.
    let r = owner
        .post(
            "/pos/api/vehicles/registered",
            json!({"plate": "XYZ-987-B", "customer_id": g.customer, "year": 2020, "make": "Nissan", "model": "NP300"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let np300 = oid(&r.json);
    let r = owner
        .post(
            &format!("{base}/vehicles"),
            json!({"vehicle_id": np300, "unit_no": "T-02", "driver_id": driver, "cost_centre_id": cc}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["plate"], "XYZ987B");
    let r = owner
        .post(&format!("{base}/vehicles"), json!({"vehicle_id": np300}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "unit_exists");
    let r = super::read(&app, g.owner(), np300, json!({"km": 12_345})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let units = owner.get(&format!("{base}/vehicles")).await;
    assert_eq!(units.status, StatusCode::OK, "{}", units.text());
    assert_eq!(units.json["total"], 2);
    let by_driver = owner
        .get(&format!("{base}/vehicles?driver_id={driver}"))
        .await;
    assert_eq!(by_driver.json["total"], 1);
    assert_eq!(by_driver.json["items"][0]["unit_no"], "T-02");
    assert_eq!(by_driver.json["items"][0]["odometer_km"], 12_345);
    let f = owner.get(&base).await;
    assert_eq!(f.json["units"], 2, "{}", f.text());
    assert_eq!(f.json["name"], "Transportes Garza");
    let all = owner.get("/pos/api/fleets").await;
    assert_eq!(all.json["total"], 1);
    let r = owner.patch(&base, json!({"is_active": false})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        owner.get("/pos/api/fleets?active=true").await.json["total"],
        0
    );
}

async fn a_vehicle_of_another_customer_or_a_driver_of_another_fleet_is_refused(app: TestApp) {
    let g = fleet(&app, "flota-ajena").await;
    let owner = app.session(g.owner());
    let r = owner
        .post("/pos/api/customers", json!({"name": "Fletes Rivera"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let other = oid(&r.json);
    let r = owner
        .post(
            "/pos/api/vehicles/registered",
            json!({"plate": "JKL-111-C", "customer_id": other, "make": "Ford", "model": "Transit"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let foreign = oid(&r.json);
    let base = format!("/pos/api/fleets/{}", g.customer);
    let r = owner
        .post(&format!("{base}/vehicles"), json!({"vehicle_id": foreign}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "vehicle_of_another_customer");
    let r = owner
        .post("/pos/api/fleets", json!({"customer_id": other}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = owner
        .post(
            &format!("/pos/api/fleets/{other}/drivers"),
            json!({"name": "Ana"}),
        )
        .await;
    let their_driver = oid(&r.json);
    let r = owner
        .post(
            &format!("/pos/api/fleets/{other}/vehicles"),
            json!({"vehicle_id": foreign, "driver_id": g.customer}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    assert_eq!(r.code(), "driver_not_found");
    let r = owner
        .post(&format!("{base}/drivers"), json!({"name": "  "}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "name");
    // The other fleet's driver is no driver of this one.
    let r = owner
        .post(
            "/pos/api/vehicles/registered",
            json!({"plate": "MNT-222-D", "customer_id": g.customer, "make": "Ford", "model": "Transit"}),
        )
        .await;
    let mine = oid(&r.json);
    let r = owner
        .post(
            &format!("{base}/vehicles"),
            json!({"vehicle_id": mine, "driver_id": their_driver}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "driver_id");
    let r = owner
        .post("/pos/api/fleets", json!({"customer_id": g.customer}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "fleet_exists");
    let r = owner
        .post(
            "/pos/api/fleets",
            json!({"customer_id": uuid::Uuid::now_v7()}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    assert_eq!(r.code(), "customer_not_found");
}

async fn a_viewer_reads_fleets_but_cannot_make_one(app: TestApp) {
    let g = fleet(&app, "flota-roles").await;
    let viewer = g.s.token(&app, Role::Viewer).await;
    let v = app.session(&viewer);
    let r = v
        .get(&format!("/pos/api/fleets/{}/vehicles", g.customer))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = v
        .post(
            &format!("/pos/api/fleets/{}/drivers", g.customer),
            json!({"name": "Luis"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
}
