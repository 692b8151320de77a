//! Cancelling a CFDI through faults: a cancellation Facturapi carried out but whose answer was
//! lost is recorded as what Facturapi did (accepted), never as the retry's refusal, and is
//! carried out once.

use std::sync::Arc;
use std::time::Duration;

use entities::tenant::{customer, invoice, job_run};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde_json::json;
use tests::fakes::facturapi::{self, FacturapiFake, Mode};
use tests::run::{start_workers, wait_until};
use tests::shop::Shop;
use tests::{TestApp, shape_tests};
use uuid::Uuid;
use workers::cfdi::FacturapiConfig;
use workers::runtime::Runtime;
use workers::services::Services;

shape_tests!(
    a_cancellation_whose_answer_was_lost_is_retried_and_recorded_accepted_and_carried_out_once,
);

fn workers_on(app: &TestApp, fake: &FacturapiFake) -> tokio::sync::watch::Sender<bool> {
    let rt = Arc::new(Runtime::new(
        app.app.platform.clone(),
        app.app.tenants.clone(),
        workers::handlers::all(Services {
            facturapi: Some(FacturapiConfig {
                base_url: fake.url.clone(),
                timeout: Duration::from_secs(5),
                // Short backoff: the retry after the lost answer must not make the test wait.
                retry: workers::runtime::RetryPolicy {
                    max_attempts: 30,
                    base: Duration::from_millis(50),
                    max: Duration::from_millis(500),
                },
            }),
            ..Services::default()
        }),
    ));
    start_workers(app, rt)
}

async fn invoice_row(db: &DatabaseConnection, id: Uuid) -> invoice::Model {
    invoice::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap()
}

/// A shop on the fake with fiscal settings and a stamped invoice of a $450 sale to a company
/// (at most $1,000: SAT cancels it without the receiver's acceptance). Returns the shop, the
/// invoice's id and the fake, with the workers running.
async fn stamped_small_invoice(
    app: &TestApp,
    slug: &str,
) -> (Shop, Uuid, FacturapiFake, tokio::sync::watch::Sender<bool>) {
    let s = Shop::open(app, slug).await;
    let r = app
        .send(TestApp::request(
            http::Method::PUT,
            "/pos/api/settings/fiscal",
            Some(&s.owner),
            Some(&json!({"issuer_rfc": "EKU9003173C9", "legal_name": "Escuela Kemper Urgate", "tax_regime": "601", "facturapi_key": facturapi::SECRET_KEY})),
            None,
        ))
        .await;
    assert_eq!(r.status, http::StatusCode::OK, "{}", r.text());
    let r = app
        .patch(
            &format!("/pos/api/branches/{}", s.branch),
            Some(&s.owner),
            json!({"postal_code": facturapi::EXPEDITION_ZIP}),
        )
        .await;
    assert_eq!(r.status, http::StatusCode::OK, "{}", r.text());
    let now = entities::now();
    let customer = Uuid::now_v7();
    customer::ActiveModel {
        id: Set(customer),
        name: Set("ESCUELA KEMPER URGATE".into()),
        rfc: Set(Some("EKU9003173C9".into())),
        tax_regime: Set(Some("601".into())),
        zip: Set(Some("64000".into())),
        email: Set(None),
        whatsapp_phone: Set(None),
        price_list: Set("mostrador".into()),
        credit_limit_cents: Set(0),
        notes: Set(None),
        is_active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&s.db)
    .await
    .unwrap();
    let item = s.item("BAL-1", 45_000, None, 0).await;
    s.stock(item, s.wh, 10).await;
    let r = app
        .post(
            "/pos/api/sales",
            Some(&s.owner),
            json!({"branch_id": s.branch, "customer_id": customer,
                   "lines": [{"item_id": item, "warehouse_id": s.wh, "qty": 1}],
                   "payments": [{"method": "card", "amount": "450"}]}),
        )
        .await;
    assert_eq!(r.status, http::StatusCode::CREATED, "{}", r.text());
    let sale = r.json["id"].as_str().unwrap().to_owned();
    let r = app
        .post(
            &format!("/pos/api/sales/{sale}/invoice"),
            Some(&s.owner),
            json!({}),
        )
        .await;
    assert_eq!(r.status, http::StatusCode::ACCEPTED, "{}", r.text());
    let id: Uuid = r.json["id"].as_str().unwrap().parse().unwrap();
    let fake = FacturapiFake::start().await;
    let w = workers_on(app, &fake);
    wait_until(
        "the invoice to be stamped",
        Duration::from_secs(60),
        || async { invoice_row(&s.db, id).await.status == "valid" },
    )
    .await;
    // The stamping job is over once its run is done: from here on, only the cancellation talks
    // to the fake, so the faults queued below hit its calls.
    wait_until("the stamping run", Duration::from_secs(60), || async {
        job_run::Entity::find()
            .filter(job_run::Column::JobName.eq("cfdi.stamp"))
            .filter(job_run::Column::Status.eq("done"))
            .one(&s.db)
            .await
            .unwrap()
            .is_some()
    })
    .await;
    (s, id, fake, w)
}

async fn a_cancellation_whose_answer_was_lost_is_retried_and_recorded_accepted_and_carried_out_once(
    app: TestApp,
) {
    let (s, id, fake, _w) = stamped_small_invoice(&app, "cancfault1").await;
    let fid = invoice_row(&s.db, id).await.facturapi_id.unwrap();
    // Facturapi cancels, the answer is lost on the way back, and the job's look at the invoice
    // right after fails too (the network still down): only a later run can learn the outcome.
    fake.push_modes(Mode::CancelThenDrop, 1);
    fake.push_modes(Mode::ServerError, 1);
    let r = app
        .post(
            &format!("/pos/api/invoices/{id}/cancel"),
            Some(&s.owner),
            json!({"motive": "02"}),
        )
        .await;
    assert_eq!(r.status, http::StatusCode::ACCEPTED, "{}", r.text());
    // Every status the invoice goes through, polled until it settles.
    let mut seen: Vec<String> = Vec::new();
    let start = std::time::Instant::now();
    while seen.last().map(String::as_str) != Some("accepted") {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the cancellation never settled: {seen:?}"
        );
        let st = invoice_row(&s.db, id).await.cancellation_status;
        if seen.last() != Some(&st) {
            seen.push(st);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !seen.iter().any(|s| s == "rejected"),
        "never recorded as rejected: {seen:?}"
    );

    // What the fake saw: the lost cancellation, the failed look, the retry refused because the
    // invoice is already cancelled, and the look that settled it.
    let calls: Vec<(String, u16)> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path == format!("/v2/invoices/{fid}"))
        .map(|r| (r.method, r.status))
        .collect();
    let deletes: Vec<u16> = calls
        .iter()
        .filter(|(m, _)| m == "DELETE")
        .map(|(_, s)| *s)
        .collect();
    assert_eq!(
        deletes,
        vec![0, 400],
        "a lost answer, then the refusal: {calls:?}"
    );
    assert_eq!(calls.first(), Some(&("DELETE".to_owned(), 0)), "{calls:?}");
    assert_eq!(calls.get(1), Some(&("GET".to_owned(), 500)), "{calls:?}");
    assert_eq!(
        calls.last(),
        Some(&("GET".to_owned(), 200)),
        "the state at Facturapi decided: {calls:?}"
    );
    assert_eq!(fake.cancellation_count(&fid), 1, "cancelled exactly once");
    let theirs = fake.invoice(&fid).unwrap();
    assert_eq!(theirs["status"], "canceled");
    assert_eq!(theirs["cancellation"]["motive"], "02");

    // The job ended well on a later run; the invoice no longer holds its sale.
    let runs = job_run::Entity::find()
        .filter(job_run::Column::JobName.eq("cfdi.cancel"))
        .all(&s.db)
        .await
        .unwrap();
    assert!(
        runs.iter().any(|r| r.status == "done") && !runs.iter().any(|r| r.status == "dead"),
        "{runs:?}"
    );
    assert_eq!(invoice_row(&s.db, id).await.active_key, None);
}
