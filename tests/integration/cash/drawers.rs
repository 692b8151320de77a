//! Cash drawers (corte de caja): a shift from float to Z report, cash refused without an open
//! session, one session a register, who may move money, bad counts that change nothing,
//! concurrent sales on one session, and refunds that name their method and currency.

use std::sync::Arc;

use entities::Role;
use entities::inventory::tables::stock;
use http::StatusCode;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use tests::shop::{Shop, post_with_key};
use tests::{TestApp, shape_tests};
use uuid::Uuid;

shape_tests!(
    a_shift_from_float_to_z_report_shows_expected_against_counted,
    cash_without_an_open_drawer_is_refused_and_changes_nothing,
    a_register_has_one_open_session_and_a_user_one_a_branch,
    only_whoever_opened_a_drawer_or_a_manager_moves_its_money,
    bad_counts_and_amounts_are_refused_by_field_and_change_nothing,
    concurrent_sales_on_one_session_are_all_counted_and_none_after_close,
    refunds_name_their_method_and_currency,
    store_credit_from_a_refund_pays_a_later_sale_once,
    another_tenants_drawer_is_not_found,
);

/// Turns the drawer requirement of the shop's first branch on.
async fn require_drawers(app: &TestApp, s: &Shop) {
    let r = app
        .session(&s.owner)
        .patch(
            &format!("/pos/api/branches/{}", s.branch),
            json!({"cash_drawer_required": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["cash_drawer_required"], true);
}

/// Opens a session in the first branch and answers its id.
async fn open(app: &TestApp, s: &Shop, token: &str, register: &str, float: &str) -> Uuid {
    let r = app
        .session(token)
        .post(
            "/pos/api/drawers",
            json!({"branch_id": s.branch, "register": register, "float_mxn": float}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["report"], "x");
    r.json["session"]["id"].as_str().unwrap().parse().unwrap()
}

/// A sale of `qty` units of `item` in the first branch paid with `payments`.
async fn sell(
    app: &TestApp,
    s: &Shop,
    token: &str,
    item: Uuid,
    qty: i64,
    payments: Value,
) -> tests::TestResponse {
    app.session(token)
        .post(
            "/pos/api/sales",
            json!({
                "branch_id": s.branch,
                "lines": [{"item_id": item, "warehouse_id": s.wh, "qty": qty}],
                "payments": payments,
            }),
        )
        .await
}

/// The tally of `method` in a report.
fn tally<'a>(report: &'a Value, method: &str) -> &'a Value {
    report["tallies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["method"] == method)
        .unwrap_or_else(|| panic!("no {method} tally in {report}"))
}

async fn a_shift_from_float_to_z_report_shows_expected_against_counted(app: TestApp) {
    let s = Shop::open(&app, "cash-shift").await;
    require_drawers(&app, &s).await;
    let cashier = s.token(&app, Role::Cashier).await;
    let item = s.item("BALATA", 35_000, None, 0).await;
    s.stock(item, s.wh, 50).await;
    let id = open(&app, &s, &cashier, "caja-1", "1000.00").await;

    // 350.00 paid with a 500 note: 150.00 change.
    let r = sell(
        &app,
        &s,
        &cashier,
        item,
        1,
        json!([{"method": "cash", "amount": "500.00"}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["drawer_session_id"], id.to_string());
    // 700.00 by card.
    let r = sell(
        &app,
        &s,
        &cashier,
        item,
        2,
        json!([{"method": "card", "amount": "700.00", "reference": "A1"}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // 350.00 paid with 30 dollars at 17.50 (525.00): 175.00 change in pesos.
    let r = sell(
        &app,
        &s,
        &cashier,
        item,
        1,
        json!([{"method": "usd_cash", "amount": "30.00"}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let cash_sale = sell(
        &app,
        &s,
        &cashier,
        item,
        1,
        json!([{"method": "cash", "amount": "350.00"}]),
    )
    .await;
    assert_eq!(cash_sale.status, StatusCode::CREATED);
    let r = app
        .session(&cashier)
        .post(
            &format!("/pos/api/drawers/{id}/cash"),
            json!({"direction": "out", "amount": "200.00", "reason": "Retiro a caja fuerte"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["amount"], "-200.00");
    let r = app
        .session(&cashier)
        .post(
            &format!("/pos/api/drawers/{id}/cash"),
            json!({"direction": "in", "amount": "50.00", "reason": "Cambio"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    // A payment on account in cash goes into the cashier's drawer.
    let r = app
        .session(&s.owner)
        .post(
            "/pos/api/customers",
            json!({"name": "Taller Ruiz", "credit_limit": "5000.00"}),
        )
        .await;
    let customer = r.json["id"].as_str().unwrap().to_owned();
    let r = app
        .session(&cashier)
        .post(
            "/pos/api/sales",
            json!({
                "branch_id": s.branch, "customer_id": customer,
                "lines": [{"item_id": item, "warehouse_id": s.wh, "qty": 1}],
                "payments": [{"method": "credit", "amount": "350.00"}],
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert!(
        r.json["drawer_session_id"].is_null(),
        "a credit sale moves no money"
    );
    let r = app
        .session(&cashier)
        .post(
            &format!("/pos/api/customers/{customer}/payments"),
            json!({"amount": "100.00", "method": "cash"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    // A manager refunds the last cash sale from the cashier's drawer, naming it.
    let manager = s.token(&app, Role::Manager).await;
    let sale_id = cash_sale.json["id"].as_str().unwrap();
    let r = app
        .session(&manager)
        .post(
            &format!("/pos/api/sales/{sale_id}/cancel"),
            json!({"reason": "No era la pieza", "drawer_session_id": id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["refund_method"], "cash");
    assert_eq!(r.json["refund_currency"], "MXN");
    assert_eq!(r.json["refunded_amount"], "350.00");
    assert_eq!(r.json["drawer_session_id"], id.to_string());

    // X report: 1000 + 500 − 150 − 175 + 350 − 200 + 50 + 100 − 350 = 1125.00 MXN cash,
    // 30.00 USD, 700.00 card.
    let x = app
        .session(&cashier)
        .get(&format!("/pos/api/drawers/{id}"))
        .await;
    assert_eq!(x.status, StatusCode::OK, "{}", x.text());
    assert_eq!(x.json["report"], "x");
    assert_eq!(tally(&x.json, "cash")["expected"], "1125.00", "{}", x.json);
    assert_eq!(tally(&x.json, "usd_cash")["expected"], "30.00");
    assert_eq!(tally(&x.json, "card")["expected"], "700.00");
    assert_eq!(tally(&x.json, "transfer")["expected"], "0.00");
    assert!(tally(&x.json, "cash")["counted"].is_null());
    assert_eq!(x.json["sales"], 4);

    // Z: counted 1105.00 (20.00 short) and the dollars and the card total.
    let r = app
        .session(&cashier)
        .post(
            &format!("/pos/api/drawers/{id}/close"),
            json!({
                "counts": [
                    // Two stacks of 500s, written two ways: they add up.
                    {"currency": "MXN", "denomination": "500", "count": 1},
                    {"currency": "MXN", "denomination": "500.00", "count": 1},
                    {"currency": "MXN", "denomination": "100", "count": 1},
                    {"currency": "MXN", "denomination": "5", "count": 1},
                    {"currency": "USD", "denomination": "20", "count": 1},
                    {"currency": "USD", "denomination": "10", "count": 1},
                ],
                "card": "700.00",
                "note": "Faltan 20",
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["report"], "z");
    assert_eq!(r.json["session"]["status"], "closed");
    assert_eq!(r.json["session"]["cash_difference"], "-20.00");
    assert_eq!(tally(&r.json, "cash")["counted"], "1105.00");
    assert_eq!(tally(&r.json, "cash")["difference"], "-20.00");
    assert_eq!(tally(&r.json, "usd_cash")["difference"], "0.00");
    assert_eq!(tally(&r.json, "card")["difference"], "0.00");
    assert!(
        tally(&r.json, "transfer")["counted"].is_null(),
        "not counted stays absent"
    );
    assert_eq!(r.json["counts"].as_array().unwrap().len(), 6);

    // A closed session takes nothing more and keeps its report.
    let r = sell(
        &app,
        &s,
        &cashier,
        item,
        1,
        json!([{"method": "cash", "amount": "350.00"}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "drawer_not_open");
    let r = app
        .session(&cashier)
        .post(
            "/pos/api/sales",
            json!({
                "branch_id": s.branch, "drawer_session_id": id,
                "lines": [{"item_id": item, "warehouse_id": s.wh, "qty": 1}],
                "payments": [{"method": "card", "amount": "350.00"}],
            }),
        )
        .await;
    assert_eq!(r.code(), "drawer_closed", "{}", r.text());
    let r = app
        .session(&cashier)
        .post(
            &format!("/pos/api/drawers/{id}/cash"),
            json!({"direction": "in", "amount": "1.00", "reason": "x"}),
        )
        .await;
    assert_eq!(r.code(), "drawer_closed", "{}", r.text());
    let r = app
        .session(&cashier)
        .post(&format!("/pos/api/drawers/{id}/close"), json!({}))
        .await;
    assert_eq!(r.code(), "drawer_closed", "{}", r.text());
    let z = app
        .session(&cashier)
        .get(&format!("/pos/api/drawers/{id}"))
        .await;
    assert_eq!(tally(&z.json, "cash")["expected"], "1125.00");

    let m = app
        .session(&cashier)
        .get(&format!("/pos/api/drawers/{id}/movements?per_page=200"))
        .await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.text());
    let kinds: Vec<&str> = m.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    for k in [
        "float",
        "sale",
        "change",
        "refund",
        "account_payment",
        "cash_in",
        "cash_out",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let list = app
        .session(&s.owner)
        .get(&format!(
            "/pos/api/drawers?status=closed&branch_id={}",
            s.branch
        ))
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    assert_eq!(list.json["total"], 1);
}

async fn cash_without_an_open_drawer_is_refused_and_changes_nothing(app: TestApp) {
    let s = Shop::open(&app, "cash-none").await;
    require_drawers(&app, &s).await;
    let cashier = s.token(&app, Role::Cashier).await;
    let item = s.item("FILTRO", 10_000, None, 0).await;
    s.stock(item, s.wh, 5).await;

    let r = sell(
        &app,
        &s,
        &cashier,
        item,
        1,
        json!([{"method": "cash", "amount": "100.00"}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "drawer_not_open");
    let left = stock::Entity::find_by_id((item, s.wh))
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(left.qty, 5, "the refused sale took no stock");
    let sales = app.session(&s.owner).get("/pos/api/sales").await;
    assert_eq!(sales.json["total"], 0);

    // Card needs no drawer; the sale simply has none.
    let r = sell(
        &app,
        &s,
        &cashier,
        item,
        1,
        json!([{"method": "card", "amount": "100.00"}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert!(r.json["drawer_session_id"].is_null());

    // A payment on account in cash with no drawer anywhere is refused too, and leaves the balance.
    let r = app
        .session(&s.owner)
        .post(
            "/pos/api/customers",
            json!({"name": "Flotilla Norte", "credit_limit": "1000.00"}),
        )
        .await;
    let customer = r.json["id"].as_str().unwrap().to_owned();
    let r = app
        .session(&cashier)
        .post(
            "/pos/api/sales",
            json!({
                "branch_id": s.branch, "customer_id": customer,
                "lines": [{"item_id": item, "warehouse_id": s.wh, "qty": 1}],
                "payments": [{"method": "credit", "amount": "100.00"}],
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = app
        .session(&cashier)
        .post(
            &format!("/pos/api/customers/{customer}/payments"),
            json!({"amount": "50.00", "method": "cash"}),
        )
        .await;
    assert_eq!(r.code(), "drawer_not_open", "{}", r.text());
    let acct = app
        .session(&cashier)
        .get(&format!("/pos/api/customers/{customer}/account"))
        .await;
    assert_eq!(acct.json["balance"], "100.00", "{}", acct.text());

    // The setting relaxes it.
    let r = app
        .session(&s.owner)
        .patch(
            &format!("/pos/api/branches/{}", s.branch),
            json!({"cash_drawer_required": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = sell(
        &app,
        &s,
        &cashier,
        item,
        1,
        json!([{"method": "cash", "amount": "100.00"}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

async fn a_register_has_one_open_session_and_a_user_one_a_branch(app: TestApp) {
    let s = Shop::open(&app, "cash-one").await;
    let a = s.token(&app, Role::Cashier).await;
    let b = s.token(&app, Role::Cashier).await;
    open(&app, &s, &a, "caja-1", "500.00").await;
    let r = app
        .session(&b)
        .post(
            "/pos/api/drawers",
            json!({"branch_id": s.branch, "register": "CAJA-1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "drawer_already_open");
    let r = app
        .session(&a)
        .post(
            "/pos/api/drawers",
            json!({"branch_id": s.branch, "register": "caja-2"}),
        )
        .await;
    assert_eq!(r.code(), "drawer_already_open", "{}", r.text());
    open(&app, &s, &b, "caja-2", "0").await;
    let open_ones = app
        .session(&s.owner)
        .get("/pos/api/drawers?status=open")
        .await;
    assert_eq!(open_ones.json["total"], 2, "{}", open_ones.text());

    // A mechanic does not handle a drawer.
    let mech = s.token(&app, Role::Mechanic).await;
    let r = app
        .session(&mech)
        .post(
            "/pos/api/drawers",
            json!({"branch_id": s.branch, "register": "caja-3"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
}

async fn only_whoever_opened_a_drawer_or_a_manager_moves_its_money(app: TestApp) {
    let s = Shop::open(&app, "cash-who").await;
    let a = s.token(&app, Role::Cashier).await;
    let b = s.token(&app, Role::Cashier).await;
    let id = open(&app, &s, &a, "caja-1", "500.00").await;
    let out = json!({"direction": "out", "amount": "100.00", "reason": "Gasto"});
    let r = app
        .session(&b)
        .post(&format!("/pos/api/drawers/{id}/cash"), out.clone())
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(r.code(), "not_your_drawer");
    let r = app
        .session(&b)
        .post(&format!("/pos/api/drawers/{id}/close"), json!({}))
        .await;
    assert_eq!(r.code(), "not_your_drawer");
    let manager = s.token(&app, Role::Manager).await;
    let r = app
        .session(&manager)
        .post(&format!("/pos/api/drawers/{id}/cash"), out)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let x = app.session(&a).get(&format!("/pos/api/drawers/{id}")).await;
    assert_eq!(tally(&x.json, "cash")["expected"], "400.00");
}

async fn bad_counts_and_amounts_are_refused_by_field_and_change_nothing(app: TestApp) {
    let s = Shop::open(&app, "cash-bad").await;
    let a = s.token(&app, Role::Cashier).await;
    let id = open(&app, &s, &a, "caja-1", "300.00").await;
    let cases = [
        (
            format!("/pos/api/drawers/{id}/close"),
            json!({"counts": [{"currency": "MXN", "denomination": "300", "count": 1}]}),
            "counts[0].denomination",
        ),
        (
            format!("/pos/api/drawers/{id}/close"),
            json!({"counts": [{"currency": "EUR", "denomination": "5", "count": 1}]}),
            "counts[0].currency",
        ),
        (
            format!("/pos/api/drawers/{id}/close"),
            json!({"counts": [{"currency": "MXN", "denomination": "100", "count": -1}]}),
            "counts[0].count",
        ),
        (
            format!("/pos/api/drawers/{id}/close"),
            json!({"card": "-5.00"}),
            "card",
        ),
        (
            format!("/pos/api/drawers/{id}/cash"),
            json!({"direction": "out", "amount": "300.01", "reason": "Más de lo que hay"}),
            "amount",
        ),
        (
            format!("/pos/api/drawers/{id}/cash"),
            json!({"direction": "in", "amount": "10.00", "reason": "  "}),
            "reason",
        ),
        (
            "/pos/api/drawers".to_owned(),
            json!({"branch_id": s.border, "float_mxn": "-1.00"}),
            "float_mxn",
        ),
    ];
    for (path, body, field) in cases {
        let r = app.session(&a).post(&path, body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text()
        );
        assert_eq!(r.json["error"]["field"], field, "{body}: {}", r.text());
    }
    let x = app.session(&a).get(&format!("/pos/api/drawers/{id}")).await;
    assert_eq!(x.json["session"]["status"], "open");
    assert_eq!(tally(&x.json, "cash")["expected"], "300.00");
    let r = app
        .session(&a)
        .get(&format!("/pos/api/drawers/{}", Uuid::now_v7()))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn concurrent_sales_on_one_session_are_all_counted_and_none_after_close(app: TestApp) {
    let s = Shop::open(&app, "cash-race").await;
    require_drawers(&app, &s).await;
    let a = s.token(&app, Role::Cashier).await;
    let item = s.item("BUJIA", 10_000, None, 0).await;
    s.stock(item, s.wh, 100).await;
    let id = open(&app, &s, &a, "caja-1", "0").await;
    let app = Arc::new(app);
    let s = Arc::new(s);
    let a = Arc::new(a);
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (app, s, a) = (app.clone(), s.clone(), a.clone());
        tasks.push(tokio::spawn(async move {
            if i == 6 {
                // Closes once some sales are in, while the rest are in flight.
                tests::run::wait_until("a first sale", std::time::Duration::from_secs(20), || {
                    let (app, s) = (app.clone(), s.clone());
                    async move { app.session(&s.owner).get("/pos/api/sales").await.json["total"] != 0 }
                })
                .await;
                let r = app
                    .session(&a)
                    .post(
                        &format!("/pos/api/drawers/{id}/close"),
                        json!({"counts": []}),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text());
                return None;
            }
            let r = post_with_key(
                &app,
                "/pos/api/sales",
                &a,
                &format!("race-{i}"),
                &json!({
                    "branch_id": s.branch, "drawer_session_id": id,
                    "lines": [{"item_id": item, "warehouse_id": s.wh, "qty": 1}],
                    "payments": [{"method": "cash", "amount": "100.00"}],
                }),
            )
            .await;
            match r.status {
                StatusCode::CREATED => Some(true),
                StatusCode::CONFLICT => {
                    assert_eq!(r.code(), "drawer_closed", "{}", r.text());
                    Some(false)
                }
                other => panic!("{other}: {}", r.text()),
            }
        }));
    }
    let mut sold = 0i64;
    for t in tasks {
        if t.await.unwrap() == Some(true) {
            sold += 1;
        }
    }
    // Whatever the interleaving, the count at close holds every sale that was made.
    let z = app.session(&a).get(&format!("/pos/api/drawers/{id}")).await;
    assert_eq!(z.json["report"], "z");
    assert_eq!(z.json["sales"], sold, "{}", z.json);
    assert!(sold >= 1, "the close waited for a sale");
    assert_eq!(
        tally(&z.json, "cash")["expected"],
        format!("{}.00", sold * 100),
        "{}",
        z.json
    );
    assert_eq!(
        z.json["session"]["cash_difference"],
        format!("-{}.00", sold * 100)
    );
    let sales = app
        .session(&s.owner)
        .get("/pos/api/sales?per_page=200")
        .await;
    assert_eq!(sales.json["total"], sold);
}

async fn refunds_name_their_method_and_currency(app: TestApp) {
    let s = Shop::open(&app, "cash-refund").await;
    require_drawers(&app, &s).await;
    let manager = s.token(&app, Role::Manager).await;
    let item = s.item("AMORT", 52_500, None, 0).await;
    s.stock(item, s.wh, 20).await;
    let id = open(&app, &s, &manager, "caja-1", "2000.00").await;

    // A card sale is reversed on the card by default.
    let card = sell(
        &app,
        &s,
        &manager,
        item,
        1,
        json!([{"method": "card", "amount": "525.00"}]),
    )
    .await;
    let card_id = card.json["id"].as_str().unwrap();
    let r = app
        .session(&manager)
        .post(
            &format!("/pos/api/sales/{card_id}/returns"),
            json!({"lines": [{"line_no": 1, "qty": 1}], "reason": "Defecto"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["refund_method"], "card");
    assert_eq!(r.json["refunded_amount"], "525.00");

    // A cash sale refunded in dollars at the sale's rate (17.50): 525.00 is 30.00 USD.
    let cash = sell(
        &app,
        &s,
        &manager,
        item,
        1,
        json!([{"method": "cash", "amount": "525.00"}]),
    )
    .await;
    let cash_id = cash.json["id"].as_str().unwrap();
    let r = app
        .session(&manager)
        .post(
            &format!("/pos/api/sales/{cash_id}/cancel"),
            json!({"reason": "Turista", "refund_method": "cash", "refund_currency": "USD"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["refund_currency"], "USD");
    assert_eq!(r.json["refunded_amount"], "30.00");

    // Only cash goes back in dollars; the refusal changes nothing.
    let other = sell(
        &app,
        &s,
        &manager,
        item,
        1,
        json!([{"method": "cash", "amount": "525.00"}]),
    )
    .await;
    let other_id = other.json["id"].as_str().unwrap();
    let r = app
        .session(&manager)
        .post(
            &format!("/pos/api/sales/{other_id}/cancel"),
            json!({"reason": "x", "refund_method": "card", "refund_currency": "USD"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "refund_currency");
    let sale = app
        .session(&manager)
        .get(&format!("/pos/api/sales/{other_id}"))
        .await;
    assert_eq!(sale.json["status"], "completed");
    // Store credit needs the sale's customer.
    let r = app
        .session(&manager)
        .post(
            &format!("/pos/api/sales/{other_id}/cancel"),
            json!({"reason": "x", "refund_method": "store_credit"}),
        )
        .await;
    assert_eq!(r.json["error"]["field"], "refund_method", "{}", r.text());

    let x = app
        .session(&manager)
        .get(&format!("/pos/api/drawers/{id}"))
        .await;
    // 2000 + 525 + 525 cash in; 30 USD out; the card 525 in and 525 back.
    assert_eq!(tally(&x.json, "cash")["expected"], "3050.00", "{}", x.json);
    assert_eq!(tally(&x.json, "usd_cash")["expected"], "-30.00");
    assert_eq!(tally(&x.json, "card")["expected"], "0.00");
}

async fn store_credit_from_a_refund_pays_a_later_sale_once(app: TestApp) {
    let s = Shop::open(&app, "cash-credit").await;
    let manager = s.token(&app, Role::Manager).await;
    let item = s.item("RADIADOR", 100_000, None, 0).await;
    s.stock(item, s.wh, 10).await;
    let r = app
        .session(&s.owner)
        .post("/pos/api/customers", json!({"name": "Ana López"}))
        .await;
    let customer = r.json["id"].as_str().unwrap().to_owned();
    let sale = |qty: i64, payments: Value| {
        let (app, s, manager, customer) = (&app, &s, &manager, customer.clone());
        async move {
            app.session(manager)
                .post(
                    "/pos/api/sales",
                    json!({
                        "branch_id": s.branch, "customer_id": customer,
                        "lines": [{"item_id": item, "warehouse_id": s.wh, "qty": qty}],
                        "payments": payments,
                    }),
                )
                .await
        }
    };
    let first = sale(1, json!([{"method": "cash", "amount": "1000.00"}])).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let first_id = first.json["id"].as_str().unwrap();
    let r = app
        .session(&manager)
        .post(
            &format!("/pos/api/sales/{first_id}/cancel"),
            json!({"reason": "Cambio de pieza", "refund_method": "store_credit"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["refund_method"], "store_credit");
    let c = app
        .session(&manager)
        .get(&format!("/pos/api/customers/{customer}"))
        .await;
    assert_eq!(c.json["store_credit"], "1000.00", "{}", c.text());

    // More than is available is refused and spends nothing.
    let r = sale(2, json!([{"method": "store_credit", "amount": "2000.00"}])).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "store_credit_insufficient");
    let r = sale(1, json!([{"method": "store_credit", "amount": "1000.00"}])).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = sale(1, json!([{"method": "store_credit", "amount": "1000.00"}])).await;
    assert_eq!(r.code(), "store_credit_insufficient", "{}", r.text());
    let c = app
        .session(&manager)
        .get(&format!("/pos/api/customers/{customer}"))
        .await;
    assert_eq!(c.json["store_credit"], "0.00");
    let e = app
        .session(&manager)
        .get(&format!("/pos/api/customers/{customer}/account/entries"))
        .await;
    let kinds: Vec<&str> = e.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_object().unwrap()["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["credit_used", "store_credit"], "{}", e.text());
    // Without a customer there is no store credit to spend.
    let r = sell(
        &app,
        &s,
        &manager,
        item,
        1,
        json!([{"method": "store_credit", "amount": "1000.00"}]),
    )
    .await;
    assert_eq!(
        r.json["error"]["field"],
        "payments[0].method",
        "{}",
        r.text()
    );
}

async fn another_tenants_drawer_is_not_found(app: TestApp) {
    let s = Shop::open(&app, "cash-mine").await;
    let other = Shop::open(&app, "cash-theirs").await;
    let id = open(&app, &s, &s.owner, "caja-1", "100.00").await;
    for path in [
        format!("/pos/api/drawers/{id}"),
        format!("/pos/api/drawers/{id}/movements"),
    ] {
        let r = app.session(&other.owner).get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text());
    }
    let r = app
        .session(&other.owner)
        .post(&format!("/pos/api/drawers/{id}/close"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let list = app.session(&other.owner).get("/pos/api/drawers").await;
    assert_eq!(list.json["total"], 0);
}
