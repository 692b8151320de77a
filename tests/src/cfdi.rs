//! A shop ready to invoice against the Facturapi fake: fiscal settings with the fake's key, the
//! branch's postal code, a customer with fiscal data and credit, and helpers to sell, invoice,
//! return and wait for a CFDI's status, with the `cfdi` workers pointed at the fake.

use std::sync::Arc;
use std::time::Duration;

use entities::{customers::tables::customer, invoicing::tables::invoice, jobs::tables::outbox};
use http::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};
use uuid::Uuid;
use workers::clients::facturapi::FacturapiConfig;
use workers::runtime::Runtime;
use workers::services::Services;

use crate::fakes::facturapi::{self, FacturapiFake};
use crate::run::start_workers;
use crate::shop::Shop;
use crate::{TestApp, TestResponse};

/// A shop with fiscal settings, a fiscal customer with a credit line, and two items in stock.
pub struct FiscalShop {
    /// The shop.
    pub s: Shop,
    /// The customer (RFC EKU9003173C9, regime 601, zip 64000, credit limit $100,000).
    pub customer: Uuid,
    /// An item at $450.00 (IVA included).
    pub a: Uuid,
    /// An item at $123.50.
    pub b: Uuid,
}

/// `PUT /pos/api/settings/fiscal` with `body` as `token`.
pub async fn put_fiscal(app: &TestApp, token: &str, body: Value) -> TestResponse {
    app.put("/pos/api/settings/fiscal", Some(token), body).await
}

/// Opens the shop `slug` ready to invoice.
pub async fn fiscal_shop(app: &TestApp, slug: &str) -> FiscalShop {
    let s = Shop::open(app, slug).await;
    let r = put_fiscal(
        app,
        &s.owner,
        json!({"issuer_rfc": "EKU9003173C9", "legal_name": "Escuela Kemper Urgate",
               "tax_regime": "601", "facturapi_key": facturapi::SECRET_KEY}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .patch(
            &format!("/pos/api/branches/{}", s.branch),
            Some(&s.owner),
            json!({"postal_code": facturapi::EXPEDITION_ZIP}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let now = entities::now();
    let customer = Uuid::now_v7();
    customer::ActiveModel {
        id: Set(customer),
        name: Set("ESCUELA KEMPER URGATE".into()),
        rfc: Set(Some("EKU9003173C9".into())),
        tax_regime: Set(Some("601".into())),
        zip: Set(Some("64000".into())),
        email: Set(Some("compras@kemper.mx".into())),
        whatsapp_phone: Set(None),
        price_list: Set("mostrador".into()),
        credit_limit_cents: Set(10_000_000),
        balance_cents: Set(0),
        store_credit_cents: Set(0),
        loyalty_points_cents: Set(0),
        loyalty_tier: Set("bronze".into()),
        referral_code: Set(None),
        notes: Set(None),
        search_text: Set(None),
        is_active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&s.db)
    .await
    .expect("customer");
    let a = s.item("BAL-1", 45_000, Some(52_000), 0).await;
    let b = s.item("FIL-2", 12_350, None, 0).await;
    s.stock(a, s.wh, 100).await;
    s.stock(b, s.wh, 100).await;
    FiscalShop { s, customer, a, b }
}

/// How a fixture sale is paid: at once (its invoice is PUE) or on credit (PPD).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paid {
    /// By card, in full.
    Card,
    /// On the customer's credit account.
    OnCredit,
}

impl FiscalShop {
    /// Sells 2 × A and 3 × B (5 % off) to the customer by card ($1,251.97); answers its id.
    pub async fn sell(&self, app: &TestApp) -> String {
        self.sell_paid(app, Paid::Card).await
    }

    /// The same sale on the customer's credit (its invoice is PPD).
    pub async fn sell_on_credit(&self, app: &TestApp) -> String {
        self.sell_paid(app, Paid::OnCredit).await
    }

    /// The same sale, paid as `paid` says.
    pub async fn sell_paid(&self, app: &TestApp, paid: Paid) -> String {
        let method = match paid {
            Paid::Card => "card",
            Paid::OnCredit => "credit",
        };
        let r = app
            .post(
                "/pos/api/sales",
                Some(&self.s.owner),
                json!({"branch_id": self.s.branch, "customer_id": self.customer, "lines": [
                    {"item_id": self.a, "warehouse_id": self.s.wh, "qty": 2},
                    {"item_id": self.b, "warehouse_id": self.s.wh, "qty": 3, "discount": "5"}
                ], "payments": [{"method": method, "amount": "1251.97"}]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json["id"].as_str().expect("sale id").to_owned()
    }

    /// Asks for the sale's invoice; returns its id.
    pub async fn invoice(&self, app: &TestApp, sale: &str) -> String {
        let r = app
            .post(
                &format!("/pos/api/sales/{sale}/invoice"),
                Some(&self.s.owner),
                json!({}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.text());
        r.json["id"].as_str().expect("invoice id").to_owned()
    }

    /// Returns `lines` (line number, units) of a sale; answers the return.
    pub async fn give_back(&self, app: &TestApp, sale: &str, lines: &[(i32, i64)]) -> Value {
        let lines: Vec<Value> = lines
            .iter()
            .map(|(no, qty)| json!({"line_no": no, "qty": qty}))
            .collect();
        let r = app
            .post(
                &format!("/pos/api/sales/{sale}/returns"),
                Some(&self.s.owner),
                json!({"lines": lines, "reason": "no le quedó"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json
    }

    /// Asks for the credit note of a return.
    pub async fn credit_note(
        &self,
        app: &TestApp,
        sale: &str,
        ret: &str,
        body: Value,
    ) -> TestResponse {
        app.post(
            &format!("/pos/api/sales/{sale}/returns/{ret}/credit-note"),
            Some(&self.s.owner),
            body,
        )
        .await
    }

    /// `cfdi.stamp` jobs written to the outbox so far.
    pub async fn stamp_jobs(&self) -> u64 {
        outbox::Entity::find()
            .filter(outbox::Column::JobName.eq("cfdi.stamp"))
            .count(&self.s.db)
            .await
            .expect("outbox")
    }

    /// Invoices of `kind` (`I`, `E`, `P`).
    pub async fn invoices_of_kind(&self, kind: &str) -> Vec<invoice::Model> {
        invoice::Entity::find()
            .filter(invoice::Column::Kind.eq(kind))
            .all(&self.s.db)
            .await
            .expect("invoices")
    }
}

/// The invoicing jobs with Facturapi pointed at `fake`, driven by the test itself
/// ([`TestApp::drive_jobs`]): each wait of the harness runs the due jobs in the test's task.
/// For tests about timing or concurrency (retries after `Retry-After`, many stamps at once)
/// there are [`pools_on`] and [`workers_with_timeout`].
pub fn workers_on(app: &TestApp, fake: &FacturapiFake) -> crate::run::Driving {
    app.drive_jobs(Arc::new(runtime_on(app, fake, Duration::from_secs(5))))
}

/// Starts the relay and real worker pools with Facturapi pointed at `fake`.
#[must_use]
pub fn pools_on(app: &TestApp, fake: &FacturapiFake) -> tokio::sync::watch::Sender<bool> {
    workers_with_timeout(app, fake, Duration::from_secs(5))
}

/// Starts the relay and the worker pools with Facturapi pointed at `fake`, each call given up
/// after `timeout`, and the app's file store for the XML and PDF.
#[must_use]
pub fn workers_with_timeout(
    app: &TestApp,
    fake: &FacturapiFake,
    timeout: Duration,
) -> tokio::sync::watch::Sender<bool> {
    start_workers(app, Arc::new(runtime_on(app, fake, timeout)))
}

/// The workers' runtime with Facturapi pointed at `fake`, each call given up after `timeout`.
#[must_use]
pub fn runtime_on(app: &TestApp, fake: &FacturapiFake, timeout: Duration) -> Runtime {
    Runtime::new(
        app.app.platform.clone(),
        app.app.tenants.clone(),
        workers::handlers::all(Services {
            facturapi: Some(FacturapiConfig {
                base_url: fake.url.clone(),
                timeout,
                // Short backoff: a run of faults must not make the test wait minutes.
                retry: workers::runtime::RetryPolicy {
                    max_attempts: 30,
                    base: Duration::from_millis(50),
                    max: Duration::from_millis(500),
                },
            }),
            files: app.app.services.files.clone(),
            ..Services::default()
        }),
    )
}

/// Waits (up to a minute) until the invoice `id` has `status`, running the due jobs first when
/// the test drives them; answers the invoice.
pub async fn invoice_when(app: &TestApp, token: &str, id: &str, status: &str) -> Value {
    invoice_field_when(app, token, id, "status", &[status]).await
}

/// Waits (up to a minute) until the invoice `id`'s `field` is one of `values`, running the due
/// jobs first when the test drives them; answers the invoice.
pub async fn invoice_field_when(
    app: &TestApp,
    token: &str,
    id: &str,
    field: &str,
    values: &[&str],
) -> Value {
    let mut last = Value::Null;
    for _ in 0..1200 {
        app.run_jobs().await;
        let r = app
            .get(&format!("/pos/api/invoices/{id}"), Some(token))
            .await;
        if values.iter().any(|v| r.json[field] == *v) {
            return r.json;
        }
        last = r.json;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("invoice {id}'s {field} never became one of {values:?}: {last}");
}
/// The body the fake received for `external_id` and stamped (status 200), the last one.
#[must_use]
pub fn stamped_body(fake: &FacturapiFake, external_id: &str) -> Value {
    fake.bodies_for(external_id)
        .into_iter()
        .rev()
        .find(|(st, _)| *st == 200)
        .map(|(_, b)| b)
        .unwrap_or_else(|| panic!("the fake stamped nothing for {external_id}"))
}

/// The total Facturapi (the fake) computed for our invoice `id`, once it has it.
pub async fn facturapi_total(
    fake: &FacturapiFake,
    db: &sea_orm::DatabaseConnection,
    id: &str,
) -> i64 {
    let row = invoice::Entity::find_by_id(id.parse::<Uuid>().expect("uuid"))
        .one(db)
        .await
        .expect("invoice")
        .expect("the invoice");
    let fid = row.facturapi_id.expect("Facturapi's id");
    cents(&fake.invoice(&fid).expect("the fake's invoice")["total"])
}

/// A JSON number or decimal string as centavos (`"12.34"` or `12.34` → 1234).
#[must_use]
pub fn cents(v: &Value) -> i64 {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => panic!("not an amount: {other}"),
    };
    let (neg, s) = s
        .strip_prefix('-')
        .map_or((false, s.as_str()), |r| (true, r));
    let (units, frac) = s.split_once('.').unwrap_or((s, ""));
    let frac = frac.trim_end_matches('0');
    assert!(frac.len() <= 2, "{s} has more than 2 decimals");
    let c = units.parse::<i64>().expect("units") * 100
        + format!("{frac:0<2}").parse::<i64>().expect("decimals");
    if neg { -c } else { c }
}
