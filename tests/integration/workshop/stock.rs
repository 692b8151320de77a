//! The parts of service orders in the stock: held at approval (what a sale may take is on hand
//! minus held), the last unit held by one order only, released on cancellation, used at
//! `ready` through the ledger with the rest given back, never below zero.

use http::StatusCode;
use serde_json::json;
use tests::{TestApp, shape_tests};

use super::{approve, garage, id, step, try_step};

shape_tests!(
    held_parts_are_not_sold_and_cancelling_the_order_releases_them,
    two_orders_cannot_hold_the_same_last_unit,
    a_part_used_in_part_gives_the_rest_back_and_is_charged_for_what_was_used,
);

async fn held_parts_are_not_sold_and_cancelling_the_order_releases_them(app: TestApp) {
    let g = garage(&app, "taller-apartado").await;
    let owner = g.owner();
    let o = g.approved(&app, &[(g.rotor, 2)]).await;
    let oid = id(&o);
    assert_eq!(g.s.reserved(g.rotor, g.s.wh).await, 2);
    // Both rotors are on hand, but held: the counter cannot sell them.
    let sale = json!({"branch_id": g.s.branch, "lines": [{"item_id": g.rotor, "warehouse_id": g.s.wh, "qty": 1}], "payments": [{"method": "cash", "amount": "1200.00"}]});
    let r = app
        .session(owner)
        .post("/pos/api/sales", sale.clone())
        .await;
    assert_eq!(r.code(), "insufficient_stock", "{}", r.text());
    let r = app
        .session(owner)
        .post("/pos/api/inventory/adjustments", json!({"warehouse_id": g.s.wh, "reason": "damage", "lines": [{"item_id": g.rotor, "delta": -1}]}))
        .await;
    assert_eq!(r.code(), "insufficient_stock");
    let o = step(
        &app,
        owner,
        oid,
        "cancel",
        json!({"note": "el cliente se llevó el auto"}),
    )
    .await;
    assert_eq!(o["status"], "cancelled");
    assert_eq!(o["lines"][0]["reserved_qty"], 0);
    assert_eq!(g.s.reserved(g.rotor, g.s.wh).await, 0);
    assert_eq!(
        g.s.on_hand(g.rotor, g.s.wh).await,
        2,
        "nothing left the stock"
    );
    let r = app.session(owner).post("/pos/api/sales", sale).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(
        g.s.ledger_sum(g.rotor, g.s.wh).await,
        g.s.on_hand(g.rotor, g.s.wh).await
    );
}

async fn two_orders_cannot_hold_the_same_last_unit(app: TestApp) {
    let g = garage(&app, "taller-ultimo").await;
    let owner = g.owner();
    // One rotor left.
    app.session(owner)
        .post("/pos/api/inventory/adjustments", json!({"warehouse_id": g.s.wh, "reason": "damage", "lines": [{"item_id": g.rotor, "delta": -1}]}))
        .await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let o = g.receive(&app, owner, json!({})).await;
        let oid = id(&o);
        step(&app, owner, oid, "diagnose", json!({})).await;
        g.part(&app, owner, oid, g.rotor, 1).await;
        step(&app, owner, oid, "submit", json!({})).await;
        ids.push(oid);
    }
    let (a, b) = tokio::join!(approve(&app, owner, ids[0]), approve(&app, owner, ids[1]));
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(b.status, StatusCode::OK, "{}", b.text());
    let mut states = [
        a.json["status"].as_str().unwrap(),
        b.json["status"].as_str().unwrap(),
    ];
    states.sort_unstable();
    assert_eq!(
        states,
        ["in_repair", "waiting_parts"],
        "one holds it, the other waits"
    );
    assert_eq!(g.s.reserved(g.rotor, g.s.wh).await, 1);
    let (holder, waiter) = if a.json["status"] == "in_repair" {
        (ids[0], ids[1])
    } else {
        (ids[1], ids[0])
    };
    // The waiting one cannot start while the unit is held elsewhere.
    let r = try_step(&app, owner, waiter, "repair", json!({})).await;
    assert_eq!(r.code(), "parts_missing", "{}", r.text());
    step(&app, owner, holder, "cancel", json!({})).await;
    let o = step(&app, owner, waiter, "repair", json!({})).await;
    assert_eq!(o["status"], "in_repair");
    assert_eq!(g.s.reserved(g.rotor, g.s.wh).await, 1);
    step(&app, owner, waiter, "check", json!({})).await;
    step(&app, owner, waiter, "ready", json!({})).await;
    assert_eq!(g.s.on_hand(g.rotor, g.s.wh).await, 0);
    assert_eq!(g.s.reserved(g.rotor, g.s.wh).await, 0);
    assert_eq!(g.s.ledger_sum(g.rotor, g.s.wh).await, 0);
}

async fn a_part_used_in_part_gives_the_rest_back_and_is_charged_for_what_was_used(app: TestApp) {
    let g = garage(&app, "taller-parcial").await;
    let owner = g.owner();
    let o = g.approved(&app, &[(g.pads, 4), (g.rotor, 1)]).await;
    let oid = id(&o);
    let pads_line = o["lines"][0]["id"].as_str().unwrap().to_owned();
    let rotor_line = o["lines"][1]["id"].as_str().unwrap().to_owned();
    assert_eq!(g.s.reserved(g.pads, g.s.wh).await, 4);
    step(&app, owner, oid, "check", json!({})).await;
    // More than held, or a line that is not a part of this order: refused, nothing moves.
    let r = try_step(
        &app,
        owner,
        oid,
        "ready",
        json!({"used": [{"line_id": pads_line, "qty": 5}]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "used[0].qty");
    let r = try_step(
        &app,
        owner,
        oid,
        "ready",
        json!({"used": [{"line_id": uuid::Uuid::now_v7(), "qty": 1}]}),
    )
    .await;
    assert_eq!(r.json["error"]["field"], "used[0].line_id");
    assert_eq!(g.s.reserved(g.pads, g.s.wh).await, 4);
    assert_eq!(g.s.on_hand(g.pads, g.s.wh).await, 10);
    let o = step(
        &app,
        owner,
        oid,
        "ready",
        json!({"used": [{"line_id": pads_line, "qty": 2}, {"line_id": rotor_line, "qty": 0}]}),
    )
    .await;
    assert_eq!(o["lines"][0]["used_qty"], 2);
    assert_eq!(o["lines"][0]["returned_qty"], 2);
    assert_eq!(o["lines"][1]["returned_qty"], 1);
    // 2 pads and the 1.5 h of labour: the unused rotor is not charged.
    assert_eq!(o["charged"]["total"], "1500.00", "{o}");
    assert_eq!(g.s.on_hand(g.pads, g.s.wh).await, 8);
    assert_eq!(g.s.on_hand(g.rotor, g.s.wh).await, 2);
    assert_eq!(g.s.reserved(g.pads, g.s.wh).await, 0);
    for item in [g.pads, g.rotor] {
        assert_eq!(
            g.s.ledger_sum(item, g.s.wh).await,
            g.s.on_hand(item, g.s.wh).await
        );
    }
    let returned = o["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["to"] == "ready")
        .unwrap()
        .clone();
    assert_eq!(returned["details"]["returned"][0]["qty"], 2, "{returned}");
    assert!(
        entities::inventory::movements::reconcile(&g.s.db)
            .await
            .unwrap()
            .is_empty()
    );
}
