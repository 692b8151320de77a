//! Customers' claims: every step and a forbidden one, the history, a replacement (stock out,
//! quarantine in, ledger equal to balances; refused without stock, changing nothing; the
//! quarantine never sells), a refund (store credit when not invoiced; a type E credit note when
//! invoiced), a repair, an ineligible claim approved only by a manager with a reason, and a
//! viewer who cannot open one.

use entities::Role;
use entities::inventory::movements;
use entities::org::tables::warehouse;
use http::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use tests::cfdi::{Paid, cents, invoice_when, workers_on};
use tests::fakes::facturapi::FacturapiFake;
use tests::{TestApp, shape_tests};

use super::{
    approved_claim, claim_step, ends_in, id, open_claim, policy, sell, shop, warranties_of,
};

shape_tests!(
    a_claim_goes_through_every_step_and_keeps_its_history,
    a_step_out_of_order_is_refused_with_invalid_transition,
    a_replacement_moves_a_unit_out_of_stock_and_the_failed_one_into_quarantine,
    a_replacement_without_stock_is_refused_and_changes_nothing,
    two_resolutions_of_one_claim_at_once_move_stock_once,
    a_refund_of_a_sale_not_invoiced_goes_back_as_store_credit,
    a_refund_of_an_invoiced_line_issues_a_type_e_credit_note,
    an_ineligible_claim_is_approved_only_by_a_manager_with_a_reason,
    a_viewer_cannot_open_a_claim,
);

async fn a_claim_goes_through_every_step_and_keeps_its_history(app: TestApp) {
    let f = shop(&app, "gar-steps").await;
    policy(
        &app,
        &f,
        json!({"item_id": f.a, "months": 12, "coverage": "parts", "starts_on": "sale"}),
    )
    .await;
    let sale = sell(&app, &f, &[(f.a, 1)], "450.00").await;
    let w = id(&warranties_of(&app, &f, &sale).await[0]);
    let cashier = f.s.token(&app, Role::Cashier).await;
    let r = app
        .session(&cashier)
        .post(
            "/pos/api/warranty-claims",
            json!({"warranty_id": w, "complaint": "no carga"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["status"], "open");
    assert_eq!(r.json["eligible"], true);
    assert!(r.json["folio"].as_str().unwrap().starts_with("GA-"));
    let c = id(&r.json);
    let r = claim_step(&app, &cashier, c, "inspect", json!({})).await;
    assert_eq!(r.json["status"], "inspecting", "{}", r.text());
    let r = claim_step(&app, &cashier, c, "approve", json!({})).await;
    assert_eq!(r.json["status"], "approved", "{}", r.text());
    let r = claim_step(
        &app,
        &cashier,
        c,
        "resolve",
        json!({"resolution": "repair", "notes": "se cambió el regulador"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["status"], "resolved");
    assert_eq!(r.json["resolution"], "repair");
    let r = claim_step(&app, &cashier, c, "close", json!({})).await;
    assert_eq!(r.json["status"], "closed", "{}", r.text());
    let got = app
        .session(&f.s.owner)
        .get(&format!("/pos/api/warranty-claims/{c}"))
        .await;
    let steps: Vec<(serde_json::Value, serde_json::Value)> = got.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["from"].clone(), e["to"].clone()))
        .collect();
    assert_eq!(
        steps,
        vec![
            (json!(null), json!("open")),
            (json!("open"), json!("inspecting")),
            (json!("inspecting"), json!("approved")),
            (json!("approved"), json!("resolved")),
            (json!("resolved"), json!("closed")),
        ]
    );
    assert!(got.json["events"][0]["actor"].is_string());
    // A rejected claim needs its reason and closes directly.
    let r = open_claim(&app, &f, w, json!({})).await;
    let c2 = id(&r.json);
    claim_step(&app, &f.s.owner, c2, "inspect", json!({})).await;
    let r = claim_step(&app, &f.s.owner, c2, "reject", json!({})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "reason");
    let r = claim_step(
        &app,
        &f.s.owner,
        c2,
        "reject",
        json!({"reason": "golpe, no defecto"}),
    )
    .await;
    assert_eq!(r.json["status"], "rejected", "{}", r.text());
    assert_eq!(r.json["decision_reason"], "golpe, no defecto");
    let r = claim_step(&app, &f.s.owner, c2, "close", json!({})).await;
    assert_eq!(r.json["status"], "closed", "{}", r.text());
    let list = app
        .session(&f.s.owner)
        .get(&format!(
            "/pos/api/warranty-claims?status=closed&item_id={}",
            f.a
        ))
        .await;
    assert_eq!(list.json["total"], 2, "{}", list.text());
}

async fn a_step_out_of_order_is_refused_with_invalid_transition(app: TestApp) {
    let f = shop(&app, "gar-order").await;
    policy(
        &app,
        &f,
        json!({"item_id": f.a, "months": 12, "coverage": "parts", "starts_on": "sale"}),
    )
    .await;
    let sale = sell(&app, &f, &[(f.a, 1)], "450.00").await;
    let w = id(&warranties_of(&app, &f, &sale).await[0]);
    let c = id(&open_claim(&app, &f, w, json!({})).await.json);
    for (step, body) in [
        ("approve", json!({})),
        ("reject", json!({"reason": "x"})),
        ("close", json!({})),
        ("resolve", json!({"resolution": "repair", "notes": "x"})),
    ] {
        let r = claim_step(&app, &f.s.owner, c, step, body).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{step}: {}", r.text());
        assert_eq!(r.code(), "invalid_transition", "{step}");
    }
    claim_step(&app, &f.s.owner, c, "inspect", json!({})).await;
    let r = claim_step(&app, &f.s.owner, c, "inspect", json!({})).await;
    assert_eq!(r.code(), "invalid_transition");
    let got = app
        .session(&f.s.owner)
        .get(&format!("/pos/api/warranty-claims/{c}"))
        .await;
    assert_eq!(got.json["status"], "inspecting");
    assert_eq!(got.json["events"].as_array().unwrap().len(), 2);
}

async fn quarantine_of(f: &tests::cfdi::FiscalShop) -> Option<warehouse::Model> {
    warehouse::Entity::find()
        .filter(warehouse::Column::BranchId.eq(f.s.branch))
        .filter(warehouse::Column::Kind.eq(warehouse::Kind::Quarantine))
        .one(&f.s.db)
        .await
        .unwrap()
}

async fn a_replacement_moves_a_unit_out_of_stock_and_the_failed_one_into_quarantine(app: TestApp) {
    let f = shop(&app, "gar-replace").await;
    let (_sale, _w, c) = approved_claim(&app, &f).await;
    assert_eq!(f.s.on_hand(f.a, f.s.wh).await, 99);
    let cashier = f.s.token(&app, Role::Cashier).await;
    let r = claim_step(
        &app,
        &cashier,
        c,
        "resolve",
        json!({"resolution": "replace"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["resolution"], "replace");
    assert_eq!(r.json["replacement_warehouse_id"], f.s.wh.to_string());
    let q = quarantine_of(&f).await.expect("a quarantine warehouse");
    assert!(q.code.ends_with("-GAR"), "{}", q.code);
    assert_eq!(r.json["quarantine_warehouse_id"], q.id.to_string());
    assert_eq!(f.s.on_hand(f.a, f.s.wh).await, 98);
    assert_eq!(f.s.on_hand(f.a, q.id).await, 1);
    assert_eq!(f.s.ledger_sum(f.a, q.id).await, 1);
    assert!(movements::reconcile(&f.s.db).await.unwrap().is_empty());
    // Nothing is sold from quarantine.
    let r = app
        .session(&f.s.owner)
        .post(
            "/pos/api/sales",
            json!({"branch_id": f.s.branch, "lines": [{"item_id": f.a, "warehouse_id": q.id, "qty": 1}],
                   "payments": [{"method": "card", "amount": "450.00"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "warehouse_not_for_sale");
    assert_eq!(f.s.on_hand(f.a, q.id).await, 1);
}

async fn a_replacement_without_stock_is_refused_and_changes_nothing(app: TestApp) {
    let f = shop(&app, "gar-nostock").await;
    let (_sale, _w, c) = approved_claim(&app, &f).await;
    // Everything left goes out first.
    f.s.stock(f.a, f.s.wh, -99).await;
    assert_eq!(f.s.on_hand(f.a, f.s.wh).await, 0);
    let r = claim_step(
        &app,
        &f.s.owner,
        c,
        "resolve",
        json!({"resolution": "replace"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "insufficient_stock");
    assert_eq!(f.s.on_hand(f.a, f.s.wh).await, 0);
    assert!(quarantine_of(&f).await.is_none());
    let got = app
        .session(&f.s.owner)
        .get(&format!("/pos/api/warranty-claims/{c}"))
        .await;
    assert_eq!(got.json["status"], "approved");
    assert!(movements::reconcile(&f.s.db).await.unwrap().is_empty());
    // A warehouse of another branch is not where the sale's replacement comes from.
    let r = claim_step(
        &app,
        &f.s.owner,
        c,
        "resolve",
        json!({"resolution": "replace", "warehouse_id": f.s.border_wh}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "warehouse_id");
    let r = claim_step(
        &app,
        &f.s.owner,
        c,
        "resolve",
        json!({"resolution": "swap"}),
    )
    .await;
    assert_eq!(r.json["error"]["field"], "resolution", "{}", r.text());
}

async fn a_refund_of_a_sale_not_invoiced_goes_back_as_store_credit(app: TestApp) {
    let f = shop(&app, "gar-refund").await;
    let (sale, _w, c) = approved_claim(&app, &f).await;
    // A cashier cannot give money back (returns need a manager).
    let cashier = f.s.token(&app, Role::Cashier).await;
    let r = claim_step(
        &app,
        &cashier,
        c,
        "resolve",
        json!({"resolution": "refund"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = claim_step(
        &app,
        &f.s.owner,
        c,
        "resolve",
        json!({"resolution": "refund", "refund_method": "store_credit"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["resolution"], "refund");
    assert!(r.json["sale_return_id"].is_string());
    assert!(r.json["credit_note_id"].is_null());
    let cust = app
        .session(&f.s.owner)
        .get(&format!("/pos/api/customers/{}", f.customer))
        .await;
    assert_eq!(cust.json["store_credit"], "450.00", "{}", cust.text());
    let q = quarantine_of(&f).await.expect("quarantine");
    // The unit came back from the customer and went on to quarantine, not to the shelf.
    assert_eq!(f.s.on_hand(f.a, f.s.wh).await, 99);
    assert_eq!(f.s.on_hand(f.a, q.id).await, 1);
    assert!(movements::reconcile(&f.s.db).await.unwrap().is_empty());
    let s = app
        .session(&f.s.owner)
        .get(&format!("/pos/api/sales/{}", sale["id"].as_str().unwrap()))
        .await;
    assert_eq!(s.json["status"], "returned", "{}", s.text());
    assert!(f.invoices_of_kind("E").await.is_empty());
}

async fn a_refund_of_an_invoiced_line_issues_a_type_e_credit_note(app: TestApp) {
    let fake = FacturapiFake::start().await;
    let f = shop(&app, "gar-cfdi").await;
    policy(
        &app,
        &f,
        json!({"brand": "ACME", "months": 12, "coverage": "parts", "starts_on": "sale"}),
    )
    .await;
    let sale = f.sell_paid(&app, Paid::Card).await;
    let inv = f.invoice(&app, &sale).await;
    let _w = workers_on(&app, &fake);
    invoice_when(&app, &f.s.owner, &inv, "valid").await;
    let r = app
        .session(&f.s.owner)
        .get(&format!("/pos/api/warranties?sale_id={sale}"))
        .await;
    let w = r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["sale_line_no"] == 1)
        .map(id)
        .expect("line 1's warranty");
    let c = id(&open_claim(&app, &f, w, json!({})).await.json);
    claim_step(&app, &f.s.owner, c, "inspect", json!({})).await;
    claim_step(&app, &f.s.owner, c, "approve", json!({})).await;
    let r = claim_step(
        &app,
        &f.s.owner,
        c,
        "resolve",
        json!({"resolution": "refund"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let note = r.json["credit_note_id"]
        .as_str()
        .expect("a credit note")
        .to_owned();
    let v = invoice_when(&app, &f.s.owner, &note, "valid").await;
    assert_eq!(v["kind"], "E");
    assert_eq!(cents(&v["total"]), 45_000, "one unit of line 1");
    assert_eq!(fake.stamp_count(&note), 1);
    let es = f.invoices_of_kind("E").await;
    assert_eq!(es.len(), 1);
    assert!(movements::reconcile(&f.s.db).await.unwrap().is_empty());
}

async fn an_ineligible_claim_is_approved_only_by_a_manager_with_a_reason(app: TestApp) {
    let f = shop(&app, "gar-inelig").await;
    policy(
        &app,
        &f,
        json!({"item_id": f.a, "months": 1, "coverage": "parts", "starts_on": "sale"}),
    )
    .await;
    let sale = sell(&app, &f, &[(f.a, 1)], "450.00").await;
    let w = id(&warranties_of(&app, &f, &sale).await[0]);
    ends_in(&f, w, -1).await;
    let r = open_claim(&app, &f, w, json!({})).await;
    assert_eq!(r.json["eligible"], false, "{}", r.text());
    let c = id(&r.json);
    claim_step(&app, &f.s.owner, c, "inspect", json!({})).await;
    let cashier = f.s.token(&app, Role::Cashier).await;
    let r = claim_step(
        &app,
        &cashier,
        c,
        "approve",
        json!({"reason": "buen cliente"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = claim_step(&app, &f.s.owner, c, "approve", json!({})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "reason");
    let r = claim_step(
        &app,
        &f.s.owner,
        c,
        "approve",
        json!({"reason": "buen cliente, un día tarde"}),
    )
    .await;
    assert_eq!(r.json["status"], "approved", "{}", r.text());
    assert_eq!(r.json["decision_reason"], "buen cliente, un día tarde");
}

async fn a_viewer_cannot_open_a_claim(app: TestApp) {
    let f = shop(&app, "gar-viewer").await;
    policy(
        &app,
        &f,
        json!({"item_id": f.a, "months": 12, "coverage": "parts", "starts_on": "sale"}),
    )
    .await;
    let sale = sell(&app, &f, &[(f.a, 1)], "450.00").await;
    let w = id(&warranties_of(&app, &f, &sale).await[0]);
    let viewer = f.s.token(&app, Role::Viewer).await;
    let v = app.session(&viewer);
    let r = v
        .post(
            "/pos/api/warranty-claims",
            json!({"warranty_id": w, "complaint": "no sirve"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = v.get("/pos/api/warranty-claims").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["total"], 0);
}

async fn two_resolutions_of_one_claim_at_once_move_stock_once(app: TestApp) {
    let f = shop(&app, "gar-race").await;
    let (_sale, _w, c) = approved_claim(&app, &f).await;
    let body = json!({"resolution": "replace"});
    let (r1, r2) = tokio::join!(
        claim_step(&app, &f.s.owner, c, "resolve", body.clone()),
        claim_step(&app, &f.s.owner, c, "resolve", body.clone()),
    );
    let mut statuses = [r1.status, r2.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{} / {}",
        r1.text(),
        r2.text()
    );
    let refused = if r1.status == StatusCode::CONFLICT {
        &r1
    } else {
        &r2
    };
    assert_eq!(refused.code(), "invalid_transition", "{}", refused.text());
    assert_eq!(f.s.on_hand(f.a, f.s.wh).await, 98);
    let q = quarantine_of(&f).await.expect("quarantine");
    assert_eq!(f.s.on_hand(f.a, q.id).await, 1);
    assert!(movements::reconcile(&f.s.db).await.unwrap().is_empty());
}
