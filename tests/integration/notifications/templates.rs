//! Templates: an unknown variable is refused by name and nothing is saved; versions; going back
//! to the default; previews of drafts and of the template in use; who may edit.

use entities::Role;
use http::StatusCode;
use serde_json::json;
use tests::shop::Shop;
use tests::{TestApp, shape_tests};

shape_tests!(
    a_template_with_an_unknown_variable_is_refused_by_name_and_nothing_is_saved,
    saving_makes_versions_and_a_reset_goes_back_to_the_default,
    a_preview_renders_a_draft_or_the_template_in_use_with_a_sample_or_a_given_context,
    only_admins_edit_templates_and_unknown_events_or_channels_are_not_found,
);

const PATH: &str = "/pos/api/notification-templates/service_order_ready/email";

async fn a_template_with_an_unknown_variable_is_refused_by_name_and_nothing_is_saved(app: TestApp) {
    let s = Shop::open(&app, "plantillas").await;
    let owner = app.session(&s.owner);
    let r = owner
        .put(
            PATH,
            json!({"subject": "Listo {{ folio }}", "body": "Hola {{ cliente.nombre }}"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "body");
    let msg = r.json["error"]["message"].as_str().unwrap();
    assert!(msg.contains("unknown variable `cliente.nombre`"), "{msg}");
    assert!(
        msg.contains("customer.name"),
        "the message lists what exists: {msg}"
    );
    // In the subject too, and a syntax error names its line.
    let r = owner
        .put(PATH, json!({"subject": "{{ foliio }}", "body": "ok"}))
        .await;
    assert_eq!(r.json["error"]["field"], "subject", "{}", r.text());
    let r = owner
        .put(
            PATH,
            json!({"subject": "x", "body": "a\n{% if folio %}sin cerrar"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("line"),
        "{}",
        r.text()
    );
    // An e-mail needs a subject; only e-mail has HTML.
    let r = owner.put(PATH, json!({"body": "Hola"})).await;
    assert_eq!(r.json["error"]["field"], "subject", "{}", r.text());
    let r = owner
        .put(
            "/pos/api/notification-templates/service_order_ready/in_app",
            json!({"subject": "x", "body": "y", "html": "<p>z</p>"}),
        )
        .await;
    assert_eq!(r.json["error"]["field"], "html", "{}", r.text());
    // Nothing was saved: the default is still in use.
    let r = owner.get(PATH).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["version"], 0);
    assert!(
        r.json["variables"]
            .as_array()
            .unwrap()
            .contains(&json!("customer.name"))
    );
}

async fn saving_makes_versions_and_a_reset_goes_back_to_the_default(app: TestApp) {
    let s = Shop::open(&app, "versiones").await;
    let owner = app.session(&s.owner);
    for (i, body) in ["Uno {{ folio }}", "Dos {{ folio }} {{ customer.name }}"]
        .iter()
        .enumerate()
    {
        let r = owner
            .put(PATH, json!({"subject": "Listo {{ folio }}", "body": body, "html": "<b>{{ customer.name }}</b>"}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json["version"], i + 1);
    }
    let r = owner.get(PATH).await;
    assert_eq!(r.json["version"], 2);
    assert_eq!(r.json["body"], "Dos {{ folio }} {{ customer.name }}");
    let list = owner.get("/pos/api/notification-templates").await;
    let row = list.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["event"] == "service_order_ready" && t["channel"] == "email")
        .unwrap()
        .clone();
    assert_eq!(row["version"], 2);
    let r = owner.delete(PATH).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["version"], 0);
    assert!(r.json["body"].as_str().unwrap().contains("está listo"));
    let r = owner.get(PATH).await;
    assert_eq!(r.json["version"], 0);
    // The versions are kept, retired.
    let v = owner.get(&format!("{PATH}/versions")).await;
    assert_eq!(v.json["total"], 2, "{}", v.text());
    assert_eq!(v.json["items"][0]["version"], 2);
    assert!(v.json["items"][0]["retired_at"].is_string());
    // A new save after the reset is version 3.
    let r = owner
        .put(PATH, json!({"subject": "Tres", "body": "Tres {{ folio }}"}))
        .await;
    assert_eq!(r.json["version"], 3, "{}", r.text());
}

async fn a_preview_renders_a_draft_or_the_template_in_use_with_a_sample_or_a_given_context(
    app: TestApp,
) {
    let s = Shop::open(&app, "vista").await;
    let owner = app.session(&s.owner);
    let r = owner
        .post(
            "/pos/api/notification-templates/preview",
            json!({"event": "service_order_ready", "channel": "email"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["subject"], "Tu Nissan Versa 2019 está listo");
    assert!(
        r.json["html"]
            .as_str()
            .unwrap()
            .starts_with("<p>Hola Taller Hernández")
    );
    // A draft with a given context; HTML is escaped in the HTML part only.
    let r = owner
        .post(
            "/pos/api/notification-templates/preview",
            json!({"event": "service_order_ready", "channel": "email",
                   "template": {"subject": "Orden {{ folio }}", "body": "{{ customer.name }}", "html": "<p>{{ customer.name }}</p>"},
                   "context": {"folio": "OS-9", "customer": {"name": "<Ana & Co>"}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["subject"], "Orden OS-9");
    assert_eq!(r.json["body"], "<Ana & Co>");
    assert_eq!(r.json["html"], "<p>&lt;Ana &amp; Co&gt;</p>");
    // WhatsApp's approved template and its parameters.
    let r = owner
        .post(
            "/pos/api/notification-templates/preview",
            json!({"event": "service_order_ready", "channel": "whatsapp"}),
        )
        .await;
    assert_eq!(r.json["wa_template"], "nexus_service_order_ready");
    assert_eq!(r.json["wa_params"][0], "Taller Hernández");
    // A context missing what the template prints is a clear 422, not a blank.
    let r = owner
        .post(
            "/pos/api/notification-templates/preview",
            json!({"event": "service_order_ready", "channel": "push", "context": {"folio": "OS-9"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(
        r.json["error"]["field"]
            .as_str()
            .unwrap()
            .starts_with("template.")
    );
}

async fn only_admins_edit_templates_and_unknown_events_or_channels_are_not_found(app: TestApp) {
    let s = Shop::open(&app, "permisos").await;
    let manager = s.token(&app, Role::Manager).await;
    let cashier = s.token(&app, Role::Cashier).await;
    let body = json!({"subject": "x {{ folio }}", "body": "y"});
    assert_eq!(app.session(&manager).get(PATH).await.status, StatusCode::OK);
    assert_eq!(
        app.session(&manager).put(PATH, body.clone()).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.session(&cashier).get(PATH).await.status,
        StatusCode::FORBIDDEN
    );
    let owner = app.session(&s.owner);
    for path in [
        "/pos/api/notification-templates/nothing/email",
        "/pos/api/notification-templates/low_stock/fax",
    ] {
        assert_eq!(
            owner.get(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
        assert_eq!(
            owner.put(path, body.clone()).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let r = owner.get(&format!("{PATH}?locale=en-US")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
}
