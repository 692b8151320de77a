//! `/pos/api/inventory/transfers`: the workflow, its stock movements and ledger rows, and every
//! refusal (wrong state, too much, same warehouse, roles, scope, other tenants).

use entities::Role;
use entities::{inventory::tables::stock_ledger, org::tables::audit_log};
use http::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{TestApp, shape_tests};
use uuid::Uuid;

use crate::inventory::stock::{adjust, balance, fixture, item, ledger, ledger_sum};

shape_tests!(
    a_partially_received_transfer_closes_short_returning_or_writing_off_the_rest,
    a_transfer_goes_from_requested_to_shipped_to_partially_received_to_received,
    cancelling_a_shipped_transfer_returns_its_stock,
    receiving_more_than_was_shipped_is_422_and_changes_nothing,
    a_transfer_to_the_same_warehouse_is_422,
    shipping_more_than_the_stock_is_409_and_changes_nothing,
    a_step_from_the_wrong_state_is_409,
    bad_lines_and_unknown_warehouses_are_refused,
    a_cashier_requests_but_only_a_manager_ships,
    a_branch_scoped_user_acts_only_on_their_branches,
    transfers_are_listed_by_status_and_warehouse,
    two_receipts_of_the_same_units_at_once_move_them_once,
);

fn id(v: &Value) -> Uuid {
    v["id"].as_str().unwrap().parse().unwrap()
}

async fn request(app: &TestApp, token: &str, from: Uuid, to: Uuid, lines: Value) -> Value {
    let r = app
        .session(token).post("/pos/api/inventory/transfers", json!({"from_warehouse_id": from, "to_warehouse_id": to, "lines": lines, "note": "para mañana"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json
}

async fn step(app: &TestApp, token: &str, t: Uuid, what: &str, body: Value) -> tests::TestResponse {
    app.session(token)
        .post(&format!("/pos/api/inventory/transfers/{t}/{what}"), body)
        .await
}

async fn a_transfer_goes_from_requested_to_shipped_to_partially_received_to_received(app: TestApp) {
    let f = fixture(&app, "acme").await;
    let db = app.tenant_db(&f.t).await;
    let (a, b) = (
        item(&app, &f.token, "A").await,
        item(&app, &f.token, "B").await,
    );
    let (from, to) = (f.wh[0][0], f.wh[1][1]);
    adjust(&app, &f.token, from, a, 10).await;
    adjust(&app, &f.token, from, b, 5).await;

    let tr = request(
        &app,
        &f.token,
        from,
        to,
        json!([{"item_id": a, "qty": 6}, {"item_id": b, "qty": 5}]),
    )
    .await;
    let t = id(&tr);
    assert_eq!(tr["status"], "requested");
    assert!(tr["folio"].as_str().unwrap().starts_with("TR-0000"), "{tr}");
    assert_eq!(tr["lines"].as_array().unwrap().len(), 2);
    assert_eq!(balance(&db, a, from).await, 10, "a request moves nothing");
    let second = request(&app, &f.token, from, to, json!([{"item_id": a, "qty": 1}])).await;
    assert_ne!(second["folio"], tr["folio"]);

    // Ship 4 of the 6 A and all B.
    let s = step(
        &app,
        &f.token,
        t,
        "ship",
        json!({"lines": [{"item_id": a, "qty_shipped": 4}]}),
    )
    .await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.text());
    assert_eq!(s.json["status"], "shipped");
    assert_eq!(balance(&db, a, from).await, 6);
    assert_eq!(balance(&db, b, from).await, 0);
    let out = ledger(&db, a, from).await;
    let out = out.iter().find(|l| l.reason == "transfer_out").unwrap();
    assert_eq!((out.delta, out.ref_type.as_str()), (-4, "transfer"));
    assert_eq!(out.ref_id, t.to_string());
    let v = app
        .session(&f.token)
        .get(&format!("/pos/api/items/{a}/stock"))
        .await;
    assert_eq!(v.json["in_transit"], 4);

    // Receive 3 A: partial.
    let r1 = step(
        &app,
        &f.token,
        t,
        "receive",
        json!({"lines": [{"item_id": a, "qty": 3}]}),
    )
    .await;
    assert_eq!(r1.status, StatusCode::OK, "{}", r1.text());
    assert_eq!(r1.json["status"], "partially_received");
    assert_eq!(r1.json["receipts"], 1);
    assert_eq!(balance(&db, a, to).await, 3);
    let in1 = ledger(&db, a, to).await;
    assert_eq!(in1.len(), 1);
    assert_eq!(in1[0].reason, "transfer_in");
    assert_eq!(in1[0].ref_id, format!("{t}:r1"));

    // Receive the rest: 1 A and 5 B.
    let r2 = step(
        &app,
        &f.token,
        t,
        "receive",
        json!({"lines": [{"item_id": a, "qty": 1}, {"item_id": b, "qty": 5}]}),
    )
    .await;
    assert_eq!(r2.status, StatusCode::OK, "{}", r2.text());
    assert_eq!(r2.json["status"], "received");
    assert_eq!(balance(&db, a, to).await, 4);
    assert_eq!(balance(&db, b, to).await, 5);
    assert!(
        ledger(&db, b, to)
            .await
            .iter()
            .all(|l| l.ref_id == format!("{t}:r2"))
    );
    for (it, wh) in [(a, from), (a, to), (b, from), (b, to)] {
        assert_eq!(
            ledger_sum(&db, it, wh).await,
            balance(&db, it, wh).await,
            "ledger and balance agree"
        );
    }
    let lines = r2.json["lines"].as_array().unwrap();
    let la = lines
        .iter()
        .find(|l| l["item_id"] == a.to_string())
        .unwrap();
    assert_eq!(
        (
            &la["qty_requested"],
            &la["qty_shipped"],
            &la["qty_received"]
        ),
        (&json!(6), &json!(4), &json!(4))
    );
    let v = app
        .session(&f.token)
        .get(&format!("/pos/api/items/{a}/stock"))
        .await;
    assert_eq!(v.json["in_transit"], 0);
    assert_eq!(v.json["on_hand"], 10);

    let got = app
        .session(&f.token)
        .get(&format!("/pos/api/inventory/transfers/{t}"))
        .await;
    assert_eq!(got.json["status"], "received");
    let audits = audit_log::Entity::find()
        .filter(audit_log::Column::TargetId.eq(t.to_string()))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(audits, 4, "requested, shipped, two receipts");
}

async fn cancelling_a_shipped_transfer_returns_its_stock(app: TestApp) {
    let f = fixture(&app, "acme").await;
    let db = app.tenant_db(&f.t).await;
    let a = item(&app, &f.token, "A").await;
    let (from, to) = (f.wh[0][1], f.wh[1][0]);
    adjust(&app, &f.token, from, a, 8).await;
    let t = id(&request(&app, &f.token, from, to, json!([{"item_id": a, "qty": 5}])).await);
    assert_eq!(
        step(&app, &f.token, t, "ship", json!({})).await.status,
        StatusCode::OK
    );
    assert_eq!(balance(&db, a, from).await, 3);
    let c = step(&app, &f.token, t, "cancel", json!({})).await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.text());
    assert_eq!(c.json["status"], "cancelled");
    assert_eq!(balance(&db, a, from).await, 8);
    assert_eq!(balance(&db, a, to).await, 0);
    let back = ledger(&db, a, from).await;
    let back = back.iter().find(|l| l.reason == "transfer_cancel").unwrap();
    assert_eq!((back.delta, back.balance_after), (5, 8));
    assert_eq!(ledger_sum(&db, a, from).await, 8);

    // A requested one cancels without moving stock.
    let t2 = id(&request(&app, &f.token, from, to, json!([{"item_id": a, "qty": 1}])).await);
    let c2 = step(&app, &f.token, t2, "cancel", json!({})).await;
    assert_eq!(c2.status, StatusCode::OK);
    assert_eq!(balance(&db, a, from).await, 8);
}

async fn receiving_more_than_was_shipped_is_422_and_changes_nothing(app: TestApp) {
    let f = fixture(&app, "acme").await;
    let db = app.tenant_db(&f.t).await;
    let (a, b) = (
        item(&app, &f.token, "A").await,
        item(&app, &f.token, "B").await,
    );
    let (from, to) = (f.wh[0][0], f.wh[1][0]);
    adjust(&app, &f.token, from, a, 5).await;
    adjust(&app, &f.token, from, b, 5).await;
    let t = id(&request(
        &app,
        &f.token,
        from,
        to,
        json!([{"item_id": a, "qty": 3}, {"item_id": b, "qty": 2}]),
    )
    .await);
    step(&app, &f.token, t, "ship", json!({})).await;
    let ok = step(
        &app,
        &f.token,
        t,
        "receive",
        json!({"lines": [{"item_id": a, "qty": 2}]}),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let ledger_rows = stock_ledger::Entity::find().count(&db).await.unwrap();

    let too_much = step(
        &app,
        &f.token,
        t,
        "receive",
        json!({"lines": [{"item_id": b, "qty": 1}, {"item_id": a, "qty": 2}]}),
    )
    .await;
    assert_eq!(
        too_much.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        too_much.text()
    );
    assert_eq!(too_much.json["error"]["field"], "lines[1].qty");
    let stranger = step(
        &app,
        &f.token,
        t,
        "receive",
        json!({"lines": [{"item_id": Uuid::now_v7(), "qty": 1}]}),
    )
    .await;
    assert_eq!(stranger.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(stranger.json["error"]["field"], "lines[0].item_id");

    assert_eq!(balance(&db, a, to).await, 2);
    assert_eq!(balance(&db, b, to).await, 0);
    assert_eq!(
        stock_ledger::Entity::find().count(&db).await.unwrap(),
        ledger_rows
    );
    let got = app
        .session(&f.token)
        .get(&format!("/pos/api/inventory/transfers/{t}"))
        .await;
    assert_eq!(got.json["status"], "partially_received");
    assert_eq!(got.json["receipts"], 1);
}

async fn a_transfer_to_the_same_warehouse_is_422(app: TestApp) {
    let f = fixture(&app, "acme").await;
    let a = item(&app, &f.token, "A").await;
    let r = app
        .session(&f.token).post("/pos/api/inventory/transfers", json!({"from_warehouse_id": f.wh[0][0], "to_warehouse_id": f.wh[0][0], "lines": [{"item_id": a, "qty": 1}]}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "to_warehouse_id");
    let list = app
        .session(&f.token)
        .get("/pos/api/inventory/transfers")
        .await;
    assert_eq!(list.json["total"], 0);
}

async fn shipping_more_than_the_stock_is_409_and_changes_nothing(app: TestApp) {
    let f = fixture(&app, "acme").await;
    let db = app.tenant_db(&f.t).await;
    let (a, b) = (
        item(&app, &f.token, "A").await,
        item(&app, &f.token, "B").await,
    );
    let (from, to) = (f.wh[1][0], f.wh[0][0]);
    adjust(&app, &f.token, from, a, 5).await;
    adjust(&app, &f.token, from, b, 1).await;
    let t = id(&request(
        &app,
        &f.token,
        from,
        to,
        json!([{"item_id": a, "qty": 5}, {"item_id": b, "qty": 2}]),
    )
    .await);
    let s = step(&app, &f.token, t, "ship", json!({})).await;
    assert_eq!(s.status, StatusCode::CONFLICT, "{}", s.text());
    assert_eq!(s.code(), "insufficient_stock");
    assert_eq!(balance(&db, a, from).await, 5);
    assert_eq!(balance(&db, b, from).await, 1);
    let got = app
        .session(&f.token)
        .get(&format!("/pos/api/inventory/transfers/{t}"))
        .await;
    assert_eq!(got.json["status"], "requested", "the state did not move");
    assert_eq!(got.json["lines"][0]["qty_shipped"], 0);
    // Shipping what there is works.
    let partial = step(
        &app,
        &f.token,
        t,
        "ship",
        json!({"lines": [{"item_id": b, "qty_shipped": 1}]}),
    )
    .await;
    assert_eq!(partial.status, StatusCode::OK, "{}", partial.text());
    let over = step(
        &app,
        &f.token,
        id(&request(&app, &f.token, from, to, json!([{"item_id": a, "qty": 1}])).await),
        "ship",
        json!({"lines": [{"item_id": a, "qty_shipped": 2}]}),
    )
    .await;
    assert_eq!(
        over.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "more than requested"
    );
}

async fn a_step_from_the_wrong_state_is_409(app: TestApp) {
    let f = fixture(&app, "acme").await;
    let a = item(&app, &f.token, "A").await;
    let (from, to) = (f.wh[0][0], f.wh[1][0]);
    adjust(&app, &f.token, from, a, 5).await;
    let t = id(&request(&app, &f.token, from, to, json!([{"item_id": a, "qty": 2}])).await);
    let early = step(
        &app,
        &f.token,
        t,
        "receive",
        json!({"lines": [{"item_id": a, "qty": 1}]}),
    )
    .await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert_eq!(early.code(), "invalid_transfer_state");
    step(&app, &f.token, t, "ship", json!({})).await;
    let again = step(&app, &f.token, t, "ship", json!({})).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "invalid_transfer_state");
    step(
        &app,
        &f.token,
        t,
        "receive",
        json!({"lines": [{"item_id": a, "qty": 1}]}),
    )
    .await;
    let cancel = step(&app, &f.token, t, "cancel", json!({})).await;
    assert_eq!(
        cancel.status,
        StatusCode::CONFLICT,
        "something arrived already"
    );
    step(
        &app,
        &f.token,
        t,
        "receive",
        json!({"lines": [{"item_id": a, "qty": 1}]}),
    )
    .await;
    let after = step(
        &app,
        &f.token,
        t,
        "receive",
        json!({"lines": [{"item_id": a, "qty": 1}]}),
    )
    .await;
    assert_eq!(after.status, StatusCode::CONFLICT);
    let db = app.tenant_db(&f.t).await;
    assert_eq!(balance(&db, a, from).await, 3);
    assert_eq!(balance(&db, a, to).await, 2);

    let t2 = id(&request(&app, &f.token, from, to, json!([{"item_id": a, "qty": 1}])).await);
    step(&app, &f.token, t2, "cancel", json!({})).await;
    for what in ["ship", "cancel"] {
        let r = step(&app, &f.token, t2, what, json!({})).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{what} after cancel");
    }
    let unknown = step(&app, &f.token, Uuid::now_v7(), "ship", json!({})).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

async fn bad_lines_and_unknown_warehouses_are_refused(app: TestApp) {
    let f = fixture(&app, "acme").await;
    let other = fixture(&app, "bravo").await;
    let a = item(&app, &f.token, "A").await;
    let (from, to) = (f.wh[0][0], f.wh[1][0]);
    for (lines, field, status) in [
        (json!([]), "lines", StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!([{"item_id": a, "qty": 0}]),
            "lines[0].qty",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!([{"item_id": a, "qty": 1}, {"item_id": Uuid::now_v7(), "qty": 1}]),
            "lines[1].item_id",
            StatusCode::NOT_FOUND,
        ),
    ] {
        let r = app
            .session(&f.token)
            .post(
                "/pos/api/inventory/transfers",
                json!({"from_warehouse_id": from, "to_warehouse_id": to, "lines": lines}),
            )
            .await;
        assert_eq!(r.status, status, "{lines}: {}", r.text());
        assert_eq!(r.json["error"]["field"], field);
    }
    // An inactive warehouse is named right and cannot be used: 409, not "not found".
    let spare = f.wh[1][1];
    let r = app
        .session(&f.token)
        .patch(
            &format!("/pos/api/branches/{}/warehouses/{spare}", f.branches[1]),
            json!({"is_active": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .session(&f.token)
        .post(
            "/pos/api/inventory/transfers",
            json!({"from_warehouse_id": from, "to_warehouse_id": spare,
                   "lines": [{"item_id": a, "qty": 1}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "warehouse_inactive");
    // An item named twice is one line of the sum.
    let r = app
        .session(&f.token)
        .post(
            "/pos/api/inventory/transfers",
            json!({"from_warehouse_id": from, "to_warehouse_id": to,
                   "lines": [{"item_id": a, "qty": 1}, {"item_id": a, "qty": 2}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["lines"].as_array().unwrap().len(), 1, "{}", r.text());
    assert_eq!(r.json["lines"][0]["qty_requested"], 3, "{}", r.text());
    assert_eq!(
        r.json["lines"][0]["sku"],
        "A",
        "lines name their item: {}",
        r.text()
    );
    assert!(r.json["lines"][0]["name"].is_string(), "{}", r.text());
    for (f_, t_) in [(from, Uuid::now_v7()), (other.wh[0][0], to)] {
        let r = app
            .session(&f.token).post("/pos/api/inventory/transfers", json!({"from_warehouse_id": f_, "to_warehouse_id": t_, "lines": [{"item_id": a, "qty": 1}]}))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    }
    // Another tenant cannot see, ship or cancel this tenant's transfer.
    let t = id(&request(&app, &f.token, from, to, json!([{"item_id": a, "qty": 1}])).await);
    let g = app
        .session(&other.token)
        .get(&format!("/pos/api/inventory/transfers/{t}"))
        .await;
    assert_eq!(g.status, StatusCode::NOT_FOUND);
    let c = step(&app, &other.token, t, "cancel", json!({})).await;
    assert_eq!(c.status, StatusCode::NOT_FOUND);
}

async fn a_cashier_requests_but_only_a_manager_ships(app: TestApp) {
    let f = fixture(&app, "acme").await;
    let a = item(&app, &f.token, "A").await;
    let (from, to) = (f.wh[0][0], f.wh[1][0]);
    adjust(&app, &f.token, from, a, 3).await;
    let cashier = app.token(&app.user(&f.t, Role::Cashier, None).await).await;
    let t = id(&request(&app, &cashier, from, to, json!([{"item_id": a, "qty": 1}])).await);
    for what in ["ship", "cancel"] {
        let r = step(&app, &cashier, t, what, json!({})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{what}");
    }
    let viewer = app.token(&app.user(&f.t, Role::Viewer, None).await).await;
    let v = app
        .session(&viewer).post("/pos/api/inventory/transfers", json!({"from_warehouse_id": from, "to_warehouse_id": to, "lines": [{"item_id": a, "qty": 1}]}))
        .await;
    assert_eq!(v.status, StatusCode::FORBIDDEN);
    let manager = app.token(&app.user(&f.t, Role::Manager, None).await).await;
    let s = step(&app, &manager, t, "ship", json!({})).await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.text());
    let r = step(
        &app,
        &cashier,
        t,
        "receive",
        json!({"lines": [{"item_id": a, "qty": 1}]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn a_branch_scoped_user_acts_only_on_their_branches(app: TestApp) {
    let f = fixture(&app, "acme").await;
    let a = item(&app, &f.token, "A").await;
    adjust(&app, &f.token, f.wh[0][0], a, 5).await;
    // A manager of GDL (branch 1).
    let gdl = app
        .token(
            &app.user(&f.t, Role::Manager, Some(vec![f.branches[1]]))
                .await,
        )
        .await;
    // Asks MTY for stock: allowed (the destination is theirs), but cannot ship it from MTY.
    let t = id(&request(
        &app,
        &gdl,
        f.wh[0][0],
        f.wh[1][0],
        json!([{"item_id": a, "qty": 2}]),
    )
    .await);
    let ship = step(&app, &gdl, t, "ship", json!({})).await;
    assert_eq!(ship.status, StatusCode::NOT_FOUND);
    assert_eq!(
        step(&app, &f.token, t, "ship", json!({})).await.status,
        StatusCode::OK
    );
    let recv = step(
        &app,
        &gdl,
        t,
        "receive",
        json!({"lines": [{"item_id": a, "qty": 2}]}),
    )
    .await;
    assert_eq!(recv.status, StatusCode::OK, "{}", recv.text());
    // A transfer between MTY's own warehouses is invisible to them.
    let inner = id(&request(
        &app,
        &f.token,
        f.wh[0][0],
        f.wh[0][1],
        json!([{"item_id": a, "qty": 1}]),
    )
    .await);
    let g = app
        .session(&gdl)
        .get(&format!("/pos/api/inventory/transfers/{inner}"))
        .await;
    assert_eq!(g.status, StatusCode::NOT_FOUND);
    let list = app.session(&gdl).get("/pos/api/inventory/transfers").await;
    assert_eq!(list.json["total"], 1);
    let r = app
        .session(&gdl).post("/pos/api/inventory/transfers", json!({"from_warehouse_id": f.wh[0][0], "to_warehouse_id": f.wh[0][1], "lines": [{"item_id": a, "qty": 1}]}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn transfers_are_listed_by_status_and_warehouse(app: TestApp) {
    let f = fixture(&app, "acme").await;
    let a = item(&app, &f.token, "A").await;
    adjust(&app, &f.token, f.wh[0][0], a, 5).await;
    let t1 = id(&request(
        &app,
        &f.token,
        f.wh[0][0],
        f.wh[1][0],
        json!([{"item_id": a, "qty": 1}]),
    )
    .await);
    request(
        &app,
        &f.token,
        f.wh[0][1],
        f.wh[1][1],
        json!([{"item_id": a, "qty": 1}]),
    )
    .await;
    step(&app, &f.token, t1, "ship", json!({})).await;
    let shipped = app
        .session(&f.token)
        .get("/pos/api/inventory/transfers?status=shipped")
        .await;
    assert_eq!(shipped.json["total"], 1, "{}", shipped.text());
    assert_eq!(shipped.json["items"][0]["id"], t1.to_string());
    let by_wh = app
        .session(&f.token)
        .get(&format!(
            "/pos/api/inventory/transfers?warehouse_id={}",
            f.wh[1][1]
        ))
        .await;
    assert_eq!(by_wh.json["total"], 1);
    let all = app
        .session(&f.token)
        .get("/pos/api/inventory/transfers")
        .await;
    assert_eq!(all.json["total"], 2);
    let bad = app
        .session(&f.token)
        .get("/pos/api/inventory/transfers?status=lost")
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn two_receipts_of_the_same_units_at_once_move_them_once(app: TestApp) {
    let f = fixture(&app, "acme").await;
    let db = app.tenant_db(&f.t).await;
    let a = item(&app, &f.token, "A").await;
    let (from, to) = (f.wh[0][0], f.wh[1][0]);
    adjust(&app, &f.token, from, a, 4).await;
    let t = id(&request(&app, &f.token, from, to, json!([{"item_id": a, "qty": 4}])).await);
    step(&app, &f.token, t, "ship", json!({})).await;
    // A first partial receipt, so both racers start from `partially_received`.
    let first = step(
        &app,
        &f.token,
        t,
        "receive",
        json!({"lines": [{"item_id": a, "qty": 1}]}),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    let body = json!({"lines": [{"item_id": a, "qty": 3}]});
    let (r1, r2) = tokio::join!(
        step(&app, &f.token, t, "receive", body.clone()),
        step(&app, &f.token, t, "receive", body.clone()),
    );
    let ok = [&r1, &r2]
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    assert!(ok <= 1, "{} / {}", r1.text(), r2.text());
    let got = balance(&db, a, to).await;
    assert_eq!(got, if ok == 1 { 4 } else { 1 });
    assert_eq!(
        ledger_sum(&db, a, to).await,
        got,
        "ledger and balance agree"
    );
}

/// Five units shipped, three received: closing short brings the two missing back to the origin
/// (or writes them off there, both steps in the ledger), nothing stays in transit, a closed
/// transfer takes no more steps, and a transfer not partially received does not close short.
async fn a_partially_received_transfer_closes_short_returning_or_writing_off_the_rest(
    app: TestApp,
) {
    let f = fixture(&app, "corto").await;
    let db = app.tenant_db(&f.t).await;
    let a = item(&app, &f.token, "COR-1").await;
    let (from, to) = (f.wh[0][1], f.wh[1][0]);
    adjust(&app, &f.token, from, a, 20).await;
    let mut transfers = Vec::new();
    for _ in 0..2 {
        let t = id(&request(&app, &f.token, from, to, json!([{"item_id": a, "qty": 5}])).await);
        assert_eq!(
            step(&app, &f.token, t, "ship", json!({})).await.status,
            StatusCode::OK
        );
        let r = step(
            &app,
            &f.token,
            t,
            "receive",
            json!({"lines": [{"item_id": a, "qty": 3}]}),
        )
        .await;
        assert_eq!(r.json["status"], "partially_received", "{}", r.text());
        transfers.push(t);
    }
    assert_eq!(balance(&db, a, from).await, 10);
    assert_eq!(balance(&db, a, to).await, 6);

    let bad = step(
        &app,
        &f.token,
        transfers[0],
        "close",
        json!({"disposition": "return", "reason": " "}),
    )
    .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad.text()
    );
    let r = step(
        &app,
        &f.token,
        transfers[0],
        "close",
        json!({"disposition": "return", "reason": "no llegaron, siguen en bodega"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["status"], "closed");
    assert_eq!(
        balance(&db, a, from).await,
        12,
        "the 2 missing are back at the origin"
    );

    let r = step(
        &app,
        &f.token,
        transfers[1],
        "close",
        json!({"disposition": "write_off", "reason": "extraviadas en ruta"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        balance(&db, a, from).await,
        12,
        "written off: the origin does not get them"
    );
    let rows = ledger(&db, a, from).await;
    let reasons: Vec<(&str, i64)> = rows
        .iter()
        .filter(|l| l.ref_id == transfers[1].to_string())
        .map(|l| (l.reason.as_str(), l.delta))
        .collect();
    assert!(
        reasons.contains(&("transfer_short_return", 2)),
        "{reasons:?}"
    );
    assert!(reasons.contains(&("transfer_write_off", -2)), "{reasons:?}");
    assert_eq!(ledger_sum(&db, a, from).await, 12);

    let v = app
        .session(&f.token)
        .get(&format!("/pos/api/items/{a}/stock"))
        .await;
    assert_eq!(v.json["in_transit"], 0, "{}", v.text());
    for t in &transfers {
        let again = step(
            &app,
            &f.token,
            *t,
            "receive",
            json!({"lines": [{"item_id": a, "qty": 1}]}),
        )
        .await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text());
        let again = step(
            &app,
            &f.token,
            *t,
            "close",
            json!({"disposition": "return", "reason": "otra vez"}),
        )
        .await;
        assert_eq!(again.status, StatusCode::CONFLICT);
    }
    let fresh = id(&request(&app, &f.token, from, to, json!([{"item_id": a, "qty": 1}])).await);
    let r = step(
        &app,
        &f.token,
        fresh,
        "close",
        json!({"disposition": "return", "reason": "x"}),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "only a partially received transfer closes short"
    );
}
