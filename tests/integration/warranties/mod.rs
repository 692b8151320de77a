//! Warranties: policies per item and brand, the warranty each sold line gets at checkout (and
//! keeps when the policy changes), registration by hand, eligibility at its month and km
//! limits, claims through every step to a replacement, a refund (with its credit note when
//! invoiced) or a repair, claims to suppliers and the unrecovered report, the
//! `warranty_expiring` events, and who may do what.

mod claims;
mod coverage;
mod policies;
mod supplier_claims;

use entities::warranties::tables::warranty;
use http::StatusCode;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};
use tests::TestApp;
use tests::cfdi::{FiscalShop, fiscal_shop};
use uuid::Uuid;

/// The id of a JSON object.
pub fn id(v: &Value) -> Uuid {
    v["id"].as_str().unwrap().parse().unwrap()
}

/// A shop ready to invoice (customer, items `a` at $450.00 and `b` at $123.50, both brand ACME,
/// 100 of each in its warehouse).
pub async fn shop(app: &TestApp, slug: &str) -> FiscalShop {
    fiscal_shop(app, slug).await
}

/// Creates a policy as the owner; answers it.
pub async fn policy(app: &TestApp, f: &FiscalShop, body: Value) -> Value {
    let r = app
        .session(&f.s.owner)
        .post("/pos/api/warranty-policies", body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json
}

/// Sells `lines` (`[(item, qty)]`) to the shop's customer, paid by card for `total`; answers
/// the sale.
pub async fn sell(app: &TestApp, f: &FiscalShop, lines: &[(Uuid, i64)], total: &str) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(i, q)| json!({"item_id": i, "warehouse_id": f.s.wh, "qty": q}))
        .collect();
    let r = app
        .session(&f.s.owner)
        .post(
            "/pos/api/sales",
            json!({"branch_id": f.s.branch, "customer_id": f.customer, "lines": lines,
                   "payments": [{"method": "card", "amount": total}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json
}

/// The warranties of a sale.
pub async fn warranties_of(app: &TestApp, f: &FiscalShop, sale: &Value) -> Vec<Value> {
    let r = app
        .session(&f.s.owner)
        .get(&format!(
            "/pos/api/warranties?sale_id={}",
            sale["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json["items"].as_array().unwrap().clone()
}

/// Moves a warranty's last day to `today + days` (a test cannot wait months).
pub async fn ends_in(f: &FiscalShop, warranty: Uuid, days: i64) {
    let w = warranty::Entity::find_by_id(warranty)
        .one(&f.s.db)
        .await
        .unwrap()
        .unwrap();
    let mut am: warranty::ActiveModel = w.into();
    am.expires_on = Set(entities::today() + chrono::Duration::days(days));
    am.update(&f.s.db).await.unwrap();
}

/// Opens a claim on a warranty as the owner with `extra` fields; answers the response.
pub async fn open_claim(
    app: &TestApp,
    f: &FiscalShop,
    warranty: Uuid,
    extra: Value,
) -> tests::TestResponse {
    let mut body = json!({"warranty_id": warranty, "complaint": "hace ruido al frenar"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    app.session(&f.s.owner)
        .post("/pos/api/warranty-claims", body)
        .await
}

/// Takes a claim step (`inspect`, `approve`, `reject`, `resolve`, `close`) as `token`.
pub async fn claim_step(
    app: &TestApp,
    token: &str,
    claim: Uuid,
    step: &str,
    body: Value,
) -> tests::TestResponse {
    app.session(token)
        .put(&format!("/pos/api/warranty-claims/{claim}/{step}"), body)
        .await
}

/// A sale of one `a` with an item policy on `a` (12 months, no km), its warranty and an
/// approved claim on it; answers (sale, warranty id, claim id).
pub async fn approved_claim(app: &TestApp, f: &FiscalShop) -> (Value, Uuid, Uuid) {
    policy(
        app,
        f,
        json!({"item_id": f.a, "months": 12, "coverage": "parts", "starts_on": "sale", "supplier_months": 6}),
    )
    .await;
    let sale = sell(app, f, &[(f.a, 1)], "450.00").await;
    let w = id(&warranties_of(app, f, &sale).await[0]);
    let r = open_claim(app, f, w, json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let c = id(&r.json);
    for step in ["inspect", "approve"] {
        let r = claim_step(app, &f.s.owner, c, step, json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{step}: {}", r.text());
    }
    (sale, w, c)
}
