//! Suppliers and their price lists: CRUD with a validated RFC, search, soft delete; prices one
//! at a time and from a CSV previewed before it is applied; the best price for a quantity.

use http::StatusCode;
use serde_json::json;
use tests::{TestApp, shape_tests};

use super::{buying, id, order, step};

shape_tests!(
    a_supplier_is_created_found_changed_and_soft_deleted,
    bad_suppliers_are_refused_naming_the_field,
    a_price_list_csv_is_previewed_then_applied_all_or_nothing,
    the_best_price_is_the_largest_break_at_or_below_the_quantity_then_the_cheapest,
);

async fn a_supplier_is_created_found_changed_and_soft_deleted(app: TestApp) {
    let b = buying(&app, "prov").await;
    let s = app.session(b.token());
    let got = s.get(&format!("/pos/api/suppliers/{}", b.supplier)).await;
    assert_eq!(got.json["rfc"], "PRO010101AB1");
    assert_eq!(got.json["payment_terms_days"], 30);
    let found = s.get("/pos/api/suppliers?q=refaccion").await;
    assert_eq!(found.json["total"], 1, "{}", found.text());
    let found = s.get("/pos/api/suppliers?q=pro010101").await;
    assert_eq!(found.json["total"], 1, "by RFC");
    let r = s
        .patch(
            &format!("/pos/api/suppliers/{}", b.supplier),
            json!({"phone": "8112345678", "notes": null, "lead_days": 5}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["phone"], "+528112345678");
    assert_eq!(r.json["lead_days"], 5);
    // Another supplier with the same RFC: refused.
    let r = s
        .post(
            "/pos/api/suppliers",
            json!({"name": "Copia", "rfc": "pro010101ab1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "supplier_rfc_taken");
    // An open order keeps it; once the order is cancelled it can go, and is gone from lists.
    let po = order(&app, &b, &[(b.items[0], 1, "1.00")]).await;
    step(&app, b.token(), id(&po), "send").await;
    let r = s
        .delete(&format!("/pos/api/suppliers/{}", b.supplier))
        .await;
    assert_eq!(r.code(), "supplier_has_open_orders");
    step(&app, b.token(), id(&po), "cancel").await;
    let r = s
        .delete(&format!("/pos/api/suppliers/{}", b.supplier))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert_eq!(s.get("/pos/api/suppliers").await.json["total"], 0);
    assert_eq!(
        s.get(&format!("/pos/api/suppliers/{}", b.supplier))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // The order still names it.
    assert_eq!(
        s.get(&format!("/pos/api/purchase-orders/{}", id(&po)))
            .await
            .json["supplier_id"],
        b.supplier.to_string()
    );
}

async fn bad_suppliers_are_refused_naming_the_field(app: TestApp) {
    let b = buying(&app, "provmal").await;
    let s = app.session(b.token());
    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "X", "rfc": "NOTANRFC"}), "rfc"),
        (json!({"name": "X", "email": "no-at"}), "email"),
        (json!({"name": "X", "currency": "EUR"}), "currency"),
        (json!({"name": "X", "lead_days": 400}), "lead_days"),
    ] {
        let r = s.post("/pos/api/suppliers", body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text()
        );
        assert_eq!(r.json["error"]["field"], field, "{body}: {}", r.text());
    }
    assert_eq!(s.get("/pos/api/suppliers").await.json["total"], 1);
}

async fn a_price_list_csv_is_previewed_then_applied_all_or_nothing(app: TestApp) {
    let b = buying(&app, "lista").await;
    let s = app.session(b.token());
    let path = format!("/pos/api/suppliers/{}/prices/import", b.supplier);
    s.post(
        &format!("/pos/api/suppliers/{}/prices", b.supplier),
        json!({"item_id": b.items[0], "price": "100.00", "valid_from": "2026-01-01"}),
    )
    .await;
    let csv = "sku,supplier_sku,min_qty,price,valid_from\n\
               lista-A,PRV-A,1,95.00,2026-01-01\n\
               lista-A,PRV-A,10,90.00,2026-01-01\n\
               lista-B,PRV-B,1,40.00,2026-01-01\n";
    let r = s.post(&path, json!({"csv": csv})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["applied"], false);
    assert_eq!(
        (r.json["added"].clone(), r.json["changed"].clone()),
        (json!(2), json!(1)),
        "{}",
        r.text()
    );
    let change = r.json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["action"] == "change")
        .unwrap()
        .clone();
    assert_eq!(change["before"], "100.00");
    assert_eq!(change["price"], "95.00");
    let listed = s
        .get(&format!("/pos/api/suppliers/{}/prices", b.supplier))
        .await;
    assert_eq!(listed.json["total"], 1, "a preview writes nothing");
    // A bad row: the report names it and nothing is written.
    let bad = format!("{csv}nadie,X,1,1.00,2026-01-01\nlista-B,,x,1.00,2026-01-01\n");
    let r = s.post(&path, json!({"csv": bad, "apply": true})).await;
    assert_eq!(r.json["applied"], false);
    let errors = r.json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{}", r.text());
    assert_eq!(errors[0]["line"], 5);
    assert_eq!(errors[0]["column"], "sku");
    assert_eq!(errors[1]["column"], "min_qty");
    assert_eq!(
        s.get(&format!("/pos/api/suppliers/{}/prices", b.supplier))
            .await
            .json["total"],
        1
    );
    let r = s.post(&path, json!({"csv": csv, "apply": true})).await;
    assert_eq!(r.json["applied"], true, "{}", r.text());
    assert_eq!(
        s.get(&format!("/pos/api/suppliers/{}/prices", b.supplier))
            .await
            .json["total"],
        3
    );
    // The same file again changes nothing.
    let r = s.post(&path, json!({"csv": csv})).await;
    assert_eq!(r.json["unchanged"], 3);
    // A file without the price column is refused as a whole.
    let r = s.post(&path, json!({"csv": "sku\nlista-A\n"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn the_best_price_is_the_largest_break_at_or_below_the_quantity_then_the_cheapest(
    app: TestApp,
) {
    let b = buying(&app, "mejor").await;
    let s = app.session(b.token());
    let a = b.items[0];
    let other = id(&s
        .post("/pos/api/suppliers", json!({"name": "Otro"}))
        .await
        .json);
    for (sup, min, price) in [
        (b.supplier, 1, "100.00"),
        (b.supplier, 10, "90.00"),
        (b.supplier, 50, "80.00"),
        (other, 1, "95.00"),
    ] {
        let r = s
            .post(
                &format!("/pos/api/suppliers/{sup}/prices"),
                json!({"item_id": a, "min_qty": min, "price": price}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let best = |qty: i64| {
        let s = app.session(b.token());
        async move {
            s.get(&format!("/pos/api/items/{a}/supplier-prices?qty={qty}"))
                .await
                .json
        }
    };
    let r = best(5).await;
    assert_eq!(r[0]["supplier_id"], other.to_string(), "{r}");
    assert_eq!(r[0]["price"], "95.00");
    assert_eq!(r[1]["price"], "100.00");
    let r = best(10).await;
    assert_eq!(r[0]["supplier_id"], b.supplier.to_string());
    assert_eq!(r[0]["price"], "90.00");
    assert_eq!(best(60).await[0]["price"], "80.00");
    // An order line without a cost takes the supplier's best price for its quantity.
    let r = s
        .post("/pos/api/purchase-orders", json!({"supplier_id": b.supplier, "warehouse_id": b.wh(), "lines": [{"item_id": a, "qty": 12}]}))
        .await;
    assert_eq!(r.json["lines"][0]["unit_cost"], "90.00", "{}", r.text());
}
