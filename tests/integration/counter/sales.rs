//! `/pos/api/sales`: checkout from several warehouses, totals as sums of rounded lines, IVA per
//! branch, USD cash, stock that never goes below zero under concurrency, `Idempotency-Key`,
//! returns and cancellations through the ledger, the ticket, the outbox rows of a sale, and bad
//! input that changes nothing.

use std::sync::Arc;

use entities::Role;
use entities::{
    counter::tables::payment, counter::tables::sale, counter::tables::sale_line,
    inventory::tables::stock_ledger, jobs::tables::outbox,
};
use http::StatusCode;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use serde_json::json;
use tests::shop::{Shop, cash, post_with_key};
use tests::{TestApp, shape_tests};
use uuid::Uuid;

shape_tests!(
    a_checkout_sells_from_two_branches_warehouses_and_writes_everything_in_one_go,
    totals_are_sums_of_rounded_lines_at_the_branch_iva_rate,
    selling_more_than_stock_returns_409_and_changes_nothing,
    the_same_sale_posted_twice_with_one_key_yields_one_sale,
    concurrent_duplicates_with_one_key_yield_one_sale_and_409s,
    sixty_four_concurrent_checkouts_of_the_last_units_never_oversell,
    a_discount_beyond_the_cashiers_limit_is_403_and_a_managers_passes,
    bad_input_is_refused_and_changes_nothing,
    usd_cash_converts_at_the_rate_in_force_and_change_is_in_mxn,
    returns_and_cancellation_restock_through_the_ledger_and_are_for_managers,
    the_ticket_has_what_a_printer_needs,
    a_sale_that_crosses_the_minimum_writes_a_low_stock_job,
    another_tenants_sale_and_items_are_not_found,
    two_identical_returns_of_one_sale_sent_at_once_succeed_once,
    a_cancelled_sale_reprints_in_spanish_with_its_returns_rfc_cashier_rate_and_reference,
    an_inactive_item_customer_or_branch_is_named_inactive_not_missing,
);

async fn a_checkout_sells_from_two_branches_warehouses_and_writes_everything_in_one_go(
    app: TestApp,
) {
    let s = Shop::open(&app, "uno").await;
    let a = s.item("BAL-1", 45_000, Some(52_000), 0).await;
    let b = s.item("FIL-2", 12_350, None, 0).await;
    s.stock(a, s.wh, 5).await;
    s.stock(b, s.border_wh, 3).await;
    let cashier = s.token(&app, Role::Cashier).await;
    let r = app
        .session(&cashier).post("/pos/api/sales", json!({
                "branch_id": s.branch,
                "lines": [
                    {"item_id": a, "warehouse_id": s.wh, "qty": 2},
                    {"item_id": b, "warehouse_id": s.border_wh, "qty": 1, "discount": "5"}
                ],
                "payments": [{"method": "card", "amount": "500.00", "reference": "AUTH1"}, {"method": "cash", "amount": "600"}]
            }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // 2 × 450.00 = 900.00; 123.50 − 5 % (6.18) = 117.32; total 1017.32.
    assert_eq!(r.json["total"], "1017.32");
    assert_eq!(r.json["paid"], "1100.00");
    assert_eq!(r.json["change"], "82.68");
    // 1040.00 − 900.00 against retail, plus the 6.18 discount on an item priced at its list.
    assert_eq!(r.json["savings"], "146.18");
    assert_eq!(r.json["lines"][1]["discount"], "6.18");
    assert!(r.json["folio"].as_str().unwrap().ends_with("-000001"));
    assert_eq!(s.on_hand(a, s.wh).await, 3);
    assert_eq!(s.on_hand(b, s.border_wh).await, 2);
    assert_eq!(s.ledger_sum(a, s.wh).await, 3);
    let id: Uuid = r.json["id"].as_str().unwrap().parse().unwrap();
    let lines = sale_line::Entity::find()
        .filter(sale_line::Column::SaleId.eq(id))
        .count(&s.db)
        .await
        .unwrap();
    assert_eq!(lines, 2);
    let pays = payment::Entity::find()
        .filter(payment::Column::SaleId.eq(id))
        .count(&s.db)
        .await
        .unwrap();
    assert_eq!(pays, 2);
    let moves = stock_ledger::Entity::find()
        .filter(stock_ledger::Column::RefId.eq(id.to_string()))
        .all(&s.db)
        .await
        .unwrap();
    assert_eq!(moves.len(), 2);
    assert!(moves.iter().all(|m| m.reason == "sale" && m.delta < 0));
    let jobs = outbox::Entity::find()
        .filter(outbox::Column::JobName.eq("sales.sale_completed"))
        .count(&s.db)
        .await
        .unwrap();
    assert_eq!(jobs, 1);

    let got = app
        .session(&cashier)
        .get(&format!("/pos/api/sales/{id}"))
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.json["total"], "1017.32");
    assert_eq!(got.json["payments"][0]["reference"], "AUTH1");
    let list = app
        .session(&cashier)
        .get("/pos/api/sales?per_page=10")
        .await;
    assert_eq!(list.json["total"], 1);
}

async fn totals_are_sums_of_rounded_lines_at_the_branch_iva_rate(app: TestApp) {
    let s = Shop::open(&app, "dos").await;
    // Prices chosen so that IVA of the sum differs from the sum of each line's IVA.
    let a = s.item("A", 1_001, None, 0).await;
    let b = s.item("B", 1_003, None, 0).await;
    let c = s.item("C", 999, None, 0).await;
    for i in [a, b, c] {
        s.stock(i, s.border_wh, 10).await;
    }
    let r = app
        .session(&s.owner)
        .post(
            "/pos/api/sales",
            json!({
                "branch_id": s.border,
                "lines": [
                    {"item_id": a, "warehouse_id": s.border_wh, "qty": 1},
                    {"item_id": b, "warehouse_id": s.border_wh, "qty": 1},
                    {"item_id": c, "warehouse_id": s.border_wh, "qty": 3, "discount": "33.33"}
                ],
                "payments": cash("100")
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let cents = |v: &serde_json::Value| -> i64 {
        let s = v.as_str().unwrap().replace('.', "");
        s.parse().unwrap()
    };
    let lines = r.json["lines"].as_array().unwrap();
    for (k, field) in [
        ("tax", "tax"),
        ("base", "subtotal"),
        ("total", "total"),
        ("discount", "discount"),
    ] {
        let sum: i64 = lines.iter().map(|l| cents(&l[k])).sum();
        assert_eq!(
            sum,
            cents(&r.json[field]),
            "{field} is the sum of the lines' {k}"
        );
    }
    for l in lines {
        assert_eq!(l["iva_rate"], "0.08");
        assert_eq!(cents(&l["base"]) + cents(&l["tax"]), cents(&l["total"]));
    }
}

async fn selling_more_than_stock_returns_409_and_changes_nothing(app: TestApp) {
    let s = Shop::open(&app, "tres").await;
    let a = s.item("A", 10_000, None, 0).await;
    let b = s.item("B", 10_000, None, 0).await;
    s.stock(a, s.wh, 5).await;
    s.stock(b, s.wh, 1).await;
    let r = app
        .session(&s.owner)
        .post(
            "/pos/api/sales",
            json!({
                "branch_id": s.branch,
                "lines": [
                    {"item_id": a, "warehouse_id": s.wh, "qty": 2},
                    {"item_id": b, "warehouse_id": s.wh, "qty": 2}
                ],
                "payments": cash("400")
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "insufficient_stock");
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("B in")
    );
    assert_eq!(s.on_hand(a, s.wh).await, 5);
    assert_eq!(s.on_hand(b, s.wh).await, 1);
    assert_eq!(sale::Entity::find().count(&s.db).await.unwrap(), 0);
    assert_eq!(outbox::Entity::find().count(&s.db).await.unwrap(), 0);
    // A warehouse with no row for the item at all is short too.
    let r = app
        .session(&s.owner).post("/pos/api/sales", json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": s.border_wh, "qty": 1}], "payments": cash("100")}))
        .await;
    assert_eq!(r.code(), "insufficient_stock");
}

async fn the_same_sale_posted_twice_with_one_key_yields_one_sale(app: TestApp) {
    let s = Shop::open(&app, "cuatro").await;
    let a = s.item("A", 10_000, None, 0).await;
    s.stock(a, s.wh, 10).await;
    let body = json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 1}], "payments": cash("100")});
    let first = post_with_key(&app, "/pos/api/sales", &s.owner, "k-1", &body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let again = post_with_key(&app, "/pos/api/sales", &s.owner, "k-1", &body).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.json, first.json, "the first answer, again");
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(sale::Entity::find().count(&s.db).await.unwrap(), 1);
    assert_eq!(s.on_hand(a, s.wh).await, 9);

    let other = json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 2}], "payments": cash("200")});
    let r = post_with_key(&app, "/pos/api/sales", &s.owner, "k-1", &other).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "Idempotency-Key");

    // A request that failed (no stock) frees its key: the retry after a restock goes through.
    let big = json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 20}], "payments": cash("2000")});
    let r = post_with_key(&app, "/pos/api/sales", &s.owner, "k-2", &big).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    s.stock(a, s.wh, 11).await;
    let r = post_with_key(&app, "/pos/api/sales", &s.owner, "k-2", &big).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(sale::Entity::find().count(&s.db).await.unwrap(), 2);
}

async fn concurrent_duplicates_with_one_key_yield_one_sale_and_409s(app: TestApp) {
    let s = Shop::open(&app, "cinco").await;
    let a = s.item("A", 10_000, None, 0).await;
    s.stock(a, s.wh, 100).await;
    let app = Arc::new(app);
    let body = json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 1}], "payments": cash("100")});
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (app, body, token) = (app.clone(), body.clone(), s.owner.clone());
        tasks.push(tokio::spawn(async move {
            post_with_key(&app, "/pos/api/sales", &token, "same-key", &body).await
        }));
    }
    let mut created = Vec::new();
    for t in tasks {
        let r = t.await.unwrap();
        match r.status {
            StatusCode::CREATED => created.push(r.json["id"].clone()),
            StatusCode::CONFLICT => assert_eq!(r.code(), "idempotency_key_in_use"),
            other => panic!("unexpected {other}: {}", r.text()),
        }
    }
    assert!(!created.is_empty());
    assert!(
        created.iter().all(|id| *id == created[0]),
        "one sale id for every 201"
    );
    assert_eq!(sale::Entity::find().count(&s.db).await.unwrap(), 1);
    assert_eq!(s.on_hand(a, s.wh).await, 99);
    let r = post_with_key(&app, "/pos/api/sales", &s.owner, "same-key", &body).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.json["id"], created[0]);
}

async fn sixty_four_concurrent_checkouts_of_the_last_units_never_oversell(app: TestApp) {
    let s = Shop::open(&app, "seis").await;
    let parts = [
        s.item("P1", 10_000, None, 0).await,
        s.item("P2", 10_000, None, 0).await,
        s.item("P3", 10_000, None, 0).await,
    ];
    let initial = [7i64, 5, 9];
    for (p, q) in parts.iter().zip(initial) {
        s.stock(*p, s.wh, q).await;
    }
    let app = Arc::new(app);
    let mut tasks = Vec::new();
    for i in 0..64usize {
        // Each cart takes one unit of two parts, in an order that varies, to invite deadlocks.
        let (x, y) = (parts[i % 3], parts[(i + 1 + i / 3) % 3]);
        let lines = if x == y {
            json!([{"item_id": x, "warehouse_id": s.wh, "qty": 1}])
        } else {
            json!([{"item_id": x, "warehouse_id": s.wh, "qty": 1}, {"item_id": y, "warehouse_id": s.wh, "qty": 1}])
        };
        let body = json!({"branch_id": s.branch, "lines": lines, "payments": cash("200")});
        let (app, token) = (app.clone(), s.owner.clone());
        tasks.push(tokio::spawn(async move {
            app.session(&token).post("/pos/api/sales", body).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        let r = t.await.unwrap();
        match r.status {
            StatusCode::CREATED => ok += 1,
            StatusCode::CONFLICT => assert_eq!(r.code(), "insufficient_stock", "{}", r.text()),
            other => panic!("unexpected {other}: {}", r.text()),
        }
    }
    assert!(ok > 0);
    for (p, q) in parts.iter().zip(initial) {
        let left = s.on_hand(*p, s.wh).await;
        assert!(left >= 0);
        let sold: i64 = sale_line::Entity::find()
            .filter(sale_line::Column::ItemId.eq(*p))
            .all(&s.db)
            .await
            .unwrap()
            .iter()
            .map(|l| l.qty)
            .sum();
        assert_eq!(left + sold, q, "sold + left = initial");
        assert_eq!(s.ledger_sum(*p, s.wh).await, left, "ledger = balance");
    }
    assert_eq!(sale::Entity::find().count(&s.db).await.unwrap(), ok);
    let r = app
        .session(&s.owner)
        .get("/pos/api/inventory/reconciliation")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["ok"], true, "{}", r.text());
    // A balance changed behind the ledger's back is reported.
    entities::inventory::tables::stock::Entity::update_many()
        .col_expr(
            entities::inventory::tables::stock::Column::Qty,
            sea_orm::sea_query::Expr::value(1_000i64),
        )
        .filter(entities::inventory::tables::stock::Column::ItemId.eq(parts[0]))
        .exec(&s.db)
        .await
        .unwrap();
    let r = app
        .session(&s.owner)
        .get("/pos/api/inventory/reconciliation")
        .await;
    assert_eq!(r.json["ok"], false);
    assert_eq!(r.json["drift"][0]["balance"], 1_000);
}

async fn a_discount_beyond_the_cashiers_limit_is_403_and_a_managers_passes(app: TestApp) {
    let s = Shop::open(&app, "siete").await;
    let a = s.item("A", 10_000, None, 0).await;
    s.stock(a, s.wh, 10).await;
    let cashier = s.token(&app, Role::Cashier).await;
    let manager = s.token(&app, Role::Manager).await;
    let body = |d: &str| json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 1, "discount": d}], "payments": cash("100")});
    let r = app
        .session(&cashier)
        .post("/pos/api/sales", body("15"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(r.code(), "discount_not_allowed");
    let r = app
        .session(&cashier)
        .post("/pos/api/sales", body("10"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = app
        .session(&manager)
        .post("/pos/api/sales", body("15"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["total"], "85.00");
    let r = app
        .session(&manager)
        .post("/pos/api/sales", body("31"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mechanic = s.token(&app, Role::Mechanic).await;
    let r = app
        .session(&mechanic)
        .post("/pos/api/sales", body("0"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(s.on_hand(a, s.wh).await, 8);
}

async fn bad_input_is_refused_and_changes_nothing(app: TestApp) {
    let s = Shop::open(&app, "ocho").await;
    let a = s.item("A", 10_000, None, 0).await;
    s.stock(a, s.wh, 10).await;
    let line = json!({"item_id": a, "warehouse_id": s.wh, "qty": 1});
    let cases = [
        (
            json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": -2}], "payments": cash("100")}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("lines[0].qty"),
        ),
        (
            json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 0}], "payments": cash("100")}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("lines[0].qty"),
        ),
        (
            json!({"branch_id": s.branch, "lines": [line], "payments": [{"method": "cash", "amount": "100", "currency": "EUR"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("payments[0].currency"),
        ),
        (
            json!({"branch_id": s.branch, "lines": [line], "payments": [{"method": "card", "amount": "100", "currency": "USD"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("payments[0].currency"),
        ),
        (
            json!({"branch_id": s.branch, "lines": [line], "payments": cash("99.99")}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("payments"),
        ),
        (
            json!({"branch_id": s.branch, "lines": [line], "payments": [{"method": "card", "amount": "150"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("payments"),
        ),
        (
            json!({"branch_id": s.branch, "lines": [line], "payments": cash("100.001")}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("payments[0].amount"),
        ),
        (
            json!({"branch_id": s.branch, "lines": [line], "payments": cash("100"), "total": "1.00"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        ),
        (
            json!({"branch_id": s.branch, "lines": [], "payments": cash("100")}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("lines"),
        ),
        (
            json!({"branch_id": s.branch, "lines": [line], "payments": [{"method": "credit", "amount": "100"}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("payments[0].method"),
        ),
        (
            json!({"branch_id": s.branch, "lines": [{"item_id": Uuid::now_v7(), "warehouse_id": s.wh, "qty": 1}], "payments": cash("100")}),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": Uuid::now_v7(), "qty": 1}], "payments": cash("100")}),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            json!({"branch_id": Uuid::now_v7(), "lines": [line], "payments": cash("100")}),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            json!({"branch_id": s.branch, "customer_id": Uuid::now_v7(), "lines": [line], "payments": cash("100")}),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            json!({"branch_id": s.branch, "lines": [line], "payments": cash("100"), "price_list": "vip"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("price_list"),
        ),
    ];
    for (body, status, field) in cases {
        let r = app
            .session(&s.owner)
            .post("/pos/api/sales", body.clone())
            .await;
        assert_eq!(r.status, status, "{body}: {}", r.text());
        if let Some(f) = field {
            assert_eq!(r.json["error"]["field"], f, "{body}: {}", r.text());
        }
    }
    assert_eq!(sale::Entity::find().count(&s.db).await.unwrap(), 0);
    assert_eq!(s.on_hand(a, s.wh).await, 10);
    assert_eq!(outbox::Entity::find().count(&s.db).await.unwrap(), 0);
}

async fn usd_cash_converts_at_the_rate_in_force_and_change_is_in_mxn(app: TestApp) {
    let s = Shop::open(&app, "nueve").await;
    let a = s.item("A", 10_000, None, 0).await;
    // A price set in USD: 10.00 USD.
    let b = s.item("B", 1, None, 0).await;
    s.price(b, "mostrador", s.branch, 1_000, "USD").await;
    s.stock(a, s.wh, 10).await;
    s.stock(b, s.wh, 10).await;
    entities::pricing::tables::exchange_rate::ActiveModel {
        id: sea_orm::NotSet,
        currency: sea_orm::Set("USD".into()),
        rate_micros: sea_orm::Set(18_500_000),
        note: sea_orm::Set(None),
        set_by: sea_orm::Set(None),
        created_at: sea_orm::Set(entities::now()),
    }
    .insert(&s.db)
    .await
    .unwrap();
    let r = app
        .session(&s.owner).post("/pos/api/sales", json!({
                "branch_id": s.branch,
                "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 1}, {"item_id": b, "warehouse_id": s.wh, "qty": 1}],
                "payments": [{"method": "usd_cash", "amount": "20"}]
            }))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // 100.00 + 10 USD × 18.5 = 285.00; paid 20 USD = 370.00; change 85.00 MXN.
    assert_eq!(r.json["exchange_rate"], "18.5");
    assert_eq!(r.json["lines"][1]["unit_price"], "185.00");
    assert_eq!(r.json["total"], "285.00");
    assert_eq!(r.json["payments"][0]["currency"], "USD");
    assert_eq!(r.json["payments"][0]["amount"], "20.00");
    assert_eq!(r.json["payments"][0]["amount_mxn"], "370.00");
    assert_eq!(r.json["change"], "85.00");
}

async fn returns_and_cancellation_restock_through_the_ledger_and_are_for_managers(app: TestApp) {
    let s = Shop::open(&app, "diez").await;
    let a = s.item("A", 10_000, Some(12_000), 0).await;
    let b = s.item("B", 3_333, None, 0).await;
    s.stock(a, s.wh, 10).await;
    s.stock(b, s.wh, 10).await;
    let cashier = s.token(&app, Role::Cashier).await;
    let manager = s.token(&app, Role::Manager).await;
    let r = app
        .session(&cashier).post("/pos/api/sales", json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 3}, {"item_id": b, "warehouse_id": s.wh, "qty": 3, "discount": "10"}], "payments": cash("400")}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json["id"].as_str().unwrap().to_owned();
    let path = format!("/pos/api/sales/{id}/returns");
    let ret = json!({"lines": [{"line_no": 1, "qty": 1}], "reason": "no le quedó"});
    let r = app.session(&cashier).post(&path, ret.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.session(&manager).post(&path, ret).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["refund"], "100.00");
    assert_eq!(r.json["savings"], "20.00");
    assert_eq!(r.json["sale"]["status"], "partially_returned");
    assert_eq!(s.on_hand(a, s.wh).await, 8);
    let r = app
        .session(&manager)
        .post(
            &path,
            json!({"lines": [{"line_no": 1, "qty": 3}], "reason": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "lines[0].qty");

    let cancel = format!("/pos/api/sales/{id}/cancel");
    let r = app
        .session(&manager)
        .post(&cancel, json!({"reason": "error de captura"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["sale"]["status"], "cancelled");
    // Everything refunded: 300.00 + 3 × 33.33 − 10 % = 390.00 in all.
    assert_eq!(r.json["sale"]["refunded"], r.json["sale"]["total"]);
    assert_eq!(s.on_hand(a, s.wh).await, 10);
    assert_eq!(s.on_hand(b, s.wh).await, 10);
    assert_eq!(s.ledger_sum(a, s.wh).await, 10);
    let r = app
        .session(&manager)
        .post(&cancel, json!({"reason": "otra vez"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "sale_cancelled");
}

async fn the_ticket_has_what_a_printer_needs(app: TestApp) {
    let s = Shop::open(&app, "once").await;
    let a = s.item("BAL-1", 45_000, Some(52_000), 0).await;
    s.stock(a, s.wh, 5).await;
    let r = app
        .session(&s.owner).post("/pos/api/sales", json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 1}], "payments": cash("500")}))
        .await;
    let id = r.json["id"].as_str().unwrap();
    let t = app
        .session(&s.owner)
        .get(&format!("/pos/api/sales/{id}/ticket"))
        .await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.text());
    assert_eq!(t.json["business"], "Refaccionaria once");
    assert_eq!(t.json["taxes"][0]["rate"], "0.16");
    assert_eq!(t.json["taxes"][0]["tax"], "62.07");
    let text = t.json["text"].as_str().unwrap();
    assert!(text.contains("TOTAL"), "{text}");
    assert!(text.contains("450.00"), "{text}");
    assert!(text.contains("Cambio"), "{text}");
    assert!(text.contains("Usted ahorró $70.00"), "{text}");
    assert!(text.lines().all(|l| l.chars().count() <= 40), "{text}");
}

async fn a_sale_that_crosses_the_minimum_writes_a_low_stock_job(app: TestApp) {
    let s = Shop::open(&app, "doce").await;
    let a = s.item("A", 10_000, None, 3).await;
    s.stock(a, s.wh, 4).await;
    let sell = |q: i64| json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": q}], "payments": cash("1000")});
    let r = app.session(&s.owner).post("/pos/api/sales", sell(1)).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let low = || {
        outbox::Entity::find()
            .filter(outbox::Column::JobName.eq("inventory.low_stock"))
            .all(&s.db)
    };
    assert!(
        low().await.unwrap().is_empty(),
        "4 → 3 is still at the minimum"
    );
    let r = app.session(&s.owner).post("/pos/api/sales", sell(1)).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let rows = low().await.unwrap();
    assert_eq!(rows.len(), 1, "3 → 2 crosses the minimum of 3");
    assert_eq!(rows[0].payload["balances"][0]["qty"], 2);
    assert_eq!(rows[0].payload["balances"][0]["min_qty"], 3);
    let r = app.session(&s.owner).post("/pos/api/sales", sell(1)).await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(low().await.unwrap().len(), 1, "already below: no new alert");
}

async fn another_tenants_sale_and_items_are_not_found(app: TestApp) {
    let s = Shop::open(&app, "trece").await;
    let other = Shop::open(&app, "catorce").await;
    let a = s.item("A", 10_000, None, 0).await;
    s.stock(a, s.wh, 5).await;
    let r = app
        .session(&s.owner).post("/pos/api/sales", json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 1}], "payments": cash("100")}))
        .await;
    let id = r.json["id"].as_str().unwrap();
    for path in [
        format!("/pos/api/sales/{id}"),
        format!("/pos/api/sales/{id}/ticket"),
    ] {
        let r = app.session(&other.owner).get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    let r = app
        .session(&other.owner).post("/pos/api/sales", json!({"branch_id": other.branch, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 1}], "payments": cash("100")}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    let r = app
        .session(&other.owner)
        .post(
            &format!("/pos/api/sales/{id}/cancel"),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(s.on_hand(a, s.wh).await, 4);
    // A vehicle cannot be registered to a customer the business does not have.
    let r = app
        .session(&other.owner)
        .post(
            "/pos/api/vehicles/registered",
            json!({"plate": "ABC123A", "customer_id": Uuid::now_v7()}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
}

/// Twenty sales of 5 units, each returned twice at once: one return succeeds per sale, the other
/// is refused, and stock, ledger and refunds agree with what was sold. The database itself refuses
/// a line returned past what it sold.
async fn two_identical_returns_of_one_sale_sent_at_once_succeed_once(app: TestApp) {
    let s = Shop::open(&app, "dobles").await;
    let a = s.item("DEV-1", 10_000, None, 0).await;
    s.stock(a, s.wh, 100).await;
    let cashier = s.token(&app, Role::Cashier).await;
    let manager = s.token(&app, Role::Manager).await;
    let mut sales = Vec::new();
    for _ in 0..20 {
        let r = app
            .session(&cashier).post("/pos/api/sales", json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 5}], "payments": cash("500")}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        sales.push(r.json["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(s.on_hand(a, s.wh).await, 0);
    let app = Arc::new(app);
    let mut tasks = Vec::new();
    for id in &sales {
        for _ in 0..2 {
            let (app, manager, id) = (app.clone(), manager.clone(), id.clone());
            tasks.push(tokio::spawn(async move {
                let r = app
                    .session(&manager)
                    .post(
                        &format!("/pos/api/sales/{id}/returns"),
                        json!({"lines": [{"line_no": 1, "qty": 5}], "reason": "duplicado"}),
                    )
                    .await;
                (id, r.status)
            }));
        }
    }
    let mut created = std::collections::HashMap::<String, usize>::new();
    for t in tasks {
        let (id, status) = t.await.unwrap();
        assert!(
            matches!(
                status,
                StatusCode::CREATED | StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY
            ),
            "a return answered {status}"
        );
        if status == StatusCode::CREATED {
            *created.entry(id).or_default() += 1;
        }
    }
    for id in &sales {
        assert_eq!(created.get(id), Some(&1), "sale {id}: one return succeeds");
    }
    assert_eq!(
        s.on_hand(a, s.wh).await,
        100,
        "100 units came back, not more"
    );
    assert_eq!(s.ledger_sum(a, s.wh).await, 100);
    let db = &s.db;
    let rows = sale::Entity::find().all(db).await.unwrap();
    assert_eq!(rows.len(), 20);
    for row in &rows {
        assert_eq!(row.refunded_cents, row.total_cents, "refunded once");
        assert_eq!(row.status, "returned");
    }
    let refunds: i64 = entities::counter::tables::sale_return::Entity::find()
        .all(db)
        .await
        .unwrap()
        .iter()
        .map(|r| r.refund_cents)
        .sum();
    assert_eq!(refunds, 20 * 50_000, "refunds sum to what was paid");
    // The database refuses a line returned past what it sold, whatever path writes it.
    let over = db
        .execute_unprepared("UPDATE sale_lines SET returned_qty = qty + 1")
        .await;
    assert!(over.is_err(), "returned_qty > qty must be impossible");
}

/// The reprint of a cancelled sale: marked CANCELADA with its cancellation, payment methods in
/// Spanish with the card's reference and the USD rate, the customer's RFC and the cashier, long
/// names wrapped to 40 columns whole, amounts with thousands separators.
async fn a_cancelled_sale_reprints_in_spanish_with_its_returns_rfc_cashier_rate_and_reference(
    app: TestApp,
) {
    let s = Shop::open(&app, "reimpresion").await;
    let a = s.item("AMO-7", 150_000, None, 0).await;
    s.stock(a, s.wh, 5).await;
    let long = "Amortiguador delantero izquierdo de gas presurizado para Nissan Versa 2015";
    let r = app
        .session(&s.owner)
        .patch(&format!("/pos/api/items/{a}"), json!({"name": long}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let c = app
        .session(&s.owner)
        .post(
            "/pos/api/customers",
            json!({"name": "Taller Hernández", "rfc": "HEGJ800101AB1", "tax_regime": "612"}),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text());
    let r = app
        .session(&s.owner)
        .post(
            "/pos/api/sales",
            json!({"branch_id": s.branch, "customer_id": c.json["id"],
                   "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 1}],
                   "payments": [{"method": "card", "amount": "1000.00", "reference": "AUTH-7781"},
                                {"method": "usd_cash", "amount": "30"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json["id"].as_str().unwrap().to_owned();
    let r = app
        .session(&s.owner)
        .post(
            &format!("/pos/api/sales/{id}/cancel"),
            json!({"reason": "error de captura"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let t = app
        .session(&s.owner)
        .get(&format!("/pos/api/sales/{id}/ticket"))
        .await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.text());
    assert_eq!(t.json["customer_rfc"], "HEGJ800101AB1");
    let text = t.json["text"].as_str().unwrap();
    for shown in [
        "CANCELADA",
        "Cancelación",
        "-1,500.00",
        "Tarjeta MXN",
        "Ref. AUTH-7781",
        "Efectivo USD",
        "Tipo de cambio",
        "RFC: HEGJ800101AB1",
        "Le atendió",
        "TOTAL",
        "1,500.00",
    ] {
        assert!(text.contains(shown), "{shown} in\n{text}");
    }
    assert!(
        !text.contains("card") && !text.contains("usd_cash"),
        "{text}"
    );
    assert!(text.lines().all(|l| l.chars().count() <= 40), "{text}");
    let words: Vec<&str> = text.split_whitespace().collect();
    for w in long.split_whitespace() {
        assert!(
            words.contains(&w),
            "{w} of the long name is printed: {text}"
        );
    }
}

async fn an_inactive_item_customer_or_branch_is_named_inactive_not_missing(app: TestApp) {
    let s = Shop::open(&app, "inactivos").await;
    let a = s.item("A", 10_000, None, 0).await;
    s.stock(a, s.wh, 5).await;
    let owner = app.session(&s.owner);
    let sell = |branch: uuid::Uuid, customer: Option<String>| {
        json!({
            "branch_id": branch,
            "customer_id": customer,
            "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 1}],
            "payments": cash("100"),
        })
    };
    let c = owner
        .post("/pos/api/customers", json!({"name": "Cliente Dormido"}))
        .await;
    let cid = c.json["id"].as_str().unwrap().to_owned();
    owner
        .patch(
            &format!("/pos/api/customers/{cid}"),
            json!({"is_active": false}),
        )
        .await;
    let r = owner
        .post("/pos/api/sales", sell(s.branch, Some(cid)))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "customer_inactive");
    owner
        .patch(&format!("/pos/api/items/{a}"), json!({"is_active": false}))
        .await;
    let r = owner.post("/pos/api/sales", sell(s.branch, None)).await;
    assert_eq!(r.code(), "item_inactive", "{}", r.text());
    owner
        .patch(&format!("/pos/api/items/{a}"), json!({"is_active": true}))
        .await;
    owner
        .patch(
            &format!("/pos/api/branches/{}", s.border),
            json!({"is_active": false}),
        )
        .await;
    let r = owner.post("/pos/api/sales", sell(s.border, None)).await;
    assert_eq!(r.code(), "branch_inactive", "{}", r.text());
    // Nothing was sold by the refusals; the item still sells.
    assert_eq!(s.on_hand(a, s.wh).await, 5);
    let r = owner.post("/pos/api/sales", sell(s.branch, None)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = owner
        .post(
            "/pos/api/sales",
            sell(s.branch, Some(uuid::Uuid::now_v7().to_string())),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "a missing customer is still not found"
    );
}
