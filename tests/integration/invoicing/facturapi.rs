//! The Facturapi client against the Facturapi fake, healthy and faulty: stamping, 202/pending
//! polled to valid, 429 with `Retry-After`, 500, a timeout or a dropped connection after the
//! stamp (outcome unknown: the same key replays the same invoice and the look-up by
//! `external_id` finds it, stamped once), a key in use, SAT rejections, a bad key, cancellation,
//! downloads, and webhook signatures.
//!
//! Client-only: no application, so plain `#[tokio::test]`s rather than both shapes.

use std::time::Duration;

use entities::rules::cfdi::{self, CancellationMotive, LineTax, TicketLine};
use sea_orm::prelude::Decimal;
use tests::fakes::facturapi::{self, CancellationOutcome, FacturapiFake, Mode};
use workers::clients::facturapi::{
    Address, CancellationStatus, Customer, FacturapiClient, FacturapiError, InvoiceRequest,
    InvoiceStatus, InvoiceType, Item, Product, Tax,
};

fn client(fake: &FacturapiFake) -> FacturapiClient {
    FacturapiClient::new(&fake.url, facturapi::SECRET_KEY, Duration::from_secs(5)).unwrap()
}

/// A ticket of three lines (16 %, 16 % with a discount, exempt) turned into a CFDI request the
/// way the invoicing job will: amounts from `entities::rules::cfdi`, prices without IVA at 6 decimals.
fn request(external_id: &str, key: &str) -> InvoiceRequest {
    let lines = [
        TicketLine {
            qty: 3,
            unit_price_cents: 11_600,
            discount_cents: 0,
            tax: LineTax::IVA16,
        },
        TicketLine {
            qty: 1,
            unit_price_cents: 85_000,
            discount_cents: 8_500,
            tax: LineTax::IVA16,
        },
        TicketLine {
            qty: 2,
            unit_price_cents: 5_000,
            discount_cents: 0,
            tax: LineTax::Exempt,
        },
    ];
    let amounts = cfdi::cfdi_amounts(&lines).unwrap();
    let items = amounts
        .concepts
        .iter()
        .zip(["Balata delantera", "Amortiguador", "Servicio exento"])
        .map(|(c, description)| Item {
            quantity: Decimal::from(c.quantity),
            discount: (c.discount.0 > 0).then(|| c.discount.to_decimal()),
            product: Product {
                description: description.into(),
                product_key: "25171700".into(),
                unit_key: "H87".into(),
                unit_name: Some("Pieza".into()),
                price: c.unit_value,
                tax_included: false,
                taxability: Some(cfdi::TAX_OBJECT_YES.into()),
                taxes: match c.tax.rate {
                    Some(r) => vec![Tax::iva(r)],
                    None => vec![Tax::iva_exempt()],
                },
                sku: None,
            },
        })
        .collect();
    InvoiceRequest {
        kind: InvoiceType::Income,
        customer: Customer {
            legal_name: "ESCUELA KEMPER URGATE".into(),
            tax_id: "EKU9003173C9".into(),
            tax_system: "601".into(),
            email: None,
            address: Address {
                zip: "86500".into(),
                country: None,
            },
        },
        items,
        payment_form: Some("04".into()),
        payment_method: Some("PUE".into()),
        cfdi_use: Some("G03".into()),
        currency: None,
        exchange: None,
        series: Some("F".into()),
        folio_number: None,
        related_documents: Vec::new(),
        global: None,
        complements: Vec::new(),
        external_id: external_id.into(),
        idempotency_key: key.into(),
    }
}

#[tokio::test]
async fn a_valid_request_is_stamped_once_with_its_uuid_and_can_be_downloaded() {
    let fake = FacturapiFake::start().await;
    let c = client(&fake);
    let inv = c
        .create_invoice(&request("sale-1", "inv-sale-1-g1"))
        .await
        .unwrap();
    assert_eq!(inv.status, InvoiceStatus::Valid);
    assert_eq!(inv.external_id.as_deref(), Some("sale-1"));
    assert_eq!(inv.idempotency_key.as_deref(), Some("inv-sale-1-g1"));
    assert!(!inv.livemode);
    let uuid = inv.uuid.clone().unwrap();
    assert!(inv.stamp.is_some());
    assert_eq!(fake.stamp_count("sale-1"), 1);
    // 348.00 + 765.00 + 100.00: the fake's breakdown of these lines matches the ticket.
    assert_eq!(inv.total, Some(Decimal::new(121_300, 2)));
    let xml = String::from_utf8(c.download_xml(&inv.id).await.unwrap()).unwrap();
    assert!(xml.contains(&uuid), "{xml}");
    assert!(c.download_pdf(&inv.id).await.unwrap().starts_with(b"%PDF"));
    assert_eq!(c.get_invoice(&inv.id).await.unwrap().uuid, Some(uuid));
}

#[tokio::test]
async fn a_202_pending_invoice_becomes_valid_when_polled() {
    let fake = FacturapiFake::start().await;
    fake.push_modes(Mode::PendingThenValid { polls: 2 }, 1);
    let c = client(&fake);
    let inv = c
        .create_invoice(&request("sale-2", "inv-sale-2-g1"))
        .await
        .unwrap();
    assert_eq!(inv.status, InvoiceStatus::Pending);
    assert_eq!(inv.uuid, None);
    assert_eq!(fake.requests()[0].status, 202);
    let first = c.get_invoice(&inv.id).await.unwrap();
    assert_eq!(first.status, InvoiceStatus::Pending);
    let second = c.get_invoice(&inv.id).await.unwrap();
    assert_eq!(second.status, InvoiceStatus::Valid);
    assert!(second.uuid.is_some());
    assert_eq!(fake.stamp_count("sale-2"), 1);
}

#[tokio::test]
async fn a_429_carries_retry_after_and_a_retry_after_waiting_it_succeeds() {
    let fake = FacturapiFake::start().await;
    fake.push_modes(
        Mode::RateLimited {
            retry_after_secs: 1,
        },
        1,
    );
    let c = client(&fake);
    let req = request("sale-3", "inv-sale-3-g1");
    let e = c.create_invoice(&req).await.unwrap_err();
    assert!(matches!(e, FacturapiError::RateLimited { .. }), "{e:?}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(1)));
    assert!(e.is_transient());
    assert!(!e.outcome_unknown());
    assert_eq!(
        e.to_job_error(),
        workers::runtime::JobError::Transient {
            reason: e.to_string(),
            retry_after: Some(Duration::from_secs(1)),
        }
    );
    tokio::time::sleep(e.retry_after().unwrap()).await;
    c.create_invoice(&req).await.unwrap();
    assert!(
        fake.early_retries().is_empty(),
        "{:?}",
        fake.early_retries()
    );
    assert_eq!(fake.stamp_count("sale-3"), 1);
}

#[tokio::test]
async fn the_fake_reports_a_retry_sent_before_retry_after() {
    let fake = FacturapiFake::start().await;
    fake.push_modes(
        Mode::RateLimited {
            retry_after_secs: 30,
        },
        1,
    );
    let c = client(&fake);
    let req = request("sale-4", "inv-sale-4-g1");
    assert!(c.create_invoice(&req).await.is_err());
    c.create_invoice(&req).await.unwrap();
    let early = fake.early_retries();
    assert_eq!(early.len(), 1);
    assert_eq!(early[0].identity, "key:inv-sale-4-g1");
}

#[tokio::test]
async fn a_500_is_transient_and_the_retry_with_the_same_key_stamps_once() {
    let fake = FacturapiFake::start().await;
    fake.push_modes(Mode::ServerError, 1);
    let c = client(&fake);
    let req = request("sale-5", "inv-sale-5-g1");
    let e = c.create_invoice(&req).await.unwrap_err();
    assert!(
        matches!(e, FacturapiError::Server { status: 500, .. }),
        "{e:?}"
    );
    assert!(e.is_transient());
    assert!(e.outcome_unknown(), "a 5xx may come after the PAC stamped");
    c.create_invoice(&req).await.unwrap();
    assert_eq!(fake.stamp_count("sale-5"), 1);
}

#[tokio::test]
async fn a_timeout_after_stamping_is_an_unknown_outcome_and_the_lookup_finds_the_one_invoice() {
    let fake = FacturapiFake::start().await;
    fake.set_hang(Duration::from_secs(3));
    fake.push_modes(Mode::TimeoutAfterStamp, 1);
    let c =
        FacturapiClient::new(&fake.url, facturapi::SECRET_KEY, Duration::from_millis(500)).unwrap();
    let e = c
        .create_invoice(&request("sale-6", "inv-sale-6-g1"))
        .await
        .unwrap_err();
    assert!(matches!(e, FacturapiError::Timeout), "{e:?}");
    assert!(e.outcome_unknown());
    assert!(e.is_transient());
    let found = c.find_by_external_id("sale-6").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].status, InvoiceStatus::Valid);
    assert!(
        c.find_by_external_id("sale-unknown")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(fake.stamp_count("sale-6"), 1);
}

#[tokio::test]
async fn retrying_with_the_same_key_and_body_after_a_timeout_returns_the_same_invoice() {
    let fake = FacturapiFake::start().await;
    fake.set_hang(Duration::from_secs(3));
    fake.push_modes(Mode::TimeoutAfterStamp, 1);
    let c =
        FacturapiClient::new(&fake.url, facturapi::SECRET_KEY, Duration::from_millis(500)).unwrap();
    let req = request("sale-7", "inv-sale-7-g1");
    assert!(c.create_invoice(&req).await.unwrap_err().outcome_unknown());
    let again = c.create_invoice(&req).await.unwrap();
    let found = c.find_by_external_id("sale-7").await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(again.id, found[0].id);
    assert_eq!(fake.stamp_count("sale-7"), 1);
}

#[tokio::test]
async fn a_connection_dropped_after_stamping_is_an_unknown_outcome_and_the_retry_replays() {
    let fake = FacturapiFake::start().await;
    fake.push_modes(Mode::DropAfterStamp, 1);
    let c = client(&fake);
    let req = request("sale-8", "inv-sale-8-g1");
    let e = c.create_invoice(&req).await.unwrap_err();
    assert!(e.outcome_unknown(), "{e:?}");
    assert!(matches!(e, FacturapiError::ConnectionLost(_)), "{e:?}");
    let again = c.create_invoice(&req).await.unwrap();
    assert_eq!(again.status, InvoiceStatus::Valid);
    assert_eq!(fake.stamp_count("sale-8"), 1);
}

#[tokio::test]
async fn a_concurrent_duplicate_finds_the_key_in_use_and_nothing_is_stamped_twice() {
    let fake = FacturapiFake::start().await;
    fake.set_stamp_delay(Duration::from_millis(400));
    let c = client(&fake);
    let req = request("sale-9", "inv-sale-9-g1");
    let (a, b) = tokio::join!(c.create_invoice(&req), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        c.create_invoice(&req).await
    });
    let a = a.unwrap();
    let e = b.unwrap_err();
    assert!(matches!(e, FacturapiError::KeyInUse { .. }), "{e:?}");
    assert!(e.is_transient());
    assert!(!e.outcome_unknown());
    // Later, the same key answers with the first request's invoice.
    assert_eq!(c.create_invoice(&req).await.unwrap().id, a.id);
    assert_eq!(fake.stamp_count("sale-9"), 1);
    // The forced mode answers the same way.
    fake.push_modes(Mode::KeyInUse, 1);
    let e = c
        .create_invoice(&request("sale-10", "inv-sale-10-g1"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("idempotency_key_in_use"));
    assert_eq!(fake.stamp_count("sale-10"), 0);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused() {
    let fake = FacturapiFake::start().await;
    let c = client(&fake);
    c.create_invoice(&request("sale-11", "inv-sale-11-g1"))
        .await
        .unwrap();
    let mut other = request("sale-11", "inv-sale-11-g1");
    other.series = Some("G".into());
    let e = c.create_invoice(&other).await.unwrap_err();
    assert_eq!(e.code(), Some("conflict"));
    assert!(!e.is_transient());
    assert_eq!(fake.stamp_count("sale-11"), 1);
}

#[tokio::test]
async fn a_sat_validation_error_is_permanent_with_a_readable_reason_and_stamps_nothing() {
    let fake = FacturapiFake::start().await;
    fake.push_modes(Mode::SatValidationError, 1);
    let c = client(&fake);
    let e = c
        .create_invoice(&request("sale-12", "inv-sale-12-g1"))
        .await
        .unwrap_err();
    assert!(!e.is_transient());
    assert!(!e.outcome_unknown());
    assert_eq!(e.code(), Some("invoice_stamping_validation_error"));
    let reason = e.to_string();
    assert!(
        reason.starts_with("SAT or the PAC rejected the invoice"),
        "{reason}"
    );
    assert!(reason.contains("CFDI40145"), "{reason}");
    assert_eq!(fake.stamp_count("sale-12"), 0);
    // A known failure: the next attempt takes a new key and stamps.
    c.create_invoice(&request("sale-12", "inv-sale-12-g2"))
        .await
        .unwrap();
    assert_eq!(fake.stamp_count("sale-12"), 1);
}

#[tokio::test]
async fn a_body_facturapi_refuses_is_permanent_and_names_the_field() {
    let fake = FacturapiFake::start().await;
    let c = client(&fake);
    let mut req = request("sale-13", "inv-sale-13-g1");
    req.items[1].product.product_key = "123".into();
    let e = c.create_invoice(&req).await.unwrap_err();
    let FacturapiError::Rejected(r) = &e else {
        panic!("{e:?}");
    };
    assert_eq!(r.status, 400);
    assert_eq!(r.code, "invalid_request");
    assert_eq!(r.path.as_deref(), Some("items[1].product.product_key"));
    assert!(!e.is_transient());
    let mut req = request("sale-13", "inv-sale-13-g2");
    req.cfdi_use = Some("D01".into());
    let e = c.create_invoice(&req).await.unwrap_err();
    let FacturapiError::Rejected(r) = &e else {
        panic!("{e:?}");
    };
    assert_eq!(r.path.as_deref(), Some("use"));
    assert_eq!(fake.stamp_count("sale-13"), 0);
}

#[tokio::test]
async fn a_bad_key_is_401_and_permanent_and_no_key_shows_in_debug_output() {
    let fake = FacturapiFake::start().await;
    let bad = FacturapiClient::new(
        &fake.url,
        "sk_test_not_the_right_one",
        Duration::from_secs(5),
    )
    .unwrap();
    let e = bad
        .create_invoice(&request("sale-14", "inv-sale-14-g1"))
        .await
        .unwrap_err();
    assert!(matches!(e, FacturapiError::Unauthorized { .. }), "{e:?}");
    assert_eq!(e.code(), Some("api_key_invalid"));
    assert!(!e.is_transient());
    assert!(!format!("{e:?} {e}").contains("sk_test_not_the_right_one"));
    let good = client(&fake);
    let printed = format!("{good:?}");
    assert!(!printed.contains(facturapi::SECRET_KEY), "{printed}");
    assert!(!printed.contains(&facturapi::SECRET_KEY[8..]), "{printed}");
    assert_eq!(fake.stamp_count("sale-14"), 0);
}

#[tokio::test]
async fn a_small_invoice_cancels_at_once_and_a_large_one_waits_for_the_receiver() {
    let fake = FacturapiFake::start().await;
    let c = client(&fake);
    // 1,213.00: above $1,000, so the receiver must accept.
    let large = c
        .create_invoice(&request("sale-15", "inv-sale-15-g1"))
        .await
        .unwrap();
    let mut small_req = request("sale-16", "inv-sale-16-g1");
    small_req.items.truncate(1);
    let small = c.create_invoice(&small_req).await.unwrap();

    let s = c
        .cancel_invoice(&small.id, CancellationMotive::ErrorsWithoutRelation, None)
        .await
        .unwrap();
    assert_eq!(s.status, InvoiceStatus::Canceled);
    assert_eq!(s.cancellation_status, Some(CancellationStatus::Accepted));

    let l = c
        .cancel_invoice(&large.id, CancellationMotive::NotCarriedOut, None)
        .await
        .unwrap();
    assert_eq!(l.status, InvoiceStatus::Valid);
    assert_eq!(l.cancellation_status, Some(CancellationStatus::Pending));
    let again = c
        .cancel_invoice(&large.id, CancellationMotive::NotCarriedOut, None)
        .await
        .unwrap_err();
    assert_eq!(again.code(), Some("invoice_cancellation_in_progress"));
    fake.resolve_cancellation(&large.id, CancellationOutcome::Accepted);
    let l = c.get_invoice(&large.id).await.unwrap();
    assert_eq!(l.status, InvoiceStatus::Canceled);

    // Cancelling what is not valid any more is refused.
    let e = c
        .cancel_invoice(&small.id, CancellationMotive::ErrorsWithoutRelation, None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("invoice_not_cancelable"));
    assert!(!e.is_transient());
}

#[tokio::test]
async fn motive_01_needs_a_substitute_and_an_unknown_invoice_is_not_found() {
    let fake = FacturapiFake::start().await;
    let c = client(&fake);
    let old = c
        .create_invoice(&request("sale-17", "inv-sale-17-g1"))
        .await
        .unwrap();
    let e = c
        .cancel_invoice(&old.id, CancellationMotive::ErrorsWithRelation, None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("substitution_invoice_required"));
    // Refused before any call.
    assert!(fake.requests().iter().all(|r| r.method != "DELETE"));
    let new = c
        .create_invoice(&request("sale-17", "inv-sale-17-g2"))
        .await
        .unwrap();
    let uuid = new.uuid.clone().unwrap();
    let l = c
        .cancel_invoice(&old.id, CancellationMotive::ErrorsWithRelation, Some(&uuid))
        .await
        .unwrap();
    assert_eq!(l.cancellation_status, Some(CancellationStatus::Pending));
    let e = c.get_invoice("0000000000000000deadbeef").await.unwrap_err();
    assert!(e.is_not_found(), "{e:?}");
    assert!(!e.is_transient());
}

#[tokio::test]
async fn a_signed_webhook_verifies_and_a_forged_or_altered_one_does_not() {
    let fake = FacturapiFake::start().await;
    let c = client(&fake);
    let inv = c
        .create_invoice(&request("sale-18", "inv-sale-18-g1"))
        .await
        .unwrap();
    let (body, sig) = fake
        .webhook_for("evt_1", "invoice.status_updated", &inv.id)
        .unwrap();
    assert!(cfdi::verify_facturapi_signature(
        facturapi::WEBHOOK_SECRET,
        &body,
        &sig
    ));
    let forged = facturapi::sign_webhook("whsec_attacker", &body);
    assert!(!cfdi::verify_facturapi_signature(
        facturapi::WEBHOOK_SECRET,
        &body,
        &forged
    ));
    let mut altered = body.clone();
    let at = altered.len() - 3;
    altered[at] ^= 0x01;
    assert!(!cfdi::verify_facturapi_signature(
        facturapi::WEBHOOK_SECRET,
        &altered,
        &sig
    ));
    assert!(!cfdi::verify_facturapi_signature(
        facturapi::WEBHOOK_SECRET,
        &body,
        "not-hex"
    ));
    let event: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(event["type"], "invoice.status_updated");
    assert_eq!(event["data"]["type"], "invoice");
    assert_eq!(event["data"]["object"]["id"], inv.id.as_str());
}

/// A provider that answers an endless body (with or without announcing its length) gets a
/// malformed-answer error once the cap is passed, never the whole body in memory: Facturapi's
/// JSON and downloads, and vPIC's decode.
#[tokio::test]
async fn an_oversized_provider_answer_is_refused_past_its_cap_without_reading_it_whole() {
    use axum::body::Body;
    use axum::routing::get;
    // 64 MiB streamed in 64 KiB chunks, no Content-Length; and a Content-Length that lies big.
    let endless = || async {
        let chunks = futures_util::stream::iter(
            (0..1024).map(|_| Ok::<_, std::io::Error>(vec![b' '; 64 * 1024])),
        );
        Body::from_stream(chunks)
    };
    let router = axum::Router::new()
        .route("/invoices/{id}", get(endless))
        .route("/invoices/{id}/pdf", get(endless))
        .route(
            "/DecodeVinValues/{vin}",
            get(|| async {
                (
                    [("content-length", "99999999999")],
                    Body::from_stream(futures_util::stream::iter(
                        (0..16).map(|_| Ok::<_, std::io::Error>(vec![b' '; 64 * 1024])),
                    )),
                )
            }),
        );
    let (url, _stop) = tests::fakes::serve_on_loopback(router, "endless provider").await;
    let c = FacturapiClient::new(&url, facturapi::SECRET_KEY, Duration::from_secs(20)).unwrap();
    match c.get_invoice("abc").await {
        Err(FacturapiError::Malformed(why)) => assert!(why.contains("larger than"), "{why}"),
        other => panic!("expected a refused oversized answer, got {other:?}"),
    }
    match c.download_pdf("abc").await {
        Err(FacturapiError::Malformed(why)) => assert!(why.contains("larger than"), "{why}"),
        other => panic!(
            "expected a refused oversized download, got {:?}",
            other.map(|b| b.len())
        ),
    }
    let v = workers::clients::vpic::VpicClient::new(&url, Duration::from_secs(20)).unwrap();
    match v.decode("3N1CN7AP5FL123456", None).await {
        Err(workers::clients::vpic::VpicError::Malformed(why)) => {
            assert!(why.contains("larger than"), "{why}");
        }
        other => panic!("expected a refused oversized vPIC answer, got {other:?}"),
    }
}
