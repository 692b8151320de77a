//! Payments of PPD invoices (credit sales) and their payment complements (CFDI type P), stamped
//! through the Facturapi fake: installments without gaps even under concurrency, balances never
//! below zero, tax bases prorated so the installments add up to the invoice's base, refusals
//! that write nothing and queue nothing, and `Idempotency-Key` replays.

use std::collections::HashSet;
use std::sync::Arc;

use entities::{invoicing::tables::invoice, invoicing::tables::invoice_payment};
use http::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tests::cfdi::{FiscalShop, cents, fiscal_shop, invoice_when, stamped_body, workers_on};
use tests::fakes::facturapi::{self, FacturapiFake};
use tests::shop::{Shop, post_with_key};
use tests::{TestApp, TestResponse, shape_tests};

shape_tests!(
    payments_of_a_ppd_invoice_are_numbered_and_their_complements_stamped,
    bad_payments_are_refused_and_write_nothing,
    a_payment_replayed_with_its_idempotency_key_is_recorded_once,
    concurrent_payments_never_share_an_installment_nor_overdraw,
    a_complement_facturapi_refuses_fails_with_its_reason,
    a_failed_complement_is_retried_in_place_and_its_payment_is_recorded_once,
    the_fake_refuses_a_payment_above_the_related_balance,
);

/// The jobs the test drives, while it lives.
type Workers = tests::run::Driving;

/// A credit sale's PPD invoice, stamped by the fake, and the running workers.
async fn ppd_invoice(
    app: &TestApp,
    slug: &str,
    fake: &FacturapiFake,
) -> (FiscalShop, Value, Workers) {
    let f = fiscal_shop(app, slug).await;
    let sale = f.sell_on_credit(app).await;
    let id = f.invoice(app, &sale).await;
    let w = workers_on(app, fake);
    let v = invoice_when(app, &f.s.owner, &id, "valid").await;
    assert_eq!(v["payment_method"], "PPD");
    assert_eq!(v["payment_form"], "99");
    (f, v, w)
}

async fn pay(app: &TestApp, f: &FiscalShop, invoice: &str, body: Value) -> TestResponse {
    app.session(&f.s.owner)
        .post(&format!("/pos/api/invoices/{invoice}/payments"), body)
        .await
}

async fn payments(f: &FiscalShop) -> u64 {
    invoice_payment::Entity::find()
        .count(&f.s.db)
        .await
        .unwrap()
}

/// A JSON amount written as a number or a decimal string.
fn number(v: &Value) -> f64 {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The IVA base of an invoice's stored body: per line, round(quantity × price) − discount,
/// less the IVA in it when the price includes IVA.
fn base_of(body: &Value) -> i64 {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|it| {
            let qty = number(&it["quantity"]);
            let price = number(&it["product"]["price"]);
            let discount = it.get("discount").map_or(0, cents);
            let amount = (qty * price * 100.0).round() as i64 - discount;
            if it["product"]["tax_included"] == false {
                return amount;
            }
            let rate = number(&it["product"]["taxes"][0]["rate"]);
            amount - (amount as f64 * rate / (1.0 + rate)).round() as i64
        })
        .sum()
}

async fn payments_of_a_ppd_invoice_are_numbered_and_their_complements_stamped(app: TestApp) {
    let fake = FacturapiFake::start().await;
    let (f, inv, _w) = ppd_invoice(&app, "rep1", &fake).await;
    let id = inv["id"].as_str().unwrap().to_owned();
    let total = cents(&inv["total"]);
    assert_eq!(total, 125_197);
    let plan = [(50_000, "03"), (33_333, "28"), (total - 83_333, "01")];
    let mut complements = Vec::new();
    let mut left = total;
    for (n, (amount, form)) in plan.iter().enumerate() {
        let r = pay(
            &app,
            &f,
            &id,
            json!({"amount": format!("{}.{:02}", amount / 100, amount % 100), "payment_form": form,
                   "reference": format!("SPEI-{n}")}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        assert_eq!(r.json["installment"], n + 1);
        assert_eq!(cents(&r.json["last_balance"]), left);
        left -= amount;
        assert_eq!(cents(&r.json["balance"]), left);
        assert_eq!(r.json["complement"]["status"], "pending");
        complements.push(r.json["complement"]["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(left, 0);
    // Nothing is owed: one more centavo is too much.
    let r = pay(
        &app,
        &f,
        &id,
        json!({"amount": "0.01", "payment_form": "01"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "payment_exceeds_balance");

    let i_body = stamped_body(&fake, &id);
    let invoice_base = base_of(&i_body);
    let mut bases = 0i64;
    let mut last = total;
    for (n, c) in complements.iter().enumerate() {
        let v = invoice_when(&app, &f.s.owner, c, "valid").await;
        assert_eq!(v["kind"], "P");
        assert_eq!(fake.stamp_count(c), 1);
        let body = stamped_body(&fake, c);
        assert_eq!(body["type"], "P");
        assert_eq!(body["use"], "CP01");
        assert_eq!(
            body["customer"], i_body["customer"],
            "the invoice's receiver"
        );
        assert!(body.get("items").is_none(), "a P has no concepts: {body}");
        let data = &body["complements"][0];
        assert_eq!(data["type"], "pago");
        let p = &data["data"][0];
        assert_eq!(p["payment_form"], plan[n].1);
        assert_eq!(p["currency"], "MXN");
        assert_eq!(p["exchange"].as_f64(), Some(1.0));
        assert!(p["date"].as_str().is_some_and(|d| d.ends_with('Z')), "{p}");
        let doc = &p["related_documents"][0];
        assert_eq!(doc["uuid"], inv["uuid"]);
        assert_eq!(doc["installment"], n + 1);
        assert_eq!(cents(&doc["amount"]), plan[n].0);
        assert_eq!(cents(&doc["last_balance"]), last);
        last -= plan[n].0;
        let taxes = doc["taxes"].as_array().unwrap();
        assert_eq!(taxes.len(), 1, "one rate on this sale: {doc}");
        assert_eq!(taxes[0]["type"], "IVA");
        assert_eq!(taxes[0]["rate"], 0.16);
        let base = cents(&taxes[0]["base"]);
        let exact = plan[n].0 as f64 * invoice_base as f64 / total as f64;
        assert!((base as f64 - exact).abs() <= 0.5, "{base} vs {exact}");
        bases += base;
    }
    assert!(
        (bases - invoice_base).abs() <= complements.len() as i64,
        "the installments' bases {bases} add up to the invoice's {invoice_base}"
    );
    let acct = app
        .session(&f.s.owner)
        .get(&format!("/pos/api/invoices/{id}/payments"))
        .await;
    assert_eq!(acct.status, StatusCode::OK, "{}", acct.text());
    assert_eq!(cents(&acct.json["balance"]), 0);
    assert_eq!(cents(&acct.json["paid"]), total);
    let listed = acct.json["payments"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    for (n, p) in listed.iter().enumerate() {
        assert_eq!(p["installment"], n + 1);
        assert_eq!(p["complement"]["status"], "valid");
        assert_eq!(p["reference"], format!("SPEI-{n}"));
    }
}

async fn bad_payments_are_refused_and_write_nothing(app: TestApp) {
    let fake = FacturapiFake::start().await;
    let (f, inv, _w) = ppd_invoice(&app, "rep2", &fake).await;
    let id = inv["id"].as_str().unwrap().to_owned();
    let jobs = f.stamp_jobs().await;
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    for (body, field) in [
        (json!({"amount": "0", "payment_form": "01"}), "amount"),
        (json!({"amount": "-5", "payment_form": "01"}), "amount"),
        (json!({"amount": "10.005", "payment_form": "01"}), "amount"),
        (
            json!({"amount": "100", "payment_form": "99"}),
            "payment_form",
        ),
        (
            json!({"amount": "100", "payment_form": "77"}),
            "payment_form",
        ),
        (
            json!({"amount": "100", "payment_form": "01", "paid_at": tomorrow}),
            "paid_at",
        ),
    ] {
        let r = pay(&app, &f, &id, body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text()
        );
        assert_eq!(r.json["error"]["field"], field, "{body}: {}", r.text());
    }
    // A well-formed amount above what is owed conflicts with the invoice's balance.
    let r = pay(
        &app,
        &f,
        &id,
        json!({"amount": "1251.98", "payment_form": "01"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "payment_exceeds_balance");
    let r = pay(
        &app,
        &f,
        &id,
        json!({"amount": "100", "payment_form": "01", "bank": "x"}),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields: {}",
        r.text()
    );

    // Another tenant's invoice is not found, for payments and for its account.
    let other = Shop::open(&app, "rep2b").await;
    let r = app
        .session(&other.owner)
        .post(
            &format!("/pos/api/invoices/{id}/payments"),
            json!({"amount": "100", "payment_form": "01"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    let r = app
        .session(&other.owner)
        .get(&format!("/pos/api/invoices/{id}/payments"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // A PUE invoice (a card sale) was paid when issued.
    let sale = f.sell(&app).await;
    let pue = f.invoice(&app, &sale).await;
    let r = pay(
        &app,
        &f,
        &pue,
        json!({"amount": "100", "payment_form": "01"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "invoice_not_ppd");
    // A PPD invoice not stamped yet (as if Facturapi still had it pending).
    let sale = f.sell_on_credit(&app).await;
    let pending = f.invoice(&app, &sale).await;
    invoice_when(&app, &f.s.owner, &pending, "valid").await;
    invoice::Entity::update_many()
        .col_expr(invoice::Column::Status, Expr::value("pending"))
        .col_expr(invoice::Column::Uuid, Expr::value(Option::<String>::None))
        .filter(invoice::Column::Id.eq(pending.parse::<uuid::Uuid>().unwrap()))
        .exec(&f.s.db)
        .await
        .unwrap();
    let r = pay(
        &app,
        &f,
        &pending,
        json!({"amount": "100", "payment_form": "01"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "invoice_not_valid");

    assert_eq!(payments(&f).await, 0, "no payment recorded");
    assert!(
        f.invoices_of_kind("P").await.is_empty(),
        "no complement written"
    );
    assert_eq!(
        f.stamp_jobs().await,
        jobs + 2,
        "only the two new invoices' stampings were queued"
    );
}

async fn a_payment_replayed_with_its_idempotency_key_is_recorded_once(app: TestApp) {
    let fake = FacturapiFake::start().await;
    let (f, inv, _w) = ppd_invoice(&app, "rep3", &fake).await;
    let path = format!("/pos/api/invoices/{}/payments", inv["id"].as_str().unwrap());
    let body = json!({"amount": "200.00", "payment_form": "03", "reference": "SPEI 1"});
    let first = post_with_key(&app, &path, &f.s.owner, "abono-1", &body).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let again = post_with_key(&app, &path, &f.s.owner, "abono-1", &body).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.json, first.json, "the first answer, again");
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let other = json!({"amount": "300.00", "payment_form": "03"});
    let r = post_with_key(&app, &path, &f.s.owner, "abono-1", &other).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(payments(&f).await, 1);
    assert_eq!(f.invoices_of_kind("P").await.len(), 1);
    // A refused request frees its key: the corrected retry goes through with it.
    let big = json!({"amount": "5000.00", "payment_form": "03"});
    let r = post_with_key(&app, &path, &f.s.owner, "abono-2", &big).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    let r = post_with_key(&app, &path, &f.s.owner, "abono-2", &big).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let second = json!({"amount": "50.00", "payment_form": "01"});
    let r = post_with_key(&app, &path, &f.s.owner, "abono-3", &second).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["installment"], 2);
    assert_eq!(payments(&f).await, 2);
}

async fn concurrent_payments_never_share_an_installment_nor_overdraw(app: TestApp) {
    let fake = FacturapiFake::start().await;
    let (f, inv, _w) = ppd_invoice(&app, "rep4", &fake).await;
    let id = inv["id"].as_str().unwrap().to_owned();
    let app = Arc::new(app);
    // Two at once, each within the balance: installments 1 and 2 (or one refused), never two 1s.
    let both = |amount: &'static str| {
        let mut tasks = Vec::new();
        for _ in 0..2 {
            let (app, token, path) = (
                app.clone(),
                f.s.owner.clone(),
                format!("/pos/api/invoices/{id}/payments"),
            );
            tasks.push(tokio::spawn(async move {
                app.session(&token)
                    .post(&path, json!({"amount": amount, "payment_form": "03"}))
                    .await
            }));
        }
        tasks
    };
    let mut installments = Vec::new();
    for t in both("300.00") {
        let r = t.await.unwrap();
        match r.status {
            StatusCode::CREATED => installments.push(r.json["installment"].as_i64().unwrap()),
            StatusCode::CONFLICT => assert_eq!(r.code(), "payment_in_progress", "{}", r.text()),
            other => panic!("{other}: {}", r.text()),
        }
    }
    installments.sort_unstable();
    assert!(
        installments == [1, 2] || installments == [1],
        "{installments:?}"
    );
    // Eight at once for 20 % each of what is left: as many as fit, numbered on, none overdraws.
    let owed = 125_197 - 30_000 * installments.len() as i64;
    let fifth = owed / 5;
    let amount = format!("{}.{:02}", fifth / 100, fifth % 100);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (app, token, path, amount) = (
            app.clone(),
            f.s.owner.clone(),
            format!("/pos/api/invoices/{id}/payments"),
            amount.clone(),
        );
        tasks.push(tokio::spawn(async move {
            app.session(&token)
                .post(&path, json!({"amount": amount, "payment_form": "01"}))
                .await
        }));
    }
    for t in tasks {
        let r = t.await.unwrap();
        match r.status {
            StatusCode::CREATED => {}
            StatusCode::CONFLICT => assert!(
                ["payment_in_progress", "payment_exceeds_balance"].contains(&r.code()),
                "{}",
                r.text()
            ),
            other => panic!("{other}: {}", r.text()),
        }
    }
    let rows = invoice_payment::Entity::find()
        .filter(invoice_payment::Column::InvoiceId.eq(id.parse::<uuid::Uuid>().unwrap()))
        .all(&f.s.db)
        .await
        .unwrap();
    let mut numbers: Vec<i32> = rows.iter().map(|p| p.installment).collect();
    numbers.sort_unstable();
    let expected: Vec<i32> = (1..=i32::try_from(rows.len()).unwrap()).collect();
    assert_eq!(
        numbers, expected,
        "installments 1..n without gaps or repeats"
    );
    assert!(
        rows.len() > installments.len(),
        "some of the eight went through"
    );
    assert!(
        rows.len() <= installments.len() + 5,
        "at most five fifths fit"
    );
    let mut by_no = rows.clone();
    by_no.sort_by_key(|p| p.installment);
    let mut balance = 125_197;
    for p in &by_no {
        assert_eq!(
            p.last_balance_cents, balance,
            "installment {}",
            p.installment
        );
        balance -= p.amount_cents;
        assert_eq!(p.balance_cents, balance);
        assert!(balance >= 0, "never below zero");
    }
    let complements: HashSet<_> = rows.iter().map(|p| p.complement_id).collect();
    assert_eq!(complements.len(), rows.len(), "one complement each");
    assert_eq!(f.invoices_of_kind("P").await.len(), rows.len());
}

async fn a_complement_facturapi_refuses_fails_with_its_reason(app: TestApp) {
    let fake = FacturapiFake::start().await;
    // No workers until the complement's body is tampered with: the invoice is marked stamped
    // here rather than through the fake.
    let f = fiscal_shop(&app, "rep5").await;
    let sale = f.sell_on_credit(&app).await;
    let id = f.invoice(&app, &sale).await;
    invoice::Entity::update_many()
        .col_expr(invoice::Column::Status, Expr::value("valid"))
        .col_expr(
            invoice::Column::Uuid,
            Expr::value("0A0A0A0A-1111-4222-8333-444455556666"),
        )
        .filter(invoice::Column::Id.eq(id.parse::<uuid::Uuid>().unwrap()))
        .exec(&f.s.db)
        .await
        .unwrap();
    let inv = json!({"id": id});
    let r = pay(
        &app,
        &f,
        inv["id"].as_str().unwrap(),
        json!({"amount": "100.00", "payment_form": "03"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let c: uuid::Uuid = r.json["complement"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // As if the balance had been misstated: Facturapi refuses an amount above it.
    let row = invoice::Entity::find_by_id(c)
        .one(&f.s.db)
        .await
        .unwrap()
        .unwrap();
    let mut request = row.request.clone();
    request["complements"][0]["data"][0]["related_documents"][0]["last_balance"] = json!("50.00");
    invoice::Entity::update_many()
        .col_expr(invoice::Column::Request, Expr::value(request))
        .filter(invoice::Column::Id.eq(c))
        .exec(&f.s.db)
        .await
        .unwrap();
    let _w = workers_on(&app, &fake);
    let v = invoice_when(&app, &f.s.owner, &c.to_string(), "failed").await;
    assert!(
        v["failure_reason"].as_str().is_some_and(|r| !r.is_empty()),
        "{v}"
    );
    assert_eq!(fake.stamp_count(&c.to_string()), 0);
    let failed = fake.bodies_for(&c.to_string());
    assert!(failed.iter().all(|(st, _)| *st == 400), "{failed:?}");
    let acct = app
        .session(&f.s.owner)
        .get(&format!(
            "/pos/api/invoices/{}/payments",
            inv["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(acct.json["payments"][0]["complement"]["status"], "failed");
}

async fn the_fake_refuses_a_payment_above_the_related_balance(_app: TestApp) {
    let fake = FacturapiFake::start().await;
    let body = |amount: f64, key: &str| {
        json!({
            "type": "P",
            "customer": {"legal_name": "ESCUELA KEMPER URGATE", "tax_id": "EKU9003173C9",
                         "tax_system": "601", "address": {"zip": "64000"}},
            "use": "CP01",
            "complements": [{"type": "pago", "data": [{
                "payment_form": "03", "date": "2026-05-02T17:00:00Z", "currency": "MXN", "exchange": 1,
                "related_documents": [{"uuid": "39C85A3F-275B-4341-B259-E8971D9F8A94",
                    "amount": amount, "installment": 1, "last_balance": 345.60,
                    "taxes": [{"base": 297.93, "type": "IVA", "rate": 0.16}]}]}]}],
            "external_id": "p-1", "idempotency_key": key,
        })
    };
    let client = reqwest::Client::new();
    let post = |b: Value| {
        client
            .post(format!("{}/invoices", fake.url))
            .bearer_auth(facturapi::SECRET_KEY)
            .json(&b)
            .send()
    };
    let r = post(body(345.61, "p-1-g0")).await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "invalid_request", "{v}");
    assert_eq!(
        v["errors"][0]["code"],
        "amount_exceeds_related_document_balance"
    );
    let mut form99 = body(100.0, "p-1-g1");
    form99["complements"][0]["data"][0]["payment_form"] = json!("99");
    let r = post(form99).await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = post(body(345.60, "p-1-g2")).await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "the whole balance is fine");
    assert_eq!(fake.stamp_count("p-1"), 1);
}

async fn a_failed_complement_is_retried_in_place_and_its_payment_is_recorded_once(app: TestApp) {
    let fake = FacturapiFake::start().await;
    let (f, inv, _w) = ppd_invoice(&app, "rep7", &fake).await;
    let id = inv["id"].as_str().unwrap().to_owned();
    fake.push_modes(facturapi::Mode::SatValidationError, 1);
    let r = pay(
        &app,
        &f,
        &id,
        json!({"amount": "100.00", "payment_form": "03"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let c = r.json["complement"]["id"].as_str().unwrap().to_owned();
    invoice_when(&app, &f.s.owner, &c, "failed").await;
    let retry = |token: String| {
        let (app, c) = (&app, c.clone());
        async move {
            app.session(&token)
                .post(&format!("/pos/api/invoices/{c}/retry"), json!({}))
                .await
        }
    };
    let other = Shop::open(&app, "rep7b").await;
    assert_eq!(
        retry(other.owner.clone()).await.status,
        StatusCode::NOT_FOUND
    );
    let r = retry(f.s.owner.clone()).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    assert_eq!(r.json["id"], c.as_str(), "the same document, a new attempt");
    invoice_when(&app, &f.s.owner, &c, "valid").await;
    assert_eq!(fake.stamp_count(&c), 1);
    let keys: HashSet<String> = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.external_id.as_deref() == Some(c.as_str()))
        .filter_map(|r| r.idempotency_key.clone())
        .collect();
    assert_eq!(keys.len(), 2, "the retry carries a new key: {keys:?}");
    assert_eq!(payments(&f).await, 1, "the payment is recorded once");
    let r = retry(f.s.owner.clone()).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "invoice_not_failed");
}
