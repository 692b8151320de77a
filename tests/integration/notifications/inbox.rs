//! The in-app inbox: a user's own notifications, unread first; marking read one by one and all
//! at once; nobody reads another's; and the live stream sends what arrives while it is open.

use std::time::Duration;

use entities::Role;
use http::{Method, StatusCode};
use serde_json::json;
use tests::shop::Shop;
use tests::{TestApp, shape_tests};

use super::{record, runtime};

shape_tests!(
    a_users_inbox_lists_unread_first_and_marks_read_one_or_all,
    the_live_stream_sends_notifications_that_arrive_while_it_is_open,
);

fn low(n: i64) -> serde_json::Value {
    json!({"qty": n, "min_qty": 5, "item": {"sku": format!("SKU-{n}"), "name": "Balata"}, "warehouse": {"name": "Matriz"}})
}

async fn a_users_inbox_lists_unread_first_and_marks_read_one_or_all(app: TestApp) {
    let _jobs = app.drive_jobs(runtime(&app, None));
    let s = Shop::open(&app, "buzon").await;
    let manager = s.token(&app, Role::Manager).await;
    let cashier = s.token(&app, Role::Cashier).await;
    for n in 1..=3 {
        record(&s, "low_stock", "stock", low(n)).await;
    }
    app.run_jobs().await;
    let me = app.session(&manager);
    let r = me.get("/pos/api/notifications").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["total"], 3);
    assert_eq!(
        r.json["items"][0]["title"], "Stock bajo: SKU-3",
        "newest first"
    );
    // The oldest read: it goes to the end; unread only leaves it out.
    let oldest = r.json["items"][2]["id"].as_str().unwrap().to_owned();
    let r = me
        .post(&format!("/pos/api/notifications/{oldest}/read"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.json["read_at"].is_string());
    let first_read = r.json["read_at"].clone();
    let r = me
        .post(&format!("/pos/api/notifications/{oldest}/read"), json!({}))
        .await;
    assert_eq!(
        r.json["read_at"], first_read,
        "reading again changes nothing"
    );
    record(&s, "low_stock", "stock", low(4)).await;
    app.run_jobs().await;
    let r = me.get("/pos/api/notifications").await;
    let ids: Vec<_> = r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 4);
    assert_eq!(ids[3], oldest, "read ones come last");
    let r = me.get("/pos/api/notifications?unread=true").await;
    assert_eq!(r.json["total"], 3);
    // Nobody reads another's: the cashier is not told of low stock and cannot mark it.
    let theirs = app.session(&cashier);
    assert_eq!(theirs.get("/pos/api/notifications").await.json["total"], 0);
    let r = theirs
        .post(
            &format!("/pos/api/notifications/{}/read", ids[0]),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = me.post("/pos/api/notifications/read-all", json!({})).await;
    assert_eq!(r.json["marked"], 3, "{}", r.text());
    assert_eq!(
        me.get("/pos/api/notifications?unread=true").await.json["total"],
        0
    );
    let r = me.get("/pos/api/notifications?per_page=500").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn the_live_stream_sends_notifications_that_arrive_while_it_is_open(app: TestApp) {
    let _jobs = app.drive_jobs(runtime(&app, None));
    let s = Shop::open(&app, "envivo").await;
    record(&s, "low_stock", "stock", low(1)).await;
    app.run_jobs().await;
    let req = TestApp::request(
        Method::GET,
        "/pos/api/notifications/stream?seconds=4",
        Some(&s.owner),
        None,
        None,
    );
    let (resp, ()) = tokio::join!(app.send(req), async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        record(&s, "low_stock", "stock", low(2)).await;
        app.run_jobs().await;
    });
    assert_eq!(resp.status, StatusCode::OK);
    assert!(
        resp.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let text = resp.text();
    assert!(text.contains("event: notification"), "{text}");
    assert!(text.contains("SKU-2"), "the new one: {text}");
    assert!(
        !text.contains("SKU-1"),
        "only what arrived while open: {text}"
    );
    let r = app
        .session(&s.owner)
        .get("/pos/api/notifications/stream?seconds=0")
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}
