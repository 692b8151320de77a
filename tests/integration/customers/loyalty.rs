//! Loyalty, with hand-computed points: earned on money paid (credit earns when paid), spent
//! exactly as the `points` payment, taken back and given back on returns, expiring after the
//! business's months, tiers by 12-month spend that fall as old sales leave the window; and the
//! nightly analytics (lifetime value, ticket, churn).

use entities::Role;
use entities::customers::tables::{customer, loyalty_entry};
use entities::notifications::events;
use http::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tests::shop::Shop;
use tests::{TestApp, shape_tests};
use uuid::Uuid;

shape_tests!(
    points_are_earned_on_money_paid_and_spent_exactly_at_checkout,
    a_return_takes_back_points_earned_and_gives_back_points_spent,
    the_nightly_pass_expires_points_lowers_tiers_and_computes_analytics,
    bad_loyalty_settings_are_refused_and_change_nothing,
);

/// Silver from 2,000.00, gold from 5,000.00, platinum from 10,000.00; 1 %, 1.5 %, 2 %, 3 %.
async fn enable(app: &TestApp, s: &Shop) {
    let r = app
        .session(&s.owner)
        .put(
            "/pos/api/loyalty/settings",
            json!({"enabled": true, "silver_from": "2000.00", "gold_from": "5000.00",
                   "platinum_from": "10000.00", "bronze_rate_bp": 100, "silver_rate_bp": 150,
                   "gold_rate_bp": 200, "platinum_rate_bp": 300, "expiry_months": 12}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

async fn customer(app: &TestApp, s: &Shop, name: &str) -> Uuid {
    let r = app
        .session(&s.owner)
        .post(
            "/pos/api/customers",
            json!({"name": name, "credit_limit": "10000.00"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json["id"].as_str().unwrap().parse().unwrap()
}

fn sale(s: &Shop, c: Option<Uuid>, item: Uuid, qty: i64, payments: Value) -> Value {
    json!({"branch_id": s.branch, "customer_id": c,
           "lines": [{"item_id": item, "warehouse_id": s.wh, "qty": qty}],
           "payments": payments})
}

async fn points(s: &Shop, c: Uuid) -> i64 {
    customer::Entity::find_by_id(c)
        .one(&s.db)
        .await
        .unwrap()
        .unwrap()
        .loyalty_points_cents
}

/// The points balance equals what is left of the lots: the books agree.
async fn books_agree(s: &Shop, c: Uuid) {
    let rows = loyalty_entry::Entity::find()
        .filter(loyalty_entry::Column::CustomerId.eq(c))
        .all(&s.db)
        .await
        .unwrap();
    let ledger: i64 = rows.iter().map(|e| e.points_cents).sum();
    let lots: i64 = rows.iter().map(|e| e.remaining_cents).sum();
    assert_eq!(points(s, c).await, ledger, "balance = ledger");
    assert_eq!(ledger, lots, "ledger = open lots");
}

async fn points_are_earned_on_money_paid_and_spent_exactly_at_checkout(app: TestApp) {
    let s = Shop::open(&app, "puntos").await;
    let item = s.item("PT-1", 100_000, None, 0).await;
    s.stock(item, s.wh, 50).await;
    let c = customer(&app, &s, "Taller Puntos").await;
    let cashier = s.token(&app, Role::Cashier).await;
    let till = app.session(&cashier);
    // Off by default: nothing is earned.
    let r = till
        .post(
            "/pos/api/sales",
            sale(
                &s,
                Some(c),
                item,
                1,
                json!([{"method": "cash", "amount": "1000.00"}]),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(points(&s, c).await, 0);
    enable(&app, &s).await;

    // 1,000.00 cash at bronze 1 %: 10.00.
    let r = till
        .post(
            "/pos/api/sales",
            sale(
                &s,
                Some(c),
                item,
                1,
                json!([{"method": "cash", "amount": "1000.00"}]),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(points(&s, c).await, 1_000);
    // The two sales reach 2,000.00: silver now.
    let v = till.get(&format!("/pos/api/customers/{c}/loyalty")).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text());
    assert_eq!(v.json["tier"], "silver");
    assert_eq!(v.json["points"], "10.00");
    assert_eq!(v.json["spend_12m"], "2000.00");
    assert_eq!(v.json["next_tier"], "gold");
    assert_eq!(v.json["to_next_tier"], "3000.00");
    assert_eq!(v.json["tier_changes"][0]["to"], "silver");
    let evs = events::of_kind(&s.db, events::LOYALTY_TIER_CHANGED)
        .await
        .unwrap();
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].payload["to"], "silver");

    // 7.50 in points and 992.50 cash at silver 1.5 %: points earn nothing, 992.50 earns 14.8875
    // → 14.88 (rounded down). 10.00 − 7.50 + 14.88 = 17.38.
    let r = till
        .post(
            "/pos/api/sales",
            sale(
                &s,
                Some(c),
                item,
                1,
                json!([{"method": "points", "amount": "7.50"},
                                             {"method": "cash", "amount": "992.50"}]),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(points(&s, c).await, 1_738);
    books_agree(&s, c).await;

    // More points than held: refused, and nothing moved.
    let stock = s.on_hand(item, s.wh).await;
    let r = till
        .post(
            "/pos/api/sales",
            sale(
                &s,
                Some(c),
                item,
                1,
                json!([{"method": "points", "amount": "17.39"},
                                             {"method": "cash", "amount": "982.61"}]),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.json["error"]["code"], "points_insufficient");
    assert_eq!(points(&s, c).await, 1_738);
    assert_eq!(s.on_hand(item, s.wh).await, stock);
    // Points need a customer; they give no change.
    let r = till
        .post(
            "/pos/api/sales",
            sale(
                &s,
                None,
                item,
                1,
                json!([{"method": "points", "amount": "1000.00"}]),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "payments[0].method");
    let r = till
        .post(
            "/pos/api/sales",
            sale(
                &s,
                Some(c),
                item,
                1,
                json!([{"method": "points", "amount": "17.38"},
                                             {"method": "card", "amount": "990.00"}]),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(points(&s, c).await, 1_738);

    // On credit: nothing now; 1.5 % of each payment on account as it is paid.
    let r = till
        .post(
            "/pos/api/sales",
            sale(
                &s,
                Some(c),
                item,
                1,
                json!([{"method": "credit", "amount": "1000.00"}]),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(points(&s, c).await, 1_738);
    let r = till
        .post(
            &format!("/pos/api/customers/{c}/payments"),
            json!({"amount": "400.00", "method": "cash"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(points(&s, c).await, 1_738 + 600);
    let r = till
        .get(&format!(
            "/pos/api/customers/{c}/loyalty/entries?per_page=2"
        ))
        .await;
    assert_eq!(r.json["items"][0]["kind"], "earn");
    assert_eq!(r.json["items"][0]["points"], "6.00");
    assert_eq!(r.json["total"], 4);
    books_agree(&s, c).await;
}

async fn a_return_takes_back_points_earned_and_gives_back_points_spent(app: TestApp) {
    let s = Shop::open(&app, "devolucion").await;
    let item = s.item("RT-1", 100_000, None, 0).await;
    s.stock(item, s.wh, 50).await;
    let c = customer(&app, &s, "Cliente Devolución").await;
    enable(&app, &s).await;
    let owner = app.session(&s.owner);
    // 1,000.00 cash at bronze: 10.00.
    let r = owner
        .post(
            "/pos/api/sales",
            json!({"branch_id": s.branch, "customer_id": c,
            "lines": [{"item_id": item, "warehouse_id": s.wh, "qty": 1}],
            "payments": [{"method": "cash", "amount": "1000.00"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(points(&s, c).await, 1_000);
    // Two units: 10.00 in points, 1,990.00 cash → earns 19.90 at bronze (the tier before the
    // sale). 10.00 − 10.00 + 19.90 = 19.90.
    let r = owner
        .post(
            "/pos/api/sales",
            sale(
                &s,
                Some(c),
                item,
                2,
                json!([{"method": "points", "amount": "10.00"},
                                             {"method": "cash", "amount": "1990.00"}]),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(points(&s, c).await, 1_990);
    // One unit back (1,000.00): half of the 19.90 earned is taken back (9.95), the 10.00 paid in
    // points go back as points, and 990.00 is paid in cash. 19.90 − 9.95 + 10.00 = 19.95.
    let r = owner
        .post(
            &format!("/pos/api/sales/{id}/returns"),
            json!({"lines": [{"line_no": 1, "qty": 1}], "reason": "sobró"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["refund"], "1000.00");
    assert_eq!(points(&s, c).await, 1_995);
    // The other unit: the rest of the 19.90 (9.95) is taken back; no points are left to give
    // back, so all 1,000.00 is cash. 19.95 − 9.95 = 10.00.
    let r = owner
        .post(
            &format!("/pos/api/sales/{id}/returns"),
            json!({"lines": [{"line_no": 1, "qty": 1}], "reason": "sobró"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(points(&s, c).await, 1_000);
    books_agree(&s, c).await;
    let kinds: Vec<String> = loyalty_entry::Entity::find()
        .filter(loyalty_entry::Column::CustomerId.eq(c))
        .all(&s.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| format!("{}:{}", e.kind.as_str(), e.points_cents))
        .collect();
    assert_eq!(
        kinds,
        [
            "earn:1000",
            "redeem:-1000",
            "earn:1990",
            "reverse:-995",
            "refund:1000",
            "reverse:-995"
        ]
    );
}

async fn the_nightly_pass_expires_points_lowers_tiers_and_computes_analytics(app: TestApp) {
    let s = Shop::open(&app, "noche").await;
    let item = s.item("NT-1", 100_000, None, 0).await;
    s.stock(item, s.wh, 50).await;
    let c = customer(&app, &s, "Cliente Nocturno").await;
    enable(&app, &s).await;
    let owner = app.session(&s.owner);
    for _ in 0..3 {
        let r = owner
            .post(
                "/pos/api/sales",
                sale(
                    &s,
                    Some(c),
                    item,
                    1,
                    json!([{"method": "cash", "amount": "1000.00"}]),
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    // 10.00 at bronze; 10.00 at bronze again (the tier before the sale), which reaches silver;
    // then 15.00 at silver.
    assert_eq!(points(&s, c).await, 3_500);
    // The first lot's day passes; the first sale falls out of the 12-month window and the two
    // others were 30 and 10 days ago.
    let today = entities::today();
    let first = loyalty_entry::Entity::find()
        .filter(loyalty_entry::Column::CustomerId.eq(c))
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    loyalty_entry::Entity::update_many()
        .col_expr(
            loyalty_entry::Column::ExpiresOn,
            Expr::value(today - chrono::Duration::days(2)),
        )
        .filter(loyalty_entry::Column::Id.eq(first.id))
        .exec(&s.db)
        .await
        .unwrap();
    let sales = entities::counter::tables::sale::Entity::find()
        .filter(entities::counter::tables::sale::Column::CustomerId.eq(c))
        .all(&s.db)
        .await
        .unwrap();
    let mut sales = sales;
    sales.sort_by_key(|x| x.created_at);
    for (sale, days) in sales.iter().zip([400, 30, 10]) {
        entities::counter::tables::sale::Entity::update_many()
            .col_expr(
                entities::counter::tables::sale::Column::CreatedAt,
                Expr::value(entities::now() - chrono::Duration::days(days)),
            )
            .filter(entities::counter::tables::sale::Column::Id.eq(sale.id))
            .exec(&s.db)
            .await
            .unwrap();
    }
    let _jobs = app.drive_jobs(crate::purchasing::runtime(&app));
    let fired = schedules::Scheduler::new(
        app.app.platform.clone(),
        app.app.tenants.clone(),
        app.app.waker.clone(),
        jobs::maintenance::Retention::default(),
    )
    .fire(schedules::Schedule::CustomersNightly, entities::now())
    .await
    .unwrap();
    assert!(fired.claimed && fired.failed.is_empty(), "{fired:?}");
    app.run_jobs().await;
    // 35.00 − the first lot's 10.00; the window holds 2,000.00: still silver.
    assert_eq!(points(&s, c).await, 2_500);
    books_agree(&s, c).await;
    let v = owner.get(&format!("/pos/api/customers/{c}/loyalty")).await;
    assert_eq!(v.json["tier"], "silver");
    assert_eq!(v.json["spend_12m"], "2000.00");
    // Another pass the same day expires nothing again.
    let again = entities::customers::loyalty::expire(&s.db, today)
        .await
        .unwrap();
    assert_eq!(again, 0);
    // A refund of one of the recent sales drops the window below silver: the next pass moves
    // the tier down and records it.
    let r = owner
        .post(
            &format!("/pos/api/sales/{}/returns", sales[2].id),
            json!({"lines": [{"line_no": 1, "qty": 1}], "reason": "garantía"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let moved = entities::customers::loyalty::refresh_tiers(&s.db, today)
        .await
        .unwrap();
    assert_eq!(moved, 1);
    let v = owner.get(&format!("/pos/api/customers/{c}/loyalty")).await;
    assert_eq!(v.json["tier"], "bronze");
    assert_eq!(v.json["tier_changes"][0]["from"], "silver");

    // Analytics as of the pass: 3 sales, 3,000.00 (before the refund), 400 and 30 and 10 days
    // ago: 390 days over 2 gaps = 195 days apart; 10 days since: active.
    let a = owner
        .get(&format!("/pos/api/customers/{c}/analytics"))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json["orders"], 3);
    assert_eq!(a.json["lifetime_value"], "3000.00");
    assert_eq!(a.json["average_ticket"], "1000.00");
    assert_eq!(a.json["avg_interval_days"], 195);
    assert_eq!(a.json["days_since_last"], 10);
    assert_eq!(a.json["churn_risk"], "active");
    assert_eq!(a.json["favourite_brands"][0]["name"], "ACME");
    assert_eq!(a.json["favourite_brands"][0]["spent"], "3000.00");
    let b = owner.get("/pos/api/crm/analytics").await;
    assert_eq!(b.status, StatusCode::OK, "{}", b.text());
    assert_eq!(b.json["customers"], 1);
    assert_eq!(
        b.json["by_churn_risk"],
        json!([{"churn_risk": "active", "customers": 1}])
    );
    // Recomputed: the refund counts now.
    entities::customers::analytics::compute(&s.db, &app.app.platform, today)
        .await
        .unwrap();
    let a = owner
        .get(&format!("/pos/api/customers/{c}/analytics"))
        .await;
    assert_eq!(a.json["lifetime_value"], "2000.00");
    let none = customer(&app, &s, "Sin compras").await;
    let r = owner
        .get(&format!("/pos/api/customers/{none}/analytics"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
}

async fn bad_loyalty_settings_are_refused_and_change_nothing(app: TestApp) {
    let s = Shop::open(&app, "ajustes").await;
    enable(&app, &s).await;
    let owner = app.session(&s.owner);
    let good = json!({"enabled": true, "silver_from": "2000.00", "gold_from": "5000.00",
                      "platinum_from": "10000.00", "bronze_rate_bp": 100, "silver_rate_bp": 150,
                      "gold_rate_bp": 200, "platinum_rate_bp": 300, "expiry_months": 12});
    for (field, value, expected) in [
        ("gold_from", json!("1000.00"), "gold_from"),
        ("platinum_from", json!("5000.00"), "platinum_from"),
        ("silver_rate_bp", json!(50), "silver_rate"),
        ("platinum_rate_bp", json!(2500), "platinum_rate"),
        ("expiry_months", json!(0), "expiry_months"),
        ("silver_from", json!("abc"), "silver_from"),
    ] {
        let mut body = good.clone();
        body[field] = value;
        let r = owner.put("/pos/api/loyalty/settings", body).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            r.text()
        );
        assert_eq!(r.json["error"]["field"], expected, "{}", r.text());
    }
    let r = owner.get("/pos/api/loyalty/settings").await;
    assert_eq!(r.json, good);
    let manager = s.token(&app, Role::Manager).await;
    let r = app
        .session(&manager)
        .put("/pos/api/loyalty/settings", good)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
}
