//! `/pos/api/cart`: a refused change writes nothing, and a line keeps what the request does not
//! name.

use entities::Role;
use http::StatusCode;
use serde_json::json;
use tests::shop::{Shop, cash};
use tests::{TestApp, shape_tests};

shape_tests!(
    a_quantity_that_would_overflow_a_line_is_422_and_the_cart_stays_usable,
    adding_units_without_a_discount_keeps_the_line_s_discount,
);

async fn a_quantity_that_would_overflow_a_line_is_422_and_the_cart_stays_usable(app: TestApp) {
    let s = Shop::open(&app, "carro").await;
    let a = s.item("CAR-1", 10_000, None, 0).await;
    s.stock(a, s.wh, 10).await;
    let cashier = s.token(&app, Role::Cashier).await;
    let r = app
        .session(&cashier)
        .put("/pos/api/cart", json!({"branch_id": s.branch}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let line = json!({"item_id": a, "warehouse_id": s.wh, "qty": 2});
    let r = app
        .session(&cashier)
        .post("/pos/api/cart/lines", line)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    for qty in [i64::MAX, 1_000_000, 0] {
        let r = app
            .session(&cashier)
            .post(
                "/pos/api/cart/lines",
                json!({"item_id": a, "warehouse_id": s.wh, "qty": qty}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "qty {qty}: {}",
            r.text()
        );
        assert_eq!(r.json["error"]["field"], "qty");
    }
    let cart = app.session(&cashier).get("/pos/api/cart").await;
    assert_eq!(cart.status, StatusCode::OK, "{}", cart.text());
    assert_eq!(
        cart.json["lines"][0]["qty"], 2,
        "the refused requests wrote nothing"
    );
    let r = app
        .session(&cashier)
        .post(
            "/pos/api/sales",
            json!({"from_cart": true, "payments": cash("300")}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(s.on_hand(a, s.wh).await, 8);
}

async fn adding_units_without_a_discount_keeps_the_line_s_discount(app: TestApp) {
    let s = Shop::open(&app, "descuento").await;
    let a = s.item("DES-1", 10_000, None, 0).await;
    s.stock(a, s.wh, 10).await;
    let cashier = s.token(&app, Role::Cashier).await;
    app.session(&cashier)
        .put("/pos/api/cart", json!({"branch_id": s.branch}))
        .await;
    let r = app
        .session(&cashier)
        .post(
            "/pos/api/cart/lines",
            json!({"item_id": a, "warehouse_id": s.wh, "qty": 1, "discount": "5"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = app
        .session(&cashier)
        .post(
            "/pos/api/cart/lines",
            json!({"item_id": a, "warehouse_id": s.wh, "qty": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let cart = app.session(&cashier).get("/pos/api/cart").await;
    let line = &cart.json["lines"][0];
    assert_eq!(line["qty"], 2);
    // 2 × 100.00 less 5 % = 190.00: the discount was kept.
    assert_eq!(cart.json["total"], "190.00", "{}", cart.text());
    // The line says its percentage and its amount apart, in the API's one format.
    assert_eq!(line["discount_percent"], "5");
    assert_eq!(line["discount"], "10.00");
    assert_eq!(line["iva_rate"], "0.16");
    assert_eq!(line["unit_price"], "100.00");
    let r = app
        .session(&cashier)
        .post(
            "/pos/api/cart/lines",
            json!({"item_id": a, "warehouse_id": s.wh, "qty": 1, "discount_percent": "0"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let cart = app.session(&cashier).get("/pos/api/cart").await;
    assert_eq!(
        cart.json["total"],
        "300.00",
        "a discount named is applied: {}",
        cart.text()
    );
}
