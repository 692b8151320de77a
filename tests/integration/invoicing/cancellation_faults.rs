//! Cancelling a CFDI through faults: a cancellation Facturapi carried out but whose answer was
//! lost is recorded as what Facturapi did (accepted), never as the retry's refusal, and is
//! carried out once.

use std::time::Duration;

use entities::{invoicing::tables::invoice, jobs::tables::job_run};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde_json::json;
use tests::cfdi::{FiscalShop, fiscal_shop, invoice_when, pools_on};
use tests::fakes::facturapi::{FacturapiFake, Mode};
use tests::run::wait_until;
use tests::{TestApp, shape_tests};
use uuid::Uuid;

shape_tests!(
    a_cancellation_whose_answer_was_lost_is_retried_and_recorded_accepted_and_carried_out_once,
);

async fn invoice_row(db: &DatabaseConnection, id: Uuid) -> invoice::Model {
    invoice::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap()
}

/// A fiscal shop on the fake with a stamped invoice of a $450 sale to a company (at most
/// $1,000: SAT cancels it without the receiver's acceptance), and the workers running. Returns
/// the shop, the invoice's id, the fake and the workers' stop handle.
async fn stamped_small_invoice(
    app: &TestApp,
    slug: &str,
) -> (
    FiscalShop,
    Uuid,
    FacturapiFake,
    tokio::sync::watch::Sender<bool>,
) {
    let f = fiscal_shop(app, slug).await;
    let r = app
        .session(&f.s.owner)
        .post(
            "/pos/api/sales",
            json!({"branch_id": f.s.branch, "customer_id": f.customer,
                   "lines": [{"item_id": f.a, "warehouse_id": f.s.wh, "qty": 1}],
                   "payments": [{"method": "card", "amount": "450"}]}),
        )
        .await;
    assert_eq!(r.status, http::StatusCode::CREATED, "{}", r.text());
    let id = f.invoice(app, r.json["id"].as_str().unwrap()).await;
    let fake = FacturapiFake::start().await;
    let w = pools_on(app, &fake);
    invoice_when(app, &f.s.owner, &id, "valid").await;
    // The stamping job is over once its run is done: from here on, only the cancellation talks
    // to the fake, so the faults queued below hit its calls.
    wait_until("the stamping run", Duration::from_secs(60), || async {
        job_run::Entity::find()
            .filter(job_run::Column::JobName.eq("cfdi.stamp"))
            .filter(job_run::Column::Status.eq("done"))
            .one(&f.s.db)
            .await
            .unwrap()
            .is_some()
    })
    .await;
    (f, id.parse().unwrap(), fake, w)
}

async fn a_cancellation_whose_answer_was_lost_is_retried_and_recorded_accepted_and_carried_out_once(
    app: TestApp,
) {
    let (f, id, fake, _w) = stamped_small_invoice(&app, "cancfault1").await;
    let fid = invoice_row(&f.s.db, id).await.facturapi_id.unwrap();
    // Facturapi cancels, the answer is lost on the way back, and the job's look at the invoice
    // right after fails too (the network still down): only a later run can learn the outcome.
    fake.push_modes(Mode::CancelThenDrop, 1);
    fake.push_modes(Mode::ServerError, 1);
    let r = app
        .session(&f.s.owner)
        .post(
            &format!("/pos/api/invoices/{id}/cancel"),
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
        let st = invoice_row(&f.s.db, id)
            .await
            .cancellation_status
            .to_string();
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
        .all(&f.s.db)
        .await
        .unwrap();
    assert!(
        runs.iter().any(|r| r.status == "done") && !runs.iter().any(|r| r.status == "dead"),
        "{runs:?}"
    );
    assert_eq!(invoice_row(&f.s.db, id).await.active_key, None);
}
