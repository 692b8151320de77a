//! Warranty policies: created per item or brand by managers, read by everyone, refused with
//! the field named when bad, and never two for one item or brand.

use entities::Role;
use http::StatusCode;
use serde_json::json;
use tests::{TestApp, shape_tests};

use super::{id, policy, shop};

shape_tests!(
    a_manager_sets_policies_per_item_and_brand_and_everyone_reads_them,
    bad_policies_are_refused_naming_the_field_and_nothing_is_written,
    a_cashier_cannot_set_a_policy,
);

async fn a_manager_sets_policies_per_item_and_brand_and_everyone_reads_them(app: TestApp) {
    let f = shop(&app, "gar-pol").await;
    let p = policy(
        &app,
        &f,
        json!({"item_id": f.a, "months": 12, "km": 20000, "coverage": "parts_labor", "starts_on": "installation", "supplier_months": 6, "supplier_km": 10000, "terms": "Garantía contra defectos de fabricación."}),
    )
    .await;
    assert_eq!(p["months"], 12);
    assert_eq!(p["km"], 20000);
    assert_eq!(p["coverage"], "parts_labor");
    assert_eq!(p["starts_on"], "installation");
    let b = policy(
        &app,
        &f,
        json!({"brand": "Acme", "months": 6, "coverage": "parts", "starts_on": "sale"}),
    )
    .await;
    assert_eq!(b["brand"], "Acme");
    let viewer = f.s.token(&app, Role::Viewer).await;
    let v = app.session(&viewer);
    let all = v.get("/pos/api/warranty-policies").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text());
    assert_eq!(all.json["total"], 2);
    let by_brand = v.get("/pos/api/warranty-policies?brand=ACME").await;
    assert_eq!(by_brand.json["total"], 1);
    assert_eq!(by_brand.json["items"][0]["id"], b["id"]);
    // A second policy of the same brand, in another case, is the same brand.
    let r = app
        .session(&f.s.owner)
        .post(
            "/pos/api/warranty-policies",
            json!({"brand": "ACME", "months": 3, "coverage": "parts", "starts_on": "sale"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "warranty_policy_exists");
    let owner = app.session(&f.s.owner);
    let r = owner
        .put(
            &format!("/pos/api/warranty-policies/{}", id(&p)),
            json!({"months": 24, "coverage": "parts", "starts_on": "sale"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["months"], 24);
    assert!(r.json["km"].is_null());
    let r = owner
        .delete(&format!("/pos/api/warranty-policies/{}", id(&b)))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let r = owner
        .get(&format!("/pos/api/warranty-policies/{}", id(&b)))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn bad_policies_are_refused_naming_the_field_and_nothing_is_written(app: TestApp) {
    let f = shop(&app, "gar-polbad").await;
    let owner = app.session(&f.s.owner);
    let cases = [
        (
            json!({"item_id": f.a, "months": 0, "coverage": "parts", "starts_on": "sale"}),
            "months",
        ),
        (
            json!({"item_id": f.a, "months": 121, "coverage": "parts", "starts_on": "sale"}),
            "months",
        ),
        (
            json!({"item_id": f.a, "months": 12, "coverage": "everything", "starts_on": "sale"}),
            "coverage",
        ),
        (
            json!({"item_id": f.a, "months": 12, "coverage": "parts", "starts_on": "never"}),
            "starts_on",
        ),
        (
            json!({"item_id": f.a, "months": 12, "km": 0, "coverage": "parts", "starts_on": "sale"}),
            "km",
        ),
        (
            json!({"item_id": f.a, "brand": "ACME", "months": 12, "coverage": "parts", "starts_on": "sale"}),
            "brand",
        ),
        (
            json!({"months": 12, "coverage": "parts", "starts_on": "sale"}),
            "item_id",
        ),
        (
            json!({"item_id": f.a, "months": 12, "supplier_months": 0, "coverage": "parts", "starts_on": "sale"}),
            "supplier_months",
        ),
    ];
    for (body, field) in cases {
        let r = owner.post("/pos/api/warranty-policies", body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text()
        );
        assert_eq!(r.json["error"]["field"], field, "{body}: {}", r.text());
    }
    let r = owner
        .post(
            "/pos/api/warranty-policies",
            json!({"item_id": uuid::Uuid::now_v7(), "months": 12, "coverage": "parts", "starts_on": "sale"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    assert_eq!(r.code(), "item_not_found");
    let all = owner.get("/pos/api/warranty-policies").await;
    assert_eq!(all.json["total"], 0, "{}", all.text());
}

async fn a_cashier_cannot_set_a_policy(app: TestApp) {
    let f = shop(&app, "gar-polrole").await;
    let cashier = f.s.token(&app, Role::Cashier).await;
    let r = app
        .session(&cashier)
        .post(
            "/pos/api/warranty-policies",
            json!({"item_id": f.a, "months": 12, "coverage": "parts", "starts_on": "sale"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = app
        .session(&cashier)
        .get("/pos/api/warranty-policies")
        .await;
    assert_eq!(r.json["total"], 0);
}
