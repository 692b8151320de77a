//! The customer's account (crédito y abonos): credit sales checked against balance plus the sale
//! under the customer's lock, payments on account applied oldest first, returns of credit sales
//! credited to the account, the statement's aging, and bad input that changes nothing.

use std::sync::Arc;

use entities::Role;
use entities::customers::tables::{account_entry, customer};
use entities::rules::money::Money;
use http::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tests::shop::{Shop, post_with_key};
use tests::{TestApp, TestResponse, shape_tests};
use uuid::Uuid;

shape_tests!(
    credit_sales_are_checked_against_the_balance_plus_the_sale,
    payments_on_account_pay_the_oldest_charges_first_and_never_pass_the_balance,
    concurrent_credit_sales_cannot_pass_the_limit_together,
    a_return_of_a_credit_sale_is_credited_to_the_account_first,
    the_statement_ages_what_is_open_by_thirty_day_buckets,
    another_tenants_customer_account_is_not_found,
);

/// A customer with a credit limit (decimal string), created by the owner.
async fn customer_with_credit(app: &TestApp, s: &Shop, limit: &str) -> Uuid {
    let r = app
        .session(&s.owner)
        .post(
            "/pos/api/customers",
            json!({"name": "Taller El Güero", "credit_limit": limit}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json["id"].as_str().unwrap().parse().unwrap()
}

/// Sells `qty` of `item` (one unit = 1,000.00) to `customer`, all on credit.
async fn on_credit(
    app: &TestApp,
    s: &Shop,
    token: &str,
    customer: Uuid,
    item: Uuid,
    qty: i64,
) -> TestResponse {
    app.session(token)
        .post(
            "/pos/api/sales",
            json!({
                "branch_id": s.branch,
                "customer_id": customer,
                "lines": [{"item_id": item, "warehouse_id": s.wh, "qty": qty}],
                "payments": [{"method": "credit", "amount": format!("{}.00", qty * 1000)}]
            }),
        )
        .await
}

async fn balance(s: &Shop, customer: Uuid) -> i64 {
    customer::Entity::find_by_id(customer)
        .one(&s.db)
        .await
        .unwrap()
        .unwrap()
        .balance_cents
}

/// The balance equals the open amounts of the charges: the books agree.
async fn books_agree(s: &Shop, customer: Uuid) {
    let open: i64 = account_entry::Entity::find()
        .filter(account_entry::Column::CustomerId.eq(customer))
        .all(&s.db)
        .await
        .unwrap()
        .iter()
        .map(|e| e.open_cents)
        .sum();
    assert_eq!(balance(s, customer).await, open);
}

async fn credit_sales_are_checked_against_the_balance_plus_the_sale(app: TestApp) {
    let s = Shop::open(&app, "uno").await;
    let item = s.item("BAL-1", 100_000, None, 0).await;
    s.stock(item, s.wh, 100).await;
    let cashier = s.token(&app, Role::Cashier).await;
    let c = customer_with_credit(&app, &s, "15000.00").await;

    // Each of these passed the old check (each payment under the limit); together they do not.
    let r = on_credit(&app, &s, &cashier, c, item, 1).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = on_credit(&app, &s, &cashier, c, item, 15).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.json["error"]["code"], "credit_limit_exceeded");
    let msg = r.json["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("1000.00 owed") && msg.contains("14000.00 is available"),
        "{msg}"
    );
    // The refused sale wrote nothing: no sale, no stock moved, no charge.
    assert_eq!(s.on_hand(item, s.wh).await, 99);
    assert_eq!(balance(&s, c).await, 100_000);
    // Up to the limit exactly passes; a centavo more does not.
    let r = on_credit(&app, &s, &cashier, c, item, 14).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(balance(&s, c).await, 1_500_000);
    let r = app
        .session(&cashier)
        .post(
            "/pos/api/sales",
            json!({
                "branch_id": s.branch,
                "customer_id": c,
                "lines": [{"item_id": item, "warehouse_id": s.wh, "qty": 1}],
                "payments": [{"method": "cash", "amount": "999.99"}, {"method": "credit", "amount": "0.01"}]
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    let view = app
        .session(&cashier)
        .get(&format!("/pos/api/customers/{c}"))
        .await;
    assert_eq!(view.json["balance"], "15000.00");
    let account = app
        .session(&cashier)
        .get(&format!("/pos/api/customers/{c}/account"))
        .await;
    assert_eq!(account.status, StatusCode::OK, "{}", account.text());
    assert_eq!(account.json["available"], "0.00");
    assert_eq!(account.json["open_charges"].as_array().unwrap().len(), 2);
    books_agree(&s, c).await;
}

async fn payments_on_account_pay_the_oldest_charges_first_and_never_pass_the_balance(app: TestApp) {
    let s = Shop::open(&app, "uno").await;
    let item = s.item("BAL-1", 100_000, None, 0).await;
    s.stock(item, s.wh, 100).await;
    let cashier = s.token(&app, Role::Cashier).await;
    let c = customer_with_credit(&app, &s, "15000.00").await;
    let first = on_credit(&app, &s, &cashier, c, item, 1).await;
    let second = on_credit(&app, &s, &cashier, c, item, 2).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text());
    let path = format!("/pos/api/customers/{c}/payments");

    // Bad input is refused and changes nothing.
    let bad: [(Value, StatusCode, &str); 6] = [
        (
            json!({"amount": "3000.01", "method": "cash"}),
            StatusCode::CONFLICT,
            "",
        ),
        (
            json!({"amount": "0", "method": "cash"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "amount",
        ),
        (
            json!({"amount": "-5", "method": "cash"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "amount",
        ),
        (
            json!({"amount": "abc", "method": "cash"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "amount",
        ),
        (
            json!({"amount": "10", "method": "cheque"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
        ),
        (
            json!({"amount": "10", "method": "cash", "reference": "x".repeat(101)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "reference",
        ),
    ];
    for (body, status, field) in bad {
        let r = app.session(&cashier).post(&path, body.clone()).await;
        assert_eq!(r.status, status, "{body}: {}", r.text());
        if !field.is_empty() {
            assert_eq!(r.json["error"]["field"], field, "{body}: {}", r.text());
        }
    }
    let mechanic = s.token(&app, Role::Mechanic).await;
    let r = app
        .session(&mechanic)
        .post(&path, json!({"amount": "10", "method": "cash"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = app
        .session(&cashier)
        .post(
            &format!("/pos/api/customers/{}/payments", Uuid::now_v7()),
            json!({"amount": "10", "method": "cash"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    assert_eq!(balance(&s, c).await, 300_000);

    // 1,500.00 pays the first charge (1,000.00) and 500.00 of the second; a retry with the same
    // key is the first answer, recorded once.
    let body = json!({"amount": "1500.00", "method": "transfer", "reference": "SPEI 123"});
    let r = post_with_key(&app, &path, &cashier, "abono-1", &body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["balance"], "1500.00");
    let applied = r.json["entry"]["applied"].as_array().unwrap();
    assert_eq!(applied.len(), 2);
    assert_eq!(applied[0]["amount"], "1000.00");
    assert_eq!(applied[1]["amount"], "500.00");
    let again = post_with_key(&app, &path, &cashier, "abono-1", &body).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.json["entry"]["id"], r.json["entry"]["id"]);
    assert_eq!(balance(&s, c).await, 150_000);

    let account = app
        .session(&cashier)
        .get(&format!("/pos/api/customers/{c}/account"))
        .await;
    let open = account.json["open_charges"].as_array().unwrap();
    assert_eq!(open.len(), 1, "the first charge is paid");
    assert_eq!(open[0]["sale_id"], second.json["id"]);
    assert_eq!(open[0]["open"], "1500.00");
    let _ = first;

    let entries = app
        .session(&cashier)
        .get(&format!(
            "/pos/api/customers/{c}/account/entries?kind=payment"
        ))
        .await;
    assert_eq!(entries.status, StatusCode::OK, "{}", entries.text());
    assert_eq!(entries.json["total"], 1);
    assert_eq!(entries.json["items"][0]["method"], "transfer");
    assert_eq!(
        entries.json["items"][0]["applied"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let all = app
        .session(&cashier)
        .get(&format!("/pos/api/customers/{c}/account/entries"))
        .await;
    assert_eq!(all.json["total"], 3);
    let r = app
        .session(&cashier)
        .get(&format!("/pos/api/customers/{c}/account/entries?kind=gift"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "kind");

    // Paying off the rest leaves nothing open; a payment beyond it is refused.
    let r = app
        .session(&cashier)
        .post(&path, json!({"amount": "1500", "method": "cash"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["balance"], "0.00");
    let r = app
        .session(&cashier)
        .post(&path, json!({"amount": "0.01", "method": "cash"}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "payment_exceeds_balance");
    books_agree(&s, c).await;
}

async fn concurrent_credit_sales_cannot_pass_the_limit_together(app: TestApp) {
    let s = Shop::open(&app, "uno").await;
    let item = s.item("BAL-1", 100_000, None, 0).await;
    s.stock(item, s.wh, 100).await;
    let cashier = s.token(&app, Role::Cashier).await;
    let c = customer_with_credit(&app, &s, "15000.00").await;
    let app = Arc::new(app);
    let s = Arc::new(s);
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (app, s, cashier) = (app.clone(), s.clone(), cashier.clone());
            tokio::spawn(async move { on_credit(&app, &s, &cashier, c, item, 2).await.status })
        })
        .collect();
    let mut sold = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::CREATED => sold += 1,
            StatusCode::CONFLICT => {}
            other => panic!("a credit sale answered {other}"),
        }
    }
    assert_eq!(sold, 7, "7 × 2,000.00 fit in 15,000.00; an eighth does not");
    assert_eq!(balance(&s, c).await, 1_400_000);
    assert_eq!(s.on_hand(item, s.wh).await, 100 - 14);
    books_agree(&s, c).await;
}

async fn a_return_of_a_credit_sale_is_credited_to_the_account_first(app: TestApp) {
    let s = Shop::open(&app, "uno").await;
    let item = s.item("BAL-1", 100_000, None, 0).await;
    s.stock(item, s.wh, 100).await;
    let cashier = s.token(&app, Role::Cashier).await;
    let manager = s.token(&app, Role::Manager).await;
    let c = customer_with_credit(&app, &s, "15000.00").await;
    let sale = on_credit(&app, &s, &cashier, c, item, 3).await;
    let id = sale.json["id"].as_str().unwrap().to_owned();
    // 1,000.00 paid on account: 2,000.00 still owed on the sale.
    let r = app
        .session(&cashier)
        .post(
            &format!("/pos/api/customers/{c}/payments"),
            json!({"amount": "1000", "method": "cash"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    // One unit back: its 1,000.00 comes off what is owed.
    let r = app
        .session(&manager)
        .post(
            &format!("/pos/api/sales/{id}/returns"),
            json!({"lines": [{"line_no": 1, "qty": 1}], "reason": "no era la pieza"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["refund"], "1000.00");
    assert_eq!(r.json["to_account"], "1000.00");
    assert_eq!(balance(&s, c).await, 100_000);
    // The other two: only the 1,000.00 still owed goes to the account; the rest is paid back.
    let r = app
        .session(&manager)
        .post(
            &format!("/pos/api/sales/{id}/cancel"),
            json!({"reason": "el cliente se arrepintió"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["refund"], "2000.00");
    assert_eq!(r.json["to_account"], "1000.00");
    assert_eq!(balance(&s, c).await, 0);
    let credits = account_entry::Entity::find()
        .filter(account_entry::Column::Kind.eq(account_entry::Kind::ReturnCredit))
        .count(&s.db)
        .await
        .unwrap();
    assert_eq!(credits, 2);
    books_agree(&s, c).await;
}

async fn the_statement_ages_what_is_open_by_thirty_day_buckets(app: TestApp) {
    let s = Shop::open(&app, "uno").await;
    let item = s.item("BAL-1", 100_000, None, 0).await;
    s.stock(item, s.wh, 100).await;
    let cashier = s.token(&app, Role::Cashier).await;
    let c = customer_with_credit(&app, &s, "15000.00").await;
    for (qty, days) in [(1, 100), (2, 45), (3, 0)] {
        let r = on_credit(&app, &s, &cashier, c, item, qty).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let sale: Uuid = r.json["id"].as_str().unwrap().parse().unwrap();
        account_entry::Entity::update_many()
            .col_expr(
                account_entry::Column::CreatedAt,
                Expr::value(entities::now() - chrono::Duration::days(days)),
            )
            .filter(account_entry::Column::SaleId.eq(sale))
            .exec(&s.db)
            .await
            .unwrap();
    }
    // A payment of 1,500.00 pays the oldest (1,000.00) and 500.00 of the 45-day one.
    let r = app
        .session(&cashier)
        .post(
            &format!("/pos/api/customers/{c}/payments"),
            json!({"amount": "1500", "method": "card"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let a = app
        .session(&cashier)
        .get(&format!("/pos/api/customers/{c}/account"))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json["balance"], "4500.00");
    assert_eq!(a.json["aging"]["current"], "3000.00");
    assert_eq!(a.json["aging"]["days_30"], "1500.00");
    assert_eq!(a.json["aging"]["days_60"], "0.00");
    assert_eq!(a.json["aging"]["days_90_plus"], "0.00");
    let open = a.json["open_charges"].as_array().unwrap();
    assert_eq!(open.len(), 2);
    assert_eq!(open[0]["age_days"], 45);
    assert_eq!(open[0]["open"], "1500.00");
    let sum: i64 = ["current", "days_30", "days_60", "days_90_plus"]
        .iter()
        .map(|k| {
            Money::parse("x", a.json["aging"][*k].as_str().unwrap())
                .unwrap()
                .0
        })
        .sum();
    assert_eq!(sum, balance(&s, c).await);
    // A customer with nothing on account has an empty statement.
    let other = customer_with_credit(&app, &s, "0").await;
    let a = app
        .session(&cashier)
        .get(&format!("/pos/api/customers/{other}/account"))
        .await;
    assert_eq!(a.json["balance"], "0.00");
    assert!(a.json["open_charges"].as_array().unwrap().is_empty());
}

async fn another_tenants_customer_account_is_not_found(app: TestApp) {
    let s = Shop::open(&app, "uno").await;
    let c = customer_with_credit(&app, &s, "1000").await;
    let other = Shop::open(&app, "dos").await;
    for path in [
        format!("/pos/api/customers/{c}/account"),
        format!("/pos/api/customers/{c}/account/entries"),
    ] {
        let r = app.session(&other.owner).get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text());
    }
    let r = app
        .session(&other.owner)
        .post(
            &format!("/pos/api/customers/{c}/payments"),
            json!({"amount": "10", "method": "cash"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
}
