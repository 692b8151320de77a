//! HTTP conventions: the error envelope, request ids, limits, compression, CORS, health,
//! readiness, metrics, the OpenAPI document and its page.

use axum::body::Body;
use http::{Method, Request, StatusCode};
use serde_json::json;
use tests::{TestApp, shape_tests};

shape_tests!(
    malformed_json_returns_400_in_the_envelope,
    unknown_fields_return_422_and_change_nothing,
    input_of_the_wrong_type_gets_422_naming_the_field_in_a_body_or_a_query,
    an_oversized_body_returns_413,
    a_request_id_is_echoed_or_made_up,
    unknown_routes_and_methods_answer_in_the_envelope,
    healthz_and_readyz_answer,
    metrics_count_requests_by_route_template,
    the_openapi_document_covers_every_route,
    query_parameters_are_declared_in_the_query_and_optional_ones_are_not_required,
    the_docs_page_loads_nothing_from_the_internet,
    responses_are_compressed_when_asked,
    a_page_past_the_bound_is_422_on_every_paged_list,
);

async fn malformed_json_returns_400_in_the_envelope(app: TestApp) {
    let req = Request::post("/pos/api/auth/login")
        .header("content-type", "application/json")
        .body(Body::from("{\"email\": "))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "malformed_json");
    assert!(r.json["error"]["request_id"].is_string());
    let req = Request::post("/pos/api/auth/login")
        .body(Body::from("{}"))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "json_content_type_required");
}

async fn input_of_the_wrong_type_gets_422_naming_the_field_in_a_body_or_a_query(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    // A body: the wrong type, nested, and a missing field.
    let r = app
        .session(&token)
        .post(
            "/pos/api/inventory/transfers",
            json!({"from_warehouse_id": uuid::Uuid::nil(), "to_warehouse_id": uuid::Uuid::nil(),
                   "lines": [{"item_id": uuid::Uuid::nil(), "qty": "many"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.code(), "invalid_body");
    assert_eq!(r.json["error"]["field"], "lines[0].qty", "{}", r.text());
    let r = app
        .session(&token)
        .post("/pos/api/branches", json!({"name": "Norte"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "code", "{}", r.text());
    // A query: the same status, its own code, the parameter named.
    for (query, field) in [
        ("per_page=lots", "per_page"),
        ("active=perhaps", "active"),
        ("colour=red", "colour"),
    ] {
        let r = app
            .session(&token)
            .get(&format!("/pos/api/branches?{query}"))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            r.text()
        );
        assert_eq!(r.code(), "invalid_query");
        assert_eq!(r.json["error"]["field"], field, "{query}: {}", r.text());
        assert!(
            r.json["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(field)
        );
    }
    // Money is a decimal string: a JSON number would round, so it is refused.
    let r = app
        .session(&token)
        .post(
            "/pos/api/items",
            json!({"sku": "N-1", "name": "N", "cost": 12.5}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "cost", "{}", r.text());
    // A value of the right type but out of range answers the same status.
    let r = app.session(&token).get("/pos/api/branches?page=0").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "page");
    assert_eq!(
        app.session(&token).get("/pos/api/branches").await.json["total"],
        1
    );
}

async fn unknown_fields_return_422_and_change_nothing(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let r = app
        .session(&token)
        .post(
            "/pos/api/branches",
            json!({"code": "NORTE", "name": "Norte", "tenant_id": t.tenant.id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.code(), "invalid_body");
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tenant_id")
    );
    assert_eq!(r.json["error"]["field"], "tenant_id");
    let list = app.session(&token).get("/pos/api/branches").await;
    assert_eq!(list.json["total"], 1, "nothing was created");
    let r = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": "a@b.mx", "password": "x", "role": "owner"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn an_oversized_body_returns_413(app: TestApp) {
    let big = "x".repeat(2 * 1024 * 1024);
    let r = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": big, "password": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.code(), "payload_too_large");
}

async fn a_request_id_is_echoed_or_made_up(app: TestApp) {
    let req = Request::get("/healthz")
        .header("x-request-id", "pos-42.retry_1")
        .body(Body::empty())
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.headers["x-request-id"], "pos-42.retry_1");
    let r = app.get("/healthz", None).await;
    let made = r.headers["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(made.len(), 36, "a UUID: {made}");
    // A hostile id (too long, odd characters) is replaced, not echoed.
    let req = Request::get("/pos/api/auth/me")
        .header("x-request-id", "a b<script>")
        .body(Body::empty())
        .unwrap();
    let r = app.send(req).await;
    let id = r.headers["x-request-id"].to_str().unwrap();
    assert_ne!(id, "a b<script>");
    assert_eq!(
        r.json["error"]["request_id"], id,
        "the envelope carries the same id"
    );
}

async fn unknown_routes_and_methods_answer_in_the_envelope(app: TestApp) {
    let r = app.get("/pos/api/nothing-here", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.code(), "not_found");
    let r = app
        .send(TestApp::request(
            Method::PUT,
            "/pos/api/auth/login",
            None,
            None,
            None,
        ))
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.code(), "method_not_allowed");
}

async fn healthz_and_readyz_answer(app: TestApp) {
    let r = app.get("/healthz", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["status"], "ok");
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["status"], "ready");
    let names: Vec<&str> = r.json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    match app.shape {
        tests::Shape::Embedded => assert_eq!(names, ["platform_db", "queue"]),
        tests::Shape::Distributed => assert_eq!(names, ["platform_db", "redis"]),
    }
}

async fn metrics_count_requests_by_route_template(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let id = t.tenant.id; // any uuid: a 404 still counts under the template
    app.session(&token)
        .get(&format!("/pos/api/branches/{id}"))
        .await;
    let r = app.get("/metrics", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let text = r.text();
    assert!(
        text.contains(
            r#"nexus_http_requests_total{method="POST",route="/pos/api/auth/login",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/pos/api/branches/{id}",status="404""#),
        "{text}"
    );
    assert!(text.contains("nexus_http_request_duration_seconds_bucket"));
    assert!(
        !text.contains(&id.to_string()),
        "raw ids must not become label values"
    );
}

async fn the_openapi_document_covers_every_route(app: TestApp) {
    let r = app.get("/api-docs/openapi.json", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = r.json["paths"].as_object().unwrap();
    let expected = [
        ("post", "/pos/api/auth/login"),
        ("post", "/pos/api/auth/refresh"),
        ("post", "/pos/api/auth/logout"),
        ("get", "/pos/api/auth/me"),
        ("put", "/pos/api/auth/pin"),
        ("post", "/pos/api/auth/override"),
        ("post", "/pos/api/auth/setup"),
        ("get", "/pos/api/users"),
        ("post", "/pos/api/users"),
        ("get", "/pos/api/users/{id}"),
        ("patch", "/pos/api/users/{id}"),
        ("post", "/pos/api/users/{id}/reset-password"),
        ("get", "/pos/api/branches"),
        ("post", "/pos/api/branches"),
        ("get", "/pos/api/branches/{id}"),
        ("patch", "/pos/api/branches/{id}"),
        ("delete", "/pos/api/branches/{id}"),
        ("get", "/pos/api/branches/{id}/warehouses"),
        ("post", "/pos/api/branches/{id}/warehouses"),
        ("get", "/pos/api/branches/{id}/warehouses/{warehouse_id}"),
        ("patch", "/pos/api/branches/{id}/warehouses/{warehouse_id}"),
        ("delete", "/pos/api/branches/{id}/warehouses/{warehouse_id}"),
        ("get", "/pos/api/catalog/search"),
        ("get", "/pos/api/catalog/categories"),
        ("get", "/pos/api/catalog/brands"),
        ("get", "/pos/api/catalog/parts/{id}"),
        ("get", "/pos/api/vehicles/years"),
        ("get", "/pos/api/vehicles/makes"),
        ("get", "/pos/api/vehicles/models"),
        ("get", "/pos/api/vehicles/engines"),
        ("get", "/pos/api/vehicles/catalog/{id}"),
        ("get", "/pos/api/vehicles/vin/{vin}"),
        ("get", "/pos/api/vehicles/plate/{plate}"),
        ("get", "/pos/api/vehicles/registered"),
        ("post", "/pos/api/vehicles/registered"),
        ("get", "/pos/api/vehicles/registered/{id}"),
        ("patch", "/pos/api/vehicles/registered/{id}"),
        ("delete", "/pos/api/vehicles/registered/{id}"),
        ("get", "/pos/api/customers"),
        ("post", "/pos/api/customers"),
        ("get", "/pos/api/customers/{id}"),
        ("patch", "/pos/api/customers/{id}"),
        ("get", "/pos/api/customers/{id}/vehicles"),
        ("get", "/pos/api/customers/{id}/savings"),
        ("get", "/pos/api/customers/{id}/account"),
        ("get", "/pos/api/customers/{id}/account/entries"),
        ("post", "/pos/api/customers/{id}/payments"),
        ("get", "/pos/api/customers/{id}/tags"),
        ("put", "/pos/api/customers/{id}/tags"),
        ("get", "/pos/api/customers/{id}/activities"),
        ("post", "/pos/api/customers/{id}/activities"),
        ("patch", "/pos/api/customers/{id}/activities/{activity_id}"),
        ("get", "/pos/api/customers/{id}/timeline"),
        ("get", "/pos/api/customers/{id}/loyalty"),
        ("get", "/pos/api/customers/{id}/loyalty/entries"),
        ("get", "/pos/api/customers/{id}/analytics"),
        ("get", "/pos/api/crm/analytics"),
        ("get", "/pos/api/crm/tags"),
        ("get", "/pos/api/customers/{id}/credit-reviews"),
        ("post", "/pos/api/customers/{id}/credit-reviews"),
        ("post", "/pos/api/credit-reviews/{id}/accept"),
        ("post", "/pos/api/credit-reviews/{id}/dismiss"),
        ("get", "/pos/api/customers/{id}/referral"),
        ("post", "/pos/api/customers/{id}/referral"),
        ("get", "/pos/api/crm/referrals"),
        ("get", "/pos/api/crm/referrals/report"),
        ("get", "/pos/api/referrals/settings"),
        ("put", "/pos/api/referrals/settings"),
        ("get", "/pos/api/crm/tasks"),
        ("get", "/pos/api/crm/segments"),
        ("post", "/pos/api/crm/segments"),
        ("post", "/pos/api/crm/segments/preview"),
        ("get", "/pos/api/crm/segments/{id}"),
        ("patch", "/pos/api/crm/segments/{id}"),
        ("delete", "/pos/api/crm/segments/{id}"),
        ("get", "/pos/api/crm/segments/{id}/customers"),
        ("get", "/pos/api/loyalty/settings"),
        ("put", "/pos/api/loyalty/settings"),
        ("get", "/pos/api/notifications"),
        ("post", "/pos/api/notifications/{id}/read"),
        ("post", "/pos/api/notifications/read-all"),
        ("get", "/pos/api/notifications/stream"),
        ("get", "/pos/api/notifications/log"),
        ("get", "/pos/api/notifications/log/{id}"),
        ("post", "/pos/api/notifications/resend-parked"),
        ("get", "/pos/api/notification-rules"),
        ("put", "/pos/api/notification-rules/{event}"),
        ("get", "/pos/api/notification-settings"),
        ("put", "/pos/api/notification-settings"),
        ("get", "/pos/api/notification-templates"),
        ("get", "/pos/api/notification-templates/{event}/{channel}"),
        ("put", "/pos/api/notification-templates/{event}/{channel}"),
        (
            "delete",
            "/pos/api/notification-templates/{event}/{channel}",
        ),
        (
            "get",
            "/pos/api/notification-templates/{event}/{channel}/versions",
        ),
        ("post", "/pos/api/notification-templates/preview"),
        ("get", "/pos/api/customers/{id}/contact-preferences"),
        ("put", "/pos/api/customers/{id}/contact-preferences"),
        ("post", "/pos/api/drawers"),
        ("get", "/pos/api/drawers"),
        ("get", "/pos/api/drawers/{id}"),
        ("get", "/pos/api/drawers/{id}/movements"),
        ("post", "/pos/api/drawers/{id}/cash"),
        ("post", "/pos/api/drawers/{id}/close"),
        ("get", "/pos/api/reports/savings"),
        ("get", "/pos/api/items/{id}/prices"),
        ("put", "/pos/api/items/{id}/prices"),
        ("get", "/pos/api/settings/exchange-rate"),
        ("put", "/pos/api/settings/exchange-rate"),
        ("post", "/pos/api/inventory/sync-prices"),
        ("get", "/pos/api/inventory/sync-prices/{id}"),
        ("post", "/pos/api/sales"),
        ("get", "/pos/api/sales"),
        ("get", "/pos/api/sales/{id}"),
        ("get", "/pos/api/sales/{id}/ticket"),
        ("post", "/pos/api/sales/{id}/returns"),
        ("post", "/pos/api/sales/{id}/cancel"),
        ("get", "/pos/api/cart"),
        ("put", "/pos/api/cart"),
        ("delete", "/pos/api/cart"),
        ("post", "/pos/api/cart/lines"),
        ("patch", "/pos/api/cart/lines/{id}"),
        ("delete", "/pos/api/cart/lines/{id}"),
        ("post", "/pos/api/quotes"),
        ("get", "/pos/api/quotes"),
        ("get", "/pos/api/quotes/{id}"),
        ("post", "/pos/api/quotes/{id}/convert"),
        ("post", "/pos/api/quotes/{id}/cancel"),
        ("post", "/pos/api/quotes/{id}/send"),
        ("get", "/q/{token}"),
        ("get", "/pos/api/settings/fiscal"),
        ("put", "/pos/api/settings/fiscal"),
        ("get", "/pos/api/settings/fiscal/sat-keys"),
        ("put", "/pos/api/settings/fiscal/sat-keys/{category_id}"),
        ("delete", "/pos/api/settings/fiscal/sat-keys/{category_id}"),
        ("post", "/pos/api/sales/{id}/invoice"),
        ("get", "/pos/api/invoices/{id}"),
        ("post", "/webhooks/facturapi"),
        ("get", "/webhooks/whatsapp"),
        ("post", "/webhooks/whatsapp"),
        ("get", "/pos/api/whatsapp/settings"),
        ("put", "/pos/api/whatsapp/settings"),
        ("post", "/pos/api/invoices/{id}/cancel"),
        ("get", "/pos/api/invoices/{id}/xml"),
        ("get", "/pos/api/invoices/{id}/pdf"),
        ("post", "/pos/api/invoices/{id}/retry"),
        (
            "post",
            "/pos/api/sales/{id}/returns/{return_id}/credit-note",
        ),
        ("post", "/pos/api/invoices/{id}/payments"),
        ("get", "/pos/api/invoices/{id}/payments"),
        ("post", "/pos/api/invoices/global"),
        ("get", "/pos/api/invoices"),
        ("get", "/pos/api/items"),
        ("post", "/pos/api/items"),
        ("get", "/pos/api/items/{id}"),
        ("patch", "/pos/api/items/{id}"),
        ("get", "/pos/api/items/{id}/stock"),
        ("get", "/pos/api/catalog/parts/{id}/stock"),
        ("post", "/pos/api/items/imports"),
        ("get", "/pos/api/items/imports"),
        ("get", "/pos/api/items/imports/{id}"),
        ("post", "/pos/api/inventory/adjustments"),
        ("post", "/pos/api/inventory/counts"),
        ("get", "/pos/api/inventory/ledger"),
        ("get", "/pos/api/inventory/alerts"),
        ("get", "/pos/api/inventory/reconciliation"),
        ("get", "/pos/api/suppliers"),
        ("post", "/pos/api/suppliers"),
        ("get", "/pos/api/suppliers/{id}"),
        ("patch", "/pos/api/suppliers/{id}"),
        ("delete", "/pos/api/suppliers/{id}"),
        ("get", "/pos/api/suppliers/{id}/prices"),
        ("post", "/pos/api/suppliers/{id}/prices"),
        ("delete", "/pos/api/suppliers/{id}/prices/{price_id}"),
        ("post", "/pos/api/suppliers/{id}/prices/import"),
        ("get", "/pos/api/items/{id}/supplier-prices"),
        ("get", "/pos/api/purchase-orders"),
        ("post", "/pos/api/purchase-orders"),
        ("get", "/pos/api/purchase-orders/{id}"),
        ("patch", "/pos/api/purchase-orders/{id}"),
        ("post", "/pos/api/purchase-orders/{id}/lines"),
        ("patch", "/pos/api/purchase-orders/{id}/lines/{line_id}"),
        ("delete", "/pos/api/purchase-orders/{id}/lines/{line_id}"),
        ("post", "/pos/api/purchase-orders/{id}/approve"),
        ("post", "/pos/api/purchase-orders/{id}/send"),
        ("post", "/pos/api/purchase-orders/{id}/confirm"),
        ("post", "/pos/api/purchase-orders/{id}/cancel"),
        ("post", "/pos/api/purchase-orders/{id}/close"),
        ("get", "/pos/api/purchase-orders/{id}/receipts"),
        ("post", "/pos/api/purchase-orders/{id}/receipts"),
        ("post", "/pos/api/purchase-orders/{id}/cfdi"),
        ("post", "/pos/api/purchase-orders/{id}/cfdi/{uuid}/receive"),
        ("get", "/pos/api/supplier-returns"),
        ("post", "/pos/api/supplier-returns"),
        ("get", "/pos/api/inventory/reorder-rules"),
        ("post", "/pos/api/inventory/reorder-rules"),
        ("patch", "/pos/api/inventory/reorder-rules/{id}"),
        ("delete", "/pos/api/inventory/reorder-rules/{id}"),
        ("post", "/pos/api/inventory/generate-alerts"),
        ("get", "/pos/api/inventory/reorder-alerts"),
        ("put", "/pos/api/inventory/reorder-alerts/{id}/acknowledge"),
        ("put", "/pos/api/inventory/reorder-alerts/{id}/resolve"),
        ("get", "/pos/api/inventory/reorder-suggest-po"),
        ("post", "/pos/api/inventory/reorder-suggest-po"),
        ("get", "/pos/api/inventory/lost-sales"),
        ("post", "/pos/api/inventory/lost-sales"),
        ("get", "/pos/api/special-orders"),
        ("post", "/pos/api/special-orders"),
        ("get", "/pos/api/special-orders/{id}"),
        ("post", "/pos/api/special-orders/{id}/order"),
        ("post", "/pos/api/special-orders/{id}/collect"),
        ("post", "/pos/api/special-orders/{id}/cancel"),
        ("get", "/pos/api/warranty-policies"),
        ("post", "/pos/api/warranty-policies"),
        ("get", "/pos/api/warranty-policies/{id}"),
        ("put", "/pos/api/warranty-policies/{id}"),
        ("delete", "/pos/api/warranty-policies/{id}"),
        ("get", "/pos/api/warranty-settings"),
        ("put", "/pos/api/warranty-settings"),
        ("get", "/pos/api/warranties"),
        ("post", "/pos/api/warranties"),
        ("get", "/pos/api/warranties/{id}"),
        ("get", "/pos/api/customers/{id}/warranties"),
        ("get", "/pos/api/warranty-claims"),
        ("post", "/pos/api/warranty-claims"),
        ("get", "/pos/api/warranty-claims/{id}"),
        ("put", "/pos/api/warranty-claims/{id}/inspect"),
        ("put", "/pos/api/warranty-claims/{id}/approve"),
        ("put", "/pos/api/warranty-claims/{id}/reject"),
        ("put", "/pos/api/warranty-claims/{id}/resolve"),
        ("put", "/pos/api/warranty-claims/{id}/close"),
        ("get", "/pos/api/supplier-claims"),
        ("post", "/pos/api/supplier-claims"),
        ("get", "/pos/api/supplier-claims/unrecovered"),
        ("get", "/pos/api/supplier-claims/{id}"),
        ("put", "/pos/api/supplier-claims/{id}/send"),
        ("put", "/pos/api/supplier-claims/{id}/accept"),
        ("put", "/pos/api/supplier-claims/{id}/reject"),
        ("put", "/pos/api/supplier-claims/{id}/credit"),
        ("put", "/pos/api/supplier-claims/{id}/replace"),
        ("get", "/pos/api/fleets"),
        ("post", "/pos/api/fleets"),
        ("get", "/pos/api/fleets/{id}"),
        ("patch", "/pos/api/fleets/{id}"),
        ("get", "/pos/api/fleets/{id}/cost-centres"),
        ("post", "/pos/api/fleets/{id}/cost-centres"),
        ("get", "/pos/api/fleets/{id}/drivers"),
        ("post", "/pos/api/fleets/{id}/drivers"),
        ("get", "/pos/api/fleets/{id}/vehicles"),
        ("post", "/pos/api/fleets/{id}/vehicles"),
        ("get", "/pos/api/fleets/{id}/contracts"),
        ("post", "/pos/api/fleets/{id}/contracts"),
        ("get", "/pos/api/fleets/{id}/stats"),
        ("put", "/pos/api/fleet-contracts/{id}/close"),
        ("get", "/pos/api/maintenance-plans"),
        ("post", "/pos/api/maintenance-plans"),
        ("get", "/pos/api/fleet-settings"),
        ("put", "/pos/api/fleet-settings"),
        ("get", "/pos/api/vehicles/registered/{id}/odometer"),
        ("post", "/pos/api/vehicles/registered/{id}/odometer"),
        ("get", "/pos/api/vehicles/registered/{id}/maintenance"),
        (
            "post",
            "/pos/api/vehicles/registered/{id}/maintenance/{plan_id}/done",
        ),
        ("get", "/pos/api/vehicles/registered/{id}/logs"),
        ("post", "/pos/api/vehicles/registered/{id}/logs"),
        ("get", "/pos/api/vehicles/registered/{id}/stats"),
        ("get", "/pos/api/purchasing/settings"),
        ("get", "/pos/api/service-orders"),
        ("post", "/pos/api/service-orders"),
        ("get", "/pos/api/service-orders/kanban"),
        ("get", "/pos/api/service-orders/{id}"),
        ("patch", "/pos/api/service-orders/{id}"),
        ("post", "/pos/api/service-orders/{id}/parts"),
        ("post", "/pos/api/service-orders/{id}/labour"),
        ("delete", "/pos/api/service-orders/{id}/lines/{line_id}"),
        ("post", "/pos/api/service-orders/{id}/diagnose"),
        ("post", "/pos/api/service-orders/{id}/submit"),
        ("post", "/pos/api/service-orders/{id}/approve"),
        ("post", "/pos/api/service-orders/{id}/decline"),
        ("post", "/pos/api/service-orders/{id}/repair"),
        ("post", "/pos/api/service-orders/{id}/check"),
        ("post", "/pos/api/service-orders/{id}/rework"),
        ("post", "/pos/api/service-orders/{id}/ready"),
        ("post", "/pos/api/service-orders/{id}/cancel"),
        ("post", "/pos/api/service-orders/{id}/deliver"),
        ("post", "/pos/api/service-orders/{id}/labour-time"),
        ("post", "/pos/api/service-orders/{id}/photos"),
        ("get", "/pos/api/service-orders/{id}/photos/{photo_id}"),
        ("get", "/pos/api/service-orders/{id}/print"),
        ("get", "/pos/api/workshop/settings"),
        ("post", "/pos/api/cores/returns"),
        ("get", "/pos/api/customers/{id}/cores"),
        ("post", "/pos/api/cores/batches"),
        ("post", "/pos/api/cores/batches/{id}/credit"),
        ("get", "/pos/api/suppliers/{id}/cores"),
        ("put", "/pos/api/workshop/settings"),
        ("get", "/so/{token}"),
        ("post", "/so/{token}/answer"),
        ("put", "/pos/api/purchasing/settings"),
        ("get", "/pos/api/inventory/transfers"),
        ("post", "/pos/api/inventory/transfers"),
        ("get", "/pos/api/inventory/transfers/{id}"),
        ("post", "/pos/api/inventory/transfers/{id}/ship"),
        ("post", "/pos/api/inventory/transfers/{id}/receive"),
        ("post", "/pos/api/inventory/transfers/{id}/cancel"),
        ("post", "/pos/api/inventory/transfers/{id}/close"),
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/metrics"),
        ("get", "/api-docs/openapi.json"),
        ("get", "/docs"),
        ("get", "/docs/redoc.standalone.js"),
    ];
    for (method, path) in expected {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from the document"
        );
    }
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        documented,
        expected.len(),
        "a route is documented but not listed here"
    );
    // Every documented operation is served (no 404 from the router for its path).
    for (method, path) in expected {
        let concrete = path
            .replace("{id}", &uuid::Uuid::nil().to_string())
            .replace("{warehouse_id}", &uuid::Uuid::nil().to_string())
            .replace("{vin}", "1HGCM82633A004352")
            .replace("{plate}", "ABC123A")
            .replace("{token}", "not-a-token");
        let m: Method = method.to_uppercase().parse().unwrap();
        let r = app
            .send(TestApp::request(m, &concrete, None, None, None))
            .await;
        assert!(
            !(r.status == StatusCode::NOT_FOUND && r.json["error"]["message"] == "route not found"),
            "{method} {path} is not routed"
        );
        assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
    }
}

async fn query_parameters_are_declared_in_the_query_and_optional_ones_are_not_required(
    app: TestApp,
) {
    let doc = app.get("/api-docs/openapi.json", None).await.json;
    let mut queries = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                let place = p["in"].as_str().unwrap();
                let in_template = path.contains(&format!("{{{name}}}"));
                match place {
                    "path" => assert!(
                        in_template,
                        "{method} {path}: `{name}` is declared in the path but the path has no \
                         {{{name}}}"
                    ),
                    "query" => {
                        assert!(!in_template, "{method} {path}: `{name}`");
                        queries += 1;
                    }
                    _ => {}
                }
            }
        }
    }
    assert!(queries > 50, "the listings' filters are query parameters");
    // A filter the server treats as optional is not required in the document.
    let sales = &doc["paths"]["/pos/api/sales"]["get"]["parameters"];
    let status = sales
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "status")
        .unwrap();
    assert_eq!(status["in"], "query");
    assert_ne!(status["required"], true);
    let r = app.get("/pos/api/sales?page=1", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
}

async fn the_docs_page_loads_nothing_from_the_internet(app: TestApp) {
    let r = app.get("/docs", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = r.text();
    assert!(page.contains("/api-docs/openapi.json"));
    assert!(
        !page.contains("http://") && !page.contains("https://") && !page.contains("src=\"//"),
        "external reference in /docs"
    );
}

async fn responses_are_compressed_when_asked(app: TestApp) {
    let req = Request::get("/api-docs/openapi.json")
        .header("accept-encoding", "gzip")
        .body(Body::empty())
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.headers["content-encoding"], "gzip");
}

/// Every list the OpenAPI document says is paged (a `page` query parameter, no path parameter)
/// answers a page past the bound, and a page size of 0, with 422 naming the field, never a 500.
async fn a_page_past_the_bound_is_422_on_every_paged_list(app: TestApp) {
    let t = app.tenant("paginas").await;
    let owner = app.token(&t.owner_email).await;
    let doc = serde_json::to_value(api::openapi()).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        let params = get["parameters"].as_array().cloned().unwrap_or_default();
        let paged = params.iter().any(|p| p["name"] == "page");
        if !paged || path.contains('{') {
            continue;
        }
        for (query, field) in [
            ("page=18446744073709551615", "page"),
            ("per_page=0", "per_page"),
        ] {
            let r = app.session(&owner).get(&format!("{path}?{query}")).await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{path}?{query}: {}",
                r.text()
            );
            assert_eq!(r.json["error"]["field"], field, "{path}?{query}");
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} paged lists found");
}
