//! Purchase orders: every transition and every forbidden one, totals with IVA, approval above
//! the owner's threshold, edits after sending audited, sending queues the PDF by e-mail, roles.

use entities::Role;
use entities::notifications::tables::notification;
use entities::org::tables::audit_log;
use http::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use tests::{TestApp, shape_tests};

use super::{buying, id, line_ids, order, receive, step};

shape_tests!(
    an_order_goes_from_draft_to_sent_to_confirmed_to_received_to_closed,
    every_forbidden_transition_is_409_and_changes_nothing,
    an_order_totals_its_lines_with_iva_rounded_once_per_line,
    an_order_at_or_above_the_threshold_is_approved_by_an_owner_before_it_is_sent,
    an_edit_after_sending_is_audited_with_what_it_was,
    sending_an_order_keeps_its_pdf_and_parks_the_e_mail_until_e_mail_is_configured,
    bad_orders_are_refused_naming_the_field_and_write_nothing,
    a_cashier_reads_orders_but_only_a_manager_writes_them,
);

async fn an_order_goes_from_draft_to_sent_to_confirmed_to_received_to_closed(app: TestApp) {
    let b = buying(&app, "ciclo").await;
    let po = order(&app, &b, &[(b.items[0], 4, "100.00")]).await;
    let p = id(&po);
    assert_eq!(po["status"], "draft");
    assert!(po["folio"].as_str().unwrap().starts_with("OC-"), "{po}");
    for (what, status) in [("send", "sent"), ("confirm", "confirmed")] {
        let r = step(&app, b.token(), p, what).await;
        assert_eq!(r.status, StatusCode::OK, "{what}: {}", r.text());
        assert_eq!(r.json["status"], status);
    }
    let lines = line_ids(&po);
    let r = receive(&app, b.token(), p, &[(lines[0], 1)]).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["order"]["status"], "partially_received");
    let r = receive(&app, b.token(), p, &[(lines[0], 3)]).await;
    assert_eq!(r.json["order"]["status"], "received");
    let r = step(&app, b.token(), p, "close").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["status"], "closed");
    assert!(r.json["closed_at"].is_string());
    let listed = app
        .session(b.token())
        .get("/pos/api/purchase-orders?status=closed")
        .await;
    assert_eq!(listed.json["total"], 1, "{}", listed.text());
}

async fn every_forbidden_transition_is_409_and_changes_nothing(app: TestApp) {
    let b = buying(&app, "prohibido").await;
    let forbidden = |status: &str| -> Vec<&'static str> {
        match status {
            "draft" => vec!["confirm", "close"],
            "sent" => vec!["send", "close", "approve"],
            "confirmed" => vec!["send", "confirm", "close"],
            "partially_received" => vec!["send", "confirm", "cancel", "approve"],
            "received" => vec!["send", "confirm", "cancel", "approve"],
            "closed" | "cancelled" => vec!["send", "confirm", "cancel", "close", "approve"],
            _ => unreachable!(),
        }
    };
    // One order brought to each state.
    let mut orders = Vec::new();
    for target in [
        "draft",
        "sent",
        "confirmed",
        "partially_received",
        "received",
        "closed",
        "cancelled",
    ] {
        let po = order(&app, &b, &[(b.items[0], 2, "10.00")]).await;
        let p = id(&po);
        let l = line_ids(&po)[0];
        let path: &[&str] = match target {
            "draft" => &[],
            "sent" => &["send"],
            "confirmed" | "partially_received" | "received" | "closed" => &["send", "confirm"],
            "cancelled" => &["cancel"],
            _ => unreachable!(),
        };
        for s in path {
            assert_eq!(step(&app, b.token(), p, s).await.status, StatusCode::OK);
        }
        match target {
            "partially_received" => {
                receive(&app, b.token(), p, &[(l, 1)]).await;
            }
            "received" | "closed" => {
                receive(&app, b.token(), p, &[(l, 2)]).await;
            }
            _ => {}
        }
        if target == "closed" {
            step(&app, b.token(), p, "close").await;
        }
        orders.push((target, p, l));
    }
    for (status, p, l) in &orders {
        let before = app
            .session(b.token())
            .get(&format!("/pos/api/purchase-orders/{p}"))
            .await;
        assert_eq!(before.json["status"], *status);
        for what in forbidden(status) {
            let r = step(&app, b.token(), *p, what).await;
            assert_eq!(
                r.status,
                StatusCode::CONFLICT,
                "{status} → {what}: {}",
                r.text()
            );
            let code = r.code();
            assert!(
                ["invalid_purchase_order_state", "approval_not_needed"].contains(&code),
                "{status} → {what}: {code}"
            );
        }
        if ["draft", "closed", "cancelled", "received"].contains(status) {
            let r = receive(&app, b.token(), *p, &[(*l, 1)]).await;
            assert_eq!(r.status, StatusCode::CONFLICT, "receive when {status}");
        }
        let after = app
            .session(b.token())
            .get(&format!("/pos/api/purchase-orders/{p}"))
            .await;
        assert_eq!(after.json["status"], before.json["status"]);
        assert_eq!(after.json["version"], before.json["version"], "{status}");
    }
    // Cancelling after a receipt is refused with the order's state named.
    let (_, partial, _) = orders[3];
    let r = step(&app, b.token(), partial, "cancel").await;
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("partially_received")
    );
}

async fn an_order_totals_its_lines_with_iva_rounded_once_per_line(app: TestApp) {
    let b = buying(&app, "totales").await;
    // 7 × 33.33 = 233.31, IVA 37.3296 → 37.33; 3 × 0.05 = 0.15, IVA 0.024 → 0.02.
    let po = order(
        &app,
        &b,
        &[(b.items[0], 7, "33.33"), (b.items[1], 3, "0.05")],
    )
    .await;
    assert_eq!(po["subtotal"], "233.46");
    assert_eq!(po["tax"], "37.35");
    assert_eq!(po["total"], "270.81");
    assert_eq!(po["lines"][0]["tax"], "37.33");
    assert_eq!(po["lines"][1]["tax"], "0.02");
    assert_eq!(po["lines"][0]["iva_rate_bp"], 1600);
    // Without a unit cost the item's last cost is taken (10.50).
    let r = app
        .session(b.token())
        .post(
            &format!("/pos/api/purchase-orders/{}/lines", id(&po)),
            json!({"lines": [{"item_id": b.items[0], "qty": 2}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["lines"][2]["unit_cost"], "10.50");
    assert_eq!(r.json["subtotal"], "254.46");
}

async fn an_order_at_or_above_the_threshold_is_approved_by_an_owner_before_it_is_sent(
    app: TestApp,
) {
    let b = buying(&app, "aprobar").await;
    let r = app
        .session(b.token())
        .put(
            "/pos/api/purchasing/settings",
            json!({"approval_threshold": "1000.00"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["approval_threshold"], "1000.00");
    let small = order(&app, &b, &[(b.items[0], 1, "100.00")]).await;
    assert_eq!(small["needs_approval"], false);
    assert_eq!(
        step(&app, b.token(), id(&small), "send").await.status,
        StatusCode::OK
    );
    // 1000.00 with IVA is above the threshold.
    let big = order(&app, &b, &[(b.items[0], 10, "100.00")]).await;
    let p = id(&big);
    assert_eq!(big["needs_approval"], true);
    let r = step(&app, b.token(), p, "send").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "approval_required");
    let manager = app
        .token(&app.user(&b.f.t, Role::Manager, None).await)
        .await;
    assert_eq!(
        step(&app, &manager, p, "approve").await.status,
        StatusCode::FORBIDDEN
    );
    let r = step(&app, b.token(), p, "approve").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.json["approved_at"].is_string());
    // A change of amount after approval asks for it again.
    let l = line_ids(&big)[0];
    let r = app
        .session(b.token())
        .patch(
            &format!("/pos/api/purchase-orders/{p}/lines/{l}"),
            json!({"qty": 11}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.json["approved_at"].is_null());
    assert_eq!(
        step(&app, b.token(), p, "send").await.code(),
        "approval_required"
    );
    step(&app, b.token(), p, "approve").await;
    let r = step(&app, &manager, p, "send").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

async fn an_edit_after_sending_is_audited_with_what_it_was(app: TestApp) {
    let b = buying(&app, "auditar").await;
    let db = app.tenant_db(&b.f.t).await;
    let po = order(&app, &b, &[(b.items[0], 5, "20.00")]).await;
    let p = id(&po);
    let l = line_ids(&po)[0];
    step(&app, b.token(), p, "send").await;
    let r = app
        .session(b.token())
        .patch(
            &format!("/pos/api/purchase-orders/{p}/lines/{l}"),
            json!({"qty": 8, "unit_cost": "19.50"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["lines"][0]["qty"], 8);
    assert_eq!(r.json["subtotal"], "156.00");
    let rows = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("purchase_order.line_updated"))
        .all(&db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let d = rows[0].details.clone().unwrap();
    assert_eq!(d["after_sent"], true);
    assert_eq!(d["before"]["qty"], 5);
    assert_eq!(d["after"]["qty"], 8);
    // Below what was received, or a new cost for received units: refused.
    receive(&app, b.token(), p, &[(l, 3)]).await;
    let r = app
        .session(b.token())
        .patch(
            &format!("/pos/api/purchase-orders/{p}/lines/{l}"),
            json!({"qty": 2}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "line_received");
    let r = app
        .session(b.token())
        .delete(&format!("/pos/api/purchase-orders/{p}/lines/{l}"))
        .await;
    assert_eq!(r.code(), "line_received");
    // Down to what arrived completes the order.
    let r = app
        .session(b.token())
        .patch(
            &format!("/pos/api/purchase-orders/{p}/lines/{l}"),
            json!({"qty": 3}),
        )
        .await;
    assert_eq!(r.json["status"], "received", "{}", r.text());
}

async fn sending_an_order_keeps_its_pdf_and_parks_the_e_mail_until_e_mail_is_configured(
    app: TestApp,
) {
    let b = buying(&app, "enviar").await;
    let db = app.tenant_db(&b.f.t).await;
    let _jobs = app.drive_jobs(super::runtime(&app));
    let po = order(&app, &b, &[(b.items[0], 5, "20.00")]).await;
    let p = id(&po);
    assert_eq!(
        step(&app, b.token(), p, "send").await.status,
        StatusCode::OK
    );
    app.run_jobs().await;
    let sent = notification::Entity::find()
        .filter(notification::Column::RefType.eq("purchase_order"))
        .filter(notification::Column::RefId.eq(p.to_string()))
        .all(&db)
        .await
        .unwrap();
    assert_eq!(sent.len(), 1, "one e-mail");
    let n = &sent[0];
    assert_eq!(n.channel, "email");
    assert_eq!(n.recipient, "ventas@proveedor.mx");
    assert_eq!(n.status, notification::Status::Parked);
    assert!(n.reason.as_deref().unwrap().contains("not configured"));
    let key = n.payload["attachments"][0]["key"].as_str().unwrap();
    let pdf = app
        .app
        .services
        .files
        .as_ref()
        .unwrap()
        .get(key)
        .await
        .unwrap()
        .expect("the PDF is kept");
    assert!(pdf.starts_with(b"%PDF-"));
}

async fn bad_orders_are_refused_naming_the_field_and_write_nothing(app: TestApp) {
    let b = buying(&app, "malo").await;
    let s = app.session(b.token());
    let base = json!({"supplier_id": b.supplier, "warehouse_id": b.wh(), "currency": "MXN", "lines": [{"item_id": b.items[0], "qty": 1, "unit_cost": "1.00"}]});
    let cases = [
        (
            "/supplier_id",
            json!(uuid::Uuid::now_v7()),
            StatusCode::NOT_FOUND,
            "supplier_id",
        ),
        (
            "/warehouse_id",
            json!(uuid::Uuid::now_v7()),
            StatusCode::NOT_FOUND,
            "warehouse_id",
        ),
        (
            "/lines/0/item_id",
            json!(uuid::Uuid::now_v7()),
            StatusCode::NOT_FOUND,
            "lines[0].item_id",
        ),
        (
            "/lines/0/qty",
            json!(0),
            StatusCode::UNPROCESSABLE_ENTITY,
            "lines[0].qty",
        ),
        (
            "/lines/0/unit_cost",
            json!("-1"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "lines[0].unit_cost",
        ),
        (
            "/currency",
            json!("EUR"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "currency",
        ),
    ];
    for (pointer, value, status, field) in cases {
        let mut body = base.clone();
        *body
            .pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{pointer}")) = value;
        let r = s.post("/pos/api/purchase-orders", body).await;
        assert_eq!(r.status, status, "{pointer}: {}", r.text());
        assert_eq!(r.json["error"]["field"], field, "{pointer}: {}", r.text());
    }
    let listed = s.get("/pos/api/purchase-orders").await;
    assert_eq!(listed.json["total"], 0, "nothing was written");
}

async fn a_cashier_reads_orders_but_only_a_manager_writes_them(app: TestApp) {
    let b = buying(&app, "roles").await;
    let po = order(&app, &b, &[(b.items[0], 1, "1.00")]).await;
    let cashier = app
        .token(&app.user(&b.f.t, Role::Cashier, None).await)
        .await;
    let s = app.session(&cashier);
    assert_eq!(
        s.get("/pos/api/purchase-orders").await.status,
        StatusCode::OK
    );
    assert_eq!(
        s.get(&format!("/pos/api/purchase-orders/{}", id(&po)))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        step(&app, &cashier, id(&po), "send").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        s.post("/pos/api/purchase-orders", json!({})).await.status,
        StatusCode::FORBIDDEN
    );
    // Another tenant does not see it.
    let other = buying(&app, "otro").await;
    assert_eq!(
        app.session(other.token())
            .get(&format!("/pos/api/purchase-orders/{}", id(&po)))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
