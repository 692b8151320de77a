//! The warranty of each sold line: copied from the item's policy (else its brand's) at
//! checkout, none without a policy, unchanged when the policy changes later; registered by
//! hand with a vehicle and odometer; its eligibility through the API at the month and km
//! limits; and the `warranty_expiring` events, once per warranty.

use entities::notifications::events;
use entities::warranties::expiring;
use http::StatusCode;
use serde_json::json;
use tests::{TestApp, shape_tests};

use super::{ends_in, id, open_claim, policy, sell, shop, warranties_of};

shape_tests!(
    checkout_gives_a_sold_line_with_a_policy_its_warranty_and_none_without,
    a_policy_changed_after_the_sale_does_not_change_the_warranty,
    eligibility_through_the_api_holds_on_the_last_day_and_at_exactly_the_km,
    a_warranty_registered_by_hand_needs_a_manager_to_change_its_terms,
    one_expiring_event_is_recorded_per_warranty_exactly_n_days_before_its_end,
);

async fn checkout_gives_a_sold_line_with_a_policy_its_warranty_and_none_without(app: TestApp) {
    let f = shop(&app, "gar-snap").await;
    // No policy at all: nothing.
    let none = sell(&app, &f, &[(f.a, 1)], "450.00").await;
    assert!(warranties_of(&app, &f, &none).await.is_empty());
    // The item's own policy for `a`; `b` has none (and no brand policy yet).
    policy(
        &app,
        &f,
        json!({"item_id": f.a, "months": 12, "km": 20000, "coverage": "parts", "starts_on": "sale", "terms": "Doce meses."}),
    )
    .await;
    let sale = sell(&app, &f, &[(f.a, 2), (f.b, 1)], "1023.50").await;
    let ws = warranties_of(&app, &f, &sale).await;
    assert_eq!(ws.len(), 1, "{ws:?}");
    let w = &ws[0];
    assert_eq!(w["sale_line_no"], 1);
    assert_eq!(w["item_id"], f.a.to_string());
    assert_eq!(w["qty"], 2);
    assert_eq!(w["unit_price"], "450.00");
    assert_eq!(w["customer_id"], f.customer.to_string());
    assert_eq!(w["months"], 12);
    assert_eq!(w["km"], 20000);
    assert_eq!(w["terms"], "Doce meses.");
    assert!(w["vehicle_id"].is_null() && w["odometer_at_install"].is_null());
    let today = entities::today();
    assert_eq!(w["starts_at"], today.to_string());
    assert_eq!(
        w["expires_on"],
        entities::rules::warranty::last_day(today, 12).to_string()
    );
    assert_eq!(w["status"], "active");
    // A brand policy covers `b`; `a` keeps its own (the item's wins).
    policy(
        &app,
        &f,
        json!({"brand": "acme", "months": 3, "coverage": "parts", "starts_on": "sale"}),
    )
    .await;
    let sale = sell(&app, &f, &[(f.a, 1), (f.b, 1)], "573.50").await;
    let ws = warranties_of(&app, &f, &sale).await;
    assert_eq!(ws.len(), 2);
    assert_eq!(ws[0]["months"], 12);
    assert_eq!(ws[1]["months"], 3);
    // The customer's warranties, and the detail with today's eligibility.
    let mine = app
        .session(&f.s.owner)
        .get(&format!("/pos/api/customers/{}/warranties", f.customer))
        .await;
    assert_eq!(mine.json["total"], 3, "{}", mine.text());
    let d = app
        .session(&f.s.owner)
        .get(&format!("/pos/api/warranties/{}", id(&ws[1])))
        .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text());
    assert_eq!(d.json["eligibility"]["eligible"], true);
    let expiring = app
        .session(&f.s.owner)
        .get("/pos/api/warranties?expiring_within_days=100")
        .await;
    assert_eq!(expiring.json["total"], 1, "{}", expiring.text());
}

async fn a_policy_changed_after_the_sale_does_not_change_the_warranty(app: TestApp) {
    let f = shop(&app, "gar-change").await;
    let p = policy(
        &app,
        &f,
        json!({"item_id": f.a, "months": 12, "km": 20000, "coverage": "parts", "starts_on": "sale", "supplier_months": 6}),
    )
    .await;
    let sale = sell(&app, &f, &[(f.a, 1)], "450.00").await;
    let before = warranties_of(&app, &f, &sale).await;
    let r = app
        .session(&f.s.owner)
        .put(
            &format!("/pos/api/warranty-policies/{}", id(&p)),
            json!({"months": 1, "coverage": "parts_labor", "starts_on": "installation"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .session(&f.s.owner)
        .delete(&format!("/pos/api/warranty-policies/{}", id(&p)))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let after = warranties_of(&app, &f, &sale).await;
    assert_eq!(before, after);
    assert_eq!(after[0]["months"], 12);
    assert_eq!(after[0]["coverage"], "parts");
    assert_eq!(after[0]["supplier_months"], 6);
}

async fn eligibility_through_the_api_holds_on_the_last_day_and_at_exactly_the_km(app: TestApp) {
    let f = shop(&app, "gar-elig").await;
    // No policy: the line gets its warranty by hand, with km and the odometer at installation.
    let sale = sell(&app, &f, &[(f.a, 1), (f.b, 1)], "573.50").await;
    let sale_id = sale["id"].as_str().unwrap();
    let r = app
        .session(&f.s.owner)
        .post(
            "/pos/api/warranties",
            json!({"sale_id": sale_id, "line_no": 1, "odometer": 50000, "months": 6, "km": 20000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let w = id(&r.json);
    assert_eq!(r.json["odometer_at_install"], 50000);
    // Asked before a claim: exactly the km is covered, one more is not, backwards is a 422.
    let owner = app.session(&f.s.owner);
    let path = |o: i64| format!("/pos/api/warranties/{w}?odometer={o}");
    let r = owner.get(&path(70000)).await;
    assert_eq!(r.json["eligibility"]["eligible"], true, "{}", r.text());
    assert_eq!(r.json["eligibility"]["km_driven"], 20000);
    let r = owner.get(&path(70001)).await;
    assert_eq!(
        r.json["eligibility"]["failed"],
        json!(["km_exceeded"]),
        "{}",
        r.text()
    );
    let r = owner.get(&path(49999)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "odometer");
    // The claims: exactly the km: covered; one more: not; backwards or missing: 422 on the
    // odometer.
    let r = open_claim(&app, &f, w, json!({"odometer": 70000})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["eligible"], true);
    let r = open_claim(&app, &f, w, json!({"odometer": 70001})).await;
    assert_eq!(r.json["eligible"], false, "{}", r.text());
    assert_eq!(r.json["failed"], json!(["km_exceeded"]));
    for body in [json!({"odometer": 49999}), json!({})] {
        let r = open_claim(&app, &f, w, body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text()
        );
        assert_eq!(r.json["error"]["field"], "odometer");
    }
    // The last day covered, then the day after.
    ends_in(&f, w, 0).await;
    let r = open_claim(&app, &f, w, json!({"odometer": 60000})).await;
    assert_eq!(r.json["eligible"], true, "{}", r.text());
    ends_in(&f, w, -1).await;
    let r = open_claim(&app, &f, w, json!({"odometer": 60000})).await;
    assert_eq!(r.json["eligible"], false, "{}", r.text());
    assert_eq!(r.json["failed"], json!(["expired"]));
    let d = app
        .session(&f.s.owner)
        .get(&format!("/pos/api/warranties/{w}"))
        .await;
    assert_eq!(d.json["status"], "expired");
    assert_eq!(d.json["eligibility"]["failed"], json!(["expired"]));
    // Bad claims name their field and write nothing.
    let before = app
        .session(&f.s.owner)
        .get("/pos/api/warranty-claims")
        .await;
    let r = open_claim(&app, &f, w, json!({"complaint": "  ", "odometer": 60000})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "complaint");
    let r = open_claim(&app, &f, w, json!({"qty": 2, "odometer": 60000})).await;
    assert_eq!(r.json["error"]["field"], "qty", "{}", r.text());
    let after = app
        .session(&f.s.owner)
        .get("/pos/api/warranty-claims")
        .await;
    assert_eq!(before.json["total"], after.json["total"]);
}

async fn a_warranty_registered_by_hand_needs_a_manager_to_change_its_terms(app: TestApp) {
    let f = shop(&app, "gar-hand").await;
    let sale = sell(&app, &f, &[(f.a, 1)], "450.00").await;
    let sale_id = sale["id"].as_str().unwrap();
    let cashier = f.s.token(&app, entities::Role::Cashier).await;
    let c = app.session(&cashier);
    // No policy and no months: nothing to copy.
    let r = c
        .post(
            "/pos/api/warranties",
            json!({"sale_id": sale_id, "line_no": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "no_warranty_policy");
    let r = c
        .post(
            "/pos/api/warranties",
            json!({"sale_id": sale_id, "line_no": 1, "months": 3}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = c
        .post(
            "/pos/api/warranties",
            json!({"sale_id": sale_id, "line_no": 9}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "line_no");
    policy(
        &app,
        &f,
        json!({"item_id": f.a, "months": 12, "coverage": "parts", "starts_on": "sale"}),
    )
    .await;
    let r = c
        .post(
            "/pos/api/warranties",
            json!({"sale_id": sale_id, "line_no": 1, "odometer": 1000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["months"], 12);
    let r = c
        .post(
            "/pos/api/warranties",
            json!({"sale_id": sale_id, "line_no": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "warranty_exists");
}

async fn one_expiring_event_is_recorded_per_warranty_exactly_n_days_before_its_end(app: TestApp) {
    let f = shop(&app, "gar-expiring").await;
    policy(
        &app,
        &f,
        json!({"brand": "ACME", "months": 12, "coverage": "parts", "starts_on": "sale"}),
    )
    .await;
    let sale = sell(&app, &f, &[(f.a, 1), (f.b, 1)], "573.50").await;
    let ws = warranties_of(&app, &f, &sale).await;
    let r = app
        .session(&f.s.owner)
        .put(
            "/pos/api/warranty-settings",
            json!({"expiring_notice_days": 10}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .session(&f.s.owner)
        .put(
            "/pos/api/warranty-settings",
            json!({"expiring_notice_days": 0}),
        )
        .await;
    assert_eq!(
        r.json["error"]["field"],
        "expiring_notice_days",
        "{}",
        r.text()
    );
    ends_in(&f, id(&ws[0]), 10).await;
    ends_in(&f, id(&ws[1]), 9).await;
    let _jobs = app.drive_jobs(crate::purchasing::runtime(&app));
    let fired = schedules::Scheduler::new(
        app.app.platform.clone(),
        app.app.tenants.clone(),
        app.app.waker.clone(),
        jobs::maintenance::Retention::default(),
    )
    .fire(schedules::Schedule::WarrantyExpiring, entities::now())
    .await
    .unwrap();
    assert!(fired.claimed && fired.failed.is_empty(), "{fired:?}");
    app.run_jobs().await;
    let evs = events::of_kind(&f.s.db, events::WARRANTY_EXPIRING)
        .await
        .unwrap();
    assert_eq!(evs.len(), 1, "{evs:?}");
    assert_eq!(evs[0].ref_id, ws[0]["id"].as_str().unwrap());
    assert_eq!(evs[0].payload["customer_id"], f.customer.to_string());
    // Another run the same day records nothing again.
    let n = expiring::record_due(&f.s.db, entities::today())
        .await
        .unwrap();
    assert_eq!(n, 0);
    assert_eq!(
        events::of_kind(&f.s.db, events::WARRANTY_EXPIRING)
            .await
            .unwrap()
            .len(),
        1
    );
}
