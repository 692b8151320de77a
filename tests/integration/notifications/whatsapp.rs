//! WhatsApp through the Cloud API fake: free text inside the customer's 24-hour window, the
//! approved template outside it (also after a 131047), statuses from signed webhooks (forged and
//! replayed ones change nothing), the verification handshake, 429 and 5xx retried, a bad token
//! failed, and the line's secrets write-only.

use chrono::Utc;
use entities::Role;
use entities::notifications::messages;
use http::{Method, StatusCode};
use serde_json::json;
use tests::fakes::whatsapp::{self as wa, WhatsAppFake};
use tests::shop::Shop;
use tests::{TestApp, shape_tests};
use uuid::Uuid;

use super::{all, customer, order_event, runtime_with};

shape_tests!(
    free_text_goes_inside_the_window_and_the_approved_template_outside_it,
    signed_status_webhooks_move_a_message_forward_and_forged_or_replayed_ones_do_not,
    throttling_and_server_errors_are_retried_and_a_bad_token_fails,
    the_line_keeps_its_secrets_write_only_and_refuses_bad_settings,
);

const APP_SECRET: &str = "meta-app-secret-123";
const VERIFY: &str = "verify-token-456";

async fn line(app: &TestApp, s: &Shop, token: &str) {
    let r = app
        .session(&s.owner)
        .put(
            "/pos/api/whatsapp/settings",
            json!({"transport": "cloud", "phone_number_id": wa::PHONE_NUMBER_ID,
                   "access_token": token, "app_secret": APP_SECRET, "verify_token": VERIFY}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

async fn webhook(
    app: &TestApp,
    s: &Shop,
    body: &str,
    signature: Option<&str>,
) -> tests::TestResponse {
    let mut req = http::Request::builder()
        .method(Method::POST)
        .uri(format!("/webhooks/whatsapp?tenant={}", s.t.tenant.id))
        .header("content-type", "application/json");
    if let Some(sig) = signature {
        req = req.header("x-hub-signature-256", sig);
    }
    app.send(req.body(axum::body::Body::from(body.to_owned())).unwrap())
        .await
}

async fn free_text_goes_inside_the_window_and_the_approved_template_outside_it(app: TestApp) {
    let fake = WhatsAppFake::start().await;
    fake.approve("nexus_service_order_ready", 3);
    fake.approve("nexus_service_order_delivered", 2);
    let _jobs = app.drive_jobs(runtime_with(&app, None, Some(&fake)));
    let s = Shop::open(&app, "whatsapp").await;
    line(&app, &s, wa::TOKEN).await;
    let c = customer(&app, &s, "Taller Hernández", None, Some("5512345678")).await;
    // Nobody wrote: the approved template, with its parameters rendered.
    order_event(&s, "service_order_ready", c).await;
    app.run_jobs().await;
    let sent = fake.sent();
    assert_eq!(sent.len(), 1, "{:?}", all(&s).await);
    assert_eq!(sent[0].kind, "template");
    assert_eq!(sent[0].body, "nexus_service_order_ready");
    assert_eq!(
        sent[0].params,
        ["Taller Hernández", "Nissan Versa 2019", "OS-000031"]
    );
    assert_eq!(sent[0].to, "525512345678");
    let n = all(&s).await;
    assert_eq!(n[0].status, messages::Status::Sent);
    assert_eq!(n[0].provider_id.as_deref(), Some(sent[0].id.as_str()));
    // The customer writes (as 521…, the old mobile form): their window opens, free text goes.
    let body = wa::inbound_body("5215512345678", "Juan", "wamid.IN1", "¿Ya está mi carro?");
    let r = webhook(
        &app,
        &s,
        &body,
        Some(&wa::sign(APP_SECRET, body.as_bytes())),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["applied"], 1);
    fake.wrote("5215512345678", Utc::now());
    order_event(&s, "service_order_delivered", c).await;
    app.run_jobs().await;
    let sent = fake.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].kind, "text");
    assert!(
        sent[1].body.contains("entregamos tu Nissan Versa 2019"),
        "{}",
        sent[1].body
    );
    // Meta's window closed though ours says open: 131047, and the template goes instead.
    fake.close_window("525512345678");
    order_event(&s, "service_order_delivered", c).await;
    app.run_jobs().await;
    let sent = fake.sent();
    assert_eq!(sent.len(), 3, "one taken, the refused text not counted");
    assert_eq!(sent[2].kind, "template");
    assert_eq!(sent[2].body, "nexus_service_order_delivered");
    assert!(
        all(&s)
            .await
            .iter()
            .all(|m| m.status == messages::Status::Sent)
    );
    // A template Meta never approved fails with its words, and is not retried.
    order_event(&s, "service_order_awaiting_approval", c).await;
    fake.close_window("525512345678");
    app.run_jobs().await;
    let last = all(&s).await.pop().unwrap();
    assert_eq!(last.status, messages::Status::Failed);
    assert!(
        last.reason.as_deref().unwrap().contains("132001"),
        "{last:?}"
    );
}

async fn signed_status_webhooks_move_a_message_forward_and_forged_or_replayed_ones_do_not(
    app: TestApp,
) {
    let fake = WhatsAppFake::start().await;
    fake.approve("nexus_service_order_ready", 3);
    let _jobs = app.drive_jobs(runtime_with(&app, None, Some(&fake)));
    let s = Shop::open(&app, "estados").await;
    line(&app, &s, wa::TOKEN).await;
    let c = customer(&app, &s, "Cliente", None, Some("5512345678")).await;
    order_event(&s, "service_order_ready", c).await;
    app.run_jobs().await;
    let wamid = fake.sent()[0].id.clone();
    let delivered = wa::status_body(&wamid, "delivered", "525512345678", "utility");
    // Forged (another secret), unsigned, or for another tenant: 401, nothing changes.
    for sig in [Some(wa::sign("not-the-secret", delivered.as_bytes())), None] {
        let r = webhook(&app, &s, &delivered, sig.as_deref()).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    }
    let tampered = delivered.replace("delivered", "read");
    let r = webhook(
        &app,
        &s,
        &tampered,
        Some(&wa::sign(APP_SECRET, delivered.as_bytes())),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(all(&s).await[0].status, messages::Status::Sent);
    // Signed: delivered, with the pricing category.
    let sig = wa::sign(APP_SECRET, delivered.as_bytes());
    let r = webhook(&app, &s, &delivered, Some(&sig)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["applied"], 1);
    let n = &all(&s).await[0];
    assert_eq!(n.status, messages::Status::Delivered);
    assert_eq!(n.cost_category.as_deref(), Some("utility"));
    assert!(n.delivered_at.is_some());
    // A replay is dropped.
    let r = webhook(&app, &s, &delivered, Some(&sig)).await;
    assert_eq!(
        (r.json["applied"].as_u64(), r.json["ignored"].as_u64()),
        (Some(0), Some(1))
    );
    // Read, then a late "sent" that must not move it back.
    let read = wa::status_body(&wamid, "read", "525512345678", "utility");
    webhook(
        &app,
        &s,
        &read,
        Some(&wa::sign(APP_SECRET, read.as_bytes())),
    )
    .await;
    let late = wa::status_body(&wamid, "sent", "525512345678", "utility");
    webhook(
        &app,
        &s,
        &late,
        Some(&wa::sign(APP_SECRET, late.as_bytes())),
    )
    .await;
    let n = &all(&s).await[0];
    assert_eq!(n.status, messages::Status::Read);
    assert!(n.read_at.is_some());
    // Not JSON, though signed: 400.
    let r = webhook(&app, &s, "{nope", Some(&wa::sign(APP_SECRET, b"{nope"))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // The verification handshake.
    let base = format!(
        "/webhooks/whatsapp?tenant={}&hub.mode=subscribe",
        s.t.tenant.id
    );
    let r = app
        .get(
            &format!("{base}&hub.verify_token={VERIFY}&hub.challenge=1158201444"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.text(), "1158201444");
    let r = app
        .get(
            &format!("{base}&hub.verify_token=wrong&hub.challenge=1"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .get(&format!("/webhooks/whatsapp?tenant={}&hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=1", Uuid::now_v7()), None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn throttling_and_server_errors_are_retried_and_a_bad_token_fails(app: TestApp) {
    let fake = WhatsAppFake::start().await;
    fake.approve("nexus_service_order_ready", 3);
    let _jobs = app.drive_jobs(runtime_with(&app, None, Some(&fake)));
    let s = Shop::open(&app, "limites").await;
    line(&app, &s, wa::TOKEN).await;
    let c = customer(&app, &s, "Cliente", None, Some("5512345678")).await;
    fake.fail_next(&[429, 500]);
    order_event(&s, "service_order_ready", c).await;
    app.run_jobs().await;
    let n = &all(&s).await[0];
    assert_eq!(n.status, messages::Status::Queued, "{n:?}");
    assert!(n.reason.as_deref().unwrap().contains("130429"), "{n:?}");
    app.wait_until(
        "sent after a 429 and a 500",
        std::time::Duration::from_secs(90),
        || async { all(&s).await[0].status == messages::Status::Sent },
    )
    .await;
    assert_eq!(fake.sent().len(), 1, "sent once");
    assert_eq!(fake.calls(), 3);
    // A token Meta refuses: failed with its code, not retried.
    line(&app, &s, "EAAG-a-revoked-token").await;
    order_event(&s, "service_order_ready", c).await;
    app.run_jobs().await;
    let n = all(&s).await.pop().unwrap();
    assert_eq!(n.status, messages::Status::Failed, "{n:?}");
    assert!(n.reason.as_deref().unwrap().contains("190"), "{n:?}");
    assert_eq!(fake.calls(), 4);
}

async fn the_line_keeps_its_secrets_write_only_and_refuses_bad_settings(app: TestApp) {
    let s = Shop::open(&app, "linea").await;
    let owner = app.session(&s.owner);
    let r = owner.get("/pos/api/whatsapp/settings").await;
    assert_eq!(r.json["transport"], "none");
    line(&app, &s, wa::TOKEN).await;
    let r = owner.get("/pos/api/whatsapp/settings").await;
    assert_eq!(r.json["access_token_set"], true);
    assert!(!r.text().contains(wa::TOKEN) && !r.text().contains(APP_SECRET));
    for bad in [
        json!({"transport": "sms"}),
        json!({"transport": "cloud", "phone_number_id": "abc"}),
        json!({"transport": "cloud", "phone_number_id": "123", "access_token": "short"}),
        json!({"transport": "cloud", "phone_number_id": "123", "access_token": null}),
    ] {
        let r = owner.put("/pos/api/whatsapp/settings", bad.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            r.text()
        );
    }
    // Keeping the token (absent) while changing the number works; nothing else moved.
    let r = owner
        .put(
            "/pos/api/whatsapp/settings",
            json!({"transport": "cloud", "phone_number_id": "999"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["access_token_set"], true);
    let manager = s.token(&app, Role::Manager).await;
    let r = app
        .session(&manager)
        .put("/pos/api/whatsapp/settings", json!({"transport": "bridge"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Without a WhatsApp line in this process the message parks with the reason.
    let _jobs = app.drive_jobs(super::runtime(&app, None));
    let c = customer(&app, &s, "Cliente", None, Some("5512345678")).await;
    order_event(&s, "service_order_ready", c).await;
    app.run_jobs().await;
    let n = all(&s).await.pop().unwrap();
    assert_eq!(n.status, messages::Status::Parked);
    assert!(
        n.reason
            .unwrap()
            .contains("WhatsApp channel is not configured")
    );
}
