//! Service orders through their states: the seed's path with its history and notifications,
//! every forbidden move refused with nothing changed, supplements approved again, a declined
//! budget, mechanics' reach, the kanban, and bad input.

use entities::Role;
use entities::notifications::events;
use entities::workshop::orders::{AWAITING_APPROVAL, DELIVERED, READY};
use http::StatusCode;
use serde_json::json;
use tests::{TestApp, shape_tests};

use super::{approve, garage, id, link_token, step, try_step};

shape_tests!(
    a_service_order_runs_from_reception_to_delivery_with_its_history,
    every_forbidden_move_is_refused_and_changes_nothing,
    work_added_after_approval_is_a_supplement_approved_again,
    a_declined_budget_leaves_only_the_diagnosis_to_charge,
    mechanics_see_and_move_only_the_orders_assigned_to_them,
    the_kanban_shows_the_owners_labels_counts_and_late_orders,
    bad_receptions_and_lines_are_refused_and_write_nothing,
);

async fn a_service_order_runs_from_reception_to_delivery_with_its_history(app: TestApp) {
    let g = garage(&app, "taller-ruta").await;
    let owner = g.owner();
    let o = g.receive(&app, owner, json!({})).await;
    let oid = id(&o);
    assert_eq!(o["status"], "received");
    assert!(o["folio"].as_str().unwrap().starts_with("OS-"), "{o}");
    assert_eq!(o["plate"], "ABC123A", "the registered vehicle's plate");
    assert_eq!(o["vehicle_label"], "2018 Nissan Versa");
    assert_eq!(o["odometer_km"], 85_000);
    assert_eq!(o["accessories"]["gato"], false);
    step(
        &app,
        owner,
        oid,
        "diagnose",
        json!({"note": "balatas gastadas"}),
    )
    .await;
    g.labour(
        &app,
        owner,
        oid,
        json!({"item_id": g.diagnosis, "is_diagnosis": true}),
    )
    .await;
    g.part(&app, owner, oid, g.pads, 2).await;
    let o = g.labour(&app, owner, oid, json!({"hours": "1.5"})).await;
    // 1.5 h × $400.00 = $600.00; 2 × $450.00; the diagnosis $250.00.
    assert_eq!(o["budget"]["total"], "1750.00", "{o}");
    assert_eq!(
        o["lines"][0]["status"], "approved",
        "the diagnosis is agreed at reception"
    );
    assert_eq!(o["lines"][2]["hours"], "1.50");
    let o = step(&app, owner, oid, "submit", json!({})).await;
    assert_eq!(o["status"], "awaiting_approval");
    assert_eq!(o["budget_version"], 1);
    let o = approve(&app, owner, oid).await.json;
    assert_eq!(
        o["status"], "in_repair",
        "every part was held: waiting_parts is skipped"
    );
    assert_eq!(o["approved_by"], "Juan Garza");
    assert_eq!(o["lines"][1]["reserved_qty"], 2);
    assert_eq!(g.s.reserved(g.pads, g.s.wh).await, 2);
    step(&app, owner, oid, "check", json!({})).await;
    step(
        &app,
        owner,
        oid,
        "rework",
        json!({"note": "sigue rechinando"}),
    )
    .await;
    step(&app, owner, oid, "check", json!({})).await;
    let o = step(&app, owner, oid, "ready", json!({})).await;
    assert_eq!(o["status"], "ready");
    assert_eq!(g.s.on_hand(g.pads, g.s.wh).await, 8);
    assert_eq!(g.s.reserved(g.pads, g.s.wh).await, 0);
    assert_eq!(g.s.ledger_sum(g.pads, g.s.wh).await, 8);
    // The pads carry a warranty: it is copied onto the installed line at delivery.
    let r = app
        .session(owner)
        .post(
            "/pos/api/warranty-policies",
            json!({"item_id": g.pads, "months": 6, "km": 10_000, "coverage": "parts_labor", "starts_on": "installation", "terms": "Cubre defectos de fabricación"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = app
        .session(owner)
        .post(
            &format!("/pos/api/service-orders/{oid}/deliver"),
            json!({"payments": [{"method": "cash", "amount": "2000.00"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["order"]["status"], "delivered");
    let sale = &r.json["sale"];
    assert_eq!(sale["total"], "1750.00");
    assert_eq!(sale["change"], "250.00");
    assert_eq!(sale["service_order_id"], oid.to_string());
    let kinds: Vec<&str> = sale["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["labour", "part", "labour"]);
    // Delivery moved no stock: the parts left at `ready`.
    assert_eq!(g.s.on_hand(g.pads, g.s.wh).await, 8);
    let w = app
        .session(owner)
        .get(&format!(
            "/pos/api/warranties?sale_id={}",
            sale["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(w.json["total"], 1, "the pads only: {}", w.text());
    assert_eq!(w.json["items"][0]["odometer_at_install"], 85_000);
    assert_eq!(w.json["items"][0]["vehicle_id"], g.vehicle.to_string());
    assert_eq!(w.json["items"][0]["service_order_id"], oid.to_string());
    let receipt = app
        .session(owner)
        .get(&format!("/pos/api/service-orders/{oid}/print"))
        .await
        .text();
    assert!(receipt.contains("Comprobante de servicio"), "{receipt}");
    assert!(
        receipt.contains("6 meses o 10000 km, lo que ocurra primero"),
        "{receipt}"
    );
    // The history, in order; the customer's three notifications.
    let o = app
        .session(owner)
        .get(&format!("/pos/api/service-orders/{oid}"))
        .await
        .json;
    let path: Vec<&str> = o["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "status" || e["kind"] == "approval")
        .map(|e| e["to"].as_str().unwrap())
        .collect();
    assert_eq!(
        path,
        [
            "received",
            "diagnosing",
            "awaiting_approval",
            "in_repair",
            "quality_check",
            "in_repair",
            "quality_check",
            "ready",
            "delivered"
        ]
    );
    assert_eq!(o["events"][1]["note"], "balatas gastadas");
    for kind in [AWAITING_APPROVAL, READY, DELIVERED] {
        let evs = events::of_kind(&g.s.db, kind).await.unwrap();
        assert_eq!(evs.len(), 1, "{kind}");
        assert_eq!(evs[0].payload["customer_id"], g.customer.to_string());
    }
    // Nothing more happens to a delivered order.
    let r = try_step(&app, owner, oid, "cancel", json!({})).await;
    assert_eq!(r.code(), "invalid_transition");
}

async fn every_forbidden_move_is_refused_and_changes_nothing(app: TestApp) {
    let g = garage(&app, "taller-prohibido").await;
    let owner = g.owner();
    let o = g.receive(&app, owner, json!({})).await;
    let oid = id(&o);
    let before = app
        .session(owner)
        .get(&format!("/pos/api/service-orders/{oid}"))
        .await
        .json;
    for action in ["submit", "repair", "check", "rework", "ready", "decline"] {
        let r = try_step(&app, owner, oid, action, json!({})).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{action}: {}", r.text());
        assert_eq!(r.code(), "invalid_transition", "{action}");
        assert!(r.text().contains("received"), "{}", r.text());
    }
    let r = approve(&app, owner, oid).await;
    assert_eq!(r.code(), "invalid_transition");
    let r = app
        .session(owner)
        .post(&format!("/pos/api/service-orders/{oid}/deliver"), json!({}))
        .await;
    assert_eq!(r.code(), "invalid_transition");
    let after = app
        .session(owner)
        .get(&format!("/pos/api/service-orders/{oid}"))
        .await
        .json;
    assert_eq!(before, after, "a refused move writes nothing");
    // Sending a budget with nothing in it.
    step(&app, owner, oid, "diagnose", json!({})).await;
    let r = try_step(&app, owner, oid, "submit", json!({})).await;
    assert_eq!(r.code(), "nothing_to_approve");
    // While the customer answers, no line is added.
    g.part(&app, owner, oid, g.pads, 1).await;
    step(&app, owner, oid, "submit", json!({})).await;
    let r = app
        .session(owner)
        .post(
            &format!("/pos/api/service-orders/{oid}/parts"),
            json!({"item_id": g.pads, "warehouse_id": g.s.wh, "qty": 1}),
        )
        .await;
    assert_eq!(r.code(), "awaiting_answer");
    // A link channel is the customer's own: staff cannot claim it.
    let r = try_step(
        &app,
        owner,
        oid,
        "approve",
        json!({"by": "x", "channel": "link"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    // Approved and ready: cancelling is no longer possible.
    approve(&app, owner, oid).await;
    step(&app, owner, oid, "check", json!({})).await;
    step(&app, owner, oid, "ready", json!({})).await;
    let r = try_step(&app, owner, oid, "cancel", json!({})).await;
    assert_eq!(r.code(), "invalid_transition");
    let r = try_step(&app, owner, oid, "nonsense", json!({})).await;
    assert!(
        r.status == StatusCode::NOT_FOUND || r.status == StatusCode::METHOD_NOT_ALLOWED,
        "{}",
        r.status
    );
}

async fn work_added_after_approval_is_a_supplement_approved_again(app: TestApp) {
    let g = garage(&app, "taller-suplemento").await;
    let owner = g.owner();
    let o = g.approved(&app, &[(g.pads, 2)]).await;
    let oid = id(&o);
    assert_eq!(o["status"], "in_repair");
    // A rotor found worn during the repair: proposed, not held, and the work cannot go on.
    let o = g.part(&app, owner, oid, g.rotor, 1).await;
    let rotor_line = &o["lines"][2];
    assert_eq!(rotor_line["status"], "proposed");
    assert_eq!(rotor_line["version"], 2);
    assert_eq!(g.s.reserved(g.rotor, g.s.wh).await, 0);
    let r = try_step(&app, owner, oid, "check", json!({})).await;
    assert_eq!(r.code(), "supplement_pending");
    // Sent and declined: the rotor is off, the approved work goes on where it was.
    let o = step(&app, owner, oid, "submit", json!({})).await;
    assert_eq!(o["status"], "awaiting_approval");
    assert_eq!(o["budget_version"], 2);
    let o = step(&app, owner, oid, "decline", json!({"note": "no por ahora"})).await;
    assert_eq!(o["status"], "in_repair");
    assert_eq!(o["lines"][2]["status"], "declined");
    assert_eq!(o["approved_version"], 1);
    // Another supplement, approved by the customer through the link.
    let o = g.labour(&app, owner, oid, json!({"hours": "0.5"})).await;
    let o2 = step(&app, owner, oid, "submit", json!({})).await;
    assert_eq!(o2["budget_version"], 3);
    let token = link_token(&o);
    let page = app.get(&format!("/so/{token}?format=json"), None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert_eq!(page.json["awaiting_answer"], true);
    assert_eq!(page.json["pending"]["total"], "200.00");
    let r = app
        .post(
            &format!("/so/{token}/answer"),
            None,
            json!({"answer": "approve", "name": "Juan Garza"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let o = app
        .session(owner)
        .get(&format!("/pos/api/service-orders/{oid}"))
        .await
        .json;
    assert_eq!(o["status"], "in_repair");
    assert_eq!(o["approved_version"], 3);
    assert_eq!(o["approval_channel"], "link");
    assert_eq!(o["lines"][3]["status"], "approved");
    let last = o["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["actor_name"], "Juan Garza");
    // The link answers once.
    let r = app
        .post(
            &format!("/so/{token}/answer"),
            None,
            json!({"answer": "approve", "name": "Juan"}),
        )
        .await;
    assert_eq!(r.code(), "invalid_transition");
    // Charged: the approved lines only, not the declined rotor.
    step(&app, owner, oid, "check", json!({})).await;
    let o = step(&app, owner, oid, "ready", json!({})).await;
    assert_eq!(o["charged"]["total"], "1700.00", "{o}");
}

async fn a_declined_budget_leaves_only_the_diagnosis_to_charge(app: TestApp) {
    let g = garage(&app, "taller-rechazo").await;
    let owner = g.owner();
    let o = g.receive(&app, owner, json!({})).await;
    let oid = id(&o);
    step(&app, owner, oid, "diagnose", json!({})).await;
    g.labour(
        &app,
        owner,
        oid,
        json!({"item_id": g.diagnosis, "is_diagnosis": true}),
    )
    .await;
    g.part(&app, owner, oid, g.rotor, 2).await;
    step(&app, owner, oid, "submit", json!({})).await;
    let token = link_token(&o);
    // The customer declines from the page: a form post, answered with the page.
    let mut req = TestApp::request(
        http::Method::POST,
        &format!("/so/{token}/answer"),
        None,
        None,
        None,
    );
    *req.body_mut() = axum::body::Body::from("answer=decline&name=Juan+Garza&note=muy+caro");
    req.headers_mut().insert(
        "content-type",
        "application/x-www-form-urlencoded".parse().unwrap(),
    );
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        r.text().contains("Su respuesta quedó registrada"),
        "{}",
        r.text()
    );
    let o = app
        .session(owner)
        .get(&format!("/pos/api/service-orders/{oid}"))
        .await
        .json;
    assert_eq!(o["status"], "declined");
    assert_eq!(o["charged"]["total"], "250.00", "the diagnosis only");
    assert_eq!(g.s.reserved(g.rotor, g.s.wh).await, 0, "nothing was held");
    let r = app
        .session(owner)
        .post(
            &format!("/pos/api/service-orders/{oid}/deliver"),
            json!({"payments": [{"method": "card", "amount": "250.00", "reference": "123456"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let lines = r.json["sale"]["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["kind"], "labour");
    assert_eq!(g.s.on_hand(g.rotor, g.s.wh).await, 2, "no stock moved");
}

async fn mechanics_see_and_move_only_the_orders_assigned_to_them(app: TestApp) {
    let g = garage(&app, "taller-mecanico").await;
    let owner = g.owner();
    let email = app.user(&g.s.t, Role::Mechanic, None).await;
    let mechanic = app.token(&email).await;
    let me = app.session(&mechanic).get("/pos/api/auth/me").await;
    let me_id = me.json["user"]["id"].as_str().unwrap().to_owned();
    let mine = g.receive(&app, owner, json!({"assigned_to": me_id})).await;
    let other = g.receive(&app, owner, json!({})).await;
    let m = app.session(&mechanic);
    let list = m.get("/pos/api/service-orders").await;
    assert_eq!(list.json["total"], 1, "{}", list.text());
    assert_eq!(list.json["items"][0]["id"], mine["id"]);
    let r = m
        .get(&format!("/pos/api/service-orders/{}", id(&other)))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = try_step(&app, &mechanic, id(&other), "diagnose", json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Their own: diagnose, add work, log time; the customer's word is taken at the counter.
    let oid = id(&mine);
    step(&app, &mechanic, oid, "diagnose", json!({})).await;
    let o = g.labour(&app, &mechanic, oid, json!({"hours": "2"})).await;
    let line = o["lines"][0]["id"].as_str().unwrap().to_owned();
    let r = m
        .post(
            &format!("/pos/api/service-orders/{oid}/labour-time"),
            json!({"line_id": line, "minutes": 95}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["technician_id"], me_id.as_str());
    step(&app, &mechanic, oid, "submit", json!({})).await;
    let r = approve(&app, &mechanic, oid).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = m
        .post(&format!("/pos/api/service-orders/{oid}/deliver"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A discount is a seller's: a mechanic gives none.
    approve(&app, owner, oid).await;
    let r = m
        .post(
            &format!("/pos/api/service-orders/{oid}/parts"),
            json!({"item_id": g.pads, "warehouse_id": g.s.wh, "qty": 1, "discount_percent": "5"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let board = m.get("/pos/api/service-orders/kanban").await;
    let total: u64 = board.json["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 1, "{}", board.text());
    // A viewer reads but does not receive vehicles.
    let viewer = g.s.token(&app, Role::Viewer).await;
    let r = app.session(&viewer).post("/pos/api/service-orders", json!({"branch_id": g.s.branch, "customer_id": g.customer, "vehicle_id": g.vehicle, "complaint": "x"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn the_kanban_shows_the_owners_labels_counts_and_late_orders(app: TestApp) {
    let g = garage(&app, "taller-tablero").await;
    let owner = g.owner();
    let s = app.session(owner);
    let r = s
        .put(
            "/pos/api/workshop/settings",
            json!({"column_labels": {"in_repair": "En el elevador"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["column_labels"]["received"], "Recibido");
    let r = s
        .put(
            "/pos/api/workshop/settings",
            json!({"column_labels": {"flying": "x"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json["error"]["field"],
        "column_labels.flying",
        "{}",
        r.text()
    );
    let late = g
        .receive(&app, owner, json!({"promised_at": "2020-01-01T18:00:00Z"}))
        .await;
    g.receive(&app, owner, json!({"promised_at": "2099-01-01T18:00:00Z"}))
        .await;
    g.approved(&app, &[(g.pads, 1)]).await;
    let b = s
        .get(&format!(
            "/pos/api/service-orders/kanban?branch_id={}",
            g.s.branch
        ))
        .await;
    assert_eq!(b.status, StatusCode::OK, "{}", b.text());
    let cols = b.json["columns"].as_array().unwrap();
    assert_eq!(cols[0]["status"], "received");
    assert_eq!(cols[0]["count"], 2);
    assert_eq!(cols[0]["cards"][0]["id"], late["id"], "late cards first");
    assert_eq!(cols[0]["cards"][0]["late"], true);
    assert_eq!(cols[0]["cards"][1]["late"], false);
    let repair = cols.iter().find(|c| c["status"] == "in_repair").unwrap();
    assert_eq!(repair["label"], "En el elevador");
    assert_eq!(repair["count"], 1);
    let l = s.get("/pos/api/service-orders?late=true").await;
    assert_eq!(l.json["total"], 1);
    let l = s.get("/pos/api/service-orders?q=abc123").await;
    assert_eq!(l.json["total"], 3);
}

async fn bad_receptions_and_lines_are_refused_and_write_nothing(app: TestApp) {
    let g = garage(&app, "taller-malo").await;
    let owner = g.owner();
    let s = app.session(owner);
    let base = json!({"branch_id": g.s.branch, "customer_id": g.customer, "complaint": "ruido"});
    let cases = [
        (json!({}), "vehicle_id"),
        (
            json!({"vehicle_id": g.vehicle, "fuel_eighths": 9}),
            "fuel_eighths",
        ),
        (
            json!({"vehicle_id": g.vehicle, "odometer_km": -1}),
            "odometer_km",
        ),
        (
            json!({"vehicle_id": g.vehicle, "complaint": "  "}),
            "complaint",
        ),
        (json!({"plate": "12"}), "plate"),
        (json!({"vin": "123"}), "vin"),
        (
            json!({"vehicle_id": g.vehicle, "assigned_to": uuid::Uuid::now_v7()}),
            "assigned_to",
        ),
    ];
    for (extra, field) in cases {
        let mut body = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = s.post("/pos/api/service-orders", body).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            r.text()
        );
        assert_eq!(r.json["error"]["field"], field, "{}", r.text());
    }
    let r = s
        .post("/pos/api/service-orders", json!({"branch_id": g.s.branch, "customer_id": uuid::Uuid::now_v7(), "vehicle_id": g.vehicle, "complaint": "x"}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let list = s.get("/pos/api/service-orders").await;
    assert_eq!(list.json["total"], 0, "nothing was written");
    // Lines: a part as labour, labour as a part, hours past two decimals, a price below manager.
    let o = g.receive(&app, owner, json!({})).await;
    let oid = id(&o);
    let r = s
        .post(
            &format!("/pos/api/service-orders/{oid}/labour"),
            json!({"item_id": g.pads}),
        )
        .await;
    assert_eq!(r.code(), "not_a_service");
    let r = s
        .post(
            &format!("/pos/api/service-orders/{oid}/parts"),
            json!({"item_id": g.hourly, "warehouse_id": g.s.wh, "qty": 1}),
        )
        .await;
    assert_eq!(r.code(), "labour_not_sold_here");
    let r = s
        .post(
            &format!("/pos/api/service-orders/{oid}/labour"),
            json!({"item_id": g.hourly, "hours": "1.005"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let r = s
        .post(
            &format!("/pos/api/service-orders/{oid}/parts"),
            json!({"item_id": g.pads, "warehouse_id": g.s.wh, "qty": 0}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let cashier = g.s.token(&app, Role::Cashier).await;
    let r = app
        .session(&cashier)
        .post(
            &format!("/pos/api/service-orders/{oid}/labour"),
            json!({"item_id": g.hourly, "price": "1.00"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let o = s.get(&format!("/pos/api/service-orders/{oid}")).await.json;
    assert_eq!(
        o["lines"].as_array().unwrap().len(),
        0,
        "no line was written"
    );
    // A labour operation has no stock and is not sold at the counter.
    let r = s
        .post("/pos/api/sales", json!({"branch_id": g.s.branch, "lines": [{"item_id": g.hourly, "warehouse_id": g.s.wh, "qty": 1}], "payments": [{"method": "cash", "amount": "400.00"}]}))
        .await;
    assert_eq!(r.code(), "labour_not_sold_here", "{}", r.text());
    let r = s
        .post("/pos/api/inventory/adjustments", json!({"warehouse_id": g.s.wh, "reason": "found", "lines": [{"item_id": g.hourly, "delta": 1}]}))
        .await;
    assert_eq!(r.code(), "service_not_stocked", "{}", r.text());
}
