//! The pages of an order: photos kept in the tenant's files and served back, the printable
//! order in Spanish with parts, labour and totals apart, and the public page of the budget.

use http::StatusCode;
use serde_json::json;
use tests::{TestApp, shape_tests};

use super::{garage, id, link_token, step};

shape_tests!(
    photos_are_kept_and_served_and_what_is_not_an_image_is_refused,
    the_printable_order_itemises_parts_labour_and_the_reception_in_spanish,
    the_public_page_shows_the_budget_with_its_buttons_and_hides_unknown_tokens,
);

/// The smallest PNG: one transparent pixel.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];

async fn upload(
    app: &TestApp,
    token: &str,
    order: uuid::Uuid,
    bytes: &[u8],
) -> tests::TestResponse {
    let mut req = TestApp::request(
        http::Method::POST,
        &format!("/pos/api/service-orders/{order}/photos?caption=defensa%20rayada"),
        Some(token),
        None,
        None,
    );
    *req.body_mut() = axum::body::Body::from(bytes.to_vec());
    req.headers_mut()
        .insert("content-type", "application/octet-stream".parse().unwrap());
    app.send(req).await
}

async fn photos_are_kept_and_served_and_what_is_not_an_image_is_refused(app: TestApp) {
    let g = garage(&app, "taller-fotos").await;
    let o = g.receive(&app, g.owner(), json!({})).await;
    let oid = id(&o);
    let r = upload(&app, g.owner(), oid, PNG).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["content_type"], "image/png");
    assert_eq!(r.json["caption"], "defensa rayada");
    let pid = id(&r.json);
    let got = app
        .session(g.owner())
        .get(&format!("/pos/api/service-orders/{oid}/photos/{pid}"))
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.bytes, PNG);
    assert_eq!(got.headers["content-type"], "image/png");
    let r = upload(&app, g.owner(), oid, b"%PDF-1.4 not a photo").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let o = app
        .session(g.owner())
        .get(&format!("/pos/api/service-orders/{oid}"))
        .await
        .json;
    assert_eq!(o["photos"].as_array().unwrap().len(), 1);
    // Another business cannot read it.
    let other = garage(&app, "taller-ajeno").await;
    let r = app
        .session(other.owner())
        .get(&format!("/pos/api/service-orders/{oid}/photos/{pid}"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn the_printable_order_itemises_parts_labour_and_the_reception_in_spanish(app: TestApp) {
    let g = garage(&app, "taller-impreso").await;
    let o = g.approved(&app, &[(g.pads, 2)]).await;
    let oid = id(&o);
    let r = app
        .session(g.owner())
        .get(&format!("/pos/api/service-orders/{oid}/print"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = r.text();
    for text in [
        "Orden de servicio",
        o["folio"].as_str().unwrap(),
        "Refacciones",
        "Mano de obra",
        "Kilometraje: 85000",
        "Combustible: 3/8",
        "llanta de refacción: sí",
        "¿Acepta partes usadas o reconstruidas? No",
        "Refacciones: $900.00 · Mano de obra: $600.00",
        "Total: $1,500.00 MXN",
        "sólo paga la revisión y el diagnóstico",
        "Firma del cliente",
    ] {
        assert!(page.contains(text), "missing {text:?} in {page}");
    }
}

async fn the_public_page_shows_the_budget_with_its_buttons_and_hides_unknown_tokens(app: TestApp) {
    let g = garage(&app, "taller-liga").await;
    let o = g.receive(&app, g.owner(), json!({})).await;
    let oid = id(&o);
    step(&app, g.owner(), oid, "diagnose", json!({})).await;
    g.part(&app, g.owner(), oid, g.pads, 1).await;
    step(&app, g.owner(), oid, "submit", json!({})).await;
    let token = link_token(&o);
    let r = app.get(&format!("/so/{token}"), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["cache-control"], "no-store");
    let page = r.text();
    assert!(page.contains("Apruebo el presupuesto"), "{page}");
    assert!(page.contains("Por aprobar: $450.00 MXN"), "{page}");
    let r = app
        .get(&format!("/so/{}x", &token[..token.len() - 1]), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.get("/so/nonsense", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app
        .post(
            &format!("/so/{token}/answer"),
            None,
            json!({"answer": "maybe", "name": "J"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let r = app
        .post(
            &format!("/so/{token}/answer"),
            None,
            json!({"answer": "approve", "name": " "}),
        )
        .await;
    assert_eq!(r.json["error"]["field"], "name", "{}", r.text());
    let o = app
        .session(g.owner())
        .get(&format!("/pos/api/service-orders/{oid}"))
        .await
        .json;
    assert_eq!(
        o["status"], "awaiting_approval",
        "bad answers change nothing"
    );
}
