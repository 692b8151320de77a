//! Core charges (cascos): the deposit line a sale adds after a part with a core charge, its
//! refund only against a matching old unit (good ones refunded and into the cores warehouse,
//! damaged ones not), store credit after the window, the part's return taking its deposit
//! with it, batches back to the supplier and their credit, and the ledgers reconciling.

use http::StatusCode;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};
use tests::{TestApp, shape_tests};
use uuid::Uuid;

use super::{Garage, garage, id};

shape_tests!(
    a_core_deposit_is_refunded_only_against_a_matching_old_unit,
    a_late_core_is_store_credit_and_cores_go_back_to_the_supplier_in_batches,
    returning_the_part_takes_its_core_deposit_with_it,
);

/// An alternator at $2,500.00 with a $350.00 core charge set through the API; 5 in stock.
async fn alternator(app: &TestApp, g: &Garage) -> Uuid {
    let item = g.s.item("ALT-100", 250_000, None, 0).await;
    g.s.stock(item, g.s.wh, 5).await;
    let r = app
        .session(g.owner())
        .patch(
            &format!("/pos/api/items/{item}"),
            json!({"core_charge": "350.00"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["core_charge"], "350.00");
    item
}

async fn sell(app: &TestApp, g: &Garage, item: Uuid, qty: i64, total: &str) -> Value {
    let r = app
        .session(g.owner())
        .post(
            "/pos/api/sales",
            json!({"branch_id": g.s.branch, "customer_id": g.customer, "lines": [{"item_id": item, "warehouse_id": g.s.wh, "qty": qty}], "payments": [{"method": "cash", "amount": total}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json
}

async fn take_back(app: &TestApp, g: &Garage, body: Value) -> tests::TestResponse {
    app.session(g.owner())
        .post("/pos/api/cores/returns", body)
        .await
}

async fn cores_wh(g: &Garage) -> Uuid {
    use sea_orm::{ColumnTrait, QueryFilter};
    entities::org::tables::warehouse::Entity::find()
        .filter(entities::org::tables::warehouse::Column::Code.like("%-CASCOS"))
        .one(&g.s.db)
        .await
        .unwrap()
        .expect("the cores warehouse")
        .id
}

async fn a_core_deposit_is_refunded_only_against_a_matching_old_unit(app: TestApp) {
    let g = garage(&app, "cascos").await;
    let alt = alternator(&app, &g).await;
    let sale = sell(&app, &g, alt, 2, "5700.00").await;
    let lines = sale["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["kind"], "core");
    assert_eq!(lines[1]["sku"], "ALT-100-CASCO");
    assert_eq!(lines[1]["total"], "700.00");
    assert_eq!(sale["total"], "5700.00");
    assert_eq!(
        g.s.on_hand(alt, g.s.wh).await,
        3,
        "the deposit line takes no stock"
    );
    let sid = id(&sale);
    let c = app
        .session(g.owner())
        .get(&format!("/pos/api/customers/{}/cores", g.customer))
        .await;
    assert_eq!(c.json["owed"][0]["qty"], 2, "{}", c.text());
    assert_eq!(c.json["deposits_held"], "700.00");
    // No matching deposit: the part's own line, or more units than owed.
    let r = take_back(
        &app,
        &g,
        json!({"sale_id": sid, "line_no": 1, "qty": 1, "condition": "good"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "line_no");
    let r = take_back(
        &app,
        &g,
        json!({"sale_id": sid, "line_no": 2, "qty": 3, "condition": "good"}),
    )
    .await;
    assert_eq!(r.code(), "no_core_deposit", "{}", r.text());
    // A cracked core refunds nothing and closes that unit.
    let r = take_back(&app, &g, json!({"sale_id": sid, "line_no": 2, "qty": 1, "condition": "damaged", "note": "carcasa rota"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["entry"]["kind"], "rejected");
    assert!(r.json["refund"].is_null());
    // A good one is refunded as a return of the deposit line, and goes to the cores warehouse.
    let r = take_back(&app, &g, json!({"sale_id": sid, "line_no": 2, "qty": 1, "condition": "good", "refund_method": "cash"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["refund"]["kind"], "core");
    assert_eq!(r.json["refund"]["refund"], "350.00");
    assert_eq!(r.json["refund"]["refund_method"], "cash");
    assert_eq!(r.json["late"], false);
    let wh = cores_wh(&g).await;
    assert_eq!(g.s.on_hand(alt, wh).await, 1);
    assert_eq!(
        g.s.on_hand(alt, g.s.wh).await,
        3,
        "a core is not sellable stock"
    );
    // Nothing more is owed: a further one has no deposit to match.
    let r = take_back(
        &app,
        &g,
        json!({"sale_id": sid, "line_no": 2, "qty": 1, "condition": "good"}),
    )
    .await;
    assert_eq!(r.code(), "no_core_deposit");
    let c = app
        .session(g.owner())
        .get(&format!("/pos/api/customers/{}/cores", g.customer))
        .await;
    assert_eq!(c.json["owed"].as_array().unwrap().len(), 0, "{}", c.text());
    // The ledger reconciles: units deposited = returned + rejected; money: deposits − refunds.
    let entries = c.json["entries"].as_array().unwrap();
    let units = |k: &str| -> i64 {
        entries
            .iter()
            .filter(|e| e["kind"] == k)
            .map(|e| e["qty"].as_i64().unwrap())
            .sum()
    };
    assert_eq!(units("deposit"), units("returned") + units("rejected"));
    assert!(
        entities::inventory::movements::reconcile(&g.s.db)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_late_core_is_store_credit_and_cores_go_back_to_the_supplier_in_batches(app: TestApp) {
    let g = garage(&app, "cascos-tarde").await;
    let alt = alternator(&app, &g).await;
    let r = app
        .session(g.owner())
        .put("/pos/api/workshop/settings", json!({"core_window_days": 1}))
        .await;
    assert_eq!(r.json["core_window_days"], 1);
    let sale = sell(&app, &g, alt, 1, "2850.00").await;
    let sid = id(&sale);
    // The sale was three days ago.
    let row = entities::counter::tables::sale::Entity::find_by_id(sid)
        .one(&g.s.db)
        .await
        .unwrap()
        .unwrap();
    let mut am: entities::counter::tables::sale::ActiveModel = row.clone().into();
    am.created_at = Set(row.created_at - chrono::Duration::days(3));
    am.update(&g.s.db).await.unwrap();
    let r = take_back(&app, &g, json!({"sale_id": sid, "line_no": 2, "qty": 1, "condition": "good", "refund_method": "cash"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["late"], true);
    assert_eq!(r.json["refund"]["refund_method"], "store_credit");
    let c = app
        .session(g.owner())
        .get(&format!("/pos/api/customers/{}", g.customer))
        .await;
    assert_eq!(c.json["store_credit"], "350.00", "{}", c.text());
    // Back to the supplier.
    let sup = app
        .session(g.owner())
        .post(
            "/pos/api/suppliers",
            json!({"name": "Alternadores del Bajío", "rfc": "ABA010101AB1"}),
        )
        .await;
    assert_eq!(sup.status, StatusCode::CREATED, "{}", sup.text());
    let sup = id(&sup.json);
    let wh = cores_wh(&g).await;
    let s = app.session(g.owner());
    let r = s.post("/pos/api/cores/batches", json!({"supplier_id": sup, "warehouse_id": g.s.wh, "lines": [{"item_id": alt, "qty": 1}]})).await;
    assert_eq!(r.code(), "not_a_cores_warehouse");
    let r = s
        .post(
            "/pos/api/cores/batches",
            json!({"supplier_id": sup, "warehouse_id": wh, "lines": [{"item_id": alt, "qty": 2}]}),
        )
        .await;
    assert_eq!(r.code(), "insufficient_stock");
    let r = s.post("/pos/api/cores/batches", json!({"supplier_id": sup, "warehouse_id": wh, "lines": [{"item_id": alt, "qty": 1, "unit_credit": "300.00"}]})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert!(r.json["folio"].as_str().unwrap().starts_with("CB-"));
    let batch = id(&r.json);
    assert_eq!(g.s.on_hand(alt, wh).await, 0);
    let v = s.get(&format!("/pos/api/suppliers/{sup}/cores")).await;
    assert_eq!(v.json["pending"], "300.00", "{}", v.text());
    let r = s
        .post(
            &format!("/pos/api/cores/batches/{batch}/credit"),
            json!({"amount": "300.00"}),
        )
        .await;
    assert_eq!(r.json["status"], "credited", "{}", r.text());
    let r = s
        .post(
            &format!("/pos/api/cores/batches/{batch}/credit"),
            json!({"amount": "300.00"}),
        )
        .await;
    assert_eq!(r.code(), "batch_credited");
    let v = s.get(&format!("/pos/api/suppliers/{sup}/cores")).await;
    assert_eq!(v.json["expected"], "300.00");
    assert_eq!(v.json["credited"], "300.00");
    assert_eq!(v.json["pending"], "0.00");
    let cashier = g.s.token(&app, entities::Role::Cashier).await;
    let r = app
        .session(&cashier)
        .post(
            "/pos/api/cores/batches",
            json!({"supplier_id": sup, "warehouse_id": wh, "lines": [{"item_id": alt, "qty": 1}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn returning_the_part_takes_its_core_deposit_with_it(app: TestApp) {
    let g = garage(&app, "cascos-devolucion").await;
    let alt = alternator(&app, &g).await;
    let sale = sell(&app, &g, alt, 1, "2850.00").await;
    let sid = id(&sale);
    let r = app
        .session(g.owner())
        .post(&format!("/pos/api/sales/{sid}/returns"), json!({"lines": [{"line_no": 1, "qty": 1}], "reason": "no era para su auto", "refund_method": "cash"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["refund"], "2850.00", "the part and its deposit");
    assert_eq!(g.s.on_hand(alt, g.s.wh).await, 5);
    let r = take_back(
        &app,
        &g,
        json!({"sale_id": sid, "line_no": 2, "qty": 1, "condition": "good"}),
    )
    .await;
    assert_eq!(
        r.code(),
        "no_core_deposit",
        "no core is owed for a part given back"
    );
    // The deposit line is not returned on its own.
    let sale2 = sell(&app, &g, alt, 1, "2850.00").await;
    let r = app
        .session(g.owner())
        .post(
            &format!("/pos/api/sales/{}/returns", id(&sale2)),
            json!({"lines": [{"line_no": 2, "qty": 1}], "reason": "x"}),
        )
        .await;
    assert_eq!(r.code(), "line_not_returnable", "{}", r.text());
}
