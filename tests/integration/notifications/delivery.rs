//! Delivery: events routed by rule and consent, e-mail through a real SMTP server on loopback
//! (UTF-8 subject, multipart text and HTML, attachments), retries on a relay's 4xx, failure on
//! its 5xx, parked until configured, never sent twice after a crash mid-send, the log.

use entities::Role;
use entities::notifications::messages::{self, NewNotification};
use entities::notifications::tables::notification;
use http::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use tests::fakes::smtp::{Mode, SmtpServer};
use tests::shop::Shop;
use tests::{TestApp, shape_tests};
use uuid::Uuid;

use super::{all, customer, enqueue_send, order_event, order_ready, record, runtime};

shape_tests!(
    a_customer_event_is_sent_by_email_through_a_real_smtp_server,
    a_customer_is_told_on_the_first_channel_they_consented_to_and_opt_outs_are_kept,
    a_quote_sent_by_email_carries_its_link_and_a_purchase_order_its_pdf,
    a_relay_that_says_try_later_is_retried_and_one_that_refuses_fails_with_its_reason,
    a_message_interrupted_mid_send_is_not_sent_again,
    parked_messages_go_out_once_the_channel_is_configured,
    rules_decide_who_is_told_and_bad_rules_change_nothing,
    the_log_filters_for_managers_and_refuses_bad_filters,
);

/// Decodes RFC 2047 `=?utf-8?b?…?=` words (what lettre writes for a non-ASCII header): the
/// space between two encoded words is not part of the text; any other space is.
fn decoded(h: &str) -> String {
    use base64::Engine;
    let mut out = String::new();
    let mut last_encoded = false;
    for w in h.split_whitespace() {
        let lower = w.to_ascii_lowercase();
        let encoded = lower.starts_with("=?utf-8?b?") && w.ends_with("?=");
        let joined = encoded && last_encoded;
        if !out.is_empty() && !joined {
            out.push(' ');
        }
        if encoded {
            let b = &w[10..w.len() - 2];
            let bytes = base64::engine::general_purpose::STANDARD.decode(b).unwrap();
            out.push_str(&String::from_utf8(bytes).unwrap());
        } else {
            out.push_str(w);
        }
        last_encoded = encoded;
    }
    out
}

async fn a_customer_event_is_sent_by_email_through_a_real_smtp_server(app: TestApp) {
    let smtp = SmtpServer::start();
    let _jobs = app.drive_jobs(runtime(&app, Some(&smtp)));
    let s = Shop::open(&app, "correo").await;
    let c = customer(
        &app,
        &s,
        "Taller Hernández",
        Some("taller@example.mx"),
        None,
    )
    .await;
    order_event(&s, "service_order_ready", c).await;
    app.run_jobs().await;
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert_eq!(m.to, ["taller@example.mx"]);
    assert_eq!(
        decoded(&m.header("Subject").unwrap()),
        "Tu Nissan Versa 2019 está listo"
    );
    // The business's name on From; our Message-ID; multipart text and HTML.
    let from = m.header("From").unwrap();
    assert!(from.contains("avisos@nexus.test"), "{from}");
    assert!(
        decoded(&from).contains("correo"),
        "the tenant's name: {from}"
    );
    let ct = m.header("Content-Type").unwrap();
    assert!(ct.starts_with("multipart/alternative"), "{ct}");
    let text = m.text();
    assert!(
        text.contains("text/plain") && text.contains("text/html"),
        "{text}"
    );
    let n = all(&s).await;
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].status, messages::Status::Sent);
    assert_eq!(n[0].channel, "email");
    assert!(n[0].sent_at.is_some());
    assert_eq!(
        m.header("Message-ID").unwrap(),
        n[0].provider_id.clone().unwrap()
    );
    assert!(n[0].subject.as_deref().unwrap().contains("está listo"));
    // A second dispatch of the same events writes nothing new and sends nothing.
    app.run_jobs().await;
    assert_eq!(smtp.mails().len(), 1);
}

async fn a_customer_is_told_on_the_first_channel_they_consented_to_and_opt_outs_are_kept(
    app: TestApp,
) {
    let smtp = SmtpServer::start();
    let _jobs = app.drive_jobs(runtime(&app, Some(&smtp)));
    let s = Shop::open(&app, "consentimiento").await;
    let c = customer(
        &app,
        &s,
        "Flotilla Sur",
        Some("sur@example.mx"),
        Some("5512345678"),
    )
    .await;
    let owner = app.session(&s.owner);
    // Default: WhatsApp first (parked here: not configured), e-mail not used.
    order_event(&s, "service_order_ready", c).await;
    app.run_jobs().await;
    let n = all(&s).await;
    assert_eq!(n.len(), 1, "{n:?}");
    assert_eq!(
        (n[0].channel.as_str(), n[0].status),
        ("whatsapp", messages::Status::Parked)
    );
    assert_eq!(n[0].recipient, "+525512345678");
    // Opted out of WhatsApp: recorded skipped, and e-mail takes it.
    let path = format!("/pos/api/customers/{c}/contact-preferences");
    let r = owner.get(&path).await;
    assert_eq!(r.json["whatsapp_transactional"], true);
    assert_eq!(r.json["email_marketing"], false);
    let r = owner
        .put(
            &path,
            json!({"email_transactional": true, "email_marketing": false,
                             "whatsapp_transactional": false, "whatsapp_marketing": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    order_event(&s, "service_order_delivered", c).await;
    app.run_jobs().await;
    let n: Vec<_> = all(&s).await.into_iter().skip(1).collect();
    assert_eq!(n.len(), 2, "{n:?}");
    assert_eq!(
        (n[0].channel.as_str(), n[0].status),
        ("whatsapp", messages::Status::Skipped)
    );
    assert_eq!(
        (n[1].channel.as_str(), n[1].status),
        ("email", messages::Status::Sent)
    );
    assert_eq!(smtp.mails().len(), 1);
    // Out of both: nothing goes out.
    owner
        .put(
            &path,
            json!({"email_transactional": false, "email_marketing": false,
                             "whatsapp_transactional": false, "whatsapp_marketing": false}),
        )
        .await;
    order_event(&s, "service_order_awaiting_approval", c).await;
    app.run_jobs().await;
    let n: Vec<_> = all(&s).await.into_iter().skip(3).collect();
    assert!(
        n.iter().all(|m| m.status == messages::Status::Skipped),
        "{n:?}"
    );
    assert_eq!(smtp.mails().len(), 1);
    // Bad input changes nothing; another tenant's customer is not found.
    let r = owner
        .put(&path, json!({"email_transactional": "yes"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let other = Shop::open(&app, "otra").await;
    let r = app.session(&other.owner).get(&path).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn a_quote_sent_by_email_carries_its_link_and_a_purchase_order_its_pdf(app: TestApp) {
    let smtp = SmtpServer::start();
    let _jobs = app.drive_jobs(runtime(&app, Some(&smtp)));
    let s = Shop::open(&app, "cotiza").await;
    let item = s.item("COT-1", 150_000, None, 0).await;
    let c = customer(
        &app,
        &s,
        "Cliente Cotización",
        Some("cliente@example.mx"),
        None,
    )
    .await;
    let owner = app.session(&s.owner);
    let q = owner
        .post(
            "/pos/api/quotes",
            json!({"branch_id": s.branch, "customer_id": c,
                   "lines": [{"item_id": item, "warehouse_id": s.wh, "qty": 2}]}),
        )
        .await;
    assert_eq!(q.status, StatusCode::CREATED, "{}", q.text());
    let id = q.json["id"].as_str().unwrap();
    let r = owner
        .post(
            &format!("/pos/api/quotes/{id}/send"),
            json!({"channel": "email"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    assert_eq!(r.json["recipient"], "cliente@example.mx");
    app.run_jobs().await;
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    let subject = decoded(&mails[0].header("Subject").unwrap());
    assert!(subject.starts_with("Cotización "), "{subject}");
    let q = owner.get(&format!("/pos/api/quotes/{id}")).await;
    assert_eq!(q.json["delivery"], "sent");
    // An e-mail address goes with channel email only, and a bad one is refused.
    let r = owner
        .post(
            &format!("/pos/api/quotes/{id}/send"),
            json!({"email": "a@b.mx"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let r = owner
        .post(
            &format!("/pos/api/quotes/{id}/send"),
            json!({"channel": "email", "email": "no-es-correo"}),
        )
        .await;
    assert_eq!(r.json["error"]["field"], "email", "{}", r.text());

    // A message with an attachment from the file store: the PDF travels as a MIME part.
    let files = app.app.services.files.clone().unwrap();
    let key = format!("{}/test/OC-1.pdf", s.t.tenant.id);
    // A real PDF's second line is binary: the part must travel base64-encoded.
    let pdf_bytes = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj prueba";
    files.put(&key, pdf_bytes).await.unwrap();
    let txn = entities::db::begin_write(&s.db).await.unwrap();
    let n = messages::create(
        &txn,
        NewNotification {
            channel: "email",
            recipient: "ventas@proveedor.mx",
            template: "purchase_order_sent",
            ref_type: "purchase_order",
            ref_id: Uuid::now_v7().to_string(),
            payload: json!({"folio": "OC-1", "supplier": "Proveedor", "total": "100.00",
                            "total_cents": 10_000, "currency": "MXN",
                            "attachments": [{"key": key, "filename": "OC-1.pdf", "content_type": "application/pdf"}]}),
        },
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    enqueue_send(&s, n.id).await;
    app.run_jobs().await;
    let mails = smtp.mails();
    assert_eq!(mails.len(), 2);
    let text = mails[1].text();
    assert!(
        mails[1]
            .header("Content-Type")
            .unwrap()
            .starts_with("multipart/mixed")
    );
    assert!(
        text.contains("application/pdf") && text.contains("OC-1.pdf"),
        "{text}"
    );
    use base64::Engine;
    let pdf = base64::engine::general_purpose::STANDARD.encode(pdf_bytes);
    assert!(text.contains(&pdf), "the PDF's bytes travel: {text}");
}

async fn a_relay_that_says_try_later_is_retried_and_one_that_refuses_fails_with_its_reason(
    app: TestApp,
) {
    let smtp = SmtpServer::start();
    let _jobs = app.drive_jobs(runtime(&app, Some(&smtp)));
    let s = Shop::open(&app, "reintento").await;
    let c = customer(&app, &s, "Cliente", Some("c@example.mx"), None).await;
    smtp.set_mode(Mode::TryLater);
    order_event(&s, "service_order_ready", c).await;
    app.run_jobs().await;
    let n = all(&s).await;
    assert_eq!(n[0].status, messages::Status::Queued, "back in line: {n:?}");
    assert!(
        n[0].reason.as_deref().unwrap().contains("did not take"),
        "{n:?}"
    );
    assert!(smtp.refused() >= 1);
    // The relay recovers: the retry (due a few seconds later) sends it, once.
    smtp.set_mode(Mode::Accept);
    app.wait_until(
        "the retry sent it",
        std::time::Duration::from_secs(60),
        || async { all(&s).await[0].status == messages::Status::Sent },
    )
    .await;
    assert_eq!(smtp.mails().len(), 1);
    assert!(all(&s).await[0].attempts >= 2);
    // A 5xx is final: failed with the relay's words, not retried.
    smtp.set_mode(Mode::Refuse);
    order_event(&s, "service_order_delivered", c).await;
    app.run_jobs().await;
    let n = all(&s).await;
    assert_eq!(n[1].status, messages::Status::Failed, "{n:?}");
    assert!(n[1].reason.as_deref().unwrap().contains("refused"), "{n:?}");
    assert!(n[1].failed_at.is_some());
    assert_eq!(smtp.mails().len(), 1);
}

async fn a_message_interrupted_mid_send_is_not_sent_again(app: TestApp) {
    let smtp = SmtpServer::start();
    let _jobs = app.drive_jobs(runtime(&app, Some(&smtp)));
    let s = Shop::open(&app, "choque").await;
    let c = customer(&app, &s, "Cliente", Some("c@example.mx"), None).await;
    // A worker claimed the message and died before recording what the relay said: the claim
    // is committed, the outcome is not, and the job is delivered again.
    let txn = entities::db::begin_write(&s.db).await.unwrap();
    let n = messages::create(
        &txn,
        NewNotification {
            channel: "email",
            recipient: "c@example.mx",
            template: "service_order_ready",
            ref_type: "service_order",
            ref_id: Uuid::now_v7().to_string(),
            payload: order_ready(&s, c),
        },
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    assert!(matches!(
        messages::claim(&s.db, n.id).await.unwrap(),
        messages::Claim::Send(_)
    ));
    enqueue_send(&s, n.id).await;
    app.run_jobs().await;
    let after = messages::get(&s.db, n.id).await.unwrap();
    assert_eq!(after.status, messages::Status::Failed);
    assert!(after.reason.unwrap().contains("never sent twice"));
    assert!(smtp.mails().is_empty(), "not sent again");
    // And a message already sent is not sent by a second delivery of its job.
    order_event(&s, "service_order_ready", c).await;
    app.run_jobs().await;
    let sent = notification::Entity::find()
        .filter(notification::Column::Status.eq("sent"))
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    enqueue_send(&s, sent.id).await;
    app.run_jobs().await;
    assert_eq!(smtp.mails().len(), 1);
}

async fn parked_messages_go_out_once_the_channel_is_configured(app: TestApp) {
    let s = Shop::open(&app, "estacionado").await;
    let c = customer(&app, &s, "Cliente", Some("c@example.mx"), None).await;
    let owner = app.session(&s.owner);
    owner
        .put(
            "/pos/api/notification-rules/service_order_ready",
            json!({"enabled": true, "customer_channels": ["email"], "staff_roles": [],
                   "user_ids": [], "staff_channels": ["in_app"]}),
        )
        .await;
    {
        let _jobs = app.drive_jobs(runtime(&app, None));
        order_event(&s, "service_order_ready", c).await;
        app.run_jobs().await;
    }
    let n = all(&s).await;
    assert_eq!(n[0].status, messages::Status::Parked);
    assert!(n[0].reason.as_deref().unwrap().contains("SMTP"), "{n:?}");
    let smtp = SmtpServer::start();
    let _jobs = app.drive_jobs(runtime(&app, Some(&smtp)));
    let cashier = s.token(&app, Role::Cashier).await;
    let r = app
        .session(&cashier)
        .post(
            "/pos/api/notifications/resend-parked",
            json!({"channel": "email"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = owner
        .post(
            "/pos/api/notifications/resend-parked",
            json!({"channel": "fax"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = owner
        .post(
            "/pos/api/notifications/resend-parked",
            json!({"channel": "email"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["queued"], 1);
    app.run_jobs().await;
    assert_eq!(smtp.mails().len(), 1);
    assert_eq!(all(&s).await[0].status, messages::Status::Sent);
}

async fn rules_decide_who_is_told_and_bad_rules_change_nothing(app: TestApp) {
    let _jobs = app.drive_jobs(runtime(&app, None));
    let s = Shop::open(&app, "reglas").await;
    let owner = app.session(&s.owner);
    app.user(&s.t, Role::Manager, None).await;
    app.user(&s.t, Role::Cashier, None).await;
    let item = s.item("BAJO-1", 10_000, None, 5).await;
    s.stock(item, s.wh, 6).await;
    // A sale leaves 4 of a minimum of 5: the low-stock alert tells owner and manager in-app.
    let r = owner
        .post(
            "/pos/api/sales",
            json!({"branch_id": s.branch, "lines": [{"item_id": item, "warehouse_id": s.wh, "qty": 2}],
                   "payments": tests::shop::cash("200.00")}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    app.run_jobs().await;
    let n = all(&s).await;
    let told: Vec<_> = n.iter().filter(|m| m.template == "low_stock").collect();
    assert_eq!(told.len(), 2, "owner and manager: {n:?}");
    assert!(
        told.iter()
            .all(|m| m.channel == "in_app" && m.status == messages::Status::Delivered)
    );
    assert!(told[0].body.as_deref().unwrap().contains("BAJO-1"));
    // new_sale is off by default; turned on for cashiers, each sale tells them.
    let bad = json!({"enabled": true, "customer_channels": [], "staff_roles": ["cajero"],
                     "user_ids": [], "staff_channels": ["in_app"]});
    let r = owner.put("/pos/api/notification-rules/new_sale", bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let r = owner
        .put(
            "/pos/api/notification-rules/new_sale",
            json!({"enabled": true, "customer_channels": [],
              "staff_roles": ["cashier"], "user_ids": [], "staff_channels": ["in_app", "in_app"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let rules = owner.get("/pos/api/notification-rules").await;
    let ns = rules.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["event"] == "new_sale")
        .unwrap()
        .clone();
    assert_eq!(ns["enabled"], false, "nothing was saved");
    let r = owner
        .put(
            "/pos/api/notification-rules/new_sale",
            json!({"enabled": true, "customer_channels": [],
              "staff_roles": ["cashier"], "user_ids": [], "staff_channels": ["in_app"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = owner
        .put(
            "/pos/api/notification-rules/quote_sent",
            json!({"enabled": true, "customer_channels": [],
              "staff_roles": [], "user_ids": [], "staff_channels": []}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "messages sent by hand have no rule"
    );
    let r = owner
        .post(
            "/pos/api/sales",
            json!({"branch_id": s.branch, "lines": [{"item_id": item, "warehouse_id": s.wh, "qty": 1}],
                   "payments": tests::shop::cash("100.00")}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    app.run_jobs().await;
    let sale_msgs: Vec<_> = all(&s)
        .await
        .into_iter()
        .filter(|m| m.template == "new_sale")
        .collect();
    assert_eq!(sale_msgs.len(), 1, "one cashier: {sale_msgs:?}");
    assert!(
        sale_msgs[0]
            .subject
            .as_deref()
            .unwrap()
            .starts_with("Venta ")
    );
    // Turned off, the event is told to nobody.
    owner
        .put(
            "/pos/api/notification-rules/low_stock",
            json!({"enabled": false, "customer_channels": [],
              "staff_roles": ["owner"], "user_ids": [], "staff_channels": ["in_app"]}),
        )
        .await;
    let before = all(&s).await.len();
    super::record(
        &s,
        "low_stock",
        "stock",
        json!({"item_id": item, "warehouse_id": s.wh, "qty": 0, "min_qty": 5}),
    )
    .await;
    app.run_jobs().await;
    assert_eq!(all(&s).await.len(), before);
    // Quiet hours with one end are refused.
    let r = owner
        .put(
            "/pos/api/notification-settings",
            json!({"quiet_from": "22:00", "locale": "es-MX"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let r = owner
        .put("/pos/api/notification-settings", json!({"quiet_from": "22:00", "quiet_to": "07:00",
             "email_from_name": "Refacciones Sur", "email_reply_to": "Ventas@Sur.mx", "locale": "es-MX"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["email_reply_to"], "ventas@sur.mx");
    let r = owner.get("/pos/api/notification-settings").await;
    assert_eq!(r.json["quiet_to"], "07:00");
}

async fn the_log_filters_for_managers_and_refuses_bad_filters(app: TestApp) {
    let _jobs = app.drive_jobs(runtime(&app, None));
    let s = Shop::open(&app, "bitacora").await;
    let c = customer(
        &app,
        &s,
        "Cliente",
        Some("c@example.mx"),
        Some("5512345678"),
    )
    .await;
    order_event(&s, "service_order_ready", c).await;
    record(&s, "low_stock", "stock", json!({"qty": 1, "min_qty": 3, "item": {"sku": "X", "name": "X"}, "warehouse": {"name": "M"}})).await;
    app.run_jobs().await;
    let owner = app.session(&s.owner);
    let r = owner.get("/pos/api/notifications/log").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["total"], 2, "{}", r.text());
    let r = owner
        .get("/pos/api/notifications/log?channel=whatsapp&status=parked")
        .await;
    assert_eq!(r.json["total"], 1, "{}", r.text());
    assert_eq!(r.json["items"][0]["recipient"], "+525512345678");
    let id = r.json["items"][0]["id"].as_str().unwrap().to_owned();
    let one = owner.get(&format!("/pos/api/notifications/log/{id}")).await;
    assert_eq!(one.json["template"], "service_order_ready");
    assert!(one.json["body"].as_str().unwrap().contains("Nissan Versa"));
    let r = owner
        .get("/pos/api/notifications/log?template=low_stock&channel=in_app")
        .await;
    assert_eq!(r.json["total"], 1, "{}", r.text());
    let long = format!("template={}", "x".repeat(49));
    for bad in ["status=gone", "channel=fax", "per_page=0", long.as_str()] {
        let r = owner
            .get(&format!("/pos/api/notifications/log?{bad}"))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let cashier = s.token(&app, Role::Cashier).await;
    assert_eq!(
        app.session(&cashier)
            .get("/pos/api/notifications/log")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let other = Shop::open(&app, "otra").await;
    let r = app
        .session(&other.owner)
        .get(&format!("/pos/api/notifications/log/{id}"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
