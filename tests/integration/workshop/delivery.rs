//! Delivery charged through the counter and invoiced: parts and labour each their own concept
//! (ClaveProdServ and unit: the part's H87, labour 78181500 and E48), the CFDI total equal to
//! the order's to the centavo; a retried delivery charges once; the customer's account.

use http::StatusCode;
use serde_json::json;
use tests::cfdi::{cents, fiscal_shop, invoice_when, stamped_body, workers_on};
use tests::fakes::facturapi::FacturapiFake;
use tests::shop::post_with_key;
use tests::{TestApp, shape_tests};

use super::id;

shape_tests!(
    a_delivered_order_is_invoiced_with_parts_and_labour_as_separate_concepts,
    a_retried_delivery_charges_once_and_credit_goes_to_the_customers_account,
);

async fn ready_order(app: &TestApp, f: &tests::cfdi::FiscalShop) -> uuid::Uuid {
    let s = app.session(&f.s.owner);
    let labour = f.s.service("MO-FRENOS", 45_000).await;
    let r = s
        .post("/pos/api/service-orders", json!({"branch_id": f.s.branch, "customer_id": f.customer, "plate": "XYZ-987-B", "vehicle_label": "2015 Ford Ranger", "complaint": "frenos"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let oid = id(&r.json);
    for a in ["diagnose"] {
        s.post(&format!("/pos/api/service-orders/{oid}/{a}"), json!({}))
            .await;
    }
    s.post(
        &format!("/pos/api/service-orders/{oid}/parts"),
        json!({"item_id": f.a, "warehouse_id": f.s.wh, "qty": 2}),
    )
    .await;
    s.post(
        &format!("/pos/api/service-orders/{oid}/parts"),
        json!({"item_id": f.b, "warehouse_id": f.s.wh, "qty": 3, "discount_percent": "5"}),
    )
    .await;
    let r = s
        .post(
            &format!("/pos/api/service-orders/{oid}/labour"),
            json!({"item_id": labour, "hours": "1.25"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    for a in ["submit"] {
        s.post(&format!("/pos/api/service-orders/{oid}/{a}"), json!({}))
            .await;
    }
    let r = s
        .post(
            &format!("/pos/api/service-orders/{oid}/approve"),
            json!({"by": "Compras Kemper", "channel": "whatsapp"}),
        )
        .await;
    assert_eq!(r.json["status"], "in_repair", "{}", r.text());
    for a in ["check", "ready"] {
        let r = s
            .post(&format!("/pos/api/service-orders/{oid}/{a}"), json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    oid
}

async fn a_delivered_order_is_invoiced_with_parts_and_labour_as_separate_concepts(app: TestApp) {
    let fake = FacturapiFake::start().await;
    let f = fiscal_shop(&app, "taller-factura").await;
    let oid = ready_order(&app, &f).await;
    let s = app.session(&f.s.owner);
    let o = s.get(&format!("/pos/api/service-orders/{oid}")).await.json;
    // 2 × 450.00 + 3 × 123.50 − 5 % + 1.25 h × 450.00 (562.50).
    assert_eq!(o["charged"]["total"], "1814.47", "{o}");
    let r = s
        .post(
            &format!("/pos/api/service-orders/{oid}/deliver"),
            json!({"payments": [{"method": "card", "amount": "1814.47", "reference": "A1"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let sale = r.json["sale"]["id"].as_str().unwrap().to_owned();
    let _w = workers_on(&app, &fake);
    let inv = f.invoice(&app, &sale).await;
    let v = invoice_when(&app, &f.s.owner, &inv, "valid").await;
    assert_eq!(
        cents(&v["total"]),
        181_447,
        "the CFDI charges the order to the centavo"
    );
    let body = stamped_body(&fake, &inv);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{body}");
    let keys: Vec<(String, String)> = items
        .iter()
        .map(|i| {
            (
                i["product"]["product_key"].as_str().unwrap().to_owned(),
                i["product"]["unit_key"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(keys[0], ("25174800".to_owned(), "H87".to_owned()));
    assert_eq!(keys[1], ("25174800".to_owned(), "H87".to_owned()));
    assert_eq!(
        keys[2],
        ("78181500".to_owned(), "E48".to_owned()),
        "labour is a service"
    );
    assert_eq!(items[2]["product"]["description"], "Servicio MO-FRENOS");
}

async fn a_retried_delivery_charges_once_and_credit_goes_to_the_customers_account(app: TestApp) {
    let f = fiscal_shop(&app, "taller-reintento").await;
    let oid = ready_order(&app, &f).await;
    let body = json!({"payments": [{"method": "credit", "amount": "1814.47"}]});
    let path = format!("/pos/api/service-orders/{oid}/deliver");
    let a = post_with_key(&app, &path, &f.s.owner, "entrega-1", &body).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let b = post_with_key(&app, &path, &f.s.owner, "entrega-1", &body).await;
    assert_eq!(b.status, StatusCode::OK, "{}", b.text());
    assert_eq!(
        a.json["sale"]["id"], b.json["sale"]["id"],
        "the first answer, replayed"
    );
    let c = app
        .session(&f.s.owner)
        .get(&format!("/pos/api/customers/{}", f.customer))
        .await;
    assert_eq!(c.json["balance"], "1814.47", "{}", c.text());
    // A second delivery without the key finds the order delivered.
    let r = app.session(&f.s.owner).post(&path, body).await;
    assert_eq!(r.code(), "invalid_transition");
    // Its sale is not cancelled whole (its parts were installed); a labour line is not returned.
    let sale = a.json["sale"]["id"].as_str().unwrap();
    let r = app
        .session(&f.s.owner)
        .post(
            &format!("/pos/api/sales/{sale}/cancel"),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(r.code(), "sale_from_service_order", "{}", r.text());
    let r = app
        .session(&f.s.owner)
        .post(
            &format!("/pos/api/sales/{sale}/returns"),
            json!({"lines": [{"line_no": 3, "qty": 1}], "reason": "x"}),
        )
        .await;
    assert_eq!(r.code(), "line_not_returnable", "{}", r.text());
}
