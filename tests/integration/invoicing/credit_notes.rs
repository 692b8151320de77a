//! Credit notes (CFDI type E) for returns of invoiced sales, stamped through the Facturapi fake:
//! related to the invoice's UUID with relationship 01, use G02, the invoice's receiver, the
//! returned lines at the invoice's unit values, the total the return's refund to the centavo;
//! one per return; never beyond the invoice; refusals write nothing and queue nothing.

use std::sync::Arc;

use entities::{invoicing::tables::credit_note, invoicing::tables::invoice};
use http::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tests::cfdi::{
    FiscalShop, Paid, cents, facturapi_total, fiscal_shop, invoice_field_when, invoice_when,
    stamped_body, workers_on,
};
use tests::fakes::facturapi::{self, FacturapiFake};
use tests::shop::Shop;
use tests::{TestApp, shape_tests};

shape_tests!(
    a_retried_invoice_or_credit_note_request_with_its_key_answers_the_first_answer,
    a_return_of_an_invoiced_sale_gets_one_credit_note_for_its_refund,
    a_partial_line_is_credited_at_its_refund_to_the_centavo,
    credit_note_refusals_are_409_or_422_and_write_nothing,
    credit_notes_never_add_up_beyond_the_invoice,
    a_credit_note_of_a_ppd_invoice_lowers_its_balance_and_must_fit_it,
    concurrent_requests_for_one_return_yield_one_credit_note,
    the_fake_refuses_a_credit_note_without_related_documents,
    an_invoice_is_not_cancelled_while_a_credit_note_of_it_stands,
);

/// The jobs the test drives, while it lives.
type Workers = tests::run::Driving;

/// A valid invoice of a sale paid as `paid` says, stamped by the fake, and the running workers.
async fn invoiced(
    app: &TestApp,
    slug: &str,
    fake: &FacturapiFake,
    paid: Paid,
) -> (FiscalShop, String, Value, Workers) {
    let f = fiscal_shop(app, slug).await;
    let sale = f.sell_paid(app, paid).await;
    let inv = f.invoice(app, &sale).await;
    let w = workers_on(app, fake);
    let v = invoice_when(app, &f.s.owner, &inv, "valid").await;
    (f, sale, v, w)
}

async fn a_return_of_an_invoiced_sale_gets_one_credit_note_for_its_refund(app: TestApp) {
    let fake = FacturapiFake::start().await;
    let (f, sale, inv, _w) = invoiced(&app, "nc1", &fake, Paid::Card).await;
    let inv_id = inv["id"].as_str().unwrap().to_owned();
    let ret = f.give_back(&app, &sale, &[(1, 1), (2, 3)]).await;
    let refund = cents(&ret["refund"]);
    assert_eq!(refund, 45_000 + 35_197);
    let ret_id = ret["id"].as_str().unwrap();

    let r = f.credit_note(&app, &sale, ret_id, json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["kind"], "E");
    assert_eq!(r.json["status"], "pending");
    assert_eq!(cents(&r.json["total"]), refund, "the credit is the refund");
    assert_eq!(r.json["payment_method"], "PUE");
    assert_eq!(r.json["payment_form"], "04", "the invoice's (a card sale)");
    assert_eq!(r.json["cfdi_use"], "G02");
    assert_eq!(r.json["invoice_id"], inv_id.as_str());
    assert_eq!(r.json["return_id"], ret_id);
    assert_eq!(r.json["receiver_rfc"], "EKU9003173C9");
    let id = r.json["id"].as_str().unwrap().to_owned();

    let again = f.credit_note(&app, &sale, ret_id, json!({})).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.text());
    assert_eq!(again.json["id"], id.as_str(), "the return's standing note");

    let v = invoice_when(&app, &f.s.owner, &id, "valid").await;
    assert!(v["uuid"].as_str().is_some_and(|u| u.len() == 36), "{v}");
    assert_eq!(fake.stamp_count(&id), 1);

    // What Facturapi received: type E related to the invoice, the invoice's receiver, the lines.
    let body = stamped_body(&fake, &id);
    let i_body = stamped_body(&fake, &inv_id);
    assert_eq!(body["type"], "E");
    assert_eq!(body["use"], "G02");
    assert_eq!(body["payment_method"], "PUE");
    assert_eq!(body["payment_form"], "04");
    assert_eq!(
        body["related_documents"],
        json!([{"relationship": "01", "documents": [inv["uuid"]]}])
    );
    assert_eq!(body["customer"]["tax_id"], i_body["customer"]["tax_id"]);
    assert_eq!(
        body["customer"]["legal_name"],
        i_body["customer"]["legal_name"]
    );
    assert_eq!(
        body["customer"]["tax_system"],
        i_body["customer"]["tax_system"]
    );
    assert_eq!(
        body["customer"]["address"]["zip"],
        i_body["customer"]["address"]["zip"]
    );
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["quantity"].as_f64(), Some(1.0));
    assert_eq!(items[1]["quantity"].as_f64(), Some(3.0));
    for (i, it) in items.iter().enumerate() {
        assert_eq!(
            it["product"]["price"], i_body["items"][i]["product"]["price"],
            "line {i} at the invoice's unit value"
        );
        assert_eq!(
            it["product"]["product_key"],
            i_body["items"][i]["product"]["product_key"]
        );
        assert_eq!(it["product"]["tax_included"], true);
    }
    assert_eq!(
        facturapi_total(&fake, &f.s.db, &id).await,
        refund,
        "Facturapi's total is the refund to the centavo"
    );

    let acct = app
        .session(&f.s.owner)
        .get(&format!("/pos/api/invoices/{inv_id}/payments"))
        .await;
    assert_eq!(acct.status, StatusCode::OK, "{}", acct.text());
    assert_eq!(cents(&acct.json["credited"]), refund);
    assert_eq!(acct.json["credit_notes"][0]["id"], id.as_str());
    assert_eq!(acct.json["credit_notes"][0]["status"], "valid");
}

async fn a_partial_line_is_credited_at_its_refund_to_the_centavo(app: TestApp) {
    let fake = FacturapiFake::start().await;
    let (f, sale, inv, _w) = invoiced(&app, "nc2", &fake, Paid::Card).await;
    // Two of the three discounted filters, then the last one: each refund is the line's share.
    let first = f.give_back(&app, &sale, &[(2, 2)]).await;
    let second = f.give_back(&app, &sale, &[(2, 1)]).await;
    let (r1, r2) = (cents(&first["refund"]), cents(&second["refund"]));
    assert_eq!(r1 + r2, 35_197, "the returns add up to the line");
    let mut totals = 0;
    for ret in [&first, &second] {
        let r = f
            .credit_note(&app, &sale, ret["id"].as_str().unwrap(), json!({}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        assert_eq!(cents(&r.json["total"]), cents(&ret["refund"]));
        totals += cents(&r.json["total"]);
        let shown = app
            .session(&f.s.owner)
            .get(&format!(
                "/pos/api/invoices/{}",
                r.json["id"].as_str().unwrap()
            ))
            .await;
        let lines = shown.json["lines"].as_array().unwrap();
        assert_eq!(lines.len(), 1, "{}", shown.json);
        assert_eq!(cents(&lines[0]["total"]), cents(&ret["refund"]));
        assert_eq!(
            cents(&lines[0]["tax"]["base"]) + cents(&lines[0]["tax"]["amount"]),
            cents(&ret["refund"])
        );
        let id = r.json["id"].as_str().unwrap().to_owned();
        let row = invoice::Entity::find_by_id(id.parse::<uuid::Uuid>().unwrap())
            .one(&f.s.db)
            .await
            .unwrap()
            .unwrap();
        // Our request, to the centavo: Σ quantity × price (IVA included, the discount folded
        // in) is the refund.
        let mut charged = 0i64;
        for it in row.request["items"].as_array().unwrap() {
            assert_eq!(it["product"]["tax_included"], true, "{}", row.request);
            assert!(it.get("discount").is_none(), "{}", row.request);
            let qty = it["quantity"].as_i64().unwrap();
            let price: f64 = it["product"]["price"].as_str().unwrap().parse().unwrap();
            charged += (price * qty as f64 * 100.0).round() as i64;
        }
        assert_eq!(charged, row.total_cents, "{}", row.request);
        assert_eq!(row.total_cents, cents(&ret["refund"]));
    }
    assert_eq!(totals, 35_197);
    for n in f.invoices_of_kind("E").await {
        let v = invoice_when(&app, &f.s.owner, &n.id.to_string(), "valid").await;
        let body = stamped_body(&fake, &n.id.to_string());
        assert_eq!(body["type"], "E");
        assert_eq!(
            body["related_documents"][0]["documents"][0], inv["uuid"],
            "{v}"
        );
        assert_eq!(
            facturapi_total(&fake, &f.s.db, &n.id.to_string()).await,
            n.total_cents,
            "Facturapi's total is the refund to the centavo"
        );
    }
}

async fn credit_note_refusals_are_409_or_422_and_write_nothing(app: TestApp) {
    let f = fiscal_shop(&app, "nc3").await;
    let jobs = f.stamp_jobs().await;
    // A sale never invoiced: its return needs no CFDI.
    let plain = f.sell(&app).await;
    let ret = f.give_back(&app, &plain, &[(1, 1)]).await;
    let r = f
        .credit_note(&app, &plain, ret["id"].as_str().unwrap(), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "sale_not_invoiced");

    // An invoice still being stamped (no workers here).
    let sale = f.sell(&app).await;
    let inv = f.invoice(&app, &sale).await;
    let ret = f.give_back(&app, &sale, &[(1, 1)]).await;
    let ret_id = ret["id"].as_str().unwrap().to_owned();
    let r = f.credit_note(&app, &sale, &ret_id, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "invoice_not_valid");

    // Bad input names the field.
    for (body, field) in [
        (json!({"payment_form": "99"}), Some("payment_form")),
        (json!({"payment_form": "77"}), Some("payment_form")),
        (json!({"use": "G02"}), None),
    ] {
        let r = f.credit_note(&app, &sale, &ret_id, body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text()
        );
        if let Some(field) = field {
            assert_eq!(r.json["error"]["field"], field, "{}", r.text());
        }
    }

    // A return of another sale, another tenant's sale: 404.
    let r = f.credit_note(&app, &plain, &ret_id, json!({})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    let other = Shop::open(&app, "nc3b").await;
    let r = app
        .session(&other.owner)
        .post(
            &format!("/pos/api/sales/{sale}/returns/{ret_id}/credit-note"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());

    // A cancelled invoice (the receiver accepted its cancellation).
    invoice::Entity::update_many()
        .col_expr(invoice::Column::Status, Expr::value("valid"))
        .col_expr(
            invoice::Column::Uuid,
            Expr::value("0A0A0A0A-1111-4222-8333-444455556666"),
        )
        .col_expr(invoice::Column::CancellationStatus, Expr::value("accepted"))
        .col_expr(
            invoice::Column::ActiveKey,
            Expr::value(Option::<String>::None),
        )
        .filter(invoice::Column::Id.eq(inv.parse::<uuid::Uuid>().unwrap()))
        .exec(&f.s.db)
        .await
        .unwrap();
    let r = f.credit_note(&app, &sale, &ret_id, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "invoice_cancelled");

    assert!(
        f.invoices_of_kind("E").await.is_empty(),
        "no credit note written"
    );
    assert_eq!(credit_note::Entity::find().count(&f.s.db).await.unwrap(), 0);
    assert_eq!(
        f.stamp_jobs().await,
        jobs + 1,
        "only the invoice's stamping was queued"
    );
}

async fn credit_notes_never_add_up_beyond_the_invoice(app: TestApp) {
    let fake = FacturapiFake::start().await;
    let (f, sale, inv, _w) = invoiced(&app, "nc4", &fake, Paid::Card).await;
    let inv_id: uuid::Uuid = inv["id"].as_str().unwrap().parse().unwrap();
    let one = f.give_back(&app, &sale, &[(1, 1)]).await;
    let two = f.give_back(&app, &sale, &[(2, 1)]).await;
    let r = f
        .credit_note(&app, &sale, one["id"].as_str().unwrap(), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let first: uuid::Uuid = r.json["id"].as_str().unwrap().parse().unwrap();
    invoice_when(&app, &f.s.owner, &first.to_string(), "valid").await;
    // As if the first note had credited almost all of the invoice (a bonus, say): the second
    // return no longer fits.
    invoice::Entity::update_many()
        .col_expr(invoice::Column::TotalCents, Expr::value(125_197 - 100))
        .filter(invoice::Column::Id.eq(first))
        .exec(&f.s.db)
        .await
        .unwrap();
    let jobs = f.stamp_jobs().await;
    let r = f
        .credit_note(&app, &sale, two["id"].as_str().unwrap(), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "credit_exceeds_invoice");
    assert_eq!(f.invoices_of_kind("E").await.len(), 1);
    assert_eq!(f.stamp_jobs().await, jobs, "no job for a refusal");
    // A failed note no longer counts.
    invoice::Entity::update_many()
        .col_expr(invoice::Column::Status, Expr::value("failed"))
        .col_expr(
            invoice::Column::ActiveKey,
            Expr::value(Option::<String>::None),
        )
        .filter(invoice::Column::Id.eq(first))
        .exec(&f.s.db)
        .await
        .unwrap();
    let r = f
        .credit_note(&app, &sale, two["id"].as_str().unwrap(), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let acct = app
        .session(&f.s.owner)
        .get(&format!("/pos/api/invoices/{inv_id}/payments"))
        .await;
    assert_eq!(cents(&acct.json["credited"]), cents(&two["refund"]));
}

async fn a_credit_note_of_a_ppd_invoice_lowers_its_balance_and_must_fit_it(app: TestApp) {
    let fake = FacturapiFake::start().await;
    let (f, sale, inv, _w) = invoiced(&app, "nc5", &fake, Paid::OnCredit).await;
    assert_eq!(inv["payment_method"], "PPD");
    let inv_id = inv["id"].as_str().unwrap().to_owned();
    let pay = app
        .session(&f.s.owner)
        .post(
            &format!("/pos/api/invoices/{inv_id}/payments"),
            json!({"amount": "1000.00", "payment_form": "03"}),
        )
        .await;
    assert_eq!(pay.status, StatusCode::CREATED, "{}", pay.text());
    // Owed: 251.97. A return of one brake pad (450.00) cannot be forgiven from that balance…
    let ret = f.give_back(&app, &sale, &[(1, 1)]).await;
    let ret_id = ret["id"].as_str().unwrap();
    let r = f.credit_note(&app, &sale, ret_id, json!({})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "credit_exceeds_balance");
    // …but it can be refunded in cash, which leaves the balance alone.
    let r = f
        .credit_note(&app, &sale, ret_id, json!({"payment_form": "01"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["payment_form"], "01");
    let acct = app
        .session(&f.s.owner)
        .get(&format!("/pos/api/invoices/{inv_id}/payments"))
        .await;
    assert_eq!(cents(&acct.json["balance"]), 25_197);
    // A smaller return is forgiven (condonación, 15) and lowers what is owed.
    let small = f.give_back(&app, &sale, &[(2, 1)]).await;
    let r = f
        .credit_note(&app, &sale, small["id"].as_str().unwrap(), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["payment_form"], "15");
    let acct = app
        .session(&f.s.owner)
        .get(&format!("/pos/api/invoices/{inv_id}/payments"))
        .await;
    assert_eq!(
        cents(&acct.json["balance"]),
        25_197 - cents(&small["refund"])
    );
    for n in f.invoices_of_kind("E").await {
        invoice_when(&app, &f.s.owner, &n.id.to_string(), "valid").await;
        let body = stamped_body(&fake, &n.id.to_string());
        assert_eq!(body["payment_method"], "PUE");
    }
}

async fn concurrent_requests_for_one_return_yield_one_credit_note(app: TestApp) {
    let fake = FacturapiFake::start().await;
    let (f, sale, _, _w) = invoiced(&app, "nc6", &fake, Paid::Card).await;
    let ret = f.give_back(&app, &sale, &[(1, 2)]).await;
    let ret_id = ret["id"].as_str().unwrap().to_owned();
    let app = Arc::new(app);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (app, token, path) = (
            app.clone(),
            f.s.owner.clone(),
            format!("/pos/api/sales/{sale}/returns/{ret_id}/credit-note"),
        );
        tasks.push(tokio::spawn(async move {
            app.session(&token).post(&path, json!({})).await
        }));
    }
    let mut created = 0;
    let mut ids = std::collections::HashSet::new();
    for t in tasks {
        let r = t.await.unwrap();
        match r.status {
            StatusCode::CREATED => created += 1,
            StatusCode::OK => {}
            other => panic!("{other}: {}", r.text()),
        }
        ids.insert(r.json["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(created, 1);
    assert_eq!(ids.len(), 1, "every answer is the one note");
    assert_eq!(f.invoices_of_kind("E").await.len(), 1);
}

async fn the_fake_refuses_a_credit_note_without_related_documents(_app: TestApp) {
    let fake = FacturapiFake::start().await;
    let body = json!({
        "type": "E",
        "customer": {"legal_name": "ESCUELA KEMPER URGATE", "tax_id": "EKU9003173C9",
                     "tax_system": "601", "address": {"zip": "64000"}},
        "items": [{"quantity": 1, "product": {"description": "Balata", "product_key": "25171700",
                   "unit_key": "H87", "price": 100.0, "tax_included": false}}],
        "payment_form": "01", "payment_method": "PUE", "use": "G02",
        "external_id": "e-1", "idempotency_key": "e-1-g0",
    });
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{}/invoices", fake.url))
        .bearer_auth(facturapi::SECRET_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "invalid_request");
    assert_eq!(v["path"], "related_documents");
    let mut ok = body.clone();
    ok["related_documents"] =
        json!([{"relationship": "01", "documents": ["39C85A3F-275B-4341-B259-E8971D9F8A94"]}]);
    ok["idempotency_key"] = json!("e-1-g1");
    let r = client
        .post(format!("{}/invoices", fake.url))
        .bearer_auth(facturapi::SECRET_KEY)
        .json(&ok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(fake.stamp_count("e-1"), 1);
}

async fn an_invoice_is_not_cancelled_while_a_credit_note_of_it_stands(app: TestApp) {
    let fake = FacturapiFake::start().await;
    let (f, sale, inv, _w) = invoiced(&app, "nc8", &fake, Paid::Card).await;
    let inv_id = inv["id"].as_str().unwrap().to_owned();
    let ret = f.give_back(&app, &sale, &[(1, 1)]).await;
    let r = f
        .credit_note(&app, &sale, ret["id"].as_str().unwrap(), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let note = r.json["id"].as_str().unwrap().to_owned();
    invoice_when(&app, &f.s.owner, &note, "valid").await;

    let jobs = f.stamp_jobs().await;
    let cancel = |id: String| {
        let app = &app;
        let token = f.s.owner.clone();
        async move {
            app.session(&token)
                .post(
                    &format!("/pos/api/invoices/{id}/cancel"),
                    json!({"motive": "02"}),
                )
                .await
        }
    };
    let r = cancel(inv_id.clone()).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "has_related_documents");
    assert!(r.text().contains("1 credit note"), "{}", r.text());
    let row = invoice::Entity::find_by_id(inv_id.parse::<uuid::Uuid>().unwrap())
        .one(&f.s.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.cancellation_status, "none", "nothing changed");
    assert_eq!(row.cancellation_motive, None);
    assert_eq!(f.stamp_jobs().await, jobs, "nothing queued");
    let fid = row.facturapi_id.clone().unwrap();
    let asked = || {
        fake.requests()
            .iter()
            .filter(|q| q.method == "DELETE" && q.path.ends_with(&fid))
            .count()
    };
    assert_eq!(asked(), 0, "Facturapi was not asked");

    // Once the note is cancelled, the invoice can be.
    let r = cancel(note.clone()).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    invoice_field_when(
        &app,
        &f.s.owner,
        &note,
        "cancellation_status",
        &["accepted"],
    )
    .await;
    let r = cancel(inv_id.clone()).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    // Above $1,000 the receiver has a say: pending until then.
    invoice_field_when(
        &app,
        &f.s.owner,
        &inv_id,
        "cancellation_status",
        &["pending", "accepted"],
    )
    .await;
    assert_eq!(asked(), 1);
}

/// Posts `body` twice with `key` (the second answer is the first, replayed, with its
/// `status`) and then `other` with the same key (422); answers the first response.
async fn posted_once(
    app: &TestApp,
    path: &str,
    token: &str,
    key: &str,
    (body, other): (Value, Value),
    status: StatusCode,
) -> tests::TestResponse {
    use tests::shop::post_with_key;
    let first = post_with_key(app, path, token, key, &body).await;
    assert_eq!(first.status, status, "{}", first.text());
    let again = post_with_key(app, path, token, key, &body).await;
    assert_eq!(again.status, status, "the first answer's status");
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.json, first.json);
    let r = post_with_key(app, path, token, key, &other).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "Idempotency-Key");
    first
}

async fn a_retried_invoice_or_credit_note_request_with_its_key_answers_the_first_answer(
    app: TestApp,
) {
    let fake = FacturapiFake::start().await;
    let f = fiscal_shop(&app, "nc-llave").await;
    let _w = workers_on(&app, &fake);
    let sale = f.sell(&app).await;
    let path = format!("/pos/api/sales/{sale}/invoice");
    let bodies = (json!({}), json!({"cfdi_use": "G01"}));
    let first = posted_once(
        &app,
        &path,
        &f.s.owner,
        "fac-1",
        bodies,
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(
        invoice::Entity::find()
            .filter(invoice::Column::Kind.eq("I"))
            .count(&f.s.db)
            .await
            .unwrap(),
        1
    );
    let id = first.json["id"].as_str().unwrap().to_owned();
    invoice_when(&app, &f.s.owner, &id, "valid").await;

    let ret = f.give_back(&app, &sale, &[(1, 1)]).await;
    let ret_id = ret["id"].as_str().unwrap();
    let path = format!("/pos/api/sales/{sale}/returns/{ret_id}/credit-note");
    let bodies = (json!({}), json!({"payment_form": "01"}));
    let first = posted_once(&app, &path, &f.s.owner, "nc-1", bodies, StatusCode::CREATED).await;
    assert_eq!(credit_note::Entity::find().count(&f.s.db).await.unwrap(), 1);
    // Without a key the standing note is answered, as before.
    let plain = f.credit_note(&app, &sale, ret_id, json!({})).await;
    assert_eq!(plain.status, StatusCode::OK, "{}", plain.text());
    assert_eq!(plain.json["id"], first.json["id"]);
}
