//! Special orders: the deposit as store credit, the part on the supplier's next order, held for
//! the customer on receipt (reserved for reorder, an event for the notifications area), picked
//! up; cancelling keeps the deposit; overdue ones are listed.

use entities::notifications::events;
use http::StatusCode;
use serde_json::json;
use tests::{TestApp, shape_tests};

use super::{buying, id, line_ids, receive, step};

shape_tests!(
    a_special_order_goes_on_the_next_order_and_is_held_for_the_customer_on_receipt,
    a_cancelled_purchase_order_sends_its_special_orders_back_to_open,
    bad_special_orders_are_refused_and_take_no_deposit,
);

async fn customer(app: &TestApp, token: &str) -> uuid::Uuid {
    let r = app
        .session(token)
        .post(
            "/pos/api/customers",
            json!({"name": "Taller Hermanos Garza"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    id(&r.json)
}

async fn a_special_order_goes_on_the_next_order_and_is_held_for_the_customer_on_receipt(
    app: TestApp,
) {
    let b = buying(&app, "especial").await;
    let db = app.tenant_db(&b.f.t).await;
    let c = customer(&app, b.token()).await;
    let s = app.session(b.token());
    let r = s
        .post("/pos/api/special-orders", json!({"customer_id": c, "item_id": b.items[0], "warehouse_id": b.wh(), "qty": 2, "deposit": "500.00", "deposit_method": "card", "supplier_id": b.supplier}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let so = id(&r.json);
    assert_eq!(r.json["status"], "ordered");
    assert!(r.json["folio"].as_str().unwrap().starts_with("PE-"));
    let po = r.json["purchase_order_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // The deposit is the customer's store credit.
    let acct = s
        .get(&format!("/pos/api/customers/{c}/account/entries"))
        .await;
    assert!(acct.text().contains("\"deposit\""), "{}", acct.text());
    let cust = s.get(&format!("/pos/api/customers/{c}")).await;
    assert_eq!(cust.json["store_credit"], "500.00", "{}", cust.text());
    // A second special order of the same supplier joins the same draft.
    let r2 = s
        .post("/pos/api/special-orders", json!({"customer_id": c, "item_id": b.items[1], "warehouse_id": b.wh(), "qty": 1, "supplier_id": b.supplier}))
        .await;
    assert_eq!(r2.json["purchase_order_id"], r.json["purchase_order_id"]);
    let order = s.get(&format!("/pos/api/purchase-orders/{po}")).await;
    assert_eq!(order.json["lines"].as_array().unwrap().len(), 2);
    assert_eq!(order.json["lines"][0]["special_order_id"], so.to_string());
    step(&app, b.token(), po, "send").await;
    receive(&app, b.token(), po, &[(line_ids(&order.json)[0], 2)]).await;
    let got = s.get(&format!("/pos/api/special-orders/{so}")).await;
    assert_eq!(got.json["status"], "received");
    let evs = events::of_kind(&db, events::SPECIAL_ORDER_RECEIVED)
        .await
        .unwrap();
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].payload["customer_id"], c.to_string());
    // Held units count as reserved: a rule at min 1 sees 2 on hand − 2 reserved = 0.
    s.post(
        "/pos/api/inventory/reorder-rules",
        json!({"warehouse_id": b.wh(), "item_id": b.items[0], "min_qty": 1, "max_qty": 4}),
    )
    .await;
    let sug = s.get("/pos/api/inventory/reorder-suggest-po").await;
    assert_eq!(sug.json[0]["lines"][0]["forecast"], 0, "{}", sug.text());
    // Held: no other sale, transfer or adjustment takes them.
    let r = s
        .post("/pos/api/inventory/adjustments", json!({"warehouse_id": b.wh(), "reason": "damage", "lines": [{"item_id": b.items[0], "delta": -1}]}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "insufficient_stock");
    assert!(r.text().contains("0 available"), "{}", r.text());
    // Not overdue yet; collected; nothing more to do with it.
    let overdue = s.get("/pos/api/special-orders?overdue=true").await;
    assert_eq!(overdue.json["total"], 0);
    let r = s
        .post(&format!("/pos/api/special-orders/{so}/collect"), json!({}))
        .await;
    assert_eq!(r.json["status"], "collected", "{}", r.text());
    // Released: the sale that hands them over may take them.
    let r = s
        .post("/pos/api/inventory/adjustments", json!({"warehouse_id": b.wh(), "reason": "damage", "lines": [{"item_id": b.items[0], "delta": -2}]}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = s
        .post(&format!("/pos/api/special-orders/{so}/cancel"), json!({}))
        .await;
    assert_eq!(r.code(), "invalid_special_order_state");
}

async fn a_cancelled_purchase_order_sends_its_special_orders_back_to_open(app: TestApp) {
    let b = buying(&app, "especialcan").await;
    let c = customer(&app, b.token()).await;
    let s = app.session(b.token());
    let r = s
        .post(
            "/pos/api/special-orders",
            json!({"customer_id": c, "item_id": b.items[0], "warehouse_id": b.wh(), "qty": 1}),
        )
        .await;
    let so = id(&r.json);
    assert_eq!(r.json["status"], "open");
    let r = s
        .post(
            &format!("/pos/api/special-orders/{so}/order"),
            json!({"supplier_id": b.supplier}),
        )
        .await;
    assert_eq!(r.json["status"], "ordered", "{}", r.text());
    let po = r.json["purchase_order_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        step(&app, b.token(), po, "cancel").await.status,
        StatusCode::OK
    );
    let got = s.get(&format!("/pos/api/special-orders/{so}")).await;
    assert_eq!(got.json["status"], "open");
    assert!(got.json["purchase_order_id"].is_null());
    let r = s
        .post(&format!("/pos/api/special-orders/{so}/cancel"), json!({}))
        .await;
    assert_eq!(r.json["status"], "cancelled");
}

async fn bad_special_orders_are_refused_and_take_no_deposit(app: TestApp) {
    let b = buying(&app, "especialmal").await;
    let c = customer(&app, b.token()).await;
    let s = app.session(b.token());
    for (body, status) in [
        (
            json!({"customer_id": uuid::Uuid::now_v7(), "item_id": b.items[0], "warehouse_id": b.wh(), "qty": 1, "deposit": "100.00"}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"customer_id": c, "item_id": b.items[0], "warehouse_id": b.wh(), "qty": 0, "deposit": "100.00"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"customer_id": c, "item_id": b.items[0], "warehouse_id": b.wh(), "qty": 1, "deposit": "100.00", "supplier_id": uuid::Uuid::now_v7()}),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let r = s.post("/pos/api/special-orders", body.clone()).await;
        assert_eq!(r.status, status, "{body}: {}", r.text());
    }
    let cust = s.get(&format!("/pos/api/customers/{c}")).await;
    assert_eq!(cust.json["store_credit"], "0.00", "{}", cust.text());
    assert_eq!(s.get("/pos/api/special-orders").await.json["total"], 0);
}
