//! Claims to suppliers: opened from an approved claim while the supplier's warranty covers it,
//! taken through `sent`, `accepted` and `credited` (or `rejected`), refused out of order or
//! after the supplier's warranty, and the per-supplier report of what has not come back.

use http::StatusCode;
use serde_json::{Value, json};
use tests::{TestApp, shape_tests};
use uuid::Uuid;

use super::{approved_claim, claim_step, id, open_claim, sell, shop, warranties_of};

shape_tests!(
    a_warranty_names_the_supplier_of_the_last_receipt_and_its_claim_goes_there,
    a_supplier_claim_goes_from_draft_to_credited_and_the_report_follows,
    a_supplier_claim_is_refused_past_the_supplier_warranty_or_before_approval,
);

async fn supplier(app: &TestApp, token: &str, name: &str) -> Uuid {
    let r = app
        .session(token)
        .post("/pos/api/suppliers", json!({"name": name}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    id(&r.json)
}

async fn sc_step(
    app: &TestApp,
    token: &str,
    sc: Uuid,
    step: &str,
    body: Value,
) -> tests::TestResponse {
    app.session(token)
        .put(&format!("/pos/api/supplier-claims/{sc}/{step}"), body)
        .await
}

async fn a_supplier_claim_goes_from_draft_to_credited_and_the_report_follows(app: TestApp) {
    let f = shop(&app, "gar-supp").await;
    let prov = supplier(&app, &f.s.owner, "Frenos del Bajío").await;
    let (_sale, _w, c) = approved_claim(&app, &f).await;
    // Approved and not yet claimed: the report names it, at the unit's cost, with no supplier
    // (the item was never received from one).
    let rep = app
        .session(&f.s.owner)
        .get("/pos/api/supplier-claims/unrecovered")
        .await;
    assert_eq!(rep.status, StatusCode::OK, "{}", rep.text());
    assert_eq!(
        rep.json[0]["claims"][0]["reason"],
        "not_claimed",
        "{}",
        rep.text()
    );
    assert_eq!(rep.json[0]["total"], "225.00");
    // Without a supplier on the warranty, one must be named.
    let r = app
        .session(&f.s.owner)
        .post("/pos/api/supplier-claims", json!({"warranty_claim_id": c}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "supplier_id");
    let r = app
        .session(&f.s.owner)
        .post(
            "/pos/api/supplier-claims",
            json!({"warranty_claim_id": c, "supplier_id": prov}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["status"], "draft");
    assert_eq!(
        r.json["expected_credit"], "225.00",
        "the unit cost by default"
    );
    assert!(r.json["folio"].as_str().unwrap().starts_with("RP-"));
    let sc = id(&r.json);
    let r = app
        .session(&f.s.owner)
        .post(
            "/pos/api/supplier-claims",
            json!({"warranty_claim_id": c, "supplier_id": prov}),
        )
        .await;
    assert_eq!(r.code(), "supplier_claim_exists", "{}", r.text());
    // Out of order.
    let r = sc_step(&app, &f.s.owner, sc, "credit", json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "invalid_transition");
    let r = sc_step(&app, &f.s.owner, sc, "send", json!({})).await;
    assert_eq!(r.json["status"], "sent", "{}", r.text());
    let r = sc_step(&app, &f.s.owner, sc, "accept", json!({})).await;
    assert_eq!(r.json["status"], "accepted", "{}", r.text());
    let rep = app
        .session(&f.s.owner)
        .get("/pos/api/supplier-claims/unrecovered")
        .await;
    assert_eq!(
        rep.json[0]["supplier_id"],
        prov.to_string(),
        "{}",
        rep.text()
    );
    assert_eq!(rep.json[0]["supplier_name"], "Frenos del Bajío");
    assert_eq!(rep.json[0]["claims"][0]["reason"], "awaiting_credit");
    let r = sc_step(
        &app,
        &f.s.owner,
        sc,
        "credit",
        json!({"credited": "200.00"}),
    )
    .await;
    assert_eq!(r.json["status"], "credited", "{}", r.text());
    assert_eq!(r.json["credited"], "200.00");
    let hist: Vec<&str> = r.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["to"].as_str().unwrap())
        .collect();
    assert_eq!(hist, ["draft", "sent", "accepted", "credited"]);
    let rep = app
        .session(&f.s.owner)
        .get("/pos/api/supplier-claims/unrecovered")
        .await;
    assert_eq!(rep.json, json!([]), "{}", rep.text());
    // A second claim the supplier refuses stays unrecovered.
    let sale = sell(&app, &f, &[(f.a, 1)], "450.00").await;
    let w = id(&warranties_of(&app, &f, &sale).await[0]);
    let c2 = id(&open_claim(&app, &f, w, json!({})).await.json);
    claim_step(&app, &f.s.owner, c2, "inspect", json!({})).await;
    claim_step(&app, &f.s.owner, c2, "approve", json!({})).await;
    let r = app
        .session(&f.s.owner)
        .post(
            "/pos/api/supplier-claims",
            json!({"warranty_claim_id": c2, "supplier_id": prov, "expected_credit": "300.00"}),
        )
        .await;
    let sc2 = id(&r.json);
    sc_step(&app, &f.s.owner, sc2, "send", json!({})).await;
    let r = sc_step(&app, &f.s.owner, sc2, "reject", json!({})).await;
    assert_eq!(r.json["error"]["field"], "note", "{}", r.text());
    let r = sc_step(
        &app,
        &f.s.owner,
        sc2,
        "reject",
        json!({"note": "mal instalado"}),
    )
    .await;
    assert_eq!(r.json["status"], "rejected", "{}", r.text());
    let rep = app
        .session(&f.s.owner)
        .get("/pos/api/supplier-claims/unrecovered")
        .await;
    assert_eq!(
        rep.json[0]["claims"][0]["reason"],
        "rejected",
        "{}",
        rep.text()
    );
    assert_eq!(rep.json[0]["total"], "300.00");
    // A cashier reads but does not write.
    let cashier = f.s.token(&app, entities::Role::Cashier).await;
    let r = sc_step(&app, &cashier, sc2, "send", json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.session(&cashier).get("/pos/api/supplier-claims").await;
    assert_eq!(r.json["total"], 2, "{}", r.text());
}

async fn a_supplier_claim_is_refused_past_the_supplier_warranty_or_before_approval(app: TestApp) {
    let f = shop(&app, "gar-suppexp").await;
    let prov = supplier(&app, &f.s.owner, "Frenos del Bajío").await;
    let (_sale, w, c) = approved_claim(&app, &f).await;
    // A claim still open cannot go to the supplier.
    let open = id(&open_claim(&app, &f, w, json!({})).await.json);
    let r = app
        .session(&f.s.owner)
        .post(
            "/pos/api/supplier-claims",
            json!({"warranty_claim_id": open, "supplier_id": prov}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "claim_not_approved");
    // The supplier's six months ended before the customer claimed.
    let start = entities::today() - chrono::Duration::days(200);
    let db = &f.s.db;
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    let m = entities::warranties::tables::warranty::Entity::find_by_id(w)
        .one(db)
        .await
        .unwrap()
        .unwrap();
    let mut am: entities::warranties::tables::warranty::ActiveModel = m.into();
    am.starts_at = Set(start);
    am.update(db).await.unwrap();
    let r = app
        .session(&f.s.owner)
        .post(
            "/pos/api/supplier-claims",
            json!({"warranty_claim_id": c, "supplier_id": prov}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "supplier_warranty_expired");
    let r = app
        .session(&f.s.owner)
        .get("/pos/api/supplier-claims")
        .await;
    assert_eq!(r.json["total"], 0);
}

async fn a_warranty_names_the_supplier_of_the_last_receipt_and_its_claim_goes_there(app: TestApp) {
    let f = shop(&app, "gar-lastrec").await;
    let first = supplier(&app, &f.s.owner, "Primero").await;
    let last = supplier(&app, &f.s.owner, "Último").await;
    for prov in [first, last] {
        let s = app.session(&f.s.owner);
        let r = s
            .post(
                "/pos/api/purchase-orders",
                json!({"supplier_id": prov, "warehouse_id": f.s.wh, "lines": [{"item_id": f.a, "qty": 2, "unit_cost": "200.00"}]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let po = id(&r.json);
        let line = crate::purchasing::line_ids(&r.json)[0];
        let r = s
            .post(&format!("/pos/api/purchase-orders/{po}/send"), json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let r = s
            .post(
                &format!("/pos/api/purchase-orders/{po}/receipts"),
                json!({"lines": [{"line_id": line, "qty": 2}]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let (_sale, w, c) = approved_claim(&app, &f).await;
    let got = app
        .session(&f.s.owner)
        .get(&format!("/pos/api/warranties/{w}"))
        .await;
    assert_eq!(got.json["supplier_id"], last.to_string(), "{}", got.text());
    let r = app
        .session(&f.s.owner)
        .post("/pos/api/supplier-claims", json!({"warranty_claim_id": c}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["supplier_id"], last.to_string());
}
