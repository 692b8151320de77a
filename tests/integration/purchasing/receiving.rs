//! Receipts: stock and ledger rows with the receipt as reference, the average cost exact in
//! centavos, partial receipts and closing short, the over-receipt tolerance, two receipts at
//! once, `Idempotency-Key`, and returns to suppliers.

use entities::inventory::tables::item;
use entities::notifications::events;
use http::StatusCode;
use sea_orm::EntityTrait;
use serde_json::json;
use tests::{TestApp, shape_tests};

use super::{buying, id, line_ids, order, receive, step};
use crate::inventory::stock::{adjust, balance, ledger, ledger_sum};

shape_tests!(
    a_receipt_moves_stock_through_the_ledger_with_the_receipt_as_reference,
    the_average_cost_is_exact_in_centavos_across_receipts,
    a_partial_receipt_leaves_a_back_order_until_the_order_is_closed_short,
    more_than_ordered_is_refused_beyond_the_tolerance,
    two_receipts_of_the_same_order_at_once_never_receive_the_same_units_twice,
    a_retried_receipt_with_its_idempotency_key_receives_once,
    a_return_to_the_supplier_takes_stock_out_and_records_the_credit,
    a_usd_order_receives_at_the_rate_fixed_on_it,
);

async fn a_receipt_moves_stock_through_the_ledger_with_the_receipt_as_reference(app: TestApp) {
    let b = buying(&app, "recibo").await;
    let db = app.tenant_db(&b.f.t).await;
    let po = order(
        &app,
        &b,
        &[(b.items[0], 6, "50.00"), (b.items[1], 2, "80.00")],
    )
    .await;
    let p = id(&po);
    let lines = line_ids(&po);
    step(&app, b.token(), p, "send").await;
    let r = receive(&app, b.token(), p, &[(lines[0], 6), (lines[1], 2)]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let receipt = &r.json["receipt"];
    assert_eq!(receipt["number"], 1);
    assert_eq!(r.json["order"]["status"], "received");
    assert_eq!(balance(&db, b.items[0], b.wh()).await, 6);
    assert_eq!(balance(&db, b.items[1], b.wh()).await, 2);
    let rows = ledger(&db, b.items[0], b.wh()).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].reason, "purchase");
    assert_eq!(rows[0].ref_type, "purchase_receipt");
    assert_eq!(rows[0].ref_id, receipt["id"].as_str().unwrap());
    assert_eq!(rows[0].delta, 6);
    // The event the notifications area will send.
    let evs = events::of_kind(&db, events::PO_RECEIVED).await.unwrap();
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].ref_id, p.to_string());
    let listed = app
        .session(b.token())
        .get(&format!("/pos/api/purchase-orders/{p}/receipts"))
        .await;
    assert_eq!(
        listed.json.as_array().unwrap().len(),
        1,
        "{}",
        listed.text()
    );
}

async fn the_average_cost_is_exact_in_centavos_across_receipts(app: TestApp) {
    let b = buying(&app, "promedio").await;
    let db = app.tenant_db(&b.f.t).await;
    let a = b.items[0];
    let avg = async || {
        item::Entity::find_by_id(a)
            .one(&db)
            .await
            .unwrap()
            .unwrap()
            .avg_cost_cents
    };
    // Nothing on hand: the first receipt sets it. 3 at 10.00.
    let po = order(&app, &b, &[(a, 3, "10.00")]).await;
    step(&app, b.token(), id(&po), "send").await;
    receive(&app, b.token(), id(&po), &[(line_ids(&po)[0], 3)]).await;
    assert_eq!(avg().await, 1_000);
    // 3 at 10.00 + 4 at 10.01 = 70.04 / 7 = 10.005714… → 10.01.
    let po = order(&app, &b, &[(a, 4, "10.01")]).await;
    step(&app, b.token(), id(&po), "send").await;
    receive(&app, b.token(), id(&po), &[(line_ids(&po)[0], 4)]).await;
    assert_eq!(avg().await, 1_001);
    // Sell 5 (the average does not move), then 2 on hand at 10.01 + 2 at 10.00:
    // 40.02 / 4 = 10.005 → 10.01 (half away from zero).
    adjust(&app, b.token(), b.wh(), a, -5).await;
    assert_eq!(avg().await, 1_001);
    let po = order(&app, &b, &[(a, 2, "10.00")]).await;
    step(&app, b.token(), id(&po), "send").await;
    receive(&app, b.token(), id(&po), &[(line_ids(&po)[0], 2)]).await;
    assert_eq!(avg().await, 1_001);
    // The last cost paid is kept apart.
    let i = item::Entity::find_by_id(a).one(&db).await.unwrap().unwrap();
    assert_eq!(i.cost_cents, 1_000);
}

async fn a_partial_receipt_leaves_a_back_order_until_the_order_is_closed_short(app: TestApp) {
    let b = buying(&app, "parcial").await;
    let db = app.tenant_db(&b.f.t).await;
    let po = order(
        &app,
        &b,
        &[(b.items[0], 10, "5.00"), (b.items[1], 4, "5.00")],
    )
    .await;
    let p = id(&po);
    let l = line_ids(&po);
    step(&app, b.token(), p, "send").await;
    step(&app, b.token(), p, "confirm").await;
    let r = receive(&app, b.token(), p, &[(l[0], 6)]).await;
    assert_eq!(r.json["order"]["status"], "partially_received");
    assert_eq!(r.json["order"]["lines"][0]["open_qty"], 4);
    let r = receive(&app, b.token(), p, &[(l[0], 2), (l[1], 4)]).await;
    assert_eq!(r.json["receipt"]["number"], 2);
    assert_eq!(r.json["order"]["status"], "partially_received");
    // The back order counts as on order for reorder until the order is closed.
    let rule = app
        .session(b.token())
        .post(
            "/pos/api/inventory/reorder-rules",
            json!({"warehouse_id": b.wh(), "item_id": b.items[0], "min_qty": 10, "max_qty": 20}),
        )
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.text());
    let s = app
        .session(b.token())
        .get("/pos/api/inventory/reorder-suggest-po")
        .await;
    assert_eq!(
        s.json.as_array().unwrap().len(),
        0,
        "8 on hand + 2 on order: {}",
        s.text()
    );
    let r = step(&app, b.token(), p, "close").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["status"], "closed");
    let s = app
        .session(b.token())
        .get("/pos/api/inventory/reorder-suggest-po")
        .await;
    assert_eq!(
        s.json[0]["lines"][0]["qty"],
        12,
        "8 on hand, up to 20: {}",
        s.text()
    );
    // A closed order receives nothing more.
    assert_eq!(
        receive(&app, b.token(), p, &[(l[0], 1)]).await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(balance(&db, b.items[0], b.wh()).await, 8);
    assert_eq!(ledger_sum(&db, b.items[0], b.wh()).await, 8);
}

async fn more_than_ordered_is_refused_beyond_the_tolerance(app: TestApp) {
    let b = buying(&app, "tolerancia").await;
    let db = app.tenant_db(&b.f.t).await;
    let po = order(&app, &b, &[(b.items[0], 10, "5.00")]).await;
    let p = id(&po);
    let l = line_ids(&po)[0];
    step(&app, b.token(), p, "send").await;
    let r = receive(&app, b.token(), p, &[(l, 11)]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "over_receipt");
    assert_eq!(balance(&db, b.items[0], b.wh()).await, 0, "nothing moved");
    app.session(b.token())
        .put(
            "/pos/api/purchasing/settings",
            json!({"over_receipt_tolerance_percent": "10"}),
        )
        .await;
    let r = receive(&app, b.token(), p, &[(l, 11)]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["order"]["status"], "received");
    assert_eq!(
        receive(&app, b.token(), p, &[(l, 1)]).await.status,
        StatusCode::CONFLICT
    );
    // A line of another order, a second mention of a line, zero units: refused by name.
    let other = order(&app, &b, &[(b.items[1], 1, "1.00")]).await;
    step(&app, b.token(), id(&other), "send").await;
    let r = receive(&app, b.token(), id(&other), &[(l, 1)]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "purchase_order_line_not_found");
    assert_eq!(r.json["error"]["field"], "lines[0].line_id");
    let ol = line_ids(&other)[0];
    let r = receive(&app, b.token(), id(&other), &[(ol, 1), (ol, 1)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = receive(&app, b.token(), id(&other), &[(ol, 0)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn two_receipts_of_the_same_order_at_once_never_receive_the_same_units_twice(app: TestApp) {
    let b = buying(&app, "carrera").await;
    let db = app.tenant_db(&b.f.t).await;
    for round in 0..4 {
        let po = order(&app, &b, &[(b.items[0], 5, "5.00")]).await;
        let p = id(&po);
        let l = line_ids(&po)[0];
        step(&app, b.token(), p, "send").await;
        let both = [(l, 4)];
        let (r1, r2) = tokio::join!(
            receive(&app, b.token(), p, &both),
            receive(&app, b.token(), p, &both),
        );
        let ok = [&r1, &r2]
            .iter()
            .filter(|r| r.status == StatusCode::CREATED)
            .count();
        assert_eq!(ok, 1, "round {round}: {} / {}", r1.text(), r2.text());
        let loser = if r1.status == StatusCode::CREATED {
            &r2
        } else {
            &r1
        };
        assert_eq!(loser.status, StatusCode::CONFLICT, "{}", loser.text());
        let got = app
            .session(b.token())
            .get(&format!("/pos/api/purchase-orders/{p}"))
            .await;
        assert_eq!(got.json["lines"][0]["received_qty"], 4);
        assert_eq!(got.json["receipts"], 1);
    }
    assert_eq!(balance(&db, b.items[0], b.wh()).await, 16);
    assert_eq!(ledger_sum(&db, b.items[0], b.wh()).await, 16);
}

async fn a_retried_receipt_with_its_idempotency_key_receives_once(app: TestApp) {
    let b = buying(&app, "idem").await;
    let db = app.tenant_db(&b.f.t).await;
    let po = order(&app, &b, &[(b.items[0], 5, "5.00")]).await;
    let p = id(&po);
    let l = line_ids(&po)[0];
    step(&app, b.token(), p, "send").await;
    let body = json!({"lines": [{"line_id": l, "qty": 2}]});
    let path = format!("/pos/api/purchase-orders/{p}/receipts");
    let mut answers = Vec::new();
    for _ in 0..2 {
        let r = tests::shop::post_with_key(&app, &path, b.token(), "recibo-1", &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        answers.push(r.json["receipt"]["id"].clone());
    }
    assert_eq!(
        answers[0], answers[1],
        "the retry answers the first receipt"
    );
    assert_eq!(balance(&db, b.items[0], b.wh()).await, 2);
}

async fn a_return_to_the_supplier_takes_stock_out_and_records_the_credit(app: TestApp) {
    let b = buying(&app, "devolver").await;
    let db = app.tenant_db(&b.f.t).await;
    let po = order(&app, &b, &[(b.items[0], 5, "12.34")]).await;
    let p = id(&po);
    step(&app, b.token(), p, "send").await;
    receive(&app, b.token(), p, &[(line_ids(&po)[0], 5)]).await;
    let s = app.session(b.token());
    let r = s
        .post("/pos/api/supplier-returns", json!({"supplier_id": b.supplier, "purchase_order_id": p, "warehouse_id": b.wh(), "reason": "Defecto de fábrica", "lines": [{"item_id": b.items[0], "qty": 2}]}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["expected_credit"], "24.68");
    assert!(r.json["folio"].as_str().unwrap().starts_with("DP-"));
    assert_eq!(balance(&db, b.items[0], b.wh()).await, 3);
    let rows = ledger(&db, b.items[0], b.wh()).await;
    assert!(
        rows.iter()
            .any(|l| l.reason == "supplier_return" && l.delta == -2)
    );
    // More than received less returned: refused, nothing moves.
    let r = s
        .post("/pos/api/supplier-returns", json!({"supplier_id": b.supplier, "purchase_order_id": p, "warehouse_id": b.wh(), "reason": "Otra", "lines": [{"item_id": b.items[0], "qty": 4}]}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "over_return");
    // Without an order: the average cost; more than on hand: insufficient stock.
    let r = s
        .post("/pos/api/supplier-returns", json!({"supplier_id": b.supplier, "warehouse_id": b.wh(), "reason": "Sobrante", "lines": [{"item_id": b.items[0], "qty": 9}]}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "insufficient_stock");
    assert_eq!(balance(&db, b.items[0], b.wh()).await, 3);
    let listed = s.get("/pos/api/supplier-returns").await;
    assert_eq!(listed.json["total"], 1);
}

async fn a_usd_order_receives_at_the_rate_fixed_on_it(app: TestApp) {
    let b = buying(&app, "dolares").await;
    let db = app.tenant_db(&b.f.t).await;
    let r = app
        .session(b.token())
        .post("/pos/api/purchase-orders", json!({"supplier_id": b.supplier, "warehouse_id": b.wh(), "currency": "USD", "lines": [{"item_id": b.items[0], "qty": 2, "unit_cost": "10.00"}]}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let rate = r.json["exchange_rate"].as_str().unwrap().to_owned();
    let p = id(&r.json);
    step(&app, b.token(), p, "send").await;
    let got = receive(&app, b.token(), p, &[(line_ids(&r.json)[0], 2)]).await;
    assert_eq!(got.status, StatusCode::CREATED, "{}", got.text());
    let rate: rust_decimal::Decimal = rate.parse().unwrap();
    let unit = (rate * rust_decimal::Decimal::from(1000)).round();
    let i = item::Entity::find_by_id(b.items[0])
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rust_decimal::Decimal::from(i.avg_cost_cents), unit);
}
