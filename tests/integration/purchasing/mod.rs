//! Buying: suppliers and price lists, purchase orders and every transition, receipts (their
//! stock, ledger, average cost and concurrency), the supplier's CFDI, returns to suppliers,
//! reorder rules, alerts and suggestions, the nightly velocity, lost sales and special orders.

mod cfdi;
mod orders;
mod receiving;
mod reorder;
mod special_orders;
mod suppliers;

use http::StatusCode;
use serde_json::{Value, json};
use tests::TestApp;
use uuid::Uuid;

use crate::inventory::stock::{Fixture, fixture, item};

/// A tenant with two branches of two warehouses, a supplier and two items.
pub struct Buying {
    /// The inventory fixture (owner token, warehouses).
    pub f: Fixture,
    /// A supplier, RFC `PRO010101AB1`, e-mail `ventas@proveedor.mx`.
    pub supplier: Uuid,
    /// Items `A` and `B` (cost 10.50).
    pub items: [Uuid; 2],
}

impl Buying {
    /// The owner's token.
    pub fn token(&self) -> &str {
        &self.f.token
    }

    /// The first warehouse.
    pub fn wh(&self) -> Uuid {
        self.f.wh[0][0]
    }
}

/// The id of a JSON object.
pub fn id(v: &Value) -> Uuid {
    v["id"].as_str().unwrap().parse().unwrap()
}

/// Makes a [`Buying`] tenant called `slug`.
pub async fn buying(app: &TestApp, slug: &str) -> Buying {
    let f = fixture(app, slug).await;
    let r = app
        .session(&f.token)
        .post(
            "/pos/api/suppliers",
            json!({"name": "Refacciones del Norte", "rfc": "PRO010101AB1", "email": "ventas@proveedor.mx", "lead_days": 3, "payment_terms_days": 30}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let supplier = id(&r.json);
    let a = item(app, &f.token, &format!("{slug}-A")).await;
    let b = item(app, &f.token, &format!("{slug}-B")).await;
    Buying {
        f,
        supplier,
        items: [a, b],
    }
}

/// Creates a draft order of `lines` (`[(item, qty, "unit cost")]`) to the first warehouse.
pub async fn order(app: &TestApp, b: &Buying, lines: &[(Uuid, i64, &str)]) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(i, q, c)| json!({"item_id": i, "qty": q, "unit_cost": c}))
        .collect();
    let r = app
        .session(b.token())
        .post(
            "/pos/api/purchase-orders",
            json!({"supplier_id": b.supplier, "warehouse_id": b.wh(), "lines": lines}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json
}

/// Takes a step (`send`, `confirm`, `cancel`, `close`, `approve`) on an order.
pub async fn step(app: &TestApp, token: &str, po: Uuid, what: &str) -> tests::TestResponse {
    app.session(token)
        .post(&format!("/pos/api/purchase-orders/{po}/{what}"), json!({}))
        .await
}

/// Receives `lines` (`[(line id, qty)]`) of an order.
pub async fn receive(
    app: &TestApp,
    token: &str,
    po: Uuid,
    lines: &[(Uuid, i64)],
) -> tests::TestResponse {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(l, q)| json!({"line_id": l, "qty": q}))
        .collect();
    app.session(token)
        .post(
            &format!("/pos/api/purchase-orders/{po}/receipts"),
            json!({"lines": lines}),
        )
        .await
}

/// The workers' runtime with the app's file store, for tests that drive their jobs.
pub fn runtime(app: &TestApp) -> std::sync::Arc<workers::runtime::Runtime> {
    std::sync::Arc::new(workers::runtime::Runtime::new(
        app.app.platform.clone(),
        app.app.tenants.clone(),
        workers::handlers::all(workers::services::Services {
            files: app.app.services.files.clone(),
            ..workers::services::Services::default()
        }),
    ))
}

/// The ids of an order's lines, in order.
pub fn line_ids(po: &Value) -> Vec<Uuid> {
    po["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().parse().unwrap())
        .collect()
}
