//! Odometer readings: never below the current one (refused, nothing written), a manager's
//! rollover with its note as the new base, receptions recording theirs (a lower one flagged,
//! the reception still made), and a counter sale for a fleet unit with its odometer.

use entities::Role;
use entities::counter::tables::sale;
use entities::org::tables::audit_log;
use http::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use tests::{TestApp, shape_tests};

use super::{fleet, oid, read};

shape_tests!(
    a_lower_reading_is_refused_and_changes_nothing_until_a_manager_records_a_rollover,
    a_reception_records_its_reading_and_a_lower_one_is_flagged_not_refused,
    a_counter_sale_for_a_fleet_unit_stores_the_vehicle_and_its_odometer,
);

async fn a_lower_reading_is_refused_and_changes_nothing_until_a_manager_records_a_rollover(
    app: TestApp,
) {
    let g = fleet(&app, "odo-baja").await;
    let path = format!("/pos/api/vehicles/registered/{}/odometer", g.vehicle);
    let r = read(&app, g.owner(), g.vehicle, json!({"km": 120_000})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["source"], "manual");
    let r = read(&app, g.owner(), g.vehicle, json!({"km": 119_999})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "odometer_below_current");
    // The same reading again is no step back.
    let r = read(&app, g.owner(), g.vehicle, json!({"km": 120_000})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let owner = app.session(g.owner());
    assert_eq!(owner.get(&path).await.json["total"], 2);
    for (body, field) in [
        (json!({"km": -1}), "km"),
        (json!({"km": 3_000_001}), "km"),
        (json!({"km": 1, "kind": "reset"}), "kind"),
        (json!({"km": 130_000, "read_on": "2999-01-01"}), "read_on"),
    ] {
        let r = read(&app, g.owner(), g.vehicle, body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text()
        );
        assert_eq!(r.json["error"]["field"], field, "{body}");
    }
    let cashier = g.s.token(&app, Role::Cashier).await;
    let r = read(
        &app,
        &cashier,
        g.vehicle,
        json!({"km": 10, "kind": "rollover", "note": "odómetro nuevo"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = read(
        &app,
        g.owner(),
        g.vehicle,
        json!({"km": 10, "kind": "rollover"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "note");
    assert_eq!(
        owner.get(&path).await.json["total"],
        2,
        "refusals wrote nothing"
    );
    let r = read(
        &app,
        g.owner(),
        g.vehicle,
        json!({"km": 10, "kind": "rollover", "note": "tablero cambiado"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // From the new base, 500 is a step forward and 5 a step back.
    let r = read(&app, &cashier, g.vehicle, json!({"km": 500})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = read(&app, &cashier, g.vehicle, json!({"km": 5})).await;
    assert_eq!(r.code(), "odometer_below_current");
    let units = owner
        .get(&format!("/pos/api/fleets/{}/vehicles", g.customer))
        .await;
    assert_eq!(
        units.json["items"][0]["odometer_km"],
        500,
        "{}",
        units.text()
    );
    let audit = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("odometer.rollover"))
        .count(&g.s.db)
        .await
        .unwrap();
    assert_eq!(audit, 1);
}

async fn a_reception_records_its_reading_and_a_lower_one_is_flagged_not_refused(app: TestApp) {
    let g = fleet(&app, "odo-recepcion").await;
    let o = g
        .receive(&app, g.owner(), json!({"odometer_km": 85_000}))
        .await;
    let owner = app.session(g.owner());
    let path = format!("/pos/api/vehicles/registered/{}/odometer", g.vehicle);
    let rs = owner.get(&path).await.json;
    assert_eq!(rs["total"], 1, "{rs}");
    assert_eq!(rs["items"][0]["source"], "reception");
    assert_eq!(rs["items"][0]["source_id"], o["id"]);
    assert_eq!(rs["items"][0]["km"], 85_000);
    read(&app, g.owner(), g.vehicle, json!({"km": 90_000})).await;
    // A typo at reception does not turn the car away: the order is made, the reading flagged.
    g.receive(&app, g.owner(), json!({"odometer_km": 80_000}))
        .await;
    let flagged = owner.get(&format!("{path}?flagged=true")).await.json;
    assert_eq!(flagged["total"], 1, "{flagged}");
    assert_eq!(flagged["items"][0]["km"], 80_000);
    let units = owner
        .get(&format!("/pos/api/fleets/{}/vehicles", g.customer))
        .await;
    assert_eq!(
        units.json["items"][0]["odometer_km"], 90_000,
        "a flagged reading is never current"
    );
}

async fn a_counter_sale_for_a_fleet_unit_stores_the_vehicle_and_its_odometer(app: TestApp) {
    let g = fleet(&app, "odo-venta").await;
    let owner = app.session(g.owner());
    read(&app, g.owner(), g.vehicle, json!({"km": 40_000})).await;
    let body = |vehicle: uuid::Uuid, km: i64| {
        json!({"branch_id": g.s.branch, "customer_id": g.customer,
               "lines": [{"item_id": g.pads, "warehouse_id": g.s.wh, "qty": 1}],
               "payments": [{"method": "card", "amount": "450.00"}],
               "vehicle_id": vehicle, "odometer": km})
    };
    let r = owner.post("/pos/api/sales", body(g.vehicle, 39_000)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "odometer_below_current");
    assert_eq!(
        g.s.on_hand(g.pads, g.s.wh).await,
        10,
        "the refused sale took no stock"
    );
    let r = owner.post("/pos/api/sales", body(g.vehicle, 41_250)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let sid = oid(&r.json);
    let s = sale::Entity::find_by_id(sid)
        .one(&g.s.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (s.vehicle_id, s.odometer_km),
        (Some(g.vehicle), Some(41_250))
    );
    let rs = owner
        .get(&format!(
            "/pos/api/vehicles/registered/{}/odometer",
            g.vehicle
        ))
        .await
        .json;
    assert_eq!(rs["items"][0]["source"], "sale");
    assert_eq!(rs["items"][0]["source_id"], sid.to_string());
    // Another customer's vehicle, or a vehicle without a customer, is refused.
    let r = owner
        .post("/pos/api/customers", json!({"name": "Otro Cliente"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let other = oid(&r.json);
    let r = owner
        .post(
            "/pos/api/vehicles/registered",
            json!({"plate": "PRS-333-E", "customer_id": other, "make": "Ford", "model": "Transit"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let foreign = oid(&r.json);
    let r = owner.post("/pos/api/sales", body(foreign, 1)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "vehicle_of_another_customer");
    let r = owner
        .post(
            "/pos/api/sales",
            json!({"branch_id": g.s.branch,
                   "lines": [{"item_id": g.pads, "warehouse_id": g.s.wh, "qty": 1}],
                   "payments": [{"method": "card", "amount": "450.00"}], "odometer": 5}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "odometer");
    assert_eq!(g.s.on_hand(g.pads, g.s.wh).await, 9);
}
