//! Notifications: templates (checked, versioned, previewed), events routed to customers and
//! staff per rules and consent, e-mail through a real SMTP server on loopback, the in-app inbox
//! and its live stream, the delivery log, and sends that are never repeated.

pub(crate) mod delivery;
pub(crate) mod inbox;
pub(crate) mod templates;
pub(crate) mod whatsapp;

use std::sync::Arc;
use std::time::Duration;

use entities::notifications::events;
use entities::notifications::tables::notification;
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::{Value, json};
use tests::TestApp;
use tests::fakes::smtp::SmtpServer;
use tests::fakes::whatsapp::WhatsAppFake;
use tests::shop::Shop;
use uuid::Uuid;
use workers::runtime::Runtime;
use workers::services::Services;

/// A runtime with every handler, e-mail through `smtp` when given (parked otherwise), and the
/// app's file store for attachments.
pub(crate) fn runtime(app: &TestApp, smtp: Option<&SmtpServer>) -> Arc<Runtime> {
    runtime_with(app, smtp, None)
}

/// [`runtime`], with WhatsApp's Cloud API at `whatsapp` when given.
pub(crate) fn runtime_with(
    app: &TestApp,
    smtp: Option<&SmtpServer>,
    whatsapp: Option<&WhatsAppFake>,
) -> Arc<Runtime> {
    let whatsapp = whatsapp.map(|w| {
        workers::clients::whatsapp::CloudApi::new(&w.url, Duration::from_secs(10)).unwrap()
    });
    let mailer = smtp.map(|s| {
        workers::clients::smtp::SmtpMailer::new(
            &s.url(),
            "Nexus <avisos@nexus.test>",
            Duration::from_secs(10),
        )
        .unwrap()
    });
    Arc::new(Runtime::new(
        app.app.platform.clone(),
        app.app.tenants.clone(),
        workers::handlers::all(Services {
            smtp: mailer,
            whatsapp,
            files: app.app.services.files.clone(),
            ..Services::default()
        }),
    ))
}

/// A customer with the contacts given.
pub(crate) async fn customer(
    app: &TestApp,
    s: &Shop,
    name: &str,
    email: Option<&str>,
    phone: Option<&str>,
) -> Uuid {
    let r = app
        .session(&s.owner)
        .post(
            "/pos/api/customers",
            json!({"name": name, "email": email, "whatsapp_phone": phone}),
        )
        .await;
    assert_eq!(r.status, http::StatusCode::CREATED, "{}", r.text());
    r.json["id"].as_str().unwrap().parse().unwrap()
}

/// Records a business event as a change of that area would, in its own transaction.
pub(crate) async fn record(s: &Shop, kind: &str, ref_type: &str, payload: Value) -> Uuid {
    let id = Uuid::now_v7();
    let txn = entities::db::begin_write(&s.db).await.unwrap();
    events::record(&txn, kind, ref_type, id, payload)
        .await
        .unwrap();
    txn.commit().await.unwrap();
    id
}

/// Records a service order's event (`service_order_ready`…) for customer `c`.
pub(crate) async fn order_event(s: &Shop, kind: &str, c: Uuid) -> Uuid {
    record(s, kind, "service_order", order_ready(s, c)).await
}

/// Every notification of the shop, oldest first.
pub(crate) async fn all(s: &Shop) -> Vec<notification::Model> {
    notification::Entity::find()
        .order_by_asc(notification::Column::CreatedAt)
        .all(&s.db)
        .await
        .unwrap()
}

/// Enqueues the send job of notification `id`, as the code that wrote it would.
pub(crate) async fn enqueue_send(s: &Shop, id: Uuid) {
    let txn = entities::db::begin_write(&s.db).await.unwrap();
    jobs::outbox::enqueue(
        &txn,
        &jobs::notifications::SendNotification {
            tenant_id: s.t.tenant.id,
            notification_id: id,
        },
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
}

/// The payload a service order's events carry.
pub(crate) fn order_ready(s: &Shop, customer: Uuid) -> Value {
    json!({"folio": "OS-000031", "customer_id": customer, "branch_id": s.branch,
           "plate": "ABC-123-D", "vehicle": "Nissan Versa 2019", "token": "q7Hk2"})
}
