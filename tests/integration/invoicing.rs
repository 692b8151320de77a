//! `/pos/api/settings/fiscal`: the issuer's CFDI settings, checked against SAT's rules, with a
//! Facturapi key and webhook secret that are write-only.

use entities::Role;
use entities::tenant::audit_log;
use http::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{TestApp, TestResponse, shape_tests};

shape_tests!(
    fiscal_settings_are_validated_and_the_key_is_never_shown_again,
    only_owners_and_admins_read_or_write_fiscal_settings,
);

async fn put(app: &TestApp, token: &str, body: Value) -> TestResponse {
    app.send(TestApp::request(
        Method::PUT,
        "/pos/api/settings/fiscal",
        Some(token),
        Some(&body),
        None,
    ))
    .await
}

const KEY: &str = "sk_test_abcdefghijklmnopqrstuvwxyz012345";

async fn fiscal_settings_are_validated_and_the_key_is_never_shown_again(app: TestApp) {
    let t = app.tenant("fiscal").await;
    let owner = app.token(&t.owner_email).await;
    assert_eq!(
        app.get("/pos/api/settings/fiscal", Some(&owner))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let good = json!({"issuer_rfc": "EKU9003173C9", "legal_name": "Escuela Kemper Urgate", "tax_regime": "601", "facturapi_key": KEY, "webhook_secret": "whsec_0123456789abcdef"});
    let r = put(&app, &owner, good.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["facturapi_key"], "test");
    assert_eq!(r.json["webhook_secret_set"], true);
    assert_eq!(r.json["legal_name"], "ESCUELA KEMPER URGATE");
    assert_eq!(r.json["invoice_series"], "A");
    assert!(!r.text().contains(KEY));
    let got = app.get("/pos/api/settings/fiscal", Some(&owner)).await;
    assert!(!got.text().contains(KEY) && !got.text().contains("whsec_"));
    // Absent keeps the key; null removes it.
    let mut keep = good.clone();
    keep.as_object_mut().unwrap().remove("facturapi_key");
    let r = put(&app, &owner, keep).await;
    assert_eq!(r.json["facturapi_key"], "test");
    let mut clear = good.clone();
    clear["facturapi_key"] = Value::Null;
    let r = put(&app, &owner, clear).await;
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
        let r = put(&app, &owner, body).await;
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
    let r = put(
        &app,
        &manager,
        json!({"issuer_rfc": "EKU9003173C9", "legal_name": "X", "tax_regime": "601"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/pos/api/settings/fiscal", Some(&manager))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let admin = app.token(&app.user(&t, Role::Admin, None).await).await;
    let r = put(
        &app,
        &admin,
        json!({"issuer_rfc": "EKU9003173C9", "legal_name": "X", "tax_regime": "601", "unknown": 1}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}
