//! The workshop: service orders through every transition and each forbidden one, supplements
//! approved again, the customer's answer through the public link, parts held at approval and
//! used at `ready` (the ledger equal to the balances, never below zero, the last unit held
//! once), delivery charged through the counter and invoiced with parts and labour apart, the
//! kanban, mechanics' reach, photos and the printable order.

mod cores;
mod delivery;
mod flow;
mod pages;
mod stock;

use http::StatusCode;
use serde_json::{Value, json};
use tests::TestApp;
use tests::shop::Shop;
use uuid::Uuid;

/// A shop with a workshop: a customer with a registered vehicle, two parts in stock and two
/// labour operations.
pub struct Garage {
    /// The shop (owner token, branches, warehouses).
    pub s: Shop,
    /// The customer.
    pub customer: Uuid,
    /// Their registered vehicle, plate `ABC123A`.
    pub vehicle: Uuid,
    /// Brake pads at $450.00, 10 in stock.
    pub pads: Uuid,
    /// A rotor at $1,200.00, 2 in stock.
    pub rotor: Uuid,
    /// Labour by the hour at $400.00.
    pub hourly: Uuid,
    /// Revision and diagnosis, flat $250.00.
    pub diagnosis: Uuid,
}

/// The id of a JSON object.
pub fn id(v: &Value) -> Uuid {
    v["id"].as_str().expect("id").parse().expect("uuid")
}

/// Opens a garage called `slug`.
pub async fn garage(app: &TestApp, slug: &str) -> Garage {
    let s = Shop::open(app, slug).await;
    let owner = app.session(&s.owner);
    let r = owner
        .post("/pos/api/customers", json!({"name": "Transportes Garza"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let customer = id(&r.json);
    let r = owner
        .post(
            "/pos/api/vehicles/registered",
            json!({"plate": "ABC-123-A", "customer_id": customer, "year": 2018, "make": "Nissan", "model": "Versa"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let vehicle = id(&r.json);
    let pads = s.item(&format!("{slug}-BALATA"), 45_000, None, 0).await;
    let rotor = s.item(&format!("{slug}-DISCO"), 120_000, None, 0).await;
    s.stock(pads, s.wh, 10).await;
    s.stock(rotor, s.wh, 2).await;
    let hourly = s.service(&format!("{slug}-MO-HORA"), 40_000).await;
    let diagnosis = s.service(&format!("{slug}-DIAG"), 25_000).await;
    Garage {
        s,
        customer,
        vehicle,
        pads,
        rotor,
        hourly,
        diagnosis,
    }
}

impl Garage {
    /// The owner's token.
    pub fn owner(&self) -> &str {
        &self.s.owner
    }

    /// Receives the registered vehicle with `extra` fields merged in; answers the order.
    pub async fn receive(&self, app: &TestApp, token: &str, extra: Value) -> Value {
        let mut body = json!({
            "branch_id": self.s.branch, "customer_id": self.customer, "vehicle_id": self.vehicle,
            "odometer_km": 85_000, "fuel_eighths": 3,
            "accessories": {"llanta de refacción": true, "gato": false},
            "complaint": "Rechinan los frenos delanteros", "accepts_used_parts": false,
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let r = app
            .session(token)
            .post("/pos/api/service-orders", body)
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json
    }

    /// Adds `qty` of `item` from the first warehouse.
    pub async fn part(
        &self,
        app: &TestApp,
        token: &str,
        order: Uuid,
        item: Uuid,
        qty: i64,
    ) -> Value {
        let r = app
            .session(token)
            .post(
                &format!("/pos/api/service-orders/{order}/parts"),
                json!({"item_id": item, "warehouse_id": self.s.wh, "qty": qty}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json
    }

    /// Adds labour (`body` merged over the hourly operation).
    pub async fn labour(&self, app: &TestApp, token: &str, order: Uuid, body: Value) -> Value {
        let mut b = json!({"item_id": self.hourly});
        if let (Some(o), Some(e)) = (b.as_object_mut(), body.as_object()) {
            for (k, v) in e {
                o.insert(k.clone(), v.clone());
            }
        }
        let r = app
            .session(token)
            .post(&format!("/pos/api/service-orders/{order}/labour"), b)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json
    }

    /// An order received, diagnosed, with `parts` ((item, qty)) and 1.5 h of labour, sent and
    /// approved in person; answers it.
    pub async fn approved(&self, app: &TestApp, parts: &[(Uuid, i64)]) -> Value {
        let o = self.receive(app, self.owner(), json!({})).await;
        let oid = id(&o);
        step(app, self.owner(), oid, "diagnose", json!({})).await;
        for (item, qty) in parts {
            self.part(app, self.owner(), oid, *item, *qty).await;
        }
        self.labour(app, self.owner(), oid, json!({"hours": "1.5"}))
            .await;
        step(app, self.owner(), oid, "submit", json!({})).await;
        let r = approve(app, self.owner(), oid).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json
    }
}

/// Takes `action` on an order and expects it to succeed; answers the order.
pub async fn step(app: &TestApp, token: &str, order: Uuid, action: &str, body: Value) -> Value {
    let r = try_step(app, token, order, action, body).await;
    assert_eq!(r.status, StatusCode::OK, "{action}: {}", r.text());
    r.json
}

/// Takes `action` on an order.
pub async fn try_step(
    app: &TestApp,
    token: &str,
    order: Uuid,
    action: &str,
    body: Value,
) -> tests::TestResponse {
    app.session(token)
        .post(&format!("/pos/api/service-orders/{order}/{action}"), body)
        .await
}

/// The customer's approval taken in person.
pub async fn approve(app: &TestApp, token: &str, order: Uuid) -> tests::TestResponse {
    try_step(
        app,
        token,
        order,
        "approve",
        json!({"by": "Juan Garza", "channel": "in_person"}),
    )
    .await
}

/// The public token of an order's link.
pub fn link_token(order: &Value) -> String {
    order["public_url"]
        .as_str()
        .expect("public_url")
        .rsplit('/')
        .next()
        .expect("token")
        .to_owned()
}
