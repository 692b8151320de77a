//! The cashier's cart (`/pos/api/cart`) and quotes (`/pos/api/quotes`, public `/q/{token}`):
//! prices from the customer's list, stock per line, checkout from the cart, quotes honoured while
//! valid, conversion once, expiry, the public page, and sending parked until WhatsApp exists.

use entities::Role;
use entities::{
    counter::tables::quote, counter::tables::sale, customers::tables::customer,
    notifications::tables::notification,
};
use http::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::json;
use tests::shop::{Shop, cash, post_with_key};
use tests::{TestApp, shape_tests};
use uuid::Uuid;
use workers::runtime::Runtime;
use workers::services::Services;

shape_tests!(
    a_cart_takes_lines_from_any_warehouse_prices_them_for_the_customer_and_sells,
    cart_lines_are_changed_removed_and_limited_by_role,
    a_quote_is_honoured_while_valid_and_converts_once,
    an_expired_quote_is_refused_unless_repriced,
    the_public_quote_page_needs_no_login_and_escapes_what_people_typed,
    sending_a_quote_queues_a_whatsapp_message_that_is_parked_until_the_channel_exists,
    another_tenants_quote_is_not_found,
    a_cancelled_or_expired_quote_is_not_sent,
    the_public_page_shows_discounts_the_note_and_grouped_amounts,
    a_retried_quote_with_its_key_makes_one_quote_and_a_bad_one_none,
    links_sent_to_customers_are_absolute_when_the_public_url_is_set,
);

async fn customer_on(s: &Shop, list: &str, phone: Option<&str>) -> Uuid {
    let now = entities::now();
    let id = Uuid::now_v7();
    customer::ActiveModel {
        id: Set(id),
        name: Set("Taller Hernández".into()),
        rfc: Set(None),
        tax_regime: Set(None),
        zip: Set(None),
        email: Set(None),
        whatsapp_phone: Set(phone.map(str::to_owned)),
        price_list: Set(list.into()),
        credit_limit_cents: Set(0),
        balance_cents: Set(0),
        store_credit_cents: Set(0),
        loyalty_points_cents: Set(0),
        loyalty_tier: Set("bronze".into()),
        referral_code: Set(None),
        notes: Set(None),
        search_text: Set(None),
        is_active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&s.db)
    .await
    .unwrap();
    id
}

async fn a_cart_takes_lines_from_any_warehouse_prices_them_for_the_customer_and_sells(
    app: TestApp,
) {
    let s = Shop::open(&app, "carro").await;
    let a = s.item("A", 10_000, Some(12_000), 0).await;
    let b = s.item("B", 5_000, None, 0).await;
    s.price(a, "taller", Uuid::nil(), 9_000, "MXN").await;
    s.stock(a, s.wh, 4).await;
    s.stock(a, s.border_wh, 6).await;
    s.stock(b, s.border_wh, 2).await;
    let taller = customer_on(&s, "taller", None).await;
    let cashier = s.token(&app, Role::Cashier).await;
    assert_eq!(
        app.session(&cashier).get("/pos/api/cart").await.status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .session(&cashier)
        .put(
            "/pos/api/cart",
            json!({"branch_id": s.branch, "customer_id": taller}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["price_list"], "taller");
    let r = app
        .session(&cashier)
        .post(
            "/pos/api/cart/lines",
            json!({"item_id": a, "warehouse_id": s.wh, "qty": 2}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = app
        .session(&cashier)
        .post(
            "/pos/api/cart/lines",
            json!({"item_id": b, "warehouse_id": s.border_wh, "qty": 3}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // The taller list prices A; B falls back to mostrador. IVA is the selling branch's (16 %).
    assert_eq!(r.json["lines"][0]["unit_price"], "90.00");
    assert_eq!(r.json["lines"][0]["stock_here"], 4);
    assert_eq!(r.json["lines"][0]["stock_total"], 10);
    assert_eq!(r.json["lines"][1]["unit_price"], "50.00");
    assert_eq!(r.json["lines"][1]["available"], false, "3 asked, 2 on hand");
    assert_eq!(r.json["total"], "330.00");
    assert_eq!(r.json["lines"][1]["iva_rate"], "0.16");
    assert!(
        r.json["lines"][1].get("iva_rate_bp").is_none(),
        "one format for rates"
    );

    // Checkout of a cart with a short line fails whole; the cart stays.
    let r = app
        .session(&cashier)
        .post(
            "/pos/api/sales",
            json!({"from_cart": true, "payments": cash("400")}),
        )
        .await;
    assert_eq!(r.code(), "insufficient_stock", "{}", r.text());
    let line_b = app.session(&cashier).get("/pos/api/cart").await.json["lines"][1]["line_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .session(&cashier)
        .patch(&format!("/pos/api/cart/lines/{line_b}"), json!({"qty": 2}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .session(&cashier)
        .post(
            "/pos/api/sales",
            json!({"from_cart": true, "payments": cash("300")}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["total"], "280.00");
    assert_eq!(r.json["price_list"], "taller");
    assert_eq!(r.json["customer_id"], taller.to_string());
    assert_eq!(r.json["change"], "20.00");
    assert_eq!(
        app.session(&cashier).get("/pos/api/cart").await.status,
        StatusCode::NOT_FOUND,
        "sold carts close"
    );
    assert_eq!(s.on_hand(a, s.wh).await, 2);
    assert_eq!(s.on_hand(b, s.border_wh).await, 0);
}

async fn cart_lines_are_changed_removed_and_limited_by_role(app: TestApp) {
    let s = Shop::open(&app, "carro2").await;
    let a = s.item("A", 10_000, None, 0).await;
    let cashier = s.token(&app, Role::Cashier).await;
    let other = s.token(&app, Role::Cashier).await;
    let r = app
        .session(&cashier)
        .post(
            "/pos/api/cart/lines",
            json!({"item_id": a, "warehouse_id": s.wh, "qty": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "no cart yet");
    app.session(&cashier)
        .put("/pos/api/cart", json!({"branch_id": s.branch}))
        .await;
    app.session(&other)
        .put("/pos/api/cart", json!({"branch_id": s.branch}))
        .await;
    let add =
        |q: i64, d: &str| json!({"item_id": a, "warehouse_id": s.wh, "qty": q, "discount": d});
    let r = app
        .session(&cashier)
        .post("/pos/api/cart/lines", add(1, "25"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .session(&cashier)
        .post("/pos/api/cart/lines", add(0, "0"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .session(&cashier)
        .post("/pos/api/cart/lines", add(1, "10"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = app
        .session(&cashier)
        .post("/pos/api/cart/lines", add(2, "10"))
        .await;
    assert_eq!(
        r.json["lines"].as_array().unwrap().len(),
        1,
        "same item and warehouse: one line"
    );
    assert_eq!(r.json["lines"][0]["qty"], 3);
    assert_eq!(r.json["total"], "270.00");
    let line = r.json["lines"][0]["line_id"].as_str().unwrap().to_owned();
    let r = app
        .session(&other)
        .delete(&format!("/pos/api/cart/lines/{line}"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "another cashier's line");
    let r = app
        .session(&cashier)
        .delete(&format!("/pos/api/cart/lines/{line}"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json["lines"].as_array().unwrap().is_empty());
    let r = app.session(&cashier).delete("/pos/api/cart").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let viewer = s.token(&app, Role::Viewer).await;
    let r = app
        .session(&viewer)
        .put("/pos/api/cart", json!({"branch_id": s.branch}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn a_quote_is_honoured_while_valid_and_converts_once(app: TestApp) {
    let s = Shop::open(&app, "cotiza").await;
    let a = s.item("A", 10_000, Some(11_000), 0).await;
    s.stock(a, s.wh, 5).await;
    let r = app
        .session(&s.owner).post("/pos/api/quotes", json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 2}], "valid_days": 3, "note": "Entrega mañana"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["status"], "open");
    assert_eq!(r.json["total"], "200.00");
    assert!(r.json["folio"].as_str().unwrap().starts_with("COT-"));
    let id = r.json["id"].as_str().unwrap().to_owned();
    // The price goes up after the quote: the quote's price is honoured.
    entities::pricing::tables::item_price::Entity::update_many()
        .col_expr(
            entities::pricing::tables::item_price::Column::AmountMinor,
            Expr::value(15_000i64),
        )
        .exec(&s.db)
        .await
        .unwrap();
    let body = json!({"payments": cash("200")});
    let r = post_with_key(
        &app,
        &format!("/pos/api/quotes/{id}/convert"),
        &s.owner,
        "conv-1",
        &body,
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["total"], "200.00");
    assert_eq!(r.json["quote_id"], id);
    let again = post_with_key(
        &app,
        &format!("/pos/api/quotes/{id}/convert"),
        &s.owner,
        "conv-1",
        &body,
    )
    .await;
    assert_eq!(again.json["id"], r.json["id"], "a retry replays");
    let other = post_with_key(
        &app,
        &format!("/pos/api/quotes/{id}/convert"),
        &s.owner,
        "conv-2",
        &body,
    )
    .await;
    assert_eq!(other.status, StatusCode::CONFLICT);
    assert_eq!(other.code(), "quote_not_open");
    let q = app
        .session(&s.owner)
        .get(&format!("/pos/api/quotes/{id}"))
        .await;
    assert_eq!(q.json["status"], "converted");
    assert_eq!(q.json["sale_id"], r.json["id"]);
    assert_eq!(sale::Entity::find().count(&s.db).await.unwrap(), 1);
    assert_eq!(s.on_hand(a, s.wh).await, 3);
    let list = app
        .session(&s.owner)
        .get("/pos/api/quotes?status=converted")
        .await;
    assert_eq!(list.json["total"], 1);
}

async fn an_expired_quote_is_refused_unless_repriced(app: TestApp) {
    let s = Shop::open(&app, "vencida").await;
    let a = s.item("A", 10_000, None, 0).await;
    s.stock(a, s.wh, 5).await;
    let r = app
        .session(&s.owner).post("/pos/api/quotes", json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 1}]}))
        .await;
    let id: Uuid = r.json["id"].as_str().unwrap().parse().unwrap();
    quote::Entity::update_many()
        .col_expr(
            quote::Column::ValidUntil,
            Expr::value(entities::now() - chrono::Duration::days(1)),
        )
        .filter(quote::Column::Id.eq(id))
        .exec(&s.db)
        .await
        .unwrap();
    entities::pricing::tables::item_price::Entity::update_many()
        .col_expr(
            entities::pricing::tables::item_price::Column::AmountMinor,
            Expr::value(12_000i64),
        )
        .exec(&s.db)
        .await
        .unwrap();
    let q = app
        .session(&s.owner)
        .get(&format!("/pos/api/quotes/{id}"))
        .await;
    assert_eq!(q.json["status"], "expired");
    let path = format!("/pos/api/quotes/{id}/convert");
    let r = app
        .session(&s.owner)
        .post(&path, json!({"payments": cash("120")}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "quote_expired");
    let r = app
        .session(&s.owner)
        .post(&path, json!({"payments": cash("120"), "reprice": true}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["total"], "120.00", "today's price");
    let bad = app
        .session(&s.owner).post("/pos/api/quotes", json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 1}], "valid_days": 90}))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json["error"]["field"], "valid_days");
}

async fn the_public_quote_page_needs_no_login_and_escapes_what_people_typed(app: TestApp) {
    let s = Shop::open(&app, "publica").await;
    let a = s.item("<script>x</script>", 10_000, Some(12_000), 0).await;
    let r = app
        .session(&s.owner).post("/pos/api/quotes", json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 1}]}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let url = r.json["public_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("/q/"));
    let page = app.get(&url, None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(page.headers["cache-control"], "no-store");
    let html = page.text();
    assert!(html.contains(r.json["folio"].as_str().unwrap()), "{html}");
    assert!(html.contains("Total: $100.00"), "{html}");
    assert!(html.contains("&lt;script&gt;"), "{html}");
    assert!(!html.contains("<script>x"), "{html}");
    let j = app.get(&format!("{url}?format=json"), None).await;
    assert_eq!(j.status, StatusCode::OK);
    assert_eq!(j.json["total"], "100.00");
    assert_eq!(j.json["status"], "open");
    assert_eq!(j.json["business"], "Refaccionaria publica");
    // A token one character off, or of another shape, is a 404.
    let mut wrong = url.clone();
    let last = wrong.pop().unwrap();
    wrong.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(app.get(&wrong, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/q/abc", None).await.status, StatusCode::NOT_FOUND);
}

async fn sending_a_quote_queues_a_whatsapp_message_that_is_parked_until_the_channel_exists(
    app: TestApp,
) {
    let s = Shop::open(&app, "envio").await;
    let a = s.item("A", 10_000, None, 0).await;
    let c = customer_on(&s, "mostrador", Some("+526641234567")).await;
    let r = app
        .session(&s.owner).post("/pos/api/quotes", json!({"branch_id": s.branch, "customer_id": c, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 1}]}))
        .await;
    let id = r.json["id"].as_str().unwrap().to_owned();
    let r = app
        .session(&s.owner)
        .post(&format!("/pos/api/quotes/{id}/send"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    assert_eq!(r.json["status"], "queued");
    assert_eq!(r.json["recipient"], "+526641234567");
    // The quote says it was queued, and that its message has not gone anywhere yet.
    let q = app
        .session(&s.owner)
        .get(&format!("/pos/api/quotes/{id}"))
        .await;
    assert!(q.json["queued_at"].is_string(), "{}", q.json);
    assert_eq!(q.json["delivery"], "queued");
    let r = app
        .session(&s.owner)
        .post(
            &format!("/pos/api/quotes/{id}/send"),
            json!({"phone": "12"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let rt = Runtime::new(
        app.app.platform.clone(),
        app.app.tenants.clone(),
        workers::handlers::all(Services::default()),
    );
    assert_eq!(
        app.run_pending_jobs(&rt).await,
        1,
        "the one notify.send job ran"
    );
    let n = notification::Entity::find()
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        n.reason
            .unwrap()
            .contains("WhatsApp channel is not configured")
    );
    assert_eq!(n.template, "quote_sent");
    assert!(n.payload["url"].as_str().unwrap().starts_with("/q/"));
    // Parked, not sent: the quote and the list say so.
    let q = app
        .session(&s.owner)
        .get(&format!("/pos/api/quotes/{id}"))
        .await;
    assert_eq!(q.json["delivery"], "parked");
    let list = app.session(&s.owner).get("/pos/api/quotes").await;
    assert_eq!(list.json["items"][0]["delivery"], "parked");
}

async fn another_tenants_quote_is_not_found(app: TestApp) {
    let s = Shop::open(&app, "q-uno").await;
    let other = Shop::open(&app, "q-dos").await;
    let a = s.item("A", 10_000, None, 0).await;
    let r = app
        .session(&s.owner).post("/pos/api/quotes", json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 1}]}))
        .await;
    let id = r.json["id"].as_str().unwrap();
    assert_eq!(
        app.session(&other.owner)
            .get(&format!("/pos/api/quotes/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .session(&other.owner)
        .post(
            &format!("/pos/api/quotes/{id}/convert"),
            json!({"payments": cash("100")}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .session(&other.owner).post("/pos/api/quotes", json!({"branch_id": other.branch, "lines": [{"item_id": a, "warehouse_id": other.wh, "qty": 1}]}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// Only an open quote is sent: a cancelled one is 409 `quote_not_open`, and so is an open one past
/// its validity; no message is written for either.
async fn a_cancelled_or_expired_quote_is_not_sent(app: TestApp) {
    let s = Shop::open(&app, "vencida").await;
    let a = s.item("A", 10_000, None, 0).await;
    let c = customer_on(&s, "mostrador", Some("+526641234567")).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let r = app
            .session(&s.owner).post("/pos/api/quotes", json!({"branch_id": s.branch, "customer_id": c, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 1}]}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        ids.push(r.json["id"].as_str().unwrap().to_owned());
    }
    let r = app
        .session(&s.owner)
        .post(&format!("/pos/api/quotes/{}/cancel", ids[0]), json!({}))
        .await;
    assert!(r.status.is_success(), "{}", r.text());
    let expired: Uuid = ids[1].parse().unwrap();
    let mut am: quote::ActiveModel = quote::Entity::find_by_id(expired)
        .one(&s.db)
        .await
        .unwrap()
        .unwrap()
        .into();
    am.valid_until = Set(entities::now() - chrono::Duration::days(1));
    am.update(&s.db).await.unwrap();
    for id in &ids {
        let r = app
            .session(&s.owner)
            .post(&format!("/pos/api/quotes/{id}/send"), json!({}))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
        assert_eq!(r.code(), "quote_not_open");
    }
    assert!(
        notification::Entity::find()
            .one(&s.db)
            .await
            .unwrap()
            .is_none()
    );
}

/// The public page a customer reads: a 10 %-off line shows its discount (quantity × price −
/// discount = amount), the counter's note is there, and amounts have thousands separators.
async fn the_public_page_shows_discounts_the_note_and_grouped_amounts(app: TestApp) {
    let s = Shop::open(&app, "pagina").await;
    let a = s.item("BAL-9", 129_158, None, 0).await;
    let r = app
        .session(&s.owner)
        .post(
            "/pos/api/quotes",
            json!({"branch_id": s.branch, "note": "Incluye instalación.\nPregunte por Juan.",
                   "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 2, "discount": "10"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let url = r.json["public_url"].as_str().unwrap().to_owned();
    let html = app.get(&url, None).await.text();
    // 2 × 1,291.58 = 2,583.16, less 10 % (258.32) = 2,324.84.
    for shown in [
        "$1,291.58",
        "Descuento",
        "-$258.32",
        "$2,324.84",
        "Total: $2,324.84 MXN",
    ] {
        assert!(html.contains(shown), "{shown} in {html}");
    }
    assert!(
        html.contains("Nota: Incluye instalación.<br>Pregunte por Juan."),
        "{html}"
    );
    let j = app.get(&format!("{url}?format=json"), None).await;
    assert_eq!(j.json["note"], "Incluye instalación.\nPregunte por Juan.");
    assert_eq!(
        j.json["total"], "2324.84",
        "JSON keeps plain decimal strings"
    );
}

async fn a_retried_quote_with_its_key_makes_one_quote_and_a_bad_one_none(app: TestApp) {
    let s = Shop::open(&app, "cotiza-una").await;
    let owner = app.session(&s.owner);
    let a = s.item("A", 10_000, None, 0).await;
    let body =
        json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 2}]});
    let first = post_with_key(&app, "/pos/api/quotes", owner.token(), "cot-1", &body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let again = post_with_key(&app, "/pos/api/quotes", owner.token(), "cot-1", &body).await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text());
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.json, first.json);
    assert_eq!(quote::Entity::find().count(&s.db).await.unwrap(), 1);

    // The key with another body is refused and writes nothing.
    let other =
        json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 3}]});
    let r = post_with_key(&app, "/pos/api/quotes", owner.token(), "cot-1", &other).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "Idempotency-Key");
    // A refused quote frees its key: the corrected request goes through with it.
    let bad = json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 1}], "valid_days": 90});
    let r = post_with_key(&app, "/pos/api/quotes", owner.token(), "cot-2", &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(quote::Entity::find().count(&s.db).await.unwrap(), 1);
    let good = json!({"branch_id": s.branch, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 1}], "valid_days": 30});
    let r = post_with_key(&app, "/pos/api/quotes", owner.token(), "cot-2", &good).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let list = owner.get("/pos/api/quotes").await;
    assert_eq!(list.json["total"], 2);
    let r = owner.get("/pos/api/quotes?status=lost").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "status");
}

async fn links_sent_to_customers_are_absolute_when_the_public_url_is_set(mut app: TestApp) {
    app.reconfigure(&[("NEXUS_PUBLIC_URL", "https://pos.refaccionaria.mx/")])
        .await;
    let s = Shop::open(&app, "enlace").await;
    let a = s.item("A", 10_000, None, 0).await;
    let c = customer_on(&s, "mostrador", Some("+526641234567")).await;
    let r = app
        .session(&s.owner)
        .post(
            "/pos/api/quotes",
            json!({"branch_id": s.branch, "customer_id": c, "lines": [{"item_id": a, "warehouse_id": s.wh, "qty": 1}]}),
        )
        .await;
    let url = r.json["public_url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("https://pos.refaccionaria.mx/q/"), "{url}");
    let id = r.json["id"].as_str().unwrap().to_owned();
    let r = app
        .session(&s.owner)
        .post(&format!("/pos/api/quotes/{id}/send"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let n = notification::Entity::find()
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n.payload["url"], url);
    // The page itself answers at the path.
    let path = url.trim_start_matches("https://pos.refaccionaria.mx");
    assert_eq!(app.get(path, None).await.status, StatusCode::OK);
}
