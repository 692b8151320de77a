//! The CRM around the record: tags matched folded and counted, activities and each user's tasks
//! due, the timeline of everything a customer did, and saved segments counted in SQL.

use entities::Role;
use http::StatusCode;
use serde_json::{Value, json};
use tests::shop::Shop;
use tests::{TestApp, shape_tests};
use uuid::Uuid;

shape_tests!(
    tags_are_matched_without_case_or_accents_and_counted,
    each_user_sees_their_tasks_due_today_and_overdue_until_done,
    the_timeline_merges_sales_payments_and_activities_newest_first,
    segments_count_the_customers_every_rule_matches,
);

async fn customer(app: &TestApp, s: &Shop, body: Value) -> Uuid {
    let r = app.session(&s.owner).post("/pos/api/customers", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json["id"].as_str().unwrap().parse().unwrap()
}

async fn tags_are_matched_without_case_or_accents_and_counted(app: TestApp) {
    let s = Shop::open(&app, "etiquetas").await;
    let cashier = s.token(&app, Role::Cashier).await;
    let viewer = s.token(&app, Role::Viewer).await;
    let a = customer(&app, &s, json!({"name": "Taller Uno"})).await;
    let b = customer(&app, &s, json!({"name": "Taller Dos"})).await;
    let who = app.session(&cashier);
    let r = who
        .put(
            &format!("/pos/api/customers/{a}/tags"),
            json!({"tags": ["Mecánico", " VIP  cliente ", "mecanico"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["tags"], json!(["Mecánico", "VIP cliente"]));
    let r = who
        .put(
            &format!("/pos/api/customers/{b}/tags"),
            json!({"tags": ["MECANICO", "paga tarde"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = who.get("/pos/api/crm/tags").await;
    assert_eq!(
        r.json,
        json!([
            {"tag": "mecanico", "customers": 2},
            {"tag": "paga tarde", "customers": 1},
            {"tag": "vip cliente", "customers": 1},
        ])
    );
    // Removing one keeps the rest; bad input changes nothing.
    let r = who
        .put(
            &format!("/pos/api/customers/{a}/tags"),
            json!({"tags": ["vip cliente"]}),
        )
        .await;
    assert_eq!(r.json["tags"], json!(["VIP cliente"]));
    for bad in [json!({"tags": ["x".repeat(41)]}), json!({"tags": ["   "]})] {
        let r = who.put(&format!("/pos/api/customers/{a}/tags"), bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert_eq!(r.json["error"]["field"], "tags");
    }
    let many: Vec<String> = (0..31).map(|i| format!("t{i}")).collect();
    let r = who
        .put(
            &format!("/pos/api/customers/{a}/tags"),
            json!({"tags": many}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let r = who.get(&format!("/pos/api/customers/{a}/tags")).await;
    assert_eq!(r.json["tags"], json!(["VIP cliente"]));
    // A viewer reads but does not tag; another tenant's customer is not found.
    let r = app
        .session(&viewer)
        .put(
            &format!("/pos/api/customers/{a}/tags"),
            json!({"tags": ["x"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let other = Shop::open(&app, "otra-tienda").await;
    let r = app
        .session(&other.owner)
        .get(&format!("/pos/api/customers/{a}/tags"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
}

async fn each_user_sees_their_tasks_due_today_and_overdue_until_done(app: TestApp) {
    let s = Shop::open(&app, "tareas").await;
    let cashier = s.token(&app, Role::Cashier).await;
    let c = customer(&app, &s, json!({"name": "Flotilla Norte"})).await;
    let today = entities::today();
    let day = |d: i64| (today + chrono::Duration::days(d)).to_string();
    let path = format!("/pos/api/customers/{c}/activities");
    let mine = app.session(&cashier);
    let mut ids = Vec::new();
    for (subject, due) in [
        ("Llamar por cotización", 0),
        ("Cobrar factura", -3),
        ("Visitar", 2),
    ] {
        let r = mine
            .post(
                &path,
                json!({"kind": "task", "subject": subject, "due_on": day(due)}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        ids.push(r.json["id"].as_str().unwrap().to_owned());
    }
    // The owner's own task and a note are not the cashier's.
    let r = app
        .session(&s.owner)
        .post(
            &path,
            json!({"kind": "task", "subject": "Revisar crédito", "due_on": day(0)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = mine
        .post(
            &path,
            json!({"kind": "note", "subject": "Prefiere WhatsApp"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let note = r.json["id"].as_str().unwrap().to_owned();

    let due = mine.get("/pos/api/crm/tasks").await;
    assert_eq!(due.status, StatusCode::OK, "{}", due.text());
    let subjects: Vec<&str> = due.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["Cobrar factura", "Llamar por cotización"]);
    let r = mine
        .patch(&format!("{path}/{}", ids[1]), json!({"done": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.json["done_at"].is_string());
    let due = mine.get("/pos/api/crm/tasks").await;
    assert_eq!(due.json["total"], 1);
    let all = mine.get("/pos/api/crm/tasks?owner=all").await;
    assert_eq!(all.json["total"], 2, "{}", all.text());

    // Refused, writing nothing: a task without a day, a day on a note, done on a note.
    let before = mine.get(&path).await.json["total"].clone();
    for (bad, field) in [
        (json!({"kind": "task", "subject": "Sin fecha"}), "due_on"),
        (
            json!({"kind": "note", "subject": "x", "due_on": day(1)}),
            "due_on",
        ),
        (json!({"kind": "email", "subject": "x"}), "kind"),
        (json!({"kind": "call", "subject": ""}), "subject"),
    ] {
        let r = mine.post(&path, bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert_eq!(r.json["error"]["field"], field, "{}", r.text());
    }
    let r = mine
        .patch(&format!("{path}/{note}"), json!({"done": true}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.json["error"]["code"], "not_a_task");
    assert_eq!(mine.get(&path).await.json["total"], before);
}

async fn the_timeline_merges_sales_payments_and_activities_newest_first(app: TestApp) {
    let s = Shop::open(&app, "linea").await;
    let item = s.item("TL-1", 100_000, None, 0).await;
    s.stock(item, s.wh, 10).await;
    let c = customer(
        &app,
        &s,
        json!({"name": "Taller Línea", "credit_limit": "5000.00"}),
    )
    .await;
    let owner = app.session(&s.owner);
    let r = owner
        .post(
            "/pos/api/sales",
            json!({"branch_id": s.branch, "customer_id": c,
                   "lines": [{"item_id": item, "warehouse_id": s.wh, "qty": 2}],
                   "payments": [{"method": "credit", "amount": "2000.00"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let folio = r.json["folio"].as_str().unwrap().to_owned();
    let r = owner
        .post(
            &format!("/pos/api/customers/{c}/payments"),
            json!({"amount": "500.00", "method": "transfer", "reference": "SPEI-77"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = owner
        .post(
            &format!("/pos/api/customers/{c}/activities"),
            json!({"kind": "call", "subject": "Confirmó el pago"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    let path = format!("/pos/api/customers/{c}/timeline");
    let r = owner.get(&path).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let kinds: Vec<(&str, &str)> = r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap(), e["title"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("call", "Confirmó el pago"),
            ("payment", "SPEI-77"),
            ("sale", folio.as_str()),
        ]
    );
    assert_eq!(r.json["items"][1]["amount"], "500.00");
    assert_eq!(r.json["items"][1]["status"], "transfer");
    assert_eq!(r.json["items"][2]["amount"], "2000.00");
    // Filtered by kind and paged.
    let r = owner
        .get(&format!("{path}?kinds=sale,payment&per_page=1"))
        .await;
    assert_eq!(r.json["total"], 2);
    assert_eq!(r.json["items"][0]["kind"], "payment");
    let r = owner
        .get(&format!("{path}?kinds=sale,payment&per_page=1&page=2"))
        .await;
    assert_eq!(r.json["items"][0]["kind"], "sale");
    let r = owner.get(&format!("{path}?kinds=sale,email")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "kinds");
    let r = owner
        .get(&format!("/pos/api/customers/{}/timeline", Uuid::now_v7()))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
}

async fn segments_count_the_customers_every_rule_matches(app: TestApp) {
    let s = Shop::open(&app, "segmentos").await;
    let item = s.item("SG-1", 100_000, None, 0).await;
    s.stock(item, s.wh, 20).await;
    s.stock(item, s.border_wh, 20).await;
    let owner = app.session(&s.owner);
    let a = customer(
        &app,
        &s,
        json!({"name": "A Taller", "price_list": "taller"}),
    )
    .await;
    let b = customer(&app, &s, json!({"name": "B Mostrador"})).await;
    let c = customer(&app, &s, json!({"name": "C Sin compras"})).await;
    for (who, tags) in [(a, json!(["VIP"])), (c, json!(["vip"]))] {
        let r = owner
            .put(
                &format!("/pos/api/customers/{who}/tags"),
                json!({"tags": tags}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let sell = |customer: Uuid, branch: Uuid, wh: Uuid, qty: i64, pay: &str| {
        json!({"branch_id": branch, "customer_id": customer,
               "lines": [{"item_id": item, "warehouse_id": wh, "qty": qty}],
               "payments": [{"method": "cash", "amount": pay}]})
    };
    let r = owner
        .post("/pos/api/sales", sell(a, s.branch, s.wh, 3, "3000.00"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = owner
        .post(
            "/pos/api/sales",
            sell(b, s.border, s.border_wh, 1, "1000.00"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    let count = |rules: Value| {
        let owner = app.session(&s.owner);
        async move {
            let r = owner.post("/pos/api/crm/segments/preview", rules).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            r.json["customers"].as_u64().unwrap()
        }
    };
    let tomorrow = (entities::today() + chrono::Duration::days(1)).to_string();
    assert_eq!(count(json!({})).await, 3);
    assert_eq!(
        count(json!({"spent_min": "2000.00", "spent_days": 30})).await,
        1
    );
    assert_eq!(count(json!({"spent_min": "500"})).await, 2);
    assert_eq!(count(json!({"tag": "Vip"})).await, 2);
    assert_eq!(
        count(json!({"tag": "vip", "price_list": "taller"})).await,
        1
    );
    assert_eq!(count(json!({"branch_id": s.border})).await, 1);
    assert_eq!(count(json!({"last_purchase_before": tomorrow})).await, 2);
    assert_eq!(
        count(json!({"last_purchase_before": entities::today().to_string()})).await,
        0
    );

    // Saved, listed with its count, its members paged, renamed, deleted.
    let r = owner
        .post(
            "/pos/api/crm/segments",
            json!({"name": "VIP", "rules": {"tag": "VIP"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["customers"], 2);
    assert_eq!(r.json["rules"], json!({"tag": "vip"}));
    let id = r.json["id"].as_str().unwrap().to_owned();
    let r = owner
        .get(&format!("/pos/api/crm/segments/{id}/customers"))
        .await;
    let names: Vec<&str> = r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["A Taller", "C Sin compras"]);
    let r = owner
        .post("/pos/api/crm/segments", json!({"name": "vip", "rules": {}}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.json["error"]["code"], "segment_name_taken");
    for (bad, field) in [
        (
            json!({"spent_min": "100", "spent_days": 0}),
            "rules.spent_days",
        ),
        (json!({"spent_days": 10}), "rules.spent_days"),
        (json!({"price_list": "vip"}), "rules.price_list"),
        (json!({"spent_min": "-1"}), "rules.spent_min"),
    ] {
        let r = owner
            .post(
                "/pos/api/crm/segments",
                json!({"name": "Malo", "rules": bad}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert_eq!(r.json["error"]["field"], field, "{}", r.text());
    }
    assert_eq!(owner.get("/pos/api/crm/segments").await.json["total"], 1);
    let r = owner
        .patch(
            &format!("/pos/api/crm/segments/{id}"),
            json!({"rules": {"tag": "vip", "spent_min": "1"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["customers"], 1);
    let cashier = s.token(&app, Role::Cashier).await;
    let r = app.session(&cashier).get("/pos/api/crm/segments").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = owner.delete(&format!("/pos/api/crm/segments/{id}")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let r = owner.get(&format!("/pos/api/crm/segments/{id}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
}
