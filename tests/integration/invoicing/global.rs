//! The global invoice to the general public: one per branch and closed day, a concept per ticket
//! and IVA rate net of returns, the total equal to the tickets' to the centavo; a rerun creates
//! nothing; concurrent runs make one; the motive-04 path (nominative asked for a sale in a
//! stamped global: the global is cancelled with motive 04 and replaced without that sale, also
//! when the cancellation is accepted later through Facturapi's webhook; a cancellation the SAT
//! refuses alerts the owners and admins); a period of more than 5,000 concepts split into
//! several globals; all through the Facturapi fake, each document stamped once.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entities::Role;
use entities::invoicing::global::{self, Scope};
use entities::{
    counter::tables::sale, invoicing::tables::global_invoice,
    invoicing::tables::global_invoice_sale, invoicing::tables::invoice, jobs::tables::outbox,
};
use http::{Method, StatusCode};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, Set,
};
use serde_json::{Value, json};
use tests::cfdi::{fiscal_shop, put_fiscal, workers_on};
use tests::fakes::facturapi::{self, FacturapiFake, Mode};
use tests::shop::Shop;
use tests::{TestApp, TestResponse, shape_tests};
use uuid::Uuid;
use workers::handlers::invoicing::global::run;

shape_tests!(
    a_day_of_mixed_sales_makes_one_global_per_branch_to_the_cent_and_a_rerun_makes_nothing,
    a_period_without_sales_makes_no_global_invoice,
    two_concurrent_runs_for_the_same_period_make_one_global_invoice,
    a_nominative_invoice_of_a_sale_in_a_global_cancels_it_with_motive_04_and_replaces_it,
    bad_global_runs_are_refused_and_write_nothing,
    the_global_periodicity_is_a_fiscal_setting,
    a_global_refused_by_the_sat_frees_its_sales_for_the_next_run,
    a_motive_04_cancellation_the_sat_refuses_alerts_the_owners_and_admins_and_keeps_the_global,
    a_motive_04_cancellation_accepted_through_the_webhook_issues_the_replacement,
    a_motive_04_cancellation_rejected_through_the_webhook_alerts_the_owners_and_admins_once,
    a_period_of_more_than_5000_concepts_is_split_into_globals_of_at_most_5000_to_the_cent,
);

/// A shop on the fake with fiscal settings, both branches at the fake's expedition zip, a
/// customer with fiscal data and three items stocked in both branches.
struct Store {
    s: Shop,
    customer: Uuid,
    items: [Uuid; 3],
}

async fn store(app: &TestApp, slug: &str) -> Store {
    let f = fiscal_shop(app, slug).await;
    // The border branch issues its own globals: it needs its place of issue too.
    let r = app
        .session(&f.s.owner)
        .patch(
            &format!("/pos/api/branches/{}", f.s.border),
            json!({"postal_code": facturapi::EXPEDITION_ZIP}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let c = f.s.item("ACE-3", 19_999, None, 0).await;
    f.s.stock(c, f.s.wh, 100).await;
    for it in [f.a, f.b, c] {
        f.s.stock(it, f.s.border_wh, 100).await;
    }
    Store {
        s: f.s,
        customer: f.customer,
        items: [f.a, f.b, c],
    }
}

/// Noon of the day before today, Mexico City time.
fn yesterday_noon() -> DateTime<Utc> {
    let today = global::local_date(entities::now());
    global::local_midnight(today.pred_opt().unwrap()) + chrono::Duration::hours(12)
}

/// A sale of the store to build: `st.sale(&[(item index, qty)])`, then `.border()` (the 8 %
/// branch), `.for_customer()`, `.paid_by("card")` (cash by default), `.at(t)` (yesterday noon by
/// default), and `.sell(&app).await`.
struct SaleOf<'a> {
    st: &'a Store,
    lines: Vec<(usize, i64)>,
    border: bool,
    customer: bool,
    method: &'static str,
    at: DateTime<Utc>,
}

impl Store {
    fn sale(&self, lines: &[(usize, i64)]) -> SaleOf<'_> {
        SaleOf {
            st: self,
            lines: lines.to_vec(),
            border: false,
            customer: false,
            method: "cash",
            at: yesterday_noon(),
        }
    }
}

impl SaleOf<'_> {
    /// Sold at the border branch (IVA 8 %).
    fn border(mut self, yes: bool) -> Self {
        self.border = yes;
        self
    }

    /// Sold to the store's customer (who has fiscal data).
    fn for_customer(mut self) -> Self {
        self.customer = true;
        self
    }

    /// Paid in full by `method`.
    fn paid_by(mut self, method: &'static str) -> Self {
        self.method = method;
        self
    }

    /// Dated `at`.
    fn at(mut self, at: DateTime<Utc>) -> Self {
        self.at = at;
        self
    }

    /// Sells it through the API and dates it; answers the sale row.
    async fn sell(self, app: &TestApp) -> sale::Model {
        let SaleOf {
            st,
            lines,
            border,
            customer,
            method,
            at,
        } = self;
        let lines = &lines[..];
        let (branch, wh) = if border {
            (st.s.border, st.s.border_wh)
        } else {
            (st.s.branch, st.s.wh)
        };
        let lines: Vec<Value> = lines
            .iter()
            .map(|(i, q)| json!({"item_id": st.items[*i], "warehouse_id": wh, "qty": q}))
            .collect();
        // Priced first, paid exactly.
        let mut body = json!({"branch_id": branch, "lines": lines, "payments": [{"method": "cash", "amount": "100000"}]});
        if customer {
            body["customer_id"] = json!(st.customer);
        }
        let r = app.session(&st.s.owner).post("/pos/api/sales", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let id: Uuid = r.json["id"].as_str().unwrap().parse().unwrap();
        let total = sale::Entity::find_by_id(id)
            .one(&st.s.db)
            .await
            .unwrap()
            .unwrap()
            .total_cents;
        // The cash line tendered 100 000 and got change; the method under test pays the total.
        entities::counter::tables::payment::Entity::update_many()
            .col_expr(
                entities::counter::tables::payment::Column::Method,
                sea_orm::sea_query::Expr::value(method),
            )
            .col_expr(
                entities::counter::tables::payment::Column::AmountMxnCents,
                sea_orm::sea_query::Expr::value(total),
            )
            .filter(entities::counter::tables::payment::Column::SaleId.eq(id))
            .exec(&st.s.db)
            .await
            .unwrap();
        let mut m = sale::Entity::find_by_id(id)
            .one(&st.s.db)
            .await
            .unwrap()
            .unwrap()
            .into_active_model();
        m.created_at = Set(at);
        m.update(&st.s.db).await.unwrap()
    }
}

async fn reload(db: &DatabaseConnection, id: Uuid) -> sale::Model {
    sale::Entity::find_by_id(id).one(db).await.unwrap().unwrap()
}

fn net(s: &sale::Model) -> i64 {
    s.total_cents - s.refunded_cents
}

async fn globals(db: &DatabaseConnection) -> Vec<(invoice::Model, global_invoice::Model)> {
    let mut out = Vec::new();
    for g in global_invoice::Entity::find().all(db).await.unwrap() {
        let i = invoice::Entity::find_by_id(g.invoice_id)
            .one(db)
            .await
            .unwrap()
            .unwrap();
        out.push((i, g));
    }
    out.sort_by_key(|(i, _)| i.created_at);
    out
}

async fn members(db: &DatabaseConnection, invoice_id: Uuid) -> Vec<global_invoice_sale::Model> {
    global::sales_of(db, invoice_id).await.unwrap()
}

async fn jobs_named(db: &DatabaseConnection, name: &str) -> Vec<outbox::Model> {
    outbox::Entity::find()
        .filter(outbox::Column::JobName.eq(name))
        .all(db)
        .await
        .unwrap()
}

async fn status_of(db: &DatabaseConnection, id: Uuid) -> invoice::Model {
    invoice::Entity::find_by_id(id)
        .one(db)
        .await
        .unwrap()
        .unwrap()
}

async fn wait_valid(app: &TestApp, db: &DatabaseConnection, id: Uuid) -> invoice::Model {
    app.wait_until(
        "the invoice to be stamped",
        Duration::from_secs(60),
        || async { status_of(db, id).await.status == "valid" },
    )
    .await;
    status_of(db, id).await
}

async fn a_day_of_mixed_sales_makes_one_global_per_branch_to_the_cent_and_a_rerun_makes_nothing(
    app: TestApp,
) {
    let st = store(&app, "glob1").await;
    let db = &st.s.db;
    let t = yesterday_noon();
    // First branch (16 %): to the public in cash, to a customer who wants no invoice by card
    // (the largest amount), to a customer invoiced by name, one partly returned, one returned
    // whole, one cancelled.
    let public = st.sale(&[(0, 1), (1, 3)]).at(t).sell(&app).await;
    let known = st
        .sale(&[(0, 4)])
        .for_customer()
        .paid_by("card")
        .at(t)
        .sell(&app)
        .await;
    let named = st.sale(&[(2, 1)]).for_customer().at(t).sell(&app).await;
    let partly = st.sale(&[(1, 2), (2, 3)]).at(t).sell(&app).await;
    let whole = st.sale(&[(2, 1)]).at(t).sell(&app).await;
    let cancelled = st.sale(&[(1, 1)]).at(t).sell(&app).await;
    // Border branch (8 %).
    let b1 = st
        .sale(&[(0, 1), (2, 2)])
        .border(true)
        .paid_by("transfer")
        .at(t)
        .sell(&app)
        .await;
    let b2 = st.sale(&[(1, 7)]).border(true).at(t).sell(&app).await;
    // Today's sale: its day is not closed.
    let today = st.sale(&[(0, 1)]).at(entities::now()).sell(&app).await;

    let r = app
        .session(&st.s.owner)
        .post(&format!("/pos/api/sales/{}/invoice", named.id), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let ret = |id: Uuid, lines: Value| {
        let app = &app;
        let owner = st.s.owner.clone();
        async move {
            let r = app
                .session(&owner)
                .post(
                    &format!("/pos/api/sales/{id}/returns"),
                    json!({"lines": lines, "reason": "no le quedó"}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        }
    };
    ret(partly.id, json!([{"line_no": 2, "qty": 1}])).await;
    ret(whole.id, json!([{"line_no": 1, "qty": 1}])).await;
    let r = app
        .session(&st.s.owner)
        .post(
            &format!("/pos/api/sales/{}/cancel", cancelled.id),
            json!({"reason": "error de captura"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let partly = reload(db, partly.id).await;
    assert!(partly.refunded_cents > 0);

    let report = run(
        db,
        st.s.t.tenant.id,
        &Scope::default(),
        None,
        entities::now(),
    )
    .await
    .unwrap();
    assert_eq!(
        report.invoices.len(),
        2,
        "one global per branch: {report:?}"
    );
    let all = globals(db).await;
    assert_eq!(all.len(), 2);
    let day = global::local_date(t);
    for (inv, g) in &all {
        let border = g.branch_id == st.s.border;
        let covered: Vec<&sale::Model> = if border {
            vec![&b1, &b2]
        } else {
            vec![&public, &known, &partly]
        };
        let expected: i64 = covered.iter().map(|s| net(s)).sum();
        assert_eq!(
            inv.total_cents, expected,
            "the tickets' net total to the cent"
        );
        assert_eq!(
            (
                inv.kind.as_str(),
                inv.receiver_rfc.as_str(),
                inv.receiver_name.as_str(),
                inv.cfdi_use.as_str(),
                inv.payment_method.as_str(),
                inv.status.as_str()
            ),
            (
                "I",
                "XAXX010101000",
                "PUBLICO EN GENERAL",
                "S01",
                "PUE",
                "pending"
            )
        );
        assert_eq!(inv.payment_form, if border { "01" } else { "04" });
        assert_eq!(inv.sale_id, None);
        let req = &inv.request;
        assert_eq!(req["customer"]["tax_system"], "616");
        assert_eq!(req["customer"]["address"]["zip"], facturapi::EXPEDITION_ZIP);
        assert_eq!(
            req["global"],
            json!({"periodicity": "day", "months": day.format("%m").to_string(), "year": chrono::Datelike::year(&day)})
        );
        let items = req["items"].as_array().unwrap();
        // One rate per branch: one concept per ticket.
        assert_eq!(items.len(), covered.len());
        for (item, s) in items.iter().zip(&covered) {
            assert_eq!(item["product"]["sku"], s.folio.as_str());
            assert_eq!(item["product"]["product_key"], "01010101");
            assert_eq!(item["product"]["unit_key"], "ACT");
            assert_eq!(item["product"]["description"], "Venta");
            assert_eq!(
                item["product"]["taxes"][0]["rate"],
                json!(if border { "0.080000" } else { "0.160000" })
            );
        }
        let mut m: Vec<(Uuid, i64, bool)> = members(db, inv.id)
            .await
            .iter()
            .map(|m| {
                (
                    m.sale_id,
                    m.total_cents,
                    m.active_sale_id == Some(m.sale_id),
                )
            })
            .collect();
        m.sort();
        let mut want: Vec<(Uuid, i64, bool)> =
            covered.iter().map(|s| (s.id, net(s), true)).collect();
        want.sort();
        assert_eq!(m, want);
        assert_eq!(g.periodicity, "day");
        assert_eq!(g.period_from, global::local_midnight(day));
    }
    let stamps = jobs_named(db, "cfdi.stamp").await;
    assert_eq!(stamps.len(), 3, "the nominative one and the two globals");
    for leftover in [&named, &whole, &cancelled, &today] {
        assert!(standing(db, leftover.id).await.is_none());
    }

    // A second run (the schedule's next morning, or a retried job) finds nothing to do.
    let again = run(
        db,
        st.s.t.tenant.id,
        &Scope::default(),
        None,
        entities::now(),
    )
    .await
    .unwrap();
    assert!(again.invoices.is_empty(), "{again:?}");
    assert_eq!(globals(db).await.len(), 2);
    assert_eq!(jobs_named(db, "cfdi.stamp").await.len(), 3);

    // Stamped through the fake, once each, at the same total.
    let fake = FacturapiFake::start().await;
    let _w = workers_on(&app, &fake);
    for (inv, _) in &all {
        let v = wait_valid(&app, db, inv.id).await;
        assert_eq!(fake.stamp_count(&inv.id.to_string()), 1);
        let theirs = fake.invoice(v.facturapi_id.as_deref().unwrap()).unwrap();
        assert_eq!(
            theirs["total"].as_f64().unwrap(),
            inv.total_cents as f64 / 100.0,
            "the stamped total is the tickets' total"
        );
    }
    let r = app
        .session(&st.s.owner)
        .get("/pos/api/invoices?kind=global&status=valid")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["total"], 2);
    assert_eq!(r.json["items"][0]["receiver_rfc"], "XAXX010101000");
    let r = app
        .session(&st.s.owner)
        .get("/pos/api/invoices?kind=I&per_page=1")
        .await;
    assert_eq!(
        (
            r.json["total"].as_u64(),
            r.json["items"].as_array().map(Vec::len)
        ),
        (Some(3), Some(1))
    );
    let r = app
        .session(&st.s.owner)
        .get("/pos/api/invoices?kind=X")
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json["error"]["field"], "kind");
}

async fn a_period_without_sales_makes_no_global_invoice(app: TestApp) {
    let st = store(&app, "glob2").await;
    let db = &st.s.db;
    // Only today's sale: yesterday and the days before have nothing.
    st.sale(&[(0, 1)]).at(entities::now()).sell(&app).await;
    let r = run(
        db,
        st.s.t.tenant.id,
        &Scope::default(),
        None,
        entities::now(),
    )
    .await
    .unwrap();
    assert!(r.invoices.is_empty() && r.skipped.is_empty(), "{r:?}");
    // A day whose only sale came back whole is empty too.
    let gone = st.sale(&[(1, 1)]).sell(&app).await;
    let r = app
        .session(&st.s.owner)
        .post(
            &format!("/pos/api/sales/{}/returns", gone.id),
            json!({"lines": [{"line_no": 1, "qty": 1}], "reason": "devuelta"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = run(
        db,
        st.s.t.tenant.id,
        &Scope::default(),
        None,
        entities::now(),
    )
    .await
    .unwrap();
    assert!(r.invoices.is_empty(), "{r:?}");
    assert!(globals(db).await.is_empty());
    assert!(jobs_named(db, "cfdi.stamp").await.is_empty());
    assert_eq!(invoice::Entity::find().count(db).await.unwrap(), 0);
}

async fn two_concurrent_runs_for_the_same_period_make_one_global_invoice(app: TestApp) {
    let st = store(&app, "glob3").await;
    let db = &st.s.db;
    let tenant = st.s.t.tenant.id;
    for round in 1..=4i64 {
        let at = yesterday_noon() - chrono::Duration::days(round);
        let day = global::local_date(at);
        for i in 0..5 {
            st.sale(&[(i % 3, 1)])
                .border(i % 2 == 0)
                .at(at)
                .sell(&app)
                .await;
        }
        let scope = Scope {
            branch_id: None,
            from: Some(day),
            to: Some(day),
        };
        let now = entities::now();
        let (a, b) = tokio::join!(
            run(db, tenant, &scope, None, now),
            run(db, tenant, &scope, None, now)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(
            a.invoices.len() + b.invoices.len(),
            2,
            "one global per branch, whoever wins: {a:?} {b:?}"
        );
    }
    let all = globals(db).await;
    assert_eq!(all.len(), 8);
    let members = global_invoice_sale::Entity::find().all(db).await.unwrap();
    assert_eq!(members.len(), 20, "each sale once");
    let mut ids: Vec<Uuid> = members.iter().map(|m| m.sale_id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20);
    assert_eq!(jobs_named(db, "cfdi.stamp").await.len(), 8);

    // The constraint itself: a sale already standing in a global cannot join a second one.
    let taken = &members[0];
    let dup = global_invoice_sale::ActiveModel {
        invoice_id: Set(all[1].0.id),
        sale_id: Set(taken.sale_id),
        active_sale_id: Set(Some(taken.sale_id)),
        total_cents: Set(1),
    };
    let other = if all[0].0.id == taken.invoice_id {
        all[1].0.id
    } else {
        all[0].0.id
    };
    let mut dup = dup;
    dup.invoice_id = Set(other);
    assert!(dup.insert(db).await.is_err(), "unique active sale");
}

async fn a_nominative_invoice_of_a_sale_in_a_global_cancels_it_with_motive_04_and_replaces_it(
    app: TestApp,
) {
    let st = store(&app, "glob4").await;
    let db = &st.s.db;
    let t = yesterday_noon();
    let p1 = st.sale(&[(0, 1), (1, 2)]).at(t).sell(&app).await;
    let p2 = st.sale(&[(2, 3)]).paid_by("card").at(t).sell(&app).await;
    let c1 = st.sale(&[(1, 1)]).for_customer().at(t).sell(&app).await;
    let fake = FacturapiFake::start().await;
    let _w = workers_on(&app, &fake);

    // The morning's run: one global with the three tickets, stamped.
    let r = app
        .session(&st.s.owner)
        .post("/pos/api/invoices/global", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    app.wait_until("the global invoice", Duration::from_secs(60), || async {
        !globals(db).await.is_empty()
    })
    .await;
    let (g, _) = globals(db).await.remove(0);
    assert_eq!(g.total_cents, net(&p1) + net(&p2) + net(&c1));
    let g = wait_valid(&app, db, g.id).await;

    // The customer of c1 comes back for an invoice with their name.
    let r = app
        .session(&st.s.owner)
        .post(&format!("/pos/api/sales/{}/invoice", c1.id), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let n: Uuid = r.json["id"].as_str().unwrap().parse().unwrap();
    assert!(
        standing(db, c1.id).await.is_none(),
        "the sale left the global"
    );
    let n = wait_valid(&app, db, n).await;
    assert_eq!(n.total_cents, c1.total_cents);

    // The global is cancelled with motive 04 (the public's: accepted at once) and replaced.
    app.wait_until(
        "the global's cancellation",
        Duration::from_secs(60),
        || async { status_of(db, g.id).await.cancellation_status == "accepted" },
    )
    .await;
    let cancelled = status_of(db, g.id).await;
    assert_eq!(cancelled.cancellation_motive.as_deref(), Some("04"));
    let theirs = fake.invoice(g.facturapi_id.as_deref().unwrap()).unwrap();
    assert_eq!(theirs["status"], "canceled");
    assert_eq!(theirs["cancellation"]["motive"], "04");
    app.wait_until(
        "the replacement global",
        Duration::from_secs(60),
        || async { globals(db).await.len() == 2 },
    )
    .await;
    let (rep, rg) = globals(db).await.remove(1);
    assert_eq!(rg.replaces, Some(g.id));
    assert_eq!(
        rep.total_cents,
        net(&p1) + net(&p2),
        "without the nominative sale"
    );
    let rep = wait_valid(&app, db, rep.id).await;
    let folios: Vec<&str> = rep.request["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["product"]["sku"].as_str().unwrap())
        .collect();
    assert_eq!(folios, vec![p1.folio.as_str(), p2.folio.as_str()]);
    let theirs = fake.invoice(rep.facturapi_id.as_deref().unwrap()).unwrap();
    assert_eq!(
        theirs["total"].as_f64().unwrap(),
        rep.total_cents as f64 / 100.0
    );
    for s in [&p1, &p2] {
        assert_eq!(standing(db, s.id).await, Some(rep.id));
    }
    assert!(standing(db, c1.id).await.is_none());
    // Nothing stamped twice; a later run changes nothing.
    // Every job has run when this returns: nothing is left in flight to stamp again.
    app.run_jobs().await;
    for (id, count) in fake.stamp_counts() {
        assert_eq!(count, 1, "{id} stamped {count} times");
    }
    assert_eq!(fake.stamp_counts().len(), 3);
    let r = run(
        db,
        st.s.t.tenant.id,
        &Scope::default(),
        None,
        entities::now(),
    )
    .await
    .unwrap();
    assert!(r.invoices.is_empty(), "{r:?}");
    assert_eq!(globals(db).await.len(), 2);
}

async fn bad_global_runs_are_refused_and_write_nothing(app: TestApp) {
    let st = store(&app, "glob5").await;
    let other = Shop::open(&app, "glob5b").await;
    let db = &st.s.db;
    let path = "/pos/api/invoices/global";
    let cases = [
        (
            json!({"from": "2026-11-20", "days": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("days"),
        ),
        (
            json!({"from": "2024-01-01", "days": 367}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("days"),
        ),
        (
            json!({"from": "2026-11-01", "to": "2026-11-02"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("to"),
        ),
        (
            json!({"branch_id": Uuid::now_v7()}),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            json!({"branch_id": other.branch}),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            json!({"from": "yesterday"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        ),
    ];
    for (body, status, field) in cases {
        let r = app.session(&st.s.owner).post(path, body.clone()).await;
        assert_eq!(r.status, status, "{body}: {}", r.text());
        if let Some(f) = field {
            assert_eq!(r.json["error"]["field"], f, "{body}");
        }
    }
    let unknown = app
        .session(&st.s.owner)
        .post(path, json!({"periodicity": "day"}))
        .await;
    assert!(unknown.status.is_client_error(), "{}", unknown.text());
    let cashier = st.s.token(&app, Role::Cashier).await;
    assert_eq!(
        app.session(&cashier).post(path, json!({})).await.status,
        StatusCode::FORBIDDEN
    );
    // Without fiscal settings there is nothing to run.
    let r = app.session(&other.owner).post(path, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "fiscal_settings_missing");
    assert!(jobs_named(db, "cfdi.global_invoice").await.is_empty());
    assert!(
        jobs_named(&other.db, "cfdi.global_invoice")
            .await
            .is_empty()
    );

    // A manager's run is queued with its scope.
    let manager = st.s.token(&app, Role::Manager).await;
    let r = app
        .session(&manager)
        .post(
            path,
            json!({"branch_id": st.s.border, "from": "2026-11-01", "days": 2}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let queued = jobs_named(db, "cfdi.global_invoice").await;
    assert_eq!(queued.len(), 1);
    let job: jobs::invoicing::GlobalInvoice =
        serde_json::from_value(queued[0].payload.clone()).unwrap();
    assert_eq!(job.branch_id, Some(st.s.border));
    assert_eq!(
        job.from.map(|d| d.to_string()).as_deref(),
        Some("2026-11-01")
    );
    assert_eq!(
        job.to.map(|d| d.to_string()).as_deref(),
        Some("2026-11-02"),
        "two days from the first"
    );
    assert_eq!(queued[0].queue, "cfdi");
}

async fn the_global_periodicity_is_a_fiscal_setting(app: TestApp) {
    let st = store(&app, "glob6").await;
    let r = app
        .session(&st.s.owner)
        .get("/pos/api/settings/fiscal")
        .await;
    assert_eq!(r.json["global_periodicity"], "day", "the default");
    let base = json!({"issuer_rfc": "EKU9003173C9", "legal_name": "Escuela Kemper Urgate", "tax_regime": "601"});
    let mut body = base.clone();
    body["global_periodicity"] = json!("yearly");
    let r = put_fiscal(&app, &st.s.owner, body).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "global_periodicity");
    let mut body = base.clone();
    body["global_periodicity"] = json!("week");
    let r = put_fiscal(&app, &st.s.owner, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["global_periodicity"], "week");
    // Absent keeps it.
    let r = put_fiscal(&app, &st.s.owner, base).await;
    assert_eq!(r.json["global_periodicity"], "week");

    // Weekly: a sale of the week before last goes in that week's global; this week's waits.
    let db = &st.s.db;
    let today = global::local_date(entities::now());
    let last_week = today - chrono::Duration::days(7);
    let p = global::Period::containing(entities::rules::cfdi::Periodicity::Week, last_week);
    let at = p.starts_at() + chrono::Duration::hours(12);
    let s1 = st.sale(&[(0, 1)]).at(at).sell(&app).await;
    st.sale(&[(0, 1)]).at(entities::now()).sell(&app).await;
    let r = run(
        db,
        st.s.t.tenant.id,
        &Scope {
            branch_id: None,
            from: Some(p.first),
            to: Some(today),
        },
        None,
        entities::now(),
    )
    .await
    .unwrap();
    assert_eq!(r.invoices.len(), 1, "{r:?}");
    let (inv, g) = globals(db).await.remove(0);
    assert_eq!(g.periodicity, "week");
    assert_eq!(inv.request["global"]["periodicity"], "week");
    assert_eq!(inv.total_cents, s1.total_cents);
}

async fn a_global_refused_by_the_sat_frees_its_sales_for_the_next_run(app: TestApp) {
    let st = store(&app, "glob7").await;
    let db = &st.s.db;
    let s1 = st.sale(&[(0, 2)]).sell(&app).await;
    let tenant = st.s.t.tenant.id;
    let r = run(db, tenant, &Scope::default(), None, entities::now())
        .await
        .unwrap();
    assert_eq!(r.invoices.len(), 1);
    let first = r.invoices[0];
    let fake = FacturapiFake::start().await;
    fake.set_mode(Mode::SatValidationError);
    // The workers keep running to the end: stopping them shuts their runtime down, and the
    // pooled connections they opened then fail the test's next queries ("a Tokio 1.x context
    // was found, but it is being shutdown").
    let _w = workers_on(&app, &fake);
    app.wait_until("the refusal", Duration::from_secs(60), || async {
        status_of(db, first).await.status == "failed"
    })
    .await;
    // The cause is fixed: the next global is stamped.
    fake.set_mode(Mode::Ok);
    assert!(status_of(db, first).await.failure_reason.is_some());
    assert!(
        standing(db, s1.id).await.is_none(),
        "a failed global holds no sale"
    );
    // The next run issues a new global for the same day.
    let r = run(db, tenant, &Scope::default(), None, entities::now())
        .await
        .unwrap();
    assert_eq!(r.invoices.len(), 1, "{r:?}");
    assert_ne!(r.invoices[0], first);
    assert_eq!(standing(db, s1.id).await, Some(r.invoices[0]));
}

/// The morning's global of yesterday's sales (stamped), and a nominative invoice asked for
/// `named`, a sale in it: the global's motive-04 cancellation is then under way. Returns the
/// global and the nominative invoice, both as stamped.
async fn global_then_nominative(
    app: &TestApp,
    st: &Store,
    named: &sale::Model,
) -> (invoice::Model, invoice::Model) {
    let db = &st.s.db;
    let r = run(
        db,
        st.s.t.tenant.id,
        &Scope::default(),
        None,
        entities::now(),
    )
    .await
    .unwrap();
    assert_eq!(r.invoices.len(), 1, "{r:?}");
    let g = wait_valid(app, db, r.invoices[0]).await;
    let r = app
        .session(&st.s.owner)
        .post(&format!("/pos/api/sales/{}/invoice", named.id), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let n = wait_valid(app, db, r.json["id"].as_str().unwrap().parse().unwrap()).await;
    (g, n)
}

/// The global invoice a sale stands in, if any.
async fn standing(db: &DatabaseConnection, sale: Uuid) -> Option<Uuid> {
    global::standing_global_of(db, sale)
        .await
        .unwrap()
        .map(|i| i.id)
}

/// The alerts raised about invoice `id` (notifications that refer to it).
async fn alerts_about(
    db: &DatabaseConnection,
    id: Uuid,
) -> Vec<entities::notifications::tables::notification::Model> {
    use entities::notifications::tables::notification;
    notification::Entity::find()
        .filter(notification::Column::RefType.eq("invoice"))
        .filter(notification::Column::RefId.eq(id.to_string()))
        .all(db)
        .await
        .unwrap()
}

/// Asserts that the alerts went to exactly these people, one each, by e-mail, as a refused
/// motive-04 cancellation; answers their reason.
fn assert_alerted(
    found: &[entities::notifications::tables::notification::Model],
    people: &[&str],
) -> String {
    let mut to: Vec<&str> = found.iter().map(|n| n.recipient.as_str()).collect();
    to.sort_unstable();
    let mut want = people.to_vec();
    want.sort_unstable();
    assert_eq!(to, want, "each owner and admin is told, once");
    let reason = found[0].payload["reason"].as_str().unwrap().to_owned();
    for n in found {
        assert_eq!(
            (n.channel.as_str(), n.template.as_str()),
            ("email", "global_cancellation_rejected")
        );
        assert_eq!(n.payload["reason"], reason.as_str());
    }
    reason
}

/// A store whose webhooks are signed, a ticket for the public (`p1`) and one for the customer
/// (`c1`) in a stamped global, then the nominative invoice of `c1`, whose motive-04
/// cancellation of the global Facturapi leaves pending (the SAT still deciding).
struct PendingMotive04 {
    st: Store,
    p1: sale::Model,
    c1: sale::Model,
    global: invoice::Model,
    fake: FacturapiFake,
    _workers: tests::run::Driving,
}

async fn pending_motive_04(app: &TestApp, slug: &str) -> PendingMotive04 {
    let st = store(app, slug).await;
    let r = put_fiscal(
        app,
        &st.s.owner,
        json!({"issuer_rfc": "EKU9003173C9", "legal_name": "Escuela Kemper Urgate", "tax_regime": "601", "webhook_secret": facturapi::WEBHOOK_SECRET}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let t = yesterday_noon();
    let p1 = st.sale(&[(0, 1), (2, 1)]).at(t).sell(app).await;
    let c1 = st
        .sale(&[(1, 2)])
        .for_customer()
        .paid_by("card")
        .at(t)
        .sell(app)
        .await;
    let fake = FacturapiFake::start().await;
    fake.set_mode(Mode::CancelPending);
    let workers = workers_on(app, &fake);
    let (global, _) = global_then_nominative(app, &st, &c1).await;
    let db = &st.s.db;
    app.wait_until(
        "the pending cancellation",
        Duration::from_secs(60),
        || async { status_of(db, global.id).await.cancellation_status == "pending" },
    )
    .await;
    PendingMotive04 {
        st,
        p1,
        c1,
        global,
        fake,
        _workers: workers,
    }
}

impl PendingMotive04 {
    /// The SAT decides `outcome`; Facturapi's signed webhook `event` says so and is applied.
    /// Answers the event's body and signature, for a replay.
    async fn settled_by_webhook(
        &self,
        app: &TestApp,
        event: &str,
        outcome: facturapi::CancellationOutcome,
        status: &str,
    ) -> (Vec<u8>, String) {
        let gfid = self.global.facturapi_id.clone().unwrap();
        self.fake.resolve_cancellation(&gfid, outcome);
        let (body, sig) = self
            .fake
            .webhook_for(event, "invoice.cancellation_status_updated", &gfid)
            .unwrap();
        let r = webhook(app, self.st.s.t.tenant.id, body.clone(), &sig).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(r.json["result"], "applied");
        let now = status_of(&self.st.s.db, self.global.id).await;
        assert_eq!(now.cancellation_status, status);
        (body, sig)
    }
}

async fn a_motive_04_cancellation_the_sat_refuses_alerts_the_owners_and_admins_and_keeps_the_global(
    app: TestApp,
) {
    use entities::jobs::tables::job_run;
    let st = store(&app, "glob8").await;
    let db = &st.s.db;
    let admin = app.user(&st.s.t, Role::Admin, None).await;
    app.user(&st.s.t, Role::Cashier, None).await;
    let t = yesterday_noon();
    let p1 = st.sale(&[(0, 1)]).at(t).sell(&app).await;
    let c1 = st
        .sale(&[(1, 2)])
        .for_customer()
        .paid_by("card")
        .at(t)
        .sell(&app)
        .await;
    let fake = FacturapiFake::start().await;
    // Stamping works; every cancellation is refused by the SAT.
    fake.set_mode(Mode::CancelRefusedBySat);
    let _w = workers_on(&app, &fake);
    let (g, n) = global_then_nominative(&app, &st, &c1).await;
    assert_eq!(n.total_cents, c1.total_cents);
    app.wait_until(
        "the refused cancellation",
        Duration::from_secs(60),
        || async { status_of(db, g.id).await.cancellation_status == "rejected" },
    )
    .await;

    // The owner and the admin are told, once each, in words that say what happened and what
    // to do; the cashier is not.
    let notes = || alerts_about(db, g.id);
    let found = notes().await;
    let reason = assert_alerted(&found, &[st.s.t.owner_email.as_str(), admin.as_str()]);
    let uuid = g.uuid.clone().unwrap();
    for n in &found {
        assert_eq!(n.payload["uuid"], uuid.as_str());
        assert_eq!(
            n.payload["sales"],
            json!([{"id": c1.id, "folio": c1.folio}])
        );
    }
    for part in [
        "the SAT refused cancelling the global invoice",
        uuid.as_str(),
        c1.folio.as_str(),
        &c1.id.to_string(),
        "now in both the global and a nominative invoice",
        &format!("POST /pos/api/invoices/{}/cancel", g.id),
    ] {
        assert!(reason.contains(part), "{part:?} not in {reason:?}");
    }
    // Their delivery job ran (no e-mail channel in tests: kept, parked, with why).
    app.wait_until(
        "the notifications' delivery",
        Duration::from_secs(60),
        || async { notes().await.iter().all(|n| n.status == "parked") },
    )
    .await;
    // The cancellation job failed with the same reason: operators see it with the failed jobs.
    let runs = job_run::Entity::find()
        .filter(job_run::Column::JobName.eq("cfdi.cancel"))
        .all(db)
        .await
        .unwrap();
    let dead: Vec<Option<&str>> = runs
        .iter()
        .filter(|r| r.status == "dead")
        .map(|r| r.last_error.as_deref())
        .collect();
    assert_eq!(dead, vec![Some(reason.as_str())], "{runs:?}");

    // The global stands as it was, holding its other sale; no replacement; nothing cancelled
    // at Facturapi.
    let now = status_of(db, g.id).await;
    assert_eq!(
        (now.status.as_str(), now.cancellation_motive.as_deref()),
        ("valid", Some("04"))
    );
    assert_eq!(standing(db, p1.id).await, Some(g.id));
    assert!(standing(db, c1.id).await.is_none());
    assert_eq!(globals(db).await.len(), 1);
    let gfid = g.facturapi_id.clone().unwrap();
    assert_eq!(fake.cancellation_count(&gfid), 0);
    assert_eq!(fake.invoice(&gfid).unwrap()["status"], "valid");
    assert_eq!(notes().await.len(), 2, "one alert per refusal");
}

async fn webhook(app: &TestApp, tenant: Uuid, body: Vec<u8>, sig: &str) -> TestResponse {
    let req = http::Request::builder()
        .method(Method::POST)
        .uri(format!("/webhooks/facturapi?tenant={tenant}"))
        .header("content-type", "application/json")
        .header("facturapi-signature", sig)
        .body(axum::body::Body::from(body))
        .unwrap();
    app.send(req).await
}

async fn a_motive_04_cancellation_accepted_through_the_webhook_issues_the_replacement(
    app: TestApp,
) {
    let pending = pending_motive_04(&app, "glob9").await;
    let (db, p1, c1, g) = (&pending.st.s.db, &pending.p1, &pending.c1, &pending.global);
    let fake = &pending.fake;
    // While it is pending the global keeps its other sale and nothing replaces it.
    assert_eq!(standing(db, p1.id).await, Some(g.id));
    assert!(jobs_named(db, "cfdi.global_invoice").await.is_empty());

    // SAT accepts; Facturapi's signed webhook says so.
    let (body, sig) = pending
        .settled_by_webhook(
            &app,
            "evt_glob9_1",
            facturapi::CancellationOutcome::Accepted,
            "accepted",
        )
        .await;
    let (tenant, gfid) = (pending.st.s.t.tenant.id, g.facturapi_id.clone().unwrap());

    app.wait_until(
        "the replacement global",
        Duration::from_secs(60),
        || async { globals(db).await.len() == 2 },
    )
    .await;
    let (rep, rg) = globals(db).await.remove(1);
    assert_eq!(rg.replaces, Some(g.id));
    assert_eq!(rep.total_cents, net(p1), "without the nominative sale");
    let rep = wait_valid(&app, db, rep.id).await;
    assert_eq!(standing(db, p1.id).await, Some(rep.id));
    assert!(standing(db, c1.id).await.is_none());
    let theirs = fake.invoice(rep.facturapi_id.as_deref().unwrap()).unwrap();
    assert_eq!(
        theirs["total"].as_f64().unwrap(),
        rep.total_cents as f64 / 100.0
    );

    // A replay of the event changes nothing; the global was cancelled once, each document
    // stamped once.
    let r = webhook(&app, tenant, body, &sig).await;
    assert_eq!(r.json["result"], "duplicate");
    assert_eq!(fake.cancellation_count(&gfid), 1);
    assert_eq!(jobs_named(db, "cfdi.global_invoice").await.len(), 1);
    // Every job has run when this returns: nothing is left in flight to stamp again.
    app.run_jobs().await;
    assert_eq!(globals(db).await.len(), 2);
    for (id, count) in fake.stamp_counts() {
        assert_eq!(count, 1, "{id} stamped {count} times");
    }
}

async fn a_motive_04_cancellation_rejected_through_the_webhook_alerts_the_owners_and_admins_once(
    app: TestApp,
) {
    let pending = pending_motive_04(&app, "glob11").await;
    let (st, p1, c1, g) = (&pending.st, &pending.p1, &pending.c1, &pending.global);
    let db = &st.s.db;
    let admin = app.user(&st.s.t, Role::Admin, None).await;

    // The SAT refuses; Facturapi's signed webhook says so.
    let (body, sig) = pending
        .settled_by_webhook(
            &app,
            "evt_glob11_1",
            facturapi::CancellationOutcome::Rejected,
            "rejected",
        )
        .await;
    let tenant = st.s.t.tenant.id;
    let notes = || alerts_about(db, g.id);
    let reason = assert_alerted(
        &notes().await,
        &[st.s.t.owner_email.as_str(), admin.as_str()],
    );
    assert!(reason.contains(&c1.folio), "{reason}");
    // The global still stands with its other sale; no replacement is issued.
    assert_eq!(standing(db, p1.id).await, Some(g.id));
    // A replay alerts nobody again.
    let r = webhook(&app, tenant, body, &sig).await;
    assert_eq!(r.json["result"], "duplicate");
    assert_eq!(notes().await.len(), 2);
    assert!(jobs_named(db, "cfdi.global_invoice").await.is_empty());
}

async fn a_period_of_more_than_5000_concepts_is_split_into_globals_of_at_most_5000_to_the_cent(
    app: TestApp,
) {
    use entities::{counter::tables::payment, counter::tables::sale_line};
    use sea_orm::ActiveValue::NotSet;
    const SALES: usize = 5_050;
    let st = store(&app, "glob10").await;
    let db = &st.s.db;
    let t = yesterday_noon();
    // Three real tickets of different totals through the API; the rest are copies of their
    // sale, line and payment rows written in bulk (5,000 HTTP sales would take minutes). Stock
    // and ledger rows are not copied: a global invoice does not read them.
    let shapes = [
        st.sale(&[(0, 1)]).at(t).sell(&app).await,
        st.sale(&[(1, 3)]).paid_by("card").at(t).sell(&app).await,
        st.sale(&[(2, 2), (1, 1)]).at(t).sell(&app).await,
    ];
    let mut templates = Vec::new();
    for s in &shapes {
        let lines = sale_line::Entity::find()
            .filter(sale_line::Column::SaleId.eq(s.id))
            .all(db)
            .await
            .unwrap();
        let pays = payment::Entity::find()
            .filter(payment::Column::SaleId.eq(s.id))
            .all(db)
            .await
            .unwrap();
        templates.push((s.clone(), lines, pays));
    }
    let mut sold: Vec<sale::Model> = shapes.to_vec();
    let (mut sales_rows, mut line_rows, mut pay_rows) = (Vec::new(), Vec::new(), Vec::new());
    for i in shapes.len()..SALES {
        let (s, lines, pays) = &templates[i % templates.len()];
        let mut copy = s.clone();
        copy.id = Uuid::now_v7();
        copy.folio = format!("BULK-{i:06}");
        // A second apart, earlier the same day.
        copy.created_at = t - chrono::Duration::hours(6) + chrono::Duration::seconds(i as i64);
        sales_rows.push(copy.clone().into_active_model().reset_all());
        for l in lines {
            let mut am = sale_line::Model {
                sale_id: copy.id,
                ..l.clone()
            }
            .into_active_model()
            .reset_all();
            am.id = NotSet;
            line_rows.push(am);
        }
        for p in pays {
            let mut am = payment::Model {
                sale_id: copy.id,
                ..p.clone()
            }
            .into_active_model()
            .reset_all();
            am.id = NotSet;
            pay_rows.push(am);
        }
        sold.push(copy);
    }
    for chunk in sales_rows.chunks(500) {
        sale::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await
            .unwrap();
    }
    for chunk in line_rows.chunks(500) {
        sale_line::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await
            .unwrap();
    }
    for chunk in pay_rows.chunks(500) {
        payment::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await
            .unwrap();
    }
    assert_eq!(sale::Entity::find().count(db).await.unwrap(), SALES as u64);

    let r = run(
        db,
        st.s.t.tenant.id,
        &Scope::default(),
        None,
        entities::now(),
    )
    .await
    .unwrap();
    assert_eq!(r.invoices.len(), 2, "5,050 concepts: 5,000 and 50: {r:?}");
    let all = globals(db).await;
    let sizes: Vec<usize> = all
        .iter()
        .map(|(i, _)| i.request["items"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), SALES, "one concept per ticket");
    assert!(sizes.iter().all(|n| *n <= 5_000), "{sizes:?}");
    assert!(sizes.contains(&5_000), "the first is full: {sizes:?}");
    let expected: i64 = sold.iter().map(net).sum();
    assert_eq!(
        all.iter().map(|(i, _)| i.total_cents).sum::<i64>(),
        expected,
        "the globals add up to the tickets to the cent"
    );
    let mut covered: Vec<Uuid> = Vec::new();
    for (inv, g) in &all {
        let m = members(db, inv.id).await;
        assert_eq!(
            inv.total_cents,
            m.iter().map(|m| m.total_cents).sum::<i64>(),
            "each global is its tickets' total"
        );
        assert_eq!(usize::try_from(g.sales).unwrap(), m.len());
        assert!(m.iter().all(|m| m.active_sale_id == Some(m.sale_id)));
        covered.extend(m.iter().map(|m| m.sale_id));
    }
    covered.sort();
    let mut ids: Vec<Uuid> = sold.iter().map(|s| s.id).collect();
    ids.sort();
    assert_eq!(covered, ids, "each sale in exactly one global");

    // Facturapi takes both (it refuses more than 5,000 items) at the same totals.
    let fake = FacturapiFake::start().await;
    let _w = workers_on(&app, &fake);
    for (inv, _) in &all {
        let v = wait_valid(&app, db, inv.id).await;
        let theirs = fake.invoice(v.facturapi_id.as_deref().unwrap()).unwrap();
        assert_eq!(
            theirs["total"].as_f64().unwrap(),
            inv.total_cents as f64 / 100.0
        );
    }
}
