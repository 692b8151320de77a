//! `/pos/api/items` and `/pos/api/inventory`: items, stock by branch through the stock cache,
//! adjustments, counts, the ledger, roles and tenant isolation.

use std::time::{Duration, Instant};

use entities::Role;
use entities::{inventory::tables::stock, inventory::tables::stock_ledger, org::tables::audit_log};
use http::StatusCode;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tests::procs::RedisServer;
use tests::{Shape, TestApp, TestTenant, shape_tests};
use uuid::Uuid;

shape_tests!(
    a_retried_adjustment_count_or_transfer_with_its_key_happens_once,
    a_stock_view_read_before_an_invalidation_never_fills_the_cache,
    a_reference_to_a_catalog_part_or_vehicle_that_does_not_exist_is_404_and_writes_nothing,
    quantities_past_the_bound_are_422_naming_the_field_and_write_nothing,
    an_item_is_created_read_listed_and_changed_with_an_audit_trail,
    invalid_item_input_is_422_naming_the_field,
    a_duplicate_sku_or_catalog_part_is_409,
    a_cashier_reads_items_but_cannot_create_them,
    stock_by_branch_sums_each_branch_and_shows_warehouses_and_in_transit,
    stock_by_branch_finds_the_item_of_a_catalog_part,
    an_item_made_from_a_catalog_part_copies_what_is_not_given,
    the_second_read_is_a_cache_hit_and_an_adjustment_invalidates_it,
    an_adjustment_below_zero_is_409_and_changes_nothing,
    a_count_sets_the_balance_and_the_ledger_sums_to_it,
    a_cashier_cannot_adjust_or_count,
    another_tenants_item_and_warehouse_are_not_found,
    the_ledger_lists_movements_newest_first,
    alerts_are_listed_by_status,
    an_open_alert_resolves_itself_when_its_balance_is_back_at_the_minimum,
);

/// A tenant with two branches of two warehouses each, and its owner's token.
pub struct Fixture {
    /// The tenant.
    pub t: TestTenant,
    /// Its owner's access token.
    pub token: String,
    /// Branch ids.
    pub branches: [Uuid; 2],
    /// `[[b0w0, b0w1], [b1w0, b1w1]]`.
    pub wh: [[Uuid; 2]; 2],
}

fn id(v: &Value) -> Uuid {
    v["id"].as_str().unwrap().parse().unwrap()
}

/// Makes a [`Fixture`] tenant called `slug`.
pub async fn fixture(app: &TestApp, slug: &str) -> Fixture {
    let t = app.tenant(slug).await;
    let token = app.token(&t.owner_email).await;
    let mut branches = [Uuid::nil(); 2];
    let mut wh = [[Uuid::nil(); 2]; 2];
    for (b, code) in ["MTY", "GDL"].iter().enumerate() {
        let r = app
            .session(&token)
            .post(
                "/pos/api/branches",
                json!({"code": code, "name": format!("Sucursal {code}")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        branches[b] = id(&r.json);
        for (w, suffix) in ["A", "B"].iter().enumerate() {
            let r = app
                .session(&token).post(&format!("/pos/api/branches/{}/warehouses", branches[b]), json!({"code": format!("{code}-{suffix}"), "name": format!("Bodega {code} {suffix}")}))
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
            wh[b][w] = id(&r.json);
        }
    }
    Fixture {
        t,
        token,
        branches,
        wh,
    }
}

/// Creates an item; returns its id.
pub async fn item(app: &TestApp, token: &str, sku: &str) -> Uuid {
    let r = app
        .session(token)
        .post(
            "/pos/api/items",
            json!({"sku": sku, "name": format!("Pieza {sku}"), "cost": "10.50", "min_qty": 2}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    id(&r.json)
}

/// Adjusts stock (reason `initial` when adding).
pub async fn adjust(app: &TestApp, token: &str, wh: Uuid, item: Uuid, delta: i64) {
    let r = app
        .session(token).post("/pos/api/inventory/adjustments", json!({"warehouse_id": wh, "lines": [{"item_id": item, "delta": delta}], "reason": "initial"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

/// A balance, from the database.
pub async fn balance(db: &DatabaseConnection, item: Uuid, wh: Uuid) -> i64 {
    stock::Entity::find_by_id((item, wh))
        .one(db)
        .await
        .unwrap()
        .map_or(0, |s| s.qty)
}

/// The ledger rows of an item in a warehouse.
pub async fn ledger(db: &DatabaseConnection, item: Uuid, wh: Uuid) -> Vec<stock_ledger::Model> {
    stock_ledger::Entity::find()
        .filter(stock_ledger::Column::ItemId.eq(item))
        .filter(stock_ledger::Column::WarehouseId.eq(wh))
        .all(db)
        .await
        .unwrap()
}

/// The sum of an item's ledger deltas in a warehouse.
pub async fn ledger_sum(db: &DatabaseConnection, item: Uuid, wh: Uuid) -> i64 {
    ledger(db, item, wh).await.iter().map(|l| l.delta).sum()
}

async fn stock_view(app: &TestApp, token: &str, item: Uuid) -> (Value, String) {
    let r = app
        .session(token)
        .get(&format!("/pos/api/items/{item}/stock"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let cache = r
        .headers
        .get("x-cache")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (r.json, cache)
}

fn branch(view: &Value, id: Uuid) -> &Value {
    view["branches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["branch_id"] == id.to_string())
        .unwrap()
}

async fn an_item_is_created_read_listed_and_changed_with_an_audit_trail(app: TestApp) {
    tests::shop::small_catalog(&app).await;
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let r = app
        .session(&token)
        .post(
            "/pos/api/items",
            json!({
                "sku": " bal-4587 ", "name": "Balata delantera", "brand": "Brembo",
                "part_number": "P-85-020", "sat_product_key": "25174004", "sat_unit_key": "h87",
                "cost": "123.45", "retail_price": "199.9", "min_qty": 2, "max_qty": 10,
                "catalog_part_id": 42
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["sku"], "BAL-4587");
    assert_eq!(r.json["sat_unit_key"], "H87");
    assert_eq!(r.json["cost"], "123.45");
    assert_eq!(r.json["retail_price"], "199.90");
    let item = id(&r.json);
    item_in(&app, &token, "Pieza X").await;

    let got = app
        .session(&token)
        .get(&format!("/pos/api/items/{item}"))
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.json["brand"], "Brembo");

    let found = app.session(&token).get("/pos/api/items?q=balata").await;
    assert_eq!(found.json["total"], 1, "{}", found.text());
    let by_part = app.session(&token).get("/pos/api/items?q=p-85").await;
    assert_eq!(by_part.json["total"], 1);
    let all = app
        .session(&token)
        .get("/pos/api/items?per_page=1&page=2")
        .await;
    assert_eq!(all.json["total"], 2);
    assert_eq!(all.json["items"].as_array().unwrap().len(), 1);

    let upd = app
        .session(&token)
        .patch(
            &format!("/pos/api/items/{item}"),
            json!({"cost": "130", "retail_price": null, "is_active": false}),
        )
        .await;
    assert_eq!(upd.status, StatusCode::OK, "{}", upd.text());
    assert_eq!(upd.json["cost"], "130.00");
    assert_eq!(upd.json["retail_price"], Value::Null);
    assert_eq!(upd.json["brand"], "Brembo", "absent fields stay");
    let inactive = app.session(&token).get("/pos/api/items?active=false").await;
    assert_eq!(inactive.json["total"], 1);

    let db = app.tenant_db(&t).await;
    let audits = audit_log::Entity::find()
        .filter(audit_log::Column::TargetId.eq(item.to_string()))
        .count(&db)
        .await
        .unwrap();
    assert_eq!(audits, 2, "created and updated are audited");
}

async fn item_in(app: &TestApp, token: &str, name: &str) {
    let r = app
        .session(token)
        .post("/pos/api/items", json!({"sku": "X-1", "name": name}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

async fn invalid_item_input_is_422_naming_the_field(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    for (body, field) in [
        (json!({"sku": "", "name": "x"}), "sku"),
        (json!({"sku": "A B", "name": "x"}), "sku"),
        (json!({"sku": "A", "name": " "}), "name"),
        (
            json!({"sku": "A", "name": "x", "sat_product_key": "123"}),
            "sat_product_key",
        ),
        (
            json!({"sku": "A", "name": "x", "sat_unit_key": "H8X7"}),
            "sat_unit_key",
        ),
        (json!({"sku": "A", "name": "x", "cost": "1.234"}), "cost"),
        (json!({"sku": "A", "name": "x", "cost": "-1"}), "cost"),
        (json!({"sku": "A", "name": "x", "min_qty": -1}), "min_qty"),
        (
            json!({"sku": "A", "name": "x", "min_qty": 5, "max_qty": 4}),
            "max_qty",
        ),
    ] {
        let r = app
            .session(&token)
            .post("/pos/api/items", body.clone())
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text()
        );
        assert!(
            r.text().contains(field),
            "{body} names {field}: {}",
            r.text()
        );
    }
    let unknown = app
        .session(&token)
        .post(
            "/pos/api/items",
            json!({"sku": "A", "name": "x", "price": "1"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let none = app.session(&token).get("/pos/api/items").await;
    assert_eq!(none.json["total"], 0, "nothing was created");
}

async fn a_duplicate_sku_or_catalog_part_is_409(app: TestApp) {
    tests::shop::small_catalog(&app).await;
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let first = app
        .session(&token)
        .post(
            "/pos/api/items",
            json!({"sku": "FIL-1", "name": "Filtro", "catalog_part_id": 7}),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let dup = app
        .session(&token)
        .post("/pos/api/items", json!({"sku": "fil-1", "name": "Otro"}))
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.code(), "sku_taken");
    let part = app
        .session(&token)
        .post(
            "/pos/api/items",
            json!({"sku": "FIL-2", "name": "Otro", "catalog_part_id": 7}),
        )
        .await;
    assert_eq!(part.status, StatusCode::CONFLICT);
    assert_eq!(part.code(), "catalog_part_taken");
}

async fn a_cashier_reads_items_but_cannot_create_them(app: TestApp) {
    let t = app.tenant("acme").await;
    let owner = app.token(&t.owner_email).await;
    let it = item(&app, &owner, "A-1").await;
    let cashier = app.token(&app.user(&t, Role::Cashier, None).await).await;
    // Margins are for managers: a cashier reads the item without its cost.
    let seen = app
        .session(&cashier)
        .get(&format!("/pos/api/items/{it}"))
        .await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(seen.json.get("cost").is_none(), "{}", seen.text());
    let listed = app.session(&cashier).get("/pos/api/items").await;
    assert!(listed.json["items"][0].get("cost").is_none());
    let by_owner = app
        .session(&owner)
        .get(&format!("/pos/api/items/{it}"))
        .await;
    assert!(by_owner.json["cost"].is_string(), "{}", by_owner.text());
    let r = app
        .session(&cashier)
        .post("/pos/api/items", json!({"sku": "B", "name": "x"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let p = app
        .session(&cashier)
        .patch(&format!("/pos/api/items/{it}"), json!({"name": "y"}))
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let g = app
        .session(&cashier)
        .get(&format!("/pos/api/items/{it}"))
        .await;
    assert_eq!(g.status, StatusCode::OK);
    let manager = app.token(&app.user(&t, Role::Manager, None).await).await;
    let m = app
        .session(&manager)
        .post("/pos/api/items", json!({"sku": "C", "name": "x"}))
        .await;
    assert_eq!(m.status, StatusCode::CREATED);
}

async fn stock_by_branch_sums_each_branch_and_shows_warehouses_and_in_transit(app: TestApp) {
    let f = fixture(&app, "acme").await;
    let it = item(&app, &f.token, "BAL-1").await;
    adjust(&app, &f.token, f.wh[0][0], it, 5).await;
    adjust(&app, &f.token, f.wh[0][1], it, 3).await;
    adjust(&app, &f.token, f.wh[1][0], it, 4).await;
    // 2 units leave MTY-A for GDL-B and are on their way.
    let tr = app
        .session(&f.token).post("/pos/api/inventory/transfers", json!({"from_warehouse_id": f.wh[0][0], "to_warehouse_id": f.wh[1][1], "lines": [{"item_id": it, "qty": 2}]}))
        .await;
    assert_eq!(tr.status, StatusCode::CREATED, "{}", tr.text());
    let ship = app
        .session(&f.token)
        .post(
            &format!("/pos/api/inventory/transfers/{}/ship", id(&tr.json)),
            json!({}),
        )
        .await;
    assert_eq!(ship.status, StatusCode::OK, "{}", ship.text());

    let (v, _) = stock_view(&app, &f.token, it).await;
    assert_eq!(v["sku"], "BAL-1");
    assert_eq!(v["on_hand"], 10);
    assert_eq!(v["in_transit"], 2);
    let mty = branch(&v, f.branches[0]);
    assert_eq!(mty["code"], "MTY");
    assert_eq!(mty["on_hand"], 6, "5 − 2 shipped + 3");
    assert_eq!(mty["in_transit"], 0);
    assert_eq!(mty["min_qty"], 2);
    let ws = mty["warehouses"].as_array().unwrap();
    assert_eq!(ws.len(), 2);
    assert_eq!(ws[0]["code"], "MTY-A");
    assert_eq!(ws[0]["qty"], 3);
    assert_eq!(ws[1]["qty"], 3);
    let gdl = branch(&v, f.branches[1]);
    assert_eq!(gdl["on_hand"], 4);
    assert_eq!(gdl["in_transit"], 2);
    let gdl_b = gdl["warehouses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["code"] == "GDL-B")
        .unwrap();
    assert_eq!(gdl_b["qty"], 0);
    assert_eq!(gdl_b["in_transit"], 2);
    // The tenant's first branch (made with the tenant) is listed too, with nothing.
    assert_eq!(v["branches"].as_array().unwrap().len(), 3);

    let missing = app
        .session(&f.token)
        .get(&format!("/pos/api/items/{}/stock", Uuid::now_v7()))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

async fn stock_by_branch_finds_the_item_of_a_catalog_part(app: TestApp) {
    tests::shop::small_catalog(&app).await;
    let f = fixture(&app, "acme").await;
    let r = app
        .session(&f.token)
        .post(
            "/pos/api/items",
            json!({"sku": "AMO-1", "name": "Amortiguador", "catalog_part_id": 43}),
        )
        .await;
    let it = id(&r.json);
    adjust(&app, &f.token, f.wh[1][0], it, 7).await;
    let v = app
        .session(&f.token)
        .get("/pos/api/catalog/parts/43/stock")
        .await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text());
    assert_eq!(v.json["item_id"], it.to_string());
    assert_eq!(branch(&v.json, f.branches[1])["on_hand"], 7);
    let none = app
        .session(&f.token)
        .get("/pos/api/catalog/parts/992/stock")
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
}

async fn the_second_read_is_a_cache_hit_and_an_adjustment_invalidates_it(app: TestApp) {
    let f = fixture(&app, "acme").await;
    let it = item(&app, &f.token, "BUJ-1").await;
    adjust(&app, &f.token, f.wh[0][0], it, 4).await;
    let (first, c1) = stock_view(&app, &f.token, it).await;
    assert_eq!(c1, "miss");
    let (second, c2) = stock_view(&app, &f.token, it).await;
    assert_eq!(c2, "hit");
    assert_eq!(first, second);

    adjust(&app, &f.token, f.wh[0][0], it, -1).await;
    let (after, c3) = stock_view(&app, &f.token, it).await;
    assert_eq!(c3, "miss", "the adjustment invalidated the cached view");
    assert_eq!(after["on_hand"], 3);
    let (_, c4) = stock_view(&app, &f.token, it).await;
    assert_eq!(c4, "hit");

    let count = app
        .session(&f.token)
        .post(
            "/pos/api/inventory/counts",
            json!({"warehouse_id": f.wh[0][0], "lines": [{"item_id": it, "counted": 9}]}),
        )
        .await;
    assert_eq!(count.status, StatusCode::CREATED, "{}", count.text());
    let (counted, c5) = stock_view(&app, &f.token, it).await;
    assert_eq!(c5, "miss", "a count invalidates too");
    assert_eq!(counted["on_hand"], 9);

    let metrics = app.get("/metrics", None).await.text();
    assert!(
        metrics.contains("nexus_stock_cache_requests_total{result=\"hit\"} 2"),
        "{metrics}"
    );
}

async fn an_adjustment_below_zero_is_409_and_changes_nothing(app: TestApp) {
    let f = fixture(&app, "acme").await;
    let a = item(&app, &f.token, "A").await;
    let b = item(&app, &f.token, "B").await;
    adjust(&app, &f.token, f.wh[0][0], a, 5).await;
    adjust(&app, &f.token, f.wh[0][0], b, 1).await;
    let db = app.tenant_db(&f.t).await;
    let before = stock_ledger::Entity::find().count(&db).await.unwrap();
    let r = app
        .session(&f.token)
        .post(
            "/pos/api/inventory/adjustments",
            json!({"warehouse_id": f.wh[0][0], "reason": "damage", "note": "golpe",
                   "lines": [{"item_id": a, "delta": -2}, {"item_id": b, "delta": -3}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "insufficient_stock");
    assert!(r.text().contains("B in MTY-A"), "{}", r.text());
    assert_eq!(
        balance(&db, a, f.wh[0][0]).await,
        5,
        "the good line did not move"
    );
    assert_eq!(balance(&db, b, f.wh[0][0]).await, 1);
    assert_eq!(
        stock_ledger::Entity::find().count(&db).await.unwrap(),
        before
    );

    let never = app
        .session(&f.token).post("/pos/api/inventory/adjustments", json!({"warehouse_id": f.wh[1][0], "reason": "loss", "lines": [{"item_id": a, "delta": -1}]}))
        .await;
    assert_eq!(never.status, StatusCode::CONFLICT, "no stock row at all");

    for (body, field, status) in [
        (
            json!({"warehouse_id": f.wh[0][0], "reason": "theft", "lines": [{"item_id": a, "delta": 1}]}),
            "reason",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"warehouse_id": f.wh[0][0], "reason": "found", "lines": [{"item_id": a, "delta": 0}]}),
            "lines[0].delta",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"warehouse_id": f.wh[0][0], "reason": "found", "lines": [{"item_id": a, "delta": 1}, {"item_id": Uuid::now_v7(), "delta": 1}]}),
            "lines[1].item_id",
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"warehouse_id": f.wh[0][0], "reason": "found", "lines": []}),
            "lines",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let r = app
            .session(&f.token)
            .post("/pos/api/inventory/adjustments", body.clone())
            .await;
        assert_eq!(r.status, status, "{body}: {}", r.text());
        assert_eq!(r.json["error"]["field"], field, "{}", r.text());
    }
    assert_eq!(balance(&db, a, f.wh[0][0]).await, 5);
}

async fn a_count_sets_the_balance_and_the_ledger_sums_to_it(app: TestApp) {
    let f = fixture(&app, "acme").await;
    let a = item(&app, &f.token, "A").await;
    let b = item(&app, &f.token, "B").await;
    let c = item(&app, &f.token, "C").await;
    let w = f.wh[1][1];
    adjust(&app, &f.token, w, a, 10).await;
    adjust(&app, &f.token, w, b, 4).await;
    let r = app
        .session(&f.token).post("/pos/api/inventory/counts", json!({"warehouse_id": w, "note": "inventario anual", "lines": [
                {"item_id": a, "counted": 7}, {"item_id": b, "counted": 4}, {"item_id": c, "counted": 2}
            ]}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(
        r.json["lines"].as_array().unwrap().len(),
        2,
        "the right line moves nothing: {}",
        r.text()
    );
    let db = app.tenant_db(&f.t).await;
    for (it, want) in [(a, 7), (b, 4), (c, 2)] {
        assert_eq!(balance(&db, it, w).await, want);
        assert_eq!(ledger_sum(&db, it, w).await, want, "ledger agrees");
    }
    let rows = ledger(&db, a, w).await;
    let last = rows.iter().max_by_key(|l| l.id).unwrap();
    assert_eq!(last.reason, "count");
    assert_eq!(last.delta, -3);
    assert_eq!(last.balance_after, 7);
    assert_eq!(last.ref_type, "count");

    let neg = app
        .session(&f.token)
        .post(
            "/pos/api/inventory/counts",
            json!({"warehouse_id": w, "lines": [{"item_id": a, "counted": -1}]}),
        )
        .await;
    assert_eq!(neg.status, StatusCode::UNPROCESSABLE_ENTITY);
    let twice = app
        .session(&f.token).post("/pos/api/inventory/counts", json!({"warehouse_id": w, "lines": [{"item_id": a, "counted": 1}, {"item_id": a, "counted": 2}]}))
        .await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(balance(&db, a, w).await, 7);
}

async fn a_cashier_cannot_adjust_or_count(app: TestApp) {
    let f = fixture(&app, "acme").await;
    let a = item(&app, &f.token, "A").await;
    let cashier = app.token(&app.user(&f.t, Role::Cashier, None).await).await;
    let r = app
        .session(&cashier).post("/pos/api/inventory/adjustments", json!({"warehouse_id": f.wh[0][0], "reason": "found", "lines": [{"item_id": a, "delta": 1}]}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let c = app
        .session(&cashier)
        .post(
            "/pos/api/inventory/counts",
            json!({"warehouse_id": f.wh[0][0], "lines": [{"item_id": a, "counted": 1}]}),
        )
        .await;
    assert_eq!(c.status, StatusCode::FORBIDDEN);
    let db = app.tenant_db(&f.t).await;
    assert_eq!(balance(&db, a, f.wh[0][0]).await, 0);

    // A manager limited to GDL cannot adjust MTY's warehouses.
    let scoped = app
        .token(
            &app.user(&f.t, Role::Manager, Some(vec![f.branches[1]]))
                .await,
        )
        .await;
    let other = app
        .session(&scoped).post("/pos/api/inventory/adjustments", json!({"warehouse_id": f.wh[0][0], "reason": "found", "lines": [{"item_id": a, "delta": 1}]}))
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let own = app
        .session(&scoped).post("/pos/api/inventory/adjustments", json!({"warehouse_id": f.wh[1][0], "reason": "found", "lines": [{"item_id": a, "delta": 1}]}))
        .await;
    assert_eq!(own.status, StatusCode::CREATED, "{}", own.text());
}

async fn another_tenants_item_and_warehouse_are_not_found(app: TestApp) {
    let a = fixture(&app, "acme").await;
    let b = fixture(&app, "bravo").await;
    let it = item(&app, &a.token, "A").await;
    adjust(&app, &a.token, a.wh[0][0], it, 3).await;
    let r = app
        .session(&b.token)
        .get(&format!("/pos/api/items/{it}"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let s = app
        .session(&b.token)
        .get(&format!("/pos/api/items/{it}/stock"))
        .await;
    assert_eq!(s.status, StatusCode::NOT_FOUND);
    let adj = app
        .session(&b.token).post("/pos/api/inventory/adjustments", json!({"warehouse_id": a.wh[0][0], "reason": "found", "lines": [{"item_id": it, "delta": 1}]}))
        .await;
    assert_eq!(adj.status, StatusCode::NOT_FOUND);
    let p = app
        .session(&b.token)
        .patch(&format!("/pos/api/items/{it}"), json!({"name": "robado"}))
        .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
}

async fn the_ledger_lists_movements_newest_first(app: TestApp) {
    let f = fixture(&app, "acme").await;
    let a = item(&app, &f.token, "A").await;
    let b = item(&app, &f.token, "B").await;
    adjust(&app, &f.token, f.wh[0][0], a, 5).await;
    adjust(&app, &f.token, f.wh[0][0], a, -2).await;
    adjust(&app, &f.token, f.wh[1][0], b, 1).await;
    let r = app
        .session(&f.token)
        .get(&format!("/pos/api/inventory/ledger?item_id={a}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["total"], 2);
    let rows = r.json["items"].as_array().unwrap();
    assert_eq!(rows[0]["delta"], -2, "newest first");
    assert_eq!(rows[0]["balance_after"], 3);
    assert_eq!(rows[0]["reason"], "adjustment");
    assert_eq!(rows[0]["ref_type"], "adjustment");
    assert_eq!(rows[1]["delta"], 5);
    let w = app
        .session(&f.token)
        .get(&format!(
            "/pos/api/inventory/ledger?warehouse_id={}",
            f.wh[1][0]
        ))
        .await;
    assert_eq!(w.json["total"], 1);
    let scoped = app
        .token(
            &app.user(&f.t, Role::Viewer, Some(vec![f.branches[1]]))
                .await,
        )
        .await;
    let mine = app.session(&scoped).get("/pos/api/inventory/ledger").await;
    assert_eq!(mine.json["total"], 1, "only the GDL movement");
}

/// Writes a low-stock alert as the `inventory.low_stock` job would.
async fn raise_alert(
    db: &DatabaseConnection,
    item: Uuid,
    wh: Uuid,
    min: i64,
    status: &str,
    source: &str,
) {
    use entities::inventory::tables::stock_alert;
    use sea_orm::{ActiveModelTrait, Set};
    stock_alert::ActiveModel {
        item_id: Set(item),
        warehouse_id: Set(wh),
        qty: Set(min - 1),
        min_qty: Set(min),
        status: Set(status.into()),
        source: Set(source.into()),
        resolved_at: Set(None),
        created_at: Set(entities::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
}

async fn alerts_are_listed_by_status(app: TestApp) {
    let f = fixture(&app, "acme").await;
    let a = item(&app, &f.token, "A").await;
    let db = app.tenant_db(&f.t).await;
    for (i, status) in ["open", "resolved", "open"].iter().enumerate() {
        raise_alert(&db, a, f.wh[0][0], 2, status, &format!("test-{i}")).await;
    }
    let open = app
        .session(&f.token)
        .get("/pos/api/inventory/alerts?status=open")
        .await;
    assert_eq!(open.status, StatusCode::OK, "{}", open.text());
    assert_eq!(open.json["total"], 2);
    let all = app.session(&f.token).get("/pos/api/inventory/alerts").await;
    assert_eq!(all.json["total"], 3);
    let bad = app
        .session(&f.token)
        .get("/pos/api/inventory/alerts?status=x")
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// An open low-stock alert is resolved by the stock movement that brings its balance back to the
/// minimum it was raised against, not before, and only for its own warehouse.
async fn an_open_alert_resolves_itself_when_its_balance_is_back_at_the_minimum(app: TestApp) {
    use entities::inventory::tables::stock_alert;
    let f = fixture(&app, "alertas").await;
    let a = item(&app, &f.token, "ALR-1").await;
    let (here, there) = (f.wh[0][0], f.wh[0][1]);
    adjust(&app, &f.token, here, a, 3).await;
    let db = app.tenant_db(&f.t).await;
    for (wh, source) in [(here, "sale:1"), (there, "sale:2")] {
        raise_alert(&db, a, wh, 5, "open", source).await;
    }
    let status_of = |wh: Uuid| {
        let db = db.clone();
        async move {
            stock_alert::Entity::find()
                .filter(stock_alert::Column::WarehouseId.eq(wh))
                .one(&db)
                .await
                .unwrap()
                .unwrap()
        }
    };
    adjust(&app, &f.token, here, a, 1).await;
    assert_eq!(status_of(here).await.status, "open", "4 is still under 5");
    adjust(&app, &f.token, here, a, 2).await;
    let resolved = status_of(here).await;
    assert_eq!(resolved.status, "resolved", "6 is back at the minimum");
    assert!(resolved.resolved_at.is_some());
    assert_eq!(
        status_of(there).await.status,
        "open",
        "another warehouse's alert stays"
    );
}

fn counter(metrics: &str, result: &str) -> u64 {
    let prefix = format!("nexus_stock_cache_requests_total{{result=\"{result}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |v| v.trim().parse().unwrap())
}

/// Redis stopped: stock by branch still answers from the database, fast, and the cache's error
/// counter moves. Distributed shape only, on a private `redis-server`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_stock_by_branch_answers_from_the_database_and_counts_errors() {
    if std::env::var("NEXUS_TEST_POSTGRES_URL").is_err() {
        eprintln!("note: skipped: NEXUS_TEST_POSTGRES_URL not set");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let Some(mut redis) = RedisServer::start(dir.path()).await else {
        eprintln!("note: skipped: redis-server is not installed");
        return;
    };
    let app = TestApp::with_redis(Shape::Distributed, Some(redis.url())).await;
    assert_eq!(app.app.state.stock_cache().kind(), "redis");
    let f = fixture(&app, "acme").await;
    let it = item(&app, &f.token, "A").await;
    adjust(&app, &f.token, f.wh[0][0], it, 6).await;
    let (_, c1) = stock_view(&app, &f.token, it).await;
    let (_, c2) = stock_view(&app, &f.token, it).await;
    assert_eq!((c1.as_str(), c2.as_str()), ("miss", "hit"), "Redis serves");

    redis.stop();
    let errors_before = counter(&app.get("/metrics", None).await.text(), "error");
    for i in 0..3 {
        let start = Instant::now();
        let (v, c) = stock_view(&app, &f.token, it).await;
        assert_eq!(c, "miss");
        assert_eq!(branch(&v, f.branches[0])["on_hand"], 6);
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "read {i} took {:?}",
            start.elapsed()
        );
    }
    // Stock still changes while Redis is down (the invalidation fails quietly).
    adjust(&app, &f.token, f.wh[0][0], it, 1).await;
    let (v, _) = stock_view(&app, &f.token, it).await;
    assert_eq!(branch(&v, f.branches[0])["on_hand"], 7);
    let errors_after = counter(&app.get("/metrics", None).await.text(), "error");
    assert!(
        errors_after > errors_before,
        "errors {errors_before} → {errors_after}"
    );
}

/// Quantities past the bound are 422 naming the field, on every stock write, and write nothing.
async fn quantities_past_the_bound_are_422_naming_the_field_and_write_nothing(app: TestApp) {
    let f = fixture(&app, "cotas").await;
    let wh = f.wh[0][0];
    let it = item(&app, &f.token, "COTA-1").await;
    adjust(&app, &f.token, wh, it, 5).await;
    let cases = [
        (
            "/pos/api/inventory/adjustments",
            json!({"warehouse_id": wh, "reason": "found", "lines": [{"item_id": it, "delta": i64::MAX}]}),
            "lines[0].delta",
        ),
        (
            "/pos/api/inventory/adjustments",
            json!({"warehouse_id": wh, "reason": "loss", "lines": [{"item_id": it, "delta": i64::MIN}]}),
            "lines[0].delta",
        ),
        (
            "/pos/api/inventory/counts",
            json!({"warehouse_id": wh, "lines": [{"item_id": it, "counted": 1_000_001}]}),
            "lines[0].counted",
        ),
    ];
    for (path, body, field) in cases {
        let r = app.session(&f.token).post(path, body).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            r.text()
        );
        assert_eq!(r.json["error"]["field"], field, "{}", r.text());
    }
    let r = app
        .session(&f.token)
        .patch(
            &format!("/pos/api/items/{it}"),
            json!({"min_qty": i64::MAX}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "min_qty");
    let db = app.tenant_db(&f.t).await;
    assert_eq!(balance(&db, it, wh).await, 5, "nothing moved");
    assert_eq!(ledger_sum(&db, it, wh).await, 5);
}

/// An item linked to a catalog part, or a registered vehicle linked to a catalog vehicle, that
/// does not exist is 404 naming the field, on create and on change, and nothing is written.
async fn a_reference_to_a_catalog_part_or_vehicle_that_does_not_exist_is_404_and_writes_nothing(
    app: TestApp,
) {
    tests::shop::small_catalog(&app).await;
    let f = fixture(&app, "referencias").await;
    let r = app
        .session(&f.token)
        .post(
            "/pos/api/items",
            json!({"sku": "REF-1", "name": "Pieza", "catalog_part_id": 99_999_999}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    assert_eq!(r.code(), "catalog_part_not_found");
    assert_eq!(r.json["error"]["field"], "catalog_part_id");
    let it = item(&app, &f.token, "REF-2").await;
    let r = app
        .session(&f.token)
        .patch(
            &format!("/pos/api/items/{it}"),
            json!({"catalog_part_id": 99_999_999}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    let r = app
        .session(&f.token)
        .patch(
            &format!("/pos/api/items/{it}"),
            json!({"catalog_part_id": 7}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "an existing part links: {}",
        r.text()
    );
    let r = app
        .session(&f.token)
        .post(
            "/pos/api/vehicles/registered",
            json!({"plate": "REF123A", "catalog_vehicle_id": 99_999_999}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    assert_eq!(r.code(), "catalog_vehicle_not_found");
    assert_eq!(r.json["error"]["field"], "catalog_vehicle_id");
    let r = app.session(&f.token).get("/pos/api/items").await;
    assert_eq!(r.json["total"], 1, "only REF-2 was written");
    let r = app
        .session(&f.token)
        .get("/pos/api/vehicles/registered")
        .await;
    assert_eq!(r.json["total"], 0);
}

/// The race of a reader that missed the stock cache and a writer that invalidated meanwhile: the
/// reader's fill carries the old view and is dropped, so the next read goes to the database
/// (Redis in the distributed shape, in-process in the embedded one).
async fn a_stock_view_read_before_an_invalidation_never_fills_the_cache(app: TestApp) {
    use api::stock_cache::Lookup;
    let f = fixture(&app, "carrera-cache").await;
    let wh = f.wh[0][0];
    let it = item(&app, &f.token, "GEN-1").await;
    adjust(&app, &f.token, wh, it, 5).await;
    let db = app.tenant_db(&f.t).await;
    let cache = app.app.state.stock_cache();
    let tenant = f.t.tenant.id;
    let Lookup::Miss(seen) = cache.get(tenant, it).await else {
        panic!("a first read misses");
    };
    let stale = entities::inventory::stock_views::stock_by_branch(&db, it)
        .await
        .unwrap();
    assert_eq!(stale.on_hand, 5);
    // A writer changes the stock and invalidates before the reader fills.
    adjust(&app, &f.token, wh, it, 2).await;
    cache.put(tenant, it, seen, &stale).await;
    assert!(
        matches!(cache.get(tenant, it).await, Lookup::Miss(_)),
        "the stale fill is not served"
    );
    let r = app
        .session(&f.token)
        .get(&format!("/pos/api/items/{it}/stock"))
        .await;
    assert_eq!(r.json["on_hand"], 7, "{}", r.text());
    let r = app
        .session(&f.token)
        .get(&format!("/pos/api/items/{it}/stock"))
        .await;
    assert_eq!(r.headers["x-cache"], "hit");
    assert_eq!(r.json["on_hand"], 7);
}

/// Posts an adjustment with the key `adj-1`.
async fn adjust_with_key(app: &TestApp, token: &str, body: &Value) -> tests::TestResponse {
    tests::shop::post_with_key(app, "/pos/api/inventory/adjustments", token, "adj-1", body).await
}

/// `Idempotency-Key` on the inventory's creating POSTs: a retried "found +10" adds 10, not 20; the
/// retry answers the first result (`Idempotent-Replayed`); the key with another body is 422; a
/// count and a transfer request retried with their keys happen once too.
async fn a_retried_adjustment_count_or_transfer_with_its_key_happens_once(app: TestApp) {
    use tests::shop::post_with_key;
    let f = fixture(&app, "reintento").await;
    let wh = f.wh[0][0];
    let it = item(&app, &f.token, "REI-1").await;
    let db = app.tenant_db(&f.t).await;
    let found =
        json!({"warehouse_id": wh, "reason": "found", "lines": [{"item_id": it, "delta": 10}]});
    let first = adjust_with_key(&app, &f.token, &found).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let again = adjust_with_key(&app, &f.token, &found).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text());
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.json, first.json);
    assert_eq!(balance(&db, it, wh).await, 10, "added once");
    assert_eq!(ledger_sum(&db, it, wh).await, 10);
    let other =
        json!({"warehouse_id": wh, "reason": "found", "lines": [{"item_id": it, "delta": 3}]});
    let r = adjust_with_key(&app, &f.token, &other).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(balance(&db, it, wh).await, 10);

    let counted = json!({"warehouse_id": wh, "lines": [{"item_id": it, "counted": 4}]});
    for _ in 0..2 {
        let r = post_with_key(
            &app,
            "/pos/api/inventory/counts",
            &f.token,
            "count-1",
            &counted,
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    assert_eq!(balance(&db, it, wh).await, 4);
    assert_eq!(
        ledger(&db, it, wh)
            .await
            .iter()
            .filter(|l| l.reason == "count")
            .count(),
        1
    );

    let asked = json!({"from_warehouse_id": wh, "to_warehouse_id": f.wh[1][0], "lines": [{"item_id": it, "qty": 1}]});
    let a = post_with_key(
        &app,
        "/pos/api/inventory/transfers",
        &f.token,
        "tr-1",
        &asked,
    )
    .await;
    let b = post_with_key(
        &app,
        "/pos/api/inventory/transfers",
        &f.token,
        "tr-1",
        &asked,
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
    assert_eq!(b.json["id"], a.json["id"], "one transfer");
    let list = app
        .session(&f.token)
        .get("/pos/api/inventory/transfers")
        .await;
    assert_eq!(list.json["total"], 1);
}

async fn an_item_made_from_a_catalog_part_copies_what_is_not_given(app: TestApp) {
    use entities::catalog::{brand, part};
    use sea_orm::EntityTrait;
    tests::shop::small_catalog(&app).await;
    let p = part::Entity::find_by_id(7i64)
        .one(&app.app.platform)
        .await
        .unwrap()
        .unwrap();
    let b = brand::Entity::find_by_id(p.brand_id)
        .one(&app.app.platform)
        .await
        .unwrap()
        .unwrap();
    let t = app.tenant("copia").await;
    let token = app.token(&t.owner_email).await;
    let s = app.session(&token);
    let r = s
        .post(
            "/pos/api/items",
            json!({"sku": "CAT-7", "catalog_part_id": 7}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["name"], p.name);
    assert_eq!(r.json["brand"], b.name);
    assert_eq!(r.json["part_number"], p.number);
    assert_eq!(r.json["sat_product_key"], json!(p.sat_product_key));
    if let Some(c) = p.retail_price_cents {
        assert_eq!(
            r.json["retail_price"],
            entities::rules::money::Money(c).to_string()
        );
    }
    // What is sent wins over the catalog's.
    let r = s
        .post(
            "/pos/api/items",
            json!({"sku": "CAT-8", "catalog_part_id": 8, "name": "Nombre propio"}),
        )
        .await;
    assert_eq!(r.json["name"], "Nombre propio");
    // Without a part, a name is needed.
    let r = s.post("/pos/api/items", json!({"sku": "SIN"})).await;
    assert_eq!(r.json["error"]["field"], "name", "{}", r.text());
    let found = s.get("/pos/api/items?catalog_part_id=7").await;
    assert_eq!(found.json["total"], 1);
    assert_eq!(found.json["items"][0]["sku"], "CAT-7");
    let none = s.get("/pos/api/items?catalog_part_id=9").await;
    assert_eq!(none.json["total"], 0);
}
