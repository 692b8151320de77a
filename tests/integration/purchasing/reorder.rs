//! Reorder: rules, alerts from the forecast (on hand + on order + inbound − reserved), the
//! suggestion rounded to the supplier's pack and grouped by supplier into draft orders once a
//! day, the nightly velocity (a rule pinned by hand survives it), and lost sales.

use chrono::Duration;
use entities::inventory::tables::stock_ledger;
use entities::notifications::events;
use entities::purchasing::tables::lost_sale;
use http::StatusCode;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::{Value, json};
use tests::{TestApp, shape_tests};
use uuid::Uuid;

use super::{Buying, buying, id};
use crate::inventory::stock::adjust;

shape_tests!(
    an_alert_is_raised_below_the_minimum_once_and_cleared_above_it,
    the_suggestion_orders_up_to_the_maximum_rounded_to_the_pack_and_groups_by_supplier,
    suggested_orders_are_made_once_per_supplier_and_day,
    the_nightly_job_sets_computed_rules_from_sales_and_lost_sales_and_leaves_pinned_ones,
    a_lost_sale_is_recorded_by_hand_and_when_the_counter_finds_no_stock,
    bad_rules_are_refused_naming_the_field,
);

async fn rule(app: &TestApp, b: &Buying, item: Uuid, body: Value) -> Value {
    let mut body = body;
    body["warehouse_id"] = json!(b.wh());
    body["item_id"] = json!(item);
    let r = app
        .session(b.token())
        .post("/pos/api/inventory/reorder-rules", body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json
}

async fn generate(app: &TestApp, b: &Buying) -> Value {
    let r = app
        .session(b.token())
        .post("/pos/api/inventory/generate-alerts", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json
}

async fn an_alert_is_raised_below_the_minimum_once_and_cleared_above_it(app: TestApp) {
    let b = buying(&app, "alerta").await;
    let db = app.tenant_db(&b.f.t).await;
    let a = b.items[0];
    adjust(&app, b.token(), b.wh(), a, 3).await;
    rule(&app, &b, a, json!({"min_qty": 5, "max_qty": 20})).await;
    let run = generate(&app, &b).await;
    assert_eq!(run["raised"], 1, "{run}");
    let s = app.session(b.token());
    let alerts = s.get("/pos/api/inventory/reorder-alerts?status=open").await;
    assert_eq!(alerts.json["total"], 1, "{}", alerts.text());
    let alert = &alerts.json["items"][0];
    assert_eq!(alert["on_hand"], 3);
    assert_eq!(alert["forecast"], 3);
    assert_eq!(alert["suggested_qty"], 17);
    // A second run refreshes the same alert.
    adjust(&app, b.token(), b.wh(), a, -1).await;
    let run = generate(&app, &b).await;
    assert_eq!(
        (run["raised"].clone(), run["refreshed"].clone()),
        (json!(0), json!(1))
    );
    let alerts = s.get("/pos/api/inventory/reorder-alerts").await;
    assert_eq!(alerts.json["total"], 1);
    assert_eq!(alerts.json["items"][0]["suggested_qty"], 18);
    let aid = id(&alerts.json["items"][0]);
    let r = s
        .put(
            &format!("/pos/api/inventory/reorder-alerts/{aid}/acknowledge"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["status"], "acknowledged");
    let r = s
        .put(
            &format!("/pos/api/inventory/reorder-alerts/{aid}/acknowledge"),
            json!({}),
        )
        .await;
    assert_eq!(r.code(), "invalid_alert_state");
    // An open order counts: 2 on hand + 10 on order is above the minimum; the alert clears.
    super::order(&app, &b, &[(a, 10, "1.00")]).await;
    let run = generate(&app, &b).await;
    assert_eq!(run["cleared"], 1, "{run}");
    let alerts = s
        .get("/pos/api/inventory/reorder-alerts?status=resolved")
        .await;
    assert_eq!(alerts.json["total"], 1);
    assert_eq!(
        events::of_kind(&db, events::REORDER_ALERT)
            .await
            .unwrap()
            .len(),
        1
    );
    // Snoozed: no alert.
    let c = b.items[1];
    let r = rule(
        &app,
        &b,
        c,
        json!({"min_qty": 1, "max_qty": 2, "snoozed_until": "2099-01-01"}),
    )
    .await;
    let run = generate(&app, &b).await;
    assert_eq!(run["snoozed"], 1, "{run}");
    let r = s
        .patch(
            &format!("/pos/api/inventory/reorder-rules/{}", id(&r)),
            json!({"snoozed_until": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(generate(&app, &b).await["raised"], 1);
}

async fn the_suggestion_orders_up_to_the_maximum_rounded_to_the_pack_and_groups_by_supplier(
    app: TestApp,
) {
    let b = buying(&app, "sugerir").await;
    let s = app.session(b.token());
    let (a, c) = (b.items[0], b.items[1]);
    // A: 2 on hand, min 5, max 20, multiple 4 → 18 → 20; the supplier packs by 6 → 24.
    adjust(&app, b.token(), b.wh(), a, 2).await;
    let r = s
        .post(
            &format!("/pos/api/suppliers/{}/prices", b.supplier),
            json!({"item_id": a, "price": "95.00", "pack_multiple": 6, "supplier_sku": "PRV-A"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    rule(
        &app,
        &b,
        a,
        json!({"min_qty": 5, "max_qty": 20, "multiple": 4, "preferred_supplier_id": b.supplier}),
    )
    .await;
    // C: nothing on hand, a cheaper second supplier, no preferred one: the cheapest is picked.
    let other = s
        .post("/pos/api/suppliers", json!({"name": "Distribuidora Sur"}))
        .await;
    let other = id(&other.json);
    for (sup, price) in [(b.supplier, "30.00"), (other, "28.50")] {
        s.post(
            &format!("/pos/api/suppliers/{sup}/prices"),
            json!({"item_id": c, "price": price}),
        )
        .await;
    }
    rule(&app, &b, c, json!({"min_qty": 1, "max_qty": 3})).await;
    let r = s.get("/pos/api/inventory/reorder-suggest-po").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let groups = r.json.as_array().unwrap();
    assert_eq!(groups.len(), 2, "{}", r.text());
    let of = |sup: Uuid| {
        groups
            .iter()
            .find(|g| g["supplier_id"] == sup.to_string())
            .unwrap()
            .clone()
    };
    let mine = of(b.supplier);
    assert_eq!(mine["lines"][0]["qty"], 24);
    assert_eq!(mine["lines"][0]["unit_cost"], "95.00");
    assert_eq!(mine["lines"][0]["supplier_sku"], "PRV-A");
    let theirs = of(other);
    assert_eq!(theirs["lines"][0]["item_id"], c.to_string());
    assert_eq!(theirs["lines"][0]["qty"], 3);
    assert_eq!(theirs["lines"][0]["unit_cost"], "28.50");
}

async fn suggested_orders_are_made_once_per_supplier_and_day(app: TestApp) {
    let b = buying(&app, "diario").await;
    let s = app.session(b.token());
    rule(
        &app,
        &b,
        b.items[0],
        json!({"min_qty": 2, "max_qty": 10, "preferred_supplier_id": b.supplier}),
    )
    .await;
    generate(&app, &b).await;
    let preview = s.get("/pos/api/inventory/reorder-suggest-po").await;
    assert_eq!(
        preview.json.as_array().unwrap().len(),
        1,
        "{}",
        preview.text()
    );
    let first = s
        .post("/pos/api/inventory/reorder-suggest-po", json!({}))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    let orders = first.json.as_array().unwrap();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["status"], "draft");
    assert_eq!(orders[0]["origin"], "reorder");
    assert_eq!(orders[0]["lines"][0]["qty"], 10);
    // The order now counts as on order, and a second run the same day answers the same order.
    let again = s
        .post("/pos/api/inventory/reorder-suggest-po", json!({}))
        .await;
    assert_eq!(again.json.as_array().unwrap().len(), 1, "{}", again.text());
    assert_eq!(again.json[0]["id"], orders[0]["id"]);
    assert_eq!(s.get("/pos/api/purchase-orders").await.json["total"], 1);
    // The rule's alert was resolved by the order.
    let open = s.get("/pos/api/inventory/reorder-alerts?status=open").await;
    assert_eq!(open.json["total"], 0, "{}", open.text());
}

/// A ledger row of a sale `days_ago`, written as the counter would have.
async fn sold(db: &sea_orm::DatabaseConnection, b: &Buying, item: Uuid, qty: i64, days_ago: i64) {
    let branch = b.f.branches[0];
    stock_ledger::ActiveModel {
        item_id: Set(item),
        warehouse_id: Set(b.wh()),
        branch_id: Set(branch),
        delta: Set(-qty),
        balance_after: Set(0),
        reason: Set("sale".into()),
        ref_type: Set("sale".into()),
        ref_id: Set(Uuid::now_v7().to_string()),
        note: Set(None),
        actor_user_id: Set(None),
        created_at: Set(entities::now() - Duration::days(days_ago)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
}

async fn the_nightly_job_sets_computed_rules_from_sales_and_lost_sales_and_leaves_pinned_ones(
    app: TestApp,
) {
    let b = buying(&app, "velocidad").await;
    let db = app.tenant_db(&b.f.t).await;
    let (a, c) = (b.items[0], b.items[1]);
    // A sold 1 a day for a year (one row every day); C the same, but its rule is pinned.
    for d in 1..=364 {
        sold(&db, &b, a, 1, d).await;
        sold(&db, &b, c, 1, d).await;
    }
    // Lost sales of A: 28 in the last four weeks, at the default weight of 50 %.
    lost_sale::ActiveModel {
        id: Set(Uuid::now_v7()),
        item_id: Set(Some(a)),
        catalog_part_id: Set(None),
        warehouse_id: Set(Some(b.wh())),
        branch_id: Set(None),
        qty: Set(28),
        reason: Set(lost_sale::Reason::NoStock),
        source: Set("manual".into()),
        customer_id: Set(None),
        note: Set(None),
        recorded_by: Set(None),
        created_at: Set(entities::now() - Duration::days(2)),
    }
    .insert(&db)
    .await
    .unwrap();
    let computed = rule(
        &app,
        &b,
        a,
        json!({"min_qty": 0, "max_qty": 0, "lead_days": 5, "mode": "computed"}),
    )
    .await;
    let pinned = rule(
        &app,
        &b,
        c,
        json!({"min_qty": 3, "max_qty": 7, "lead_days": 5}),
    )
    .await;
    let _jobs = app.drive_jobs(super::runtime(&app));
    let tick = entities::now();
    let fired = schedules::Scheduler::new(
        app.app.platform.clone(),
        app.app.tenants.clone(),
        app.app.waker.clone(),
        jobs::maintenance::Retention::default(),
    )
    .fire(schedules::Schedule::NightlyReorder, tick)
    .await
    .unwrap();
    assert!(fired.claimed && fired.failed.is_empty(), "{fired:?}");
    app.run_jobs().await;
    let s = app.session(b.token());
    let got = s
        .get(&format!("/pos/api/inventory/reorder-rules?item_id={a}"))
        .await;
    let r = &got.json["items"][0];
    assert_eq!(r["id"], computed["id"]);
    // Sold: one a day on days 1 to 364 before the run; a window of n days holds the rows of
    // days 1 to n − 1 (day n is a moment older than its cut): 27, 90 and 363 rows.
    // 0.5 × 27/28 + 0.3 × 90/91 + 0.2 × 363/364 = 0.482143 + 0.296703 + 0.199451 = 0.978297;
    // lost: 28 × 0.5 = 14 in every window: 0.5 × 14/28 + 0.3 × 14/91 + 0.2 × 14/364
    // = 0.25 + 0.046154 + 0.007692 = 0.303846; total 1.282143 → 1.282 a day.
    assert_eq!(r["units_per_day"], "1.282", "{}", got.text());
    // min = ⌈1.282 × (5 + 7)⌉ = ⌈15.384⌉ = 16; max = 16 + ⌈1.282 × 14⌉ = 16 + ⌈17.948⌉ = 34.
    assert_eq!(
        (r["min_qty"].clone(), r["max_qty"].clone()),
        (json!(16), json!(34))
    );
    assert_eq!(r["mode"], "computed");
    let got = s
        .get(&format!("/pos/api/inventory/reorder-rules?item_id={c}"))
        .await;
    let r = &got.json["items"][0];
    assert_eq!(r["id"], pinned["id"]);
    assert_eq!(
        (r["min_qty"].clone(), r["max_qty"].clone()),
        (json!(3), json!(7)),
        "pinned by hand"
    );
    assert_eq!(r["mode"], "manual");
    // The same job raised A's alert: nothing on hand, below 16.
    let alerts = s.get("/pos/api/inventory/reorder-alerts").await;
    assert_eq!(alerts.json["total"], 2, "{}", alerts.text());
}

async fn a_lost_sale_is_recorded_by_hand_and_when_the_counter_finds_no_stock(app: TestApp) {
    let b = buying(&app, "perdida").await;
    let s = app.session(b.token());
    let r = s
        .post("/pos/api/inventory/lost-sales", json!({"item_id": b.items[0], "qty": 2, "reason": "price", "warehouse_id": b.wh(), "note": "la quería a 300"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["source"], "manual");
    assert_eq!(r.json["reason"], "price");
    assert_eq!(r.json["branch_id"], b.f.branches[0].to_string());
    // Neither an item nor a part; an unknown item: refused.
    let r = s
        .post("/pos/api/inventory/lost-sales", json!({"qty": 1}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = s
        .post(
            "/pos/api/inventory/lost-sales",
            json!({"item_id": Uuid::now_v7(), "qty": 1}),
        )
        .await;
    assert_eq!(r.code(), "item_not_found");
    // The counter looks B up twice and finds none: one lost sale, from the look-up.
    for _ in 0..2 {
        let r = s.get(&format!("/pos/api/items/{}/stock", b.items[1])).await;
        assert_eq!(r.status, StatusCode::OK);
    }
    // A has stock: looking it up records nothing.
    adjust(&app, b.token(), b.wh(), b.items[0], 1).await;
    s.get(&format!("/pos/api/items/{}/stock", b.items[0])).await;
    let listed = s
        .get(&format!(
            "/pos/api/inventory/lost-sales?item_id={}",
            b.items[1]
        ))
        .await;
    assert_eq!(listed.json["total"], 1, "{}", listed.text());
    assert_eq!(listed.json["items"][0]["source"], "stock_lookup");
    assert_eq!(listed.json["items"][0]["reason"], "no_stock");
    let all = s.get("/pos/api/inventory/lost-sales").await;
    assert_eq!(all.json["total"], 2, "{}", all.text());
}

async fn bad_rules_are_refused_naming_the_field(app: TestApp) {
    let b = buying(&app, "reglamala").await;
    let s = app.session(b.token());
    let base = json!({"warehouse_id": b.wh(), "item_id": b.items[0], "min_qty": 5, "max_qty": 10});
    for (change, status, field) in [
        (
            json!({"max_qty": 4}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "max_qty",
        ),
        (
            json!({"multiple": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "multiple",
        ),
        (
            json!({"min_qty": -1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "min_qty",
        ),
        (
            json!({"item_id": Uuid::now_v7()}),
            StatusCode::NOT_FOUND,
            "item_id",
        ),
        (
            json!({"preferred_supplier_id": Uuid::now_v7()}),
            StatusCode::NOT_FOUND,
            "preferred_supplier_id",
        ),
    ] {
        let mut body = base.clone();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = s.post("/pos/api/inventory/reorder-rules", body).await;
        assert_eq!(r.status, status, "{change}: {}", r.text());
        assert_eq!(r.json["error"]["field"], field, "{change}: {}", r.text());
    }
    assert_eq!(
        s.post("/pos/api/inventory/reorder-rules", base.clone())
            .await
            .status,
        StatusCode::CREATED
    );
    let r = s.post("/pos/api/inventory/reorder-rules", base).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "reorder_rule_exists");
}
