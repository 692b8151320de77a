//! Credit from behaviour (a suggestion from the payment history that a manager accepts, edits or
//! dismisses; the limit never moves by itself) and referrals (one reward per referred customer,
//! at their first qualifying paid sale; self, same RFC or phone, and old customers refused).

use chrono::Duration;
use entities::Role;
use entities::counter::tables::sale;
use entities::customers::tables::{account_entry, customer, loyalty_entry};
use http::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use tests::shop::Shop;
use tests::{TestApp, shape_tests};
use uuid::Uuid;

shape_tests!(
    a_credit_suggestion_comes_from_payment_history_and_applies_only_when_accepted,
    a_referral_rewards_the_ambassador_once_at_the_first_qualifying_sale,
);

async fn customer(app: &TestApp, s: &Shop, body: Value) -> Uuid {
    let r = app.session(&s.owner).post("/pos/api/customers", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json["id"].as_str().unwrap().parse().unwrap()
}

async fn backdate_sale(s: &Shop, sale_id: Uuid, days: i64) {
    let at = entities::now() - Duration::days(days);
    sale::Entity::update_many()
        .col_expr(sale::Column::CreatedAt, Expr::value(at))
        .filter(sale::Column::Id.eq(sale_id))
        .exec(&s.db)
        .await
        .unwrap();
    account_entry::Entity::update_many()
        .col_expr(account_entry::Column::CreatedAt, Expr::value(at))
        .filter(account_entry::Column::SaleId.eq(sale_id))
        .exec(&s.db)
        .await
        .unwrap();
}

async fn a_credit_suggestion_comes_from_payment_history_and_applies_only_when_accepted(
    app: TestApp,
) {
    let s = Shop::open(&app, "credito").await;
    let item = s.item("CR-1", 100_000, None, 0).await;
    s.stock(item, s.wh, 10).await;
    let c = customer(
        &app,
        &s,
        json!({"name": "Taller Crédito", "credit_limit": "10000.00"}),
    )
    .await;
    let owner = app.session(&s.owner);
    // Three credit sales of 1,000.00, 100, 70 and 40 days ago (terms: 30 days).
    for days in [100, 70, 40] {
        let r = owner
            .post(
                "/pos/api/sales",
                json!({"branch_id": s.branch, "customer_id": c,
                       "lines": [{"item_id": item, "warehouse_id": s.wh, "qty": 1}],
                       "payments": [{"method": "credit", "amount": "1000.00"}]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        backdate_sale(&s, r.json["id"].as_str().unwrap().parse().unwrap(), days).await;
    }
    // The first paid 20 days after its sale, the second 25 days after: both on time. The third
    // is open, 10 days past due.
    for days in [80, 45] {
        let r = owner
            .post(
                &format!("/pos/api/customers/{c}/payments"),
                json!({"amount": "1000.00", "method": "cash"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let paid = account_entry::Entity::find()
            .filter(account_entry::Column::CustomerId.eq(c))
            .filter(account_entry::Column::Kind.eq(account_entry::Kind::Payment))
            .order_by_desc(account_entry::Column::Id)
            .one(&s.db)
            .await
            .unwrap()
            .unwrap();
        account_entry::Entity::update_many()
            .col_expr(
                account_entry::Column::CreatedAt,
                Expr::value(entities::now() - Duration::days(days)),
            )
            .filter(account_entry::Column::Id.eq(paid.id))
            .exec(&s.db)
            .await
            .unwrap();
    }
    let cashier = s.token(&app, Role::Cashier).await;
    let path = format!("/pos/api/customers/{c}/credit-reviews");
    let r = app.session(&cashier).post(&path, json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());

    // 2 of 3 on time (66.66 %), 10 days late over 3 charges (3 on average): one month of
    // purchases at 15 days. 3,000.00 a year is 250.00 a month, rounded down to 200.00.
    let r = owner.post(&path, json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["suggested_limit"], "200.00");
    assert_eq!(r.json["suggested_terms_days"], 15);
    assert_eq!(r.json["on_time_percent"], 66.66);
    assert_eq!(r.json["avg_days_late"], 3);
    assert_eq!(r.json["volume_12m"], "3000.00");
    assert_eq!(r.json["tenure_days"], 100);
    assert_eq!(r.json["current_limit"], "10000.00");
    assert_eq!(r.json["status"], "pending");
    assert!(
        r.json["reasons"].as_array().unwrap().len() >= 2,
        "{}",
        r.text()
    );
    let id = r.json["id"].as_str().unwrap().to_owned();
    // Nothing changed by itself.
    let limit = |s: &Shop| {
        let db = s.db.clone();
        async move {
            customer::Entity::find_by_id(c)
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .credit_limit_cents
        }
    };
    assert_eq!(limit(&s).await, 1_000_000);

    // A manager applies another limit: `edited`, audited, and once only.
    let r = owner
        .post(
            &format!("/pos/api/credit-reviews/{id}/accept"),
            json!({"limit": "-5"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(limit(&s).await, 1_000_000);
    let r = owner
        .post(
            &format!("/pos/api/credit-reviews/{id}/accept"),
            json!({"limit": "500.00"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["status"], "edited");
    assert_eq!(r.json["applied_limit"], "500.00");
    assert_eq!(limit(&s).await, 50_000);
    let r = owner
        .post(&format!("/pos/api/credit-reviews/{id}/dismiss"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.json["error"]["code"], "review_decided");
    // Another review, dismissed: the limit stays.
    let r = owner.post(&path, json!({})).await;
    let second = r.json["id"].as_str().unwrap().to_owned();
    let r = owner
        .post(
            &format!("/pos/api/credit-reviews/{second}/dismiss"),
            json!({}),
        )
        .await;
    assert_eq!(r.json["status"], "dismissed");
    assert_eq!(limit(&s).await, 50_000);
    let r = owner.get(&path).await;
    assert_eq!(r.json["total"], 2);
    assert_eq!(r.json["items"][0]["status"], "dismissed");
    let r = owner
        .post(
            &format!("/pos/api/credit-reviews/{}/accept", Uuid::now_v7()),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
}

async fn a_referral_rewards_the_ambassador_once_at_the_first_qualifying_sale(app: TestApp) {
    let s = Shop::open(&app, "embajadores").await;
    let item = s.item("RF-1", 100_000, None, 0).await;
    let cheap = s.item("RF-2", 30_000, None, 0).await;
    s.stock(item, s.wh, 20).await;
    s.stock(cheap, s.wh, 20).await;
    let owner = app.session(&s.owner);
    let r = owner
        .put(
            "/pos/api/referrals/settings",
            json!({"enabled": true, "reward_kind": "store_credit", "reward": "150.00", "min_sale": "500.00"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let a = customer(
        &app,
        &s,
        json!({"name": "Embajador", "rfc": "GUHE800101AB1", "whatsapp_phone": "5512345678"}),
    )
    .await;
    let r = owner.get(&format!("/pos/api/customers/{a}/referral")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let code = r.json["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 8);
    assert!(r.json["share_text"].as_str().unwrap().contains(&code));
    let again = owner.get(&format!("/pos/api/customers/{a}/referral")).await;
    assert_eq!(again.json["code"], code.as_str(), "the code is kept");

    let b = customer(&app, &s, json!({"name": "Nuevo"})).await;
    let sell = |who: Uuid, item: Uuid, pay: &str| {
        json!({"branch_id": s.branch, "customer_id": who,
               "lines": [{"item_id": item, "warehouse_id": s.wh, "qty": 1}],
               "payments": [{"method": "cash", "amount": pay}]})
    };
    // Refused, writing nothing: self, the same phone, a customer who bought before, bad codes.
    let same_phone = customer(
        &app,
        &s,
        json!({"name": "Otro yo", "whatsapp_phone": "+525512345678"}),
    )
    .await;
    let old = customer(&app, &s, json!({"name": "Cliente viejo"})).await;
    let r = owner
        .post("/pos/api/sales", sell(old, item, "1000.00"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    for (who, body, status, code_) in [
        (
            a,
            json!({"code": code}),
            StatusCode::CONFLICT,
            "self_referral",
        ),
        (
            same_phone,
            json!({"code": code}),
            StatusCode::CONFLICT,
            "same_person",
        ),
        (
            old,
            json!({"code": code}),
            StatusCode::CONFLICT,
            "not_a_new_customer",
        ),
        (
            b,
            json!({"code": "ZZZZZZZZ"}),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            b,
            json!({"code": "!!"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
    ] {
        let r = owner
            .post(&format!("/pos/api/customers/{who}/referral"), body)
            .await;
        assert_eq!(r.status, status, "{}", r.text());
        assert_eq!(r.json["error"]["code"], code_, "{}", r.text());
    }
    let r = owner
        .post(
            &format!("/pos/api/customers/{b}/referral"),
            json!({"code": code.to_lowercase()}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["status"], "pending");
    let r = owner
        .post(
            &format!("/pos/api/customers/{b}/referral"),
            json!({"code": code}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.json["error"]["code"], "already_referred");

    let store_credit = |id: Uuid| {
        let db = s.db.clone();
        async move {
            customer::Entity::find_by_id(id)
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .store_credit_cents
        }
    };
    // 300.00 is under the 500.00 minimum: no reward yet. Then 1,000.00: 150.00 to the
    // ambassador, once; the next sale rewards nothing.
    let r = owner.post("/pos/api/sales", sell(b, cheap, "300.00")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(store_credit(a).await, 0);
    for _ in 0..2 {
        let r = owner.post("/pos/api/sales", sell(b, item, "1000.00")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        assert_eq!(store_credit(a).await, 15_000);
    }
    let r = owner
        .get(&format!("/pos/api/crm/referrals?ambassador_id={a}"))
        .await;
    assert_eq!(r.json["items"][0]["status"], "rewarded");
    assert_eq!(r.json["items"][0]["reward"], "150.00");
    assert_eq!(r.json["items"][0]["reward_kind"], "store_credit");

    // In points instead: a lot of 100.00 for the ambassador, once.
    let r = owner
        .put(
            "/pos/api/referrals/settings",
            json!({"enabled": true, "reward_kind": "points", "reward": "100.00", "min_sale": "0"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let c = customer(&app, &s, json!({"name": "Otro nuevo"})).await;
    let r = owner
        .post(
            &format!("/pos/api/customers/{c}/referral"),
            json!({"code": code}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = owner.post("/pos/api/sales", sell(c, cheap, "300.00")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let lots = loyalty_entry::Entity::find()
        .filter(loyalty_entry::Column::CustomerId.eq(a))
        .all(&s.db)
        .await
        .unwrap();
    assert_eq!(lots.len(), 1);
    assert_eq!(
        (lots[0].points_cents, lots[0].remaining_cents),
        (10_000, 10_000)
    );
    let r = owner.get("/pos/api/crm/referrals/report").await;
    assert_eq!(
        r.json,
        json!([{"ambassador_id": a, "referred": 2, "converted": 2, "rewards": "250.00"}])
    );
    // Bad rules are refused and change nothing.
    let r = owner
        .put(
            "/pos/api/referrals/settings",
            json!({"enabled": true, "reward_kind": "cash", "reward": "100.00", "min_sale": "0"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "reward_kind");
    let r = owner.get("/pos/api/referrals/settings").await;
    assert_eq!(r.json["reward_kind"], "points");
}
