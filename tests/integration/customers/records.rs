//! `/pos/api/customers`: the customer record (fiscal data, E.164 WhatsApp, price list and credit
//! granted by managers only), their vehicles, and the savings per customer and across the
//! business.

use entities::Role;
use entities::{counter::tables::sale, counter::tables::sale_return, org::tables::audit_log};
use http::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use tests::{TestApp, TestTenant, shape_tests};
use uuid::Uuid;

shape_tests!(
    a_customer_is_created_with_normalised_fiscal_data_and_an_audit_entry,
    a_bad_rfc_regime_or_zip_is_refused_naming_the_field,
    a_whatsapp_number_is_stored_in_e164,
    a_cashier_cannot_grant_a_price_list_or_credit_but_a_manager_can,
    a_viewer_reads_customers_but_cannot_register_them,
    the_list_filters_by_text_price_list_and_activity,
    another_tenants_customer_is_not_found,
    a_customers_vehicles_are_listed,
    savings_are_summed_per_customer_without_cancelled_sales_and_less_returns,
    the_savings_report_has_per_branch_rows_and_top_customers_without_cancelled_sales,
    an_rfc_and_a_regime_that_do_not_fit_each_other_are_refused_and_change_nothing,
    text_with_a_control_character_is_refused_naming_the_field,
);

pub async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app.session(token).post("/pos/api/customers", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json
}

pub async fn branch(app: &TestApp, token: &str, code: &str) -> Uuid {
    let r = app
        .session(token)
        .post(
            "/pos/api/branches",
            json!({"code": code, "name": format!("Sucursal {code}")}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json["id"].as_str().unwrap().parse().unwrap()
}

async fn a_customer_is_created_with_normalised_fiscal_data_and_an_audit_entry(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let c = create(
        &app,
        &token,
        json!({
            "name": " Taller Hernández ",
            "rfc": "eku9003173c9",
            "tax_regime": "601",
            "zip": "64000",
            "email": "Taller@Ejemplo.MX",
            "notes": "paga los viernes",
        }),
    )
    .await;
    assert_eq!(c["name"], "Taller Hernández");
    assert_eq!(c["rfc"], "EKU9003173C9");
    assert_eq!(c["tax_regime"], "601");
    assert_eq!(c["email"], "taller@ejemplo.mx");
    assert_eq!(c["price_list"], "mostrador");
    assert_eq!(c["credit_limit"], "0.00");
    assert_eq!(c["is_active"], true);
    let generic = create(
        &app,
        &token,
        json!({"name": "Público en general", "rfc": "XAXX010101000", "tax_regime": "616"}),
    )
    .await;
    assert_eq!(generic["rfc"], "XAXX010101000");

    let id = c["id"].as_str().unwrap();
    let got = app
        .session(&token)
        .get(&format!("/pos/api/customers/{id}"))
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.json["name"], "Taller Hernández");
    let patched = app
        .session(&token)
        .patch(
            &format!("/pos/api/customers/{id}"),
            json!({"zip": null, "is_active": false}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text());
    assert_eq!(patched.json["zip"], Value::Null);
    assert_eq!(patched.json["is_active"], false);

    let actions: Vec<String> = audit_log::Entity::find()
        .filter(audit_log::Column::TargetId.eq(id))
        .all(&app.tenant_db(&t).await)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["customer.created", "customer.updated"]);
}

async fn a_bad_rfc_regime_or_zip_is_refused_naming_the_field(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    for (body, field) in [
        (json!({"name": "A", "rfc": "ACME"}), "rfc"),
        (json!({"name": "A", "tax_regime": "602"}), "tax_regime"),
        (json!({"name": "A", "zip": "6400"}), "zip"),
        (json!({"name": "A", "email": "no-es-correo"}), "email"),
        (json!({"name": "A", "price_list": "vip"}), "price_list"),
        (json!({"name": "A", "credit_limit": "-1"}), "credit_limit"),
        (json!({"name": "  "}), "name"),
    ] {
        let r = app.session(&token).post("/pos/api/customers", body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert_eq!(r.json["error"]["field"], field, "{}", r.text());
    }
    let r = app
        .session(&token)
        .post(
            "/pos/api/customers",
            json!({"name": "A", "tenant_id": Uuid::nil()}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "unknown fields");
}

async fn a_whatsapp_number_is_stored_in_e164(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let c = create(
        &app,
        &token,
        json!({"name": "Ana", "whatsapp_phone": "(81) 1234-5678"}),
    )
    .await;
    assert_eq!(c["whatsapp_phone"], "+528112345678");
    let c = create(
        &app,
        &token,
        json!({"name": "Bob", "whatsapp_phone": "+1 956 555 0100"}),
    )
    .await;
    assert_eq!(c["whatsapp_phone"], "+19565550100");
    let r = app
        .session(&token)
        .post(
            "/pos/api/customers",
            json!({"name": "C", "whatsapp_phone": "1234"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json["error"]["field"], "whatsapp_phone");
}

async fn a_cashier_cannot_grant_a_price_list_or_credit_but_a_manager_can(app: TestApp) {
    let t = app.tenant("acme").await;
    let cashier = app.user(&t, Role::Cashier, None).await;
    let cashier = app.token(&cashier).await;
    let manager = app.user(&t, Role::Manager, None).await;
    let manager = app.token(&manager).await;
    for body in [
        json!({"name": "Flota", "price_list": "mayoreo"}),
        json!({"name": "Flota", "credit_limit": "5000.00"}),
    ] {
        let r = app.session(&cashier).post("/pos/api/customers", body).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    }
    // The defaults are a cashier's to give.
    let c = create(
        &app,
        &cashier,
        json!({"name": "Flota", "price_list": "mostrador", "credit_limit": "0"}),
    )
    .await;
    let path = format!("/pos/api/customers/{}", c["id"].as_str().unwrap());
    let r = app
        .session(&cashier)
        .patch(&path, json!({"price_list": "mayoreo"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .session(&manager)
        .patch(
            &path,
            json!({"price_list": "mayoreo", "credit_limit": "5000.5"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["price_list"], "mayoreo");
    assert_eq!(r.json["credit_limit"], "5000.50");
    // A cashier still edits the contact details of a mayoreo customer.
    let r = app
        .session(&cashier)
        .patch(&path, json!({"email": "flota@ejemplo.mx"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["price_list"], "mayoreo");
}

async fn a_viewer_reads_customers_but_cannot_register_them(app: TestApp) {
    let t = app.tenant("acme").await;
    let owner = app.token(&t.owner_email).await;
    create(&app, &owner, json!({"name": "Ana"})).await;
    let viewer = app.user(&t, Role::Viewer, None).await;
    let viewer = app.token(&viewer).await;
    let r = app
        .session(&viewer)
        .post("/pos/api/customers", json!({"name": "Bob"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app.session(&viewer).get("/pos/api/customers").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["total"], 1);
}

async fn the_list_filters_by_text_price_list_and_activity(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    create(
        &app,
        &token,
        json!({"name": "Taller Hernández", "price_list": "taller", "whatsapp_phone": "8112345678"}),
    )
    .await;
    create(
        &app,
        &token,
        json!({"name": "Flotillas del Norte", "price_list": "flotilla", "rfc": "EKU9003173C9"}),
    )
    .await;
    let inactive = create(&app, &token, json!({"name": "Ana Taller"})).await;
    app.session(&token)
        .patch(
            &format!("/pos/api/customers/{}", inactive["id"].as_str().unwrap()),
            json!({"is_active": false}),
        )
        .await;
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let r = app.session(&token).get("/pos/api/customers?q=TALLER").await;
    assert_eq!(names(&r.json), ["Ana Taller", "Taller Hernández"]);
    let r = app.session(&token).get("/pos/api/customers?q=eku900").await;
    assert_eq!(names(&r.json), ["Flotillas del Norte"]);
    // Accents and case are folded on both databases, in the query and in the name.
    for q in ["hernandez", "HERNÁNDEZ", "hérnandez"] {
        let r = app
            .session(&token)
            .get(&format!("/pos/api/customers?q={}", urlencode(q)))
            .await;
        assert_eq!(names(&r.json), ["Taller Hernández"], "{q}");
    }
    let renamed = app
        .session(&token)
        .patch(
            &format!("/pos/api/customers/{}", inactive["id"].as_str().unwrap()),
            json!({"name": "Ana Núñez"}),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK);
    let r = app.session(&token).get("/pos/api/customers?q=nunez").await;
    assert_eq!(names(&r.json), ["Ana Núñez"]);
    app.session(&token)
        .patch(
            &format!("/pos/api/customers/{}", inactive["id"].as_str().unwrap()),
            json!({"name": "Ana Taller"}),
        )
        .await;
    let r = app
        .session(&token)
        .get("/pos/api/customers?q=1234-56")
        .await;
    assert_eq!(names(&r.json), ["Taller Hernández"]);
    let r = app
        .session(&token)
        .get("/pos/api/customers?price_list=flotilla")
        .await;
    assert_eq!(names(&r.json), ["Flotillas del Norte"]);
    let r = app
        .session(&token)
        .get("/pos/api/customers?active=true&q=taller")
        .await;
    assert_eq!(names(&r.json), ["Taller Hernández"]);
    let r = app
        .session(&token)
        .get("/pos/api/customers?per_page=2&page=2")
        .await;
    assert_eq!(r.json["total"], 3);
    assert_eq!(names(&r.json), ["Taller Hernández"]);
    let r = app
        .session(&token)
        .get("/pos/api/customers?price_list=vip")
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn another_tenants_customer_is_not_found(app: TestApp) {
    let a = app.tenant("acme").await;
    let b = app.tenant("bravo").await;
    let ta = app.token(&a.owner_email).await;
    let tb = app.token(&b.owner_email).await;
    let c = create(&app, &ta, json!({"name": "Ana"})).await;
    let id = c["id"].as_str().unwrap();
    for path in [
        format!("/pos/api/customers/{id}"),
        format!("/pos/api/customers/{id}/vehicles"),
        format!("/pos/api/customers/{id}/savings"),
    ] {
        let r = app.session(&tb).get(&path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    let r = app
        .session(&tb)
        .patch(&format!("/pos/api/customers/{id}"), json!({"name": "x"}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.session(&tb).get("/pos/api/customers").await;
    assert_eq!(r.json["total"], 0);
}

async fn a_customers_vehicles_are_listed(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let c = create(&app, &token, json!({"name": "Ana"})).await;
    let other = create(&app, &token, json!({"name": "Bob"})).await;
    for (plate, owner) in [("ABC123A", &c), ("XYZ987B", &c), ("JKL456C", &other)] {
        let r = app
            .session(&token)
            .post(
                "/pos/api/vehicles/registered",
                json!({"plate": plate, "customer_id": owner["id"]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let r = app
        .session(&token)
        .get(&format!(
            "/pos/api/customers/{}/vehicles",
            c["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["total"], r.json["items"].as_array().unwrap().len());
    let mut plates: Vec<&str> = r.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["plate"].as_str().unwrap())
        .collect();
    plates.sort_unstable();
    assert_eq!(plates, ["ABC123A", "XYZ987B"]);
}

/// Inserts a sale directly (checkout is built elsewhere): `total`, `retail` and `savings` in
/// centavos.
pub async fn sale(
    app: &TestApp,
    t: &TestTenant,
    branch_id: Uuid,
    customer_id: Option<Uuid>,
    status: &str,
    (total, retail, savings): (i64, i64, i64),
    at: chrono::DateTime<chrono::Utc>,
) -> Uuid {
    let id = Uuid::now_v7();
    sale::ActiveModel {
        id: Set(id),
        folio: Set(id.simple().to_string()[..30].to_owned()),
        branch_id: Set(branch_id),
        customer_id: Set(customer_id),
        cashier_id: Set(Uuid::now_v7()),
        status: Set(status.parse().unwrap()),
        price_list: Set("taller".into()),
        exchange_rate_micros: Set(17_000_000),
        subtotal_cents: Set(total * 100 / 116),
        discount_cents: Set(0),
        tax_cents: Set(total - total * 100 / 116),
        total_cents: Set(total),
        retail_total_cents: Set(retail),
        savings_cents: Set(savings),
        paid_cents: Set(total),
        change_cents: Set(0),
        refunded_cents: Set(0),
        drawer_session_id: Set(None),
        quote_id: Set(None),
        service_order_id: Set(None),
        vehicle_id: Set(None),
        odometer_km: Set(None),
        note: Set(None),
        cancelled_at: Set(None),
        created_at: Set(at),
    }
    .insert(&app.tenant_db(t).await)
    .await
    .unwrap();
    id
}

async fn a_return(app: &TestApp, t: &TestTenant, sale_id: Uuid, refund: i64, savings: i64) {
    sale_return::ActiveModel {
        id: Set(Uuid::now_v7()),
        sale_id: Set(sale_id),
        kind: Set("return".into()),
        reason: Set("no era la pieza".into()),
        refund_cents: Set(refund),
        account_credit_cents: Set(0),
        refund_method: Set(Some("cash".into())),
        refund_currency: Set(Some("MXN".into())),
        refund_minor: Set(refund),
        drawer_session_id: Set(None),
        savings_cents: Set(savings),
        created_by: Set(None),
        created_at: Set(entities::now()),
    }
    .insert(&app.tenant_db(t).await)
    .await
    .unwrap();
}

fn day(d: u32) -> chrono::DateTime<chrono::Utc> {
    chrono::NaiveDate::from_ymd_opt(2026, 11, d)
        .unwrap()
        .and_hms_opt(15, 0, 0)
        .unwrap()
        .and_utc()
}

async fn savings_are_summed_per_customer_without_cancelled_sales_and_less_returns(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let b = branch(&app, &token, "MTY").await;
    let c = create(&app, &token, json!({"name": "Ana"})).await;
    let cid: Uuid = c["id"].as_str().unwrap().parse().unwrap();
    let s1 = sale(
        &app,
        &t,
        b,
        Some(cid),
        "completed",
        (100_000, 120_000, 20_000),
        day(2),
    )
    .await;
    sale(
        &app,
        &t,
        b,
        Some(cid),
        "partially_returned",
        (50_050, 60_000, 9_950),
        day(3),
    )
    .await;
    sale(
        &app,
        &t,
        b,
        Some(cid),
        "cancelled",
        (77_700, 99_900, 22_200),
        day(3),
    )
    .await;
    sale(
        &app,
        &t,
        b,
        None,
        "completed",
        (10_000, 12_000, 2_000),
        day(3),
    )
    .await;
    sale(
        &app,
        &t,
        b,
        Some(cid),
        "completed",
        (1_000, 1_500, 500),
        day(20),
    )
    .await;
    a_return(&app, &t, s1, 10_000, 2_000).await;

    let path = format!("/pos/api/customers/{cid}/savings");
    let r = app.session(&token).get(&path).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json,
        json!({
            "customer_id": cid,
            "sales": 3,
            // The return took back 100.00 paid (120.00 at retail, 20.00 saved) from every sum.
            "total": "1410.50",
            "retail_total": "1695.00",
            "savings": "284.50",
        })
    );
    let r = app
        .session(&token)
        .get(&format!("{path}?from=2026-11-01&to=2026-11-10"))
        .await;
    assert_eq!(r.json["sales"], 2);
    assert_eq!(r.json["savings"], "279.50");
    let r = app
        .session(&token)
        .get(&format!("{path}?from=2026-11-03"))
        .await;
    assert_eq!(r.json["sales"], 2);
    assert_eq!(r.json["total"], "510.50");
    let r = app.session(&token).get(&format!("{path}?from=ayer")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json["error"]["field"], "from");
    // A period that ends before it starts holds no sale.
    let r = app
        .session(&token)
        .get(&format!("{path}?from=2026-11-10&to=2026-11-01"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["sales"], 0);
    assert_eq!(r.json["savings"], "0.00");
}

async fn the_savings_report_has_per_branch_rows_and_top_customers_without_cancelled_sales(
    app: TestApp,
) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let mty = branch(&app, &token, "MTY").await;
    let gdl = branch(&app, &token, "GDL").await;
    let ana: Uuid = create(&app, &token, json!({"name": "Ana"})).await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let bob: Uuid = create(&app, &token, json!({"name": "Bob"})).await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let s = sale(
        &app,
        &t,
        mty,
        Some(ana),
        "completed",
        (100_000, 120_000, 20_000),
        day(2),
    )
    .await;
    a_return(&app, &t, s, 5_000, 1_000).await;
    sale(
        &app,
        &t,
        gdl,
        Some(bob),
        "completed",
        (200_000, 250_000, 50_000),
        day(2),
    )
    .await;
    sale(
        &app,
        &t,
        gdl,
        Some(ana),
        "cancelled",
        (900_000, 990_000, 90_000),
        day(2),
    )
    .await;
    sale(
        &app,
        &t,
        mty,
        None,
        "completed",
        (10_000, 10_500, 500),
        day(4),
    )
    .await;

    let cashier = app.user(&t, Role::Cashier, None).await;
    let cashier = app.token(&cashier).await;
    let r = app.session(&cashier).get("/pos/api/reports/savings").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = app.session(&token).get("/pos/api/reports/savings").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let j = &r.json;
    assert_eq!(j["sales"], 3);
    // Ana's return took back 50.00 paid (60.00 at retail, 10.00 saved) from every sum.
    assert_eq!(j["total"], "3050.00");
    assert_eq!(j["retail_total"], "3745.00");
    assert_eq!(j["savings"], "695.00");
    assert_eq!(
        j["branches"],
        json!([
            {"branch_id": gdl, "sales": 1, "total": "2000.00", "retail_total": "2500.00", "savings": "500.00"},
            {"branch_id": mty, "sales": 2, "total": "1050.00", "retail_total": "1245.00", "savings": "195.00"},
        ])
    );
    let top: Vec<(&str, &str)> = j["top_customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["savings"].as_str().unwrap()))
        .collect();
    assert_eq!(top, [("Bob", "500.00"), ("Ana", "190.00")]);

    let r = app
        .session(&token)
        .get(&format!(
            "/pos/api/reports/savings?branch_id={mty}&to=2026-11-03"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["sales"], 1);
    assert_eq!(r.json["savings"], "190.00");
    assert_eq!(r.json["top_customers"].as_array().unwrap().len(), 1);
}

/// A company RFC (12 characters) with regime 612 (personas físicas) is refused on create (422), on
/// a patch of either half against the stored other (409) and of both (422), by the rule the
/// fiscal settings use; nothing is written.
async fn an_rfc_and_a_regime_that_do_not_fit_each_other_are_refused_and_change_nothing(
    app: TestApp,
) {
    let t = app.tenant("pareja").await;
    let owner = app.token(&t.owner_email).await;
    let r = app
        .session(&owner)
        .post(
            "/pos/api/customers",
            json!({"name": "Transportes del Norte", "rfc": "TNO010101AB1", "tax_regime": "612"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "tax_regime");
    let c = create(
        &app,
        &owner,
        json!({"name": "Transportes del Norte", "rfc": "TNO010101AB1", "tax_regime": "601"}),
    )
    .await;
    let id = c["id"].as_str().unwrap();
    let r = app
        .session(&owner)
        .patch(
            &format!("/pos/api/customers/{id}"),
            json!({"tax_regime": "612"}),
        )
        .await;
    // Half a pair that disagrees with the stored other half conflicts with the record.
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "fiscal_pair_mismatch");
    let r = app
        .session(&owner)
        .patch(
            &format!("/pos/api/customers/{id}"),
            json!({"rfc": "PEGJ800101AB1"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "a person's RFC with the stored company regime 601: {}",
        r.text()
    );
    let r = app
        .session(&owner)
        .patch(
            &format!("/pos/api/customers/{id}"),
            json!({"rfc": "PEGJ800101AB1", "tax_regime": "601"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "both halves in one request that disagree: {}",
        r.text()
    );
    assert_eq!(r.json["error"]["field"], "tax_regime");
    let r = app
        .session(&owner)
        .get(&format!("/pos/api/customers/{id}"))
        .await;
    assert_eq!(r.json["rfc"], "TNO010101AB1");
    assert_eq!(r.json["tax_regime"], "601");
}

/// A NUL (or any control character but a newline or a tab) in free text would reach the ticket
/// printer raw: the request is refused naming the field, and nothing is written.
async fn text_with_a_control_character_is_refused_naming_the_field(app: TestApp) {
    let t = app.tenant("control").await;
    let owner = app.token(&t.owner_email).await;
    for (body, field) in [
        (json!({"name": "Juan\u{0}Pérez"}), "name"),
        (json!({"name": "Juan", "notes": "ok\u{1b}[2J"}), "notes"),
    ] {
        let r = app.session(&owner).post("/pos/api/customers", body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert_eq!(r.code(), "control_character");
        assert_eq!(r.json["error"]["field"], field);
    }
    let r = app.session(&owner).get("/pos/api/customers").await;
    assert_eq!(r.json["total"], 0, "nothing was written");
    create(
        &app,
        &owner,
        json!({"name": "Juan", "notes": "línea 1\nlínea 2\tfin"}),
    )
    .await;
}

/// Percent-encodes a query value (UTF-8 bytes outside the unreserved set).
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
