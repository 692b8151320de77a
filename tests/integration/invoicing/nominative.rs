//! CFDI: `/pos/api/settings/fiscal` (checked against SAT's rules, with a write-only Facturapi key)
//! and invoicing a sale through the Facturapi fake: stamped at most once through timeouts, 429,
//! 500, pending and SAT refusals; bad requests are 422 naming the field and queue nothing.

use std::time::Duration;

use entities::Role;
use entities::{customers::tables::customer, jobs::tables::outbox, org::tables::audit_log};
use http::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tests::cfdi::{fiscal_shop, invoice_when, put_fiscal, workers_on, workers_with_timeout};
use tests::fakes::facturapi::{self, FacturapiFake, Mode};
use tests::shop::Shop;
use tests::{TestApp, TestResponse, shape_tests};
use uuid::Uuid;

shape_tests!(
    fiscal_settings_are_validated_and_the_key_is_never_shown_again,
    only_owners_and_admins_read_or_write_fiscal_settings,
    a_sale_is_invoiced_once_and_stamped_once,
    a_sat_refusal_fails_the_invoice_with_a_reason_and_a_new_request_starts_over,
    bad_invoice_requests_are_422_naming_the_field_and_queue_nothing,
    a_signed_webhook_updates_the_invoice_once_and_a_forged_one_is_refused,
    a_valid_invoice_is_cancelled_and_bad_cancellations_are_refused,
    a_timeout_after_stamping_is_resolved_by_external_id_without_a_second_stamp,
    a_429_waits_for_retry_after_and_a_500_is_retried_with_the_same_key,
    a_pending_invoice_is_polled_until_valid,
    three_hundred_invoices_through_random_faults_are_each_stamped_at_most_once,
    a_stamped_invoice_s_xml_and_pdf_are_kept_once_and_served_to_its_tenant_only,
    a_failed_invoice_is_retried_by_an_operator_as_a_new_attempt_with_a_new_key,
    a_user_limited_to_another_branch_sees_and_cancels_no_invoice_of_this_one,
    with_stamping_switched_off_an_invoice_request_is_409_and_records_nothing,
    a_late_pending_cancellation_event_does_not_undo_an_accepted_one,
    without_webhooks_the_hourly_poll_learns_a_pending_cancellation_s_answer,
);

/// A shop with fiscal settings on the Facturapi fake, a customer with fiscal data, and a sale.
struct Counter {
    s: Shop,
    customer: Uuid,
    sale: String,
}

async fn counter(app: &TestApp, slug: &str) -> Counter {
    let f = fiscal_shop(app, slug).await;
    let sale = f.sell(app).await;
    Counter {
        s: f.s,
        customer: f.customer,
        sale,
    }
}

async fn invoice(app: &TestApp, c: &Counter) -> TestResponse {
    app.session(&c.s.owner)
        .post(&format!("/pos/api/sales/{}/invoice", c.sale), json!({}))
        .await
}

/// Asks for the counter's sale's invoice; answers its id.
async fn invoice_id(app: &TestApp, c: &Counter) -> String {
    let r = invoice(app, c).await;
    assert!(r.status.is_success(), "{}", r.text());
    r.json["id"].as_str().unwrap().to_owned()
}

async fn a_sale_is_invoiced_once_and_stamped_once(app: TestApp) {
    let c = counter(&app, "fact1").await;
    let fake = FacturapiFake::start().await;
    let r = invoice(&app, &c).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    assert_eq!(r.json["status"], "pending");
    assert_eq!(r.json["total"], "1251.97", "the CFDI total is the ticket's");
    assert_eq!(r.json["payment_form"], "04");
    let id = r.json["id"].as_str().unwrap().to_owned();
    let _w = workers_on(&app, &fake);
    let v = invoice_when(&app, &c.s.owner, &id, "valid").await;
    assert!(v["uuid"].as_str().is_some_and(|u| u.len() == 36), "{v}");
    assert_eq!(fake.stamp_count(&id), 1);
    // Its lines, with the IVA of each, add up to the ticket.
    let lines = v["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{v}");
    assert_eq!(
        (lines[0]["sku"].as_str(), lines[0]["quantity"].as_i64()),
        (Some("BAL-1"), Some(2))
    );
    assert_eq!(lines[1]["quantity"], 3);
    let mut sum = 0;
    for l in lines {
        let total = tests::cfdi::cents(&l["total"]);
        let (base, iva) = (
            tests::cfdi::cents(&l["tax"]["base"]),
            tests::cfdi::cents(&l["tax"]["amount"]),
        );
        assert_eq!(base + iva, total, "{l}");
        assert_eq!(
            tests::cfdi::cents(&l["amount"]) - tests::cfdi::cents(&l["discount"]),
            base
        );
        sum += total;
    }
    assert_eq!(sum, 125_197);
    assert!(tests::cfdi::cents(&lines[1]["discount"]) > 0, "the 5 % off");
    // The lines went at IVA-included prices, and Facturapi's total is what the customer paid.
    let body = tests::cfdi::stamped_body(&fake, &id);
    for it in body["items"].as_array().unwrap() {
        assert_eq!(it["product"]["tax_included"], true, "{body}");
    }
    assert_eq!(
        tests::cfdi::facturapi_total(&fake, &c.s.db, &id).await,
        125_197
    );
    let again = invoice(&app, &c).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json["id"], id.as_str());
    // Every job has run when this returns: nothing is left in flight to stamp again.
    app.run_jobs().await;
    assert_eq!(fake.stamp_count(&id), 1, "never stamped twice");
    assert_eq!(c.customer.to_string().len(), 36);
}

async fn a_timeout_after_stamping_is_resolved_by_external_id_without_a_second_stamp(app: TestApp) {
    let c = counter(&app, "fact2").await;
    let fake = FacturapiFake::start().await;
    fake.set_hang(Duration::from_secs(3));
    fake.push_modes(Mode::TimeoutAfterStamp, 1);
    let id = invoice_id(&app, &c).await;
    let _w = workers_with_timeout(&app, &fake, Duration::from_millis(500));
    let v = invoice_when(&app, &c.s.owner, &id, "valid").await;
    assert_eq!(fake.stamp_count(&id), 1, "{v}");
    assert!(v["calls"].as_i64().unwrap() >= 1);
}

async fn a_429_waits_for_retry_after_and_a_500_is_retried_with_the_same_key(app: TestApp) {
    let c = counter(&app, "fact3").await;
    let fake = FacturapiFake::start().await;
    fake.push_modes(
        Mode::RateLimited {
            retry_after_secs: 1,
        },
        1,
    );
    fake.push_modes(Mode::ServerError, 1);
    let id = invoice_id(&app, &c).await;
    let _w = workers_on(&app, &fake);
    invoice_when(&app, &c.s.owner, &id, "valid").await;
    assert_eq!(fake.stamp_count(&id), 1);
    assert!(
        fake.early_retries().is_empty(),
        "{:?}",
        fake.early_retries()
    );
    let keys: std::collections::HashSet<String> = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .filter_map(|r| r.idempotency_key.clone())
        .collect();
    assert_eq!(
        keys.len(),
        1,
        "every try of one attempt carries one key: {keys:?}"
    );
}

async fn a_pending_invoice_is_polled_until_valid(app: TestApp) {
    let c = counter(&app, "fact4").await;
    let fake = FacturapiFake::start().await;
    fake.push_modes(Mode::PendingThenValid { polls: 1 }, 1);
    let id = invoice_id(&app, &c).await;
    let _w = workers_on(&app, &fake);
    let v = invoice_when(&app, &c.s.owner, &id, "valid").await;
    assert_eq!(fake.stamp_count(&id), 1, "{v}");
}

async fn a_sat_refusal_fails_the_invoice_with_a_reason_and_a_new_request_starts_over(app: TestApp) {
    let c = counter(&app, "fact5").await;
    let fake = FacturapiFake::start().await;
    fake.push_modes(Mode::SatValidationError, 1);
    let id = invoice_id(&app, &c).await;
    let _w = workers_on(&app, &fake);
    let v = invoice_when(&app, &c.s.owner, &id, "failed").await;
    assert!(
        v["failure_reason"].as_str().is_some_and(|r| !r.is_empty()),
        "{v}"
    );
    assert_eq!(fake.stamp_count(&id), 0);
    let r = invoice(&app, &c).await;
    assert_eq!(
        r.status,
        StatusCode::ACCEPTED,
        "a failed invoice does not block a new one"
    );
    let second = r.json["id"].as_str().unwrap().to_owned();
    assert_ne!(second, id);
    invoice_when(&app, &c.s.owner, &second, "valid").await;
    assert_eq!(fake.stamp_count(&second), 1);
}

async fn bad_invoice_requests_are_422_naming_the_field_and_queue_nothing(app: TestApp) {
    let c = counter(&app, "fact6").await;
    let path = format!("/pos/api/sales/{}/invoice", c.sale);
    let r = app
        .session(&c.s.owner)
        .post(&path, json!({"cfdi_use": "P99"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "use", "{}", r.text());
    let r = app
        .session(&c.s.owner)
        .post(&path, json!({"payment_form": "77"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    customer::Entity::update_many()
        .col_expr(
            customer::Column::Rfc,
            sea_orm::sea_query::Expr::value(Option::<String>::None),
        )
        .exec(&c.s.db)
        .await
        .unwrap();
    let r = app.session(&c.s.owner).post(&path, json!({})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "customer.rfc");
    let other = Shop::open(&app, "fact6b").await;
    let r = app.session(&other.owner).post(&path, json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let stamps = outbox::Entity::find()
        .filter(outbox::Column::JobName.eq("cfdi.stamp"))
        .count(&c.s.db)
        .await
        .unwrap();
    assert_eq!(stamps, 0, "no job for a refused request");
    // Without fiscal settings, nothing to stamp with.
    let a = other.item("X", 10_000, None, 0).await;
    other.stock(a, other.wh, 1).await;
    let sale = app
        .session(&other.owner).post("/pos/api/sales", json!({"branch_id": other.branch, "lines": [{"item_id": a, "warehouse_id": other.wh, "qty": 1}], "payments": [{"method": "cash", "amount": "100"}]}))
        .await;
    let r = app
        .session(&other.owner)
        .post(
            &format!(
                "/pos/api/sales/{}/invoice",
                sale.json["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "fiscal_settings_missing");
}

const KEY: &str = "sk_test_abcdefghijklmnopqrstuvwxyz012345";

async fn fiscal_settings_are_validated_and_the_key_is_never_shown_again(app: TestApp) {
    let t = app.tenant("fiscal").await;
    let owner = app.token(&t.owner_email).await;
    assert_eq!(
        app.session(&owner)
            .get("/pos/api/settings/fiscal")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let good = json!({"issuer_rfc": "EKU9003173C9", "legal_name": "Escuela Kemper Urgate", "tax_regime": "601", "facturapi_key": KEY, "webhook_secret": "whsec_0123456789abcdef"});
    let r = put_fiscal(&app, &owner, good.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["facturapi_key"], "test");
    assert_eq!(r.json["webhook_secret_set"], true);
    assert_eq!(r.json["legal_name"], "ESCUELA KEMPER URGATE");
    assert_eq!(r.json["invoice_series"], "A");
    assert!(!r.text().contains(KEY));
    let got = app.session(&owner).get("/pos/api/settings/fiscal").await;
    assert!(!got.text().contains(KEY) && !got.text().contains("whsec_"));
    // Absent keeps the key; null removes it.
    let mut keep = good.clone();
    keep.as_object_mut().unwrap().remove("facturapi_key");
    let r = put_fiscal(&app, &owner, keep).await;
    assert_eq!(r.json["facturapi_key"], "test");
    let mut clear = good.clone();
    clear["facturapi_key"] = Value::Null;
    let r = put_fiscal(&app, &owner, clear).await;
    assert_eq!(r.json["facturapi_key"], Value::Null);

    for (field, value) in [
        ("issuer_rfc", json!("XAXX010101000")),
        ("issuer_rfc", json!("NOPE")),
        ("tax_regime", json!("999")),
        ("tax_regime", json!("605")),
        ("facturapi_key", json!("pk_test_abcdefghijklmnop")),
        ("invoice_series", json!("A-1")),
        ("default_unit_key", json!("TOOLONG")),
    ] {
        let mut body = good.clone();
        body[field] = value.clone();
        let r = put_fiscal(&app, &owner, body).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value}: {}",
            r.text()
        );
        assert_eq!(r.json["error"]["field"], field, "{}", r.text());
    }
    // The audit trail says a key is set, never which.
    let db = app.tenant_db(&t).await;
    let entries = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("fiscal.updated"))
        .all(&db)
        .await
        .unwrap();
    assert_eq!(entries.len(), 3);
    for e in entries {
        assert!(!e.details.unwrap().to_string().contains("sk_test_abc"));
    }
}

async fn only_owners_and_admins_read_or_write_fiscal_settings(app: TestApp) {
    let t = app.tenant("fiscal2").await;
    let manager = app.token(&app.user(&t, Role::Manager, None).await).await;
    let r = put_fiscal(
        &app,
        &manager,
        json!({"issuer_rfc": "EKU9003173C9", "legal_name": "X", "tax_regime": "601"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.session(&manager)
            .get("/pos/api/settings/fiscal")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let admin = app.token(&app.user(&t, Role::Admin, None).await).await;
    let r = put_fiscal(
        &app,
        &admin,
        json!({"issuer_rfc": "EKU9003173C9", "legal_name": "X", "tax_regime": "601", "unknown": 1}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// Makes `n` sales to the counter's customer and requests their invoices, as the API does
/// (invoice row and `cfdi.stamp` job in one transaction). Returns the invoice ids.
async fn many_invoices(app: &TestApp, c: &Counter, n: usize) -> Vec<String> {
    use entities::counter::sales::{self, LineInput, Method, NewSale, PaymentInput, Seller};
    let item =
        c.s.item(&format!("SOAK-{}", Uuid::now_v7().simple()), 9_999, None, 0)
            .await;
    c.s.stock(item, c.s.wh, 1_000_000).await;
    let seller = Seller {
        user_id: Uuid::now_v7(),
        role: Role::Owner,
        branch_scope: None,
        request_id: None,
        authorized_by: None,
    };
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let txn = entities::db::begin_write(&c.s.db).await.unwrap();
        let out = sales::checkout(
            &txn,
            &seller,
            NewSale {
                branch_id: c.s.branch,
                customer_id: Some(c.customer),
                price_list: None,
                lines: vec![LineInput {
                    item_id: item,
                    warehouse_id: c.s.wh,
                    qty: 1 + (i as i64 % 7),
                    discount_bp: 0,
                    fixed_price: None,
                }],
                payments: vec![PaymentInput {
                    method: Method::Cash,
                    amount_minor: 100_000,
                    reference: None,
                }],
                note: None,
                quote_id: None,
                fixed_rate: None,
                drawer_session_id: None,
            },
            entities::rules::money::Rate(17_000_000),
        )
        .await
        .unwrap();
        let (inv, _) = entities::invoicing::invoices::request_invoice(
            &txn,
            &app.app.platform,
            None,
            out.doc.sale.id,
            entities::invoicing::invoices::InvoiceSale::default(),
        )
        .await
        .unwrap();
        jobs::outbox::enqueue(
            &txn,
            &jobs::invoicing::StampInvoice {
                tenant_id: c.s.t.tenant.id,
                invoice_id: inv.id,
            },
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
        ids.push(inv.id.to_string());
    }
    ids
}

/// Waits until no invoice is pending; returns the seconds it took.
async fn settle_all(c: &Counter, limit: Duration) -> f64 {
    use entities::invoicing::tables::invoice;
    let start = std::time::Instant::now();
    loop {
        let pending = invoice::Entity::find()
            .filter(invoice::Column::Status.eq("pending"))
            .count(&c.s.db)
            .await
            .unwrap();
        if pending == 0 {
            return start.elapsed().as_secs_f64();
        }
        if start.elapsed() >= limit {
            // Say what became of the stuck invoices' jobs before failing.
            let stuck = invoice::Entity::find()
                .filter(invoice::Column::Status.eq("pending"))
                .all(&c.s.db)
                .await
                .unwrap();
            for inv in &stuck {
                let jobs = outbox::Entity::find()
                    .filter(outbox::Column::JobName.eq("cfdi.stamp"))
                    .all(&c.s.db)
                    .await
                    .unwrap()
                    .into_iter()
                    .filter(|o| o.payload["invoice_id"] == inv.id.to_string())
                    .collect::<Vec<_>>();
                let runs = entities::jobs::tables::job_run::Entity::find()
                    .all(&c.s.db)
                    .await
                    .unwrap()
                    .into_iter()
                    .filter(|r| jobs.iter().any(|j| j.id == r.outbox_id))
                    .map(|r| (r.attempt, r.starts, r.status, r.last_error))
                    .collect::<Vec<_>>();
                eprintln!(
                    "stuck {} calls {} fid {:?}: outbox {:?} runs {runs:?}",
                    inv.id,
                    inv.calls,
                    inv.facturapi_id,
                    jobs.iter()
                        .map(|j| (j.attempt, j.sent_at.is_some(), j.last_error.clone()))
                        .collect::<Vec<_>>()
                );
            }
            panic!("{pending} invoices still pending");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn three_hundred_invoices_through_random_faults_are_each_stamped_at_most_once(app: TestApp) {
    use entities::invoicing::tables::invoice;
    use rand::{Rng, SeedableRng};
    let c = counter(&app, "soak").await;
    let fake = FacturapiFake::start().await;
    fake.set_hang(Duration::from_millis(800));
    // Throughput first, with Facturapi answering well.
    let clean = many_invoices(&app, &c, 100).await;
    // One set of workers for both phases: their runtime owns pooled connections the test reuses.
    let _w = workers_with_timeout(&app, &fake, Duration::from_millis(300));
    let secs = settle_all(&c, Duration::from_secs(120)).await;
    eprintln!(
        "stamping against the fake: {} invoices in {secs:.2} s = {:.0} invoices/s (pool concurrency 10)",
        clean.len(),
        clean.len() as f64 / secs
    );
    // Then 300 through a random mix of every fault the fake knows.
    let mut rng = rand::rngs::StdRng::seed_from_u64(6);
    for _ in 0..400 {
        let mode = match rng.random_range(0..100) {
            0..=49 => Mode::Ok,
            50..=59 => Mode::RateLimited {
                retry_after_secs: 1,
            },
            60..=69 => Mode::ServerError,
            70..=75 => Mode::TimeoutAfterStamp,
            76..=81 => Mode::DropAfterStamp,
            82..=89 => Mode::PendingThenValid { polls: 1 },
            90..=95 => Mode::KeyInUse,
            _ => Mode::SatValidationError,
        };
        fake.push_modes(mode, 1);
    }
    let ids = many_invoices(&app, &c, 300).await;
    let secs = settle_all(&c, Duration::from_secs(240)).await;
    eprintln!("300 invoices through random faults settled in {secs:.1} s");
    let rows = invoice::Entity::find().all(&c.s.db).await.unwrap();
    let (mut valid, mut failed) = (0, 0);
    for id in ids.iter().chain(&clean) {
        let inv = rows.iter().find(|r| r.id.to_string() == *id).unwrap();
        let stamps = fake.stamp_count(id);
        match inv.status.as_str() {
            "valid" => {
                valid += 1;
                assert_eq!(stamps, 1, "invoice {id} stamped {stamps} times");
                assert!(inv.uuid.is_some());
            }
            "failed" => {
                failed += 1;
                assert!(stamps <= 1, "invoice {id} stamped {stamps} times");
                assert!(inv.failure_reason.as_deref().is_some_and(|r| !r.is_empty()));
            }
            other => panic!("invoice {id} ended {other}"),
        }
    }
    eprintln!("{valid} valid, {failed} failed");
    assert!(
        fake.early_retries().is_empty(),
        "a 429 retried before Retry-After: {:?}",
        fake.early_retries()
    );
    assert!(fake.stamp_counts().values().all(|n| *n <= 1));
}

/// Stores the fiscal settings with the fake's webhook secret, so signed events are accepted.
async fn with_webhook_secret(app: &TestApp, c: &Counter) {
    let mut body = json!({"issuer_rfc": "EKU9003173C9", "legal_name": "Escuela Kemper Urgate", "tax_regime": "601"});
    body["webhook_secret"] = json!(facturapi::WEBHOOK_SECRET);
    assert_eq!(
        put_fiscal(app, &c.s.owner, body).await.status,
        StatusCode::OK
    );
}

async fn webhook(app: &TestApp, tenant: Uuid, body: &[u8], sig: &str) -> TestResponse {
    let mut req = http::Request::builder()
        .method(Method::POST)
        .uri(format!("/webhooks/facturapi?tenant={tenant}"))
        .header("content-type", "application/json");
    if !sig.is_empty() {
        req = req.header("facturapi-signature", sig);
    }
    app.send(req.body(axum::body::Body::from(body.to_vec())).unwrap())
        .await
}

async fn a_signed_webhook_updates_the_invoice_once_and_a_forged_one_is_refused(app: TestApp) {
    let c = counter(&app, "hook").await;
    with_webhook_secret(&app, &c).await;
    // Queued, no worker running: the invoice waits, pending.
    let id = invoice_id(&app, &c).await;
    let object = json!({"id": "fk_hook_1", "external_id": id, "status": "valid", "uuid": "0A1B2C3D-0000-4000-8000-00000000ABCD", "series": "A", "folio_number": 7});
    let event = facturapi::webhook_body("evt_1", "invoice.status_updated", &object);
    let tenant = c.s.t.tenant.id;

    let forged = facturapi::sign_webhook("whsec_someone_else_entirely", &event);
    let r = webhook(&app, tenant, &event, &forged).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    assert_eq!(
        webhook(&app, tenant, &event, "").await.status,
        StatusCode::UNAUTHORIZED
    );
    let mut tampered = event.clone();
    tampered.extend_from_slice(b" ");
    let sig = facturapi::sign_webhook(facturapi::WEBHOOK_SECRET, &event);
    assert_eq!(
        webhook(&app, tenant, &tampered, &sig).await.status,
        StatusCode::UNAUTHORIZED
    );
    let still = app
        .session(&c.s.owner)
        .get(&format!("/pos/api/invoices/{id}"))
        .await;
    assert_eq!(still.json["status"], "pending");

    let r = webhook(&app, tenant, &event, &sig).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["result"], "applied");
    let v = app
        .session(&c.s.owner)
        .get(&format!("/pos/api/invoices/{id}"))
        .await;
    assert_eq!(v.json["status"], "valid");
    assert_eq!(v.json["uuid"], "0A1B2C3D-0000-4000-8000-00000000ABCD");
    assert_eq!(v.json["folio_number"], 7);
    let r = webhook(&app, tenant, &event, &sig).await;
    assert_eq!(r.json["result"], "duplicate");
    // Another business's id with this signature is refused too.
    let other = app.tenant("hook-otra").await;
    assert_eq!(
        webhook(&app, other.tenant.id, &event, &sig).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn a_valid_invoice_is_cancelled_and_bad_cancellations_are_refused(app: TestApp) {
    let c = counter(&app, "cancela").await;
    let fake = FacturapiFake::start().await;
    with_webhook_secret(&app, &c).await;
    let id = invoice_id(&app, &c).await;
    let path = format!("/pos/api/invoices/{id}/cancel");
    let r = app
        .session(&c.s.owner)
        .post(&path, json!({"motive": "02"}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "a pending invoice: {}",
        r.text()
    );
    assert_eq!(r.code(), "invoice_not_valid");
    let _w = workers_on(&app, &fake);
    invoice_when(&app, &c.s.owner, &id, "valid").await;
    let r = app
        .session(&c.s.owner)
        .post(&path, json!({"motive": "01"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "substitution");
    let r = app
        .session(&c.s.owner)
        .post(&path, json!({"motive": "09"}))
        .await;
    assert_eq!(r.json["error"]["field"], "motive");
    let cashier = c.s.token(&app, Role::Cashier).await;
    assert_eq!(
        app.session(&cashier)
            .post(&path, json!({"motive": "02"}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let r = app
        .session(&c.s.owner)
        .post(&path, json!({"motive": "02"}))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    assert_eq!(r.json["cancellation_status"], "requested");
    let again = app
        .session(&c.s.owner)
        .post(&path, json!({"motive": "02"}))
        .await;
    assert_eq!(again.code(), "cancellation_in_progress");
    // Over $1,000 to a company: the receiver must accept (Facturapi answers pending).
    app.run_jobs().await;
    let g = app
        .session(&c.s.owner)
        .get(&format!("/pos/api/invoices/{id}"))
        .await;
    assert_eq!(g.json["cancellation_status"], "pending");
    // The receiver accepts; Facturapi's webhook says so.
    let object = json!({"id": "x", "external_id": id, "cancellation_status": "accepted", "status": "canceled"});
    let event = facturapi::webhook_body(
        "evt_cancel_1",
        "invoice.cancellation_status_updated",
        &object,
    );
    let sig = facturapi::sign_webhook(facturapi::WEBHOOK_SECRET, &event);
    let r = webhook(&app, c.s.t.tenant.id, &event, &sig).await;
    assert_eq!(r.json["result"], "applied", "{}", r.text());
    let g = app
        .session(&c.s.owner)
        .get(&format!("/pos/api/invoices/{id}"))
        .await;
    assert_eq!(g.json["cancellation_status"], "accepted");
    // The sale may now be invoiced again (the substitute).
    let r = invoice(&app, &c).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    assert_ne!(r.json["id"], id.as_str());
}

async fn a_stamped_invoice_s_xml_and_pdf_are_kept_once_and_served_to_its_tenant_only(app: TestApp) {
    let c = counter(&app, "fact9").await;
    let fake = FacturapiFake::start().await;
    let id = invoice_id(&app, &c).await;
    let xml_path = format!("/pos/api/invoices/{id}/xml");
    let r = app.session(&c.s.owner).get(&xml_path).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "invoice_not_stamped");
    let _w = workers_on(&app, &fake);
    let v = invoice_when(&app, &c.s.owner, &id, "valid").await;
    let uuid = v["uuid"].as_str().unwrap().to_owned();
    // The download job the stamping queued has run too.
    app.run_jobs().await;
    let xml = app.session(&c.s.owner).get(&xml_path).await;
    assert_eq!(xml.status, StatusCode::OK, "{}", xml.text());
    assert_eq!(xml.headers["content-type"], "application/xml");
    assert!(
        xml.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
    );
    assert!(
        xml.text().contains(&uuid),
        "the stamped CFDI: {}",
        xml.text()
    );
    let pdf = app
        .session(&c.s.owner)
        .get(&format!("/pos/api/invoices/{id}/pdf"))
        .await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.headers["content-type"], "application/pdf");
    assert!(pdf.bytes.starts_with(b"%PDF"));
    // Downloaded once each (no job is left to download again), and kept in this tenant's
    // folder of the files.
    app.run_jobs().await;
    let downloads = |format: &str| {
        fake.requests()
            .iter()
            .filter(|r| r.method == "GET" && r.path.ends_with(&format!("/{format}")))
            .count()
    };
    assert_eq!((downloads("xml"), downloads("pdf")), (1, 1));
    let kept = app
        .app
        .config
        .files_dir()
        .join(c.s.t.tenant.id.simple().to_string())
        .join("cfdi");
    assert_eq!(std::fs::read_dir(&kept).unwrap().count(), 2, "{kept:?}");
    // Another business cannot read it.
    let other = Shop::open(&app, "fact9b").await;
    let r = app.session(&other.owner).get(&xml_path).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn a_failed_invoice_is_retried_by_an_operator_as_a_new_attempt_with_a_new_key(app: TestApp) {
    let c = counter(&app, "fact10").await;
    let fake = FacturapiFake::start().await;
    fake.push_modes(Mode::SatValidationError, 1);
    let failed = invoice_id(&app, &c).await;
    let _w = workers_on(&app, &fake);
    invoice_when(&app, &c.s.owner, &failed, "failed").await;
    let retry = |id: String| {
        let app = &app;
        let token = c.s.owner.clone();
        async move {
            app.session(&token)
                .post(&format!("/pos/api/invoices/{id}/retry"), json!({}))
                .await
        }
    };
    // Another business's operator does not see it.
    let other = Shop::open(&app, "fact10b").await;
    let r = app
        .session(&other.owner)
        .post(&format!("/pos/api/invoices/{failed}/retry"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = retry(failed.clone()).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let second = r.json["id"].as_str().unwrap().to_owned();
    assert_ne!(second, failed, "a new attempt is a new invoice");
    invoice_when(&app, &c.s.owner, &second, "valid").await;
    assert_eq!(fake.stamp_count(&second), 1);
    let keys: std::collections::HashSet<String> = fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .filter_map(|r| r.idempotency_key.clone())
        .collect();
    assert_eq!(keys.len(), 2, "the retry carries a new key: {keys:?}");
    // Retried again, the failed one answers the sale's standing invoice; a valid one is refused.
    let r = retry(failed.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["id"], second.as_str());
    let r = retry(second.clone()).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "invoice_not_failed");
    assert_eq!(fake.stamp_count(&second), 1, "never stamped twice");
}

/// One visibility rule for every invoice endpoint: a manager limited to the border branch gets 404
/// for an invoice of the first branch on read, cancel, files and retry, and the list leaves it out;
/// a manager of the first branch sees it.
async fn a_user_limited_to_another_branch_sees_and_cancels_no_invoice_of_this_one(app: TestApp) {
    let f = fiscal_shop(&app, "alcance").await;
    let sale = f.sell(&app).await;
    let inv = f.invoice(&app, &sale).await;
    let elsewhere = app
        .user(&f.s.t, Role::Manager, Some(vec![f.s.border]))
        .await;
    let elsewhere = app.token(&elsewhere).await;
    let here = app
        .user(&f.s.t, Role::Manager, Some(vec![f.s.branch]))
        .await;
    let here = app.token(&here).await;
    for path in [
        format!("/pos/api/invoices/{inv}"),
        format!("/pos/api/invoices/{inv}/xml"),
        format!("/pos/api/invoices/{inv}/pdf"),
        format!("/pos/api/invoices/{inv}/payments"),
    ] {
        let r = app.session(&elsewhere).get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text());
    }
    for (path, body) in [
        (
            format!("/pos/api/invoices/{inv}/cancel"),
            json!({"motive": "02"}),
        ),
        (format!("/pos/api/invoices/{inv}/retry"), json!({})),
    ] {
        let r = app.session(&elsewhere).post(&path, body).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text());
    }
    let r = app.session(&elsewhere).get("/pos/api/invoices").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["total"], 0, "{}", r.text());
    let r = app
        .session(&here)
        .get(&format!("/pos/api/invoices/{inv}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app.session(&here).get("/pos/api/invoices").await;
    assert_eq!(r.json["total"], 1, "{}", r.text());
}

/// With `NEXUS_FACTURAPI_URL=off` nobody would ever stamp: asking for an invoice (or a global
/// run) is 409 `stamping_off` and records no invoice and no job, instead of a silent `pending`.
async fn with_stamping_switched_off_an_invoice_request_is_409_and_records_nothing(
    mut app: TestApp,
) {
    app.reconfigure(&[("NEXUS_FACTURAPI_URL", "off")]).await;
    let f = fiscal_shop(&app, "apagado").await;
    let sale = f.sell(&app).await;
    let r = app
        .session(&f.s.owner)
        .post(&format!("/pos/api/sales/{sale}/invoice"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "stamping_off");
    let r = app
        .session(&f.s.owner)
        .post("/pos/api/invoices/global", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "stamping_off");
    assert!(
        f.invoices_of_kind("I").await.is_empty(),
        "no invoice recorded"
    );
    assert_eq!(f.stamp_jobs().await, 0, "no job queued");
}

/// Facturapi's events can arrive out of order: once a cancellation is accepted, a late `pending`
/// (or `rejected`) event is recorded as seen but changes nothing.
async fn a_late_pending_cancellation_event_does_not_undo_an_accepted_one(app: TestApp) {
    let c = counter(&app, "tarde").await;
    with_webhook_secret(&app, &c).await;
    let id = invoice_id(&app, &c).await;
    let tenant = c.s.t.tenant.id;
    let send = |n: &str, kind: &str, object: Value| {
        let event = facturapi::webhook_body(n, kind, &object);
        let sig = facturapi::sign_webhook(facturapi::WEBHOOK_SECRET, &event);
        (event, sig)
    };
    let (e, s) = send(
        "evt_v",
        "invoice.status_updated",
        json!({"id": "fk_late_1", "external_id": id, "status": "valid", "uuid": "0A1B2C3D-0000-4000-8000-0000000000AA", "series": "A", "folio_number": 9}),
    );
    assert_eq!(webhook(&app, tenant, &e, &s).await.status, StatusCode::OK);
    for (n, status) in [
        ("evt_a", "accepted"),
        ("evt_p", "pending"),
        ("evt_r", "rejected"),
    ] {
        let (e, s) = send(
            n,
            "invoice.cancellation_status_updated",
            json!({"id": "fk_late_1", "external_id": id, "status": "canceled", "cancellation_status": status}),
        );
        let r = webhook(&app, tenant, &e, &s).await;
        assert_eq!(r.status, StatusCode::OK, "{status}: {}", r.text());
    }
    let v = app
        .session(&c.s.owner)
        .get(&format!("/pos/api/invoices/{id}"))
        .await;
    assert_eq!(v.json["cancellation_status"], "accepted", "{}", v.text());
}

async fn without_webhooks_the_hourly_poll_learns_a_pending_cancellation_s_answer(app: TestApp) {
    use tests::fakes::facturapi::CancellationOutcome;
    let c = counter(&app, "sondeo").await;
    let fake = FacturapiFake::start().await;
    let id = invoice_id(&app, &c).await;
    let _w = workers_on(&app, &fake);
    invoice_when(&app, &c.s.owner, &id, "valid").await;
    let fid = entities::invoicing::tables::invoice::Entity::find_by_id(id.parse::<Uuid>().unwrap())
        .one(&c.s.db)
        .await
        .unwrap()
        .unwrap()
        .facturapi_id
        .unwrap();
    let r = app
        .session(&c.s.owner)
        .post(
            &format!("/pos/api/invoices/{id}/cancel"),
            json!({"motive": "02"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    app.run_jobs().await;
    let status = || async {
        app.session(&c.s.owner)
            .get(&format!("/pos/api/invoices/{id}"))
            .await
            .json["cancellation_status"]
            .clone()
    };
    // Over $1,000 to a company: the receiver has to answer.
    assert_eq!(status().await, "pending");
    let scheduler = schedules::Scheduler::new(
        app.app.platform.clone(),
        app.app.tenants.clone(),
        app.app.waker.clone(),
        jobs::maintenance::Retention::default(),
    );
    let tick = chrono::Utc::now();
    let fired = scheduler
        .fire(schedules::Schedule::CancellationPoll, tick)
        .await
        .unwrap();
    assert!(fired.claimed && fired.failed.is_empty(), "{fired:?}");
    app.run_jobs().await;
    assert_eq!(status().await, "pending", "no answer yet: nothing changes");

    // The receiver accepts; no webhook is configured, the next poll learns it.
    fake.resolve_cancellation(&fid, CancellationOutcome::Accepted);
    let next = schedules::Schedule::CancellationPoll
        .next_after(tick)
        .unwrap()
        .unwrap();
    scheduler
        .fire(schedules::Schedule::CancellationPoll, next)
        .await
        .unwrap();
    app.run_jobs().await;
    assert_eq!(status().await, "accepted");
    // The sale is free for a new invoice.
    let r = invoice(&app, &c).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
}
