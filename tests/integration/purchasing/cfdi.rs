//! Receiving from the supplier's CFDI: the match to the order's lines with its differences, the
//! receipt it becomes, and every refusal: another receiver, another issuer, another currency, a
//! reused UUID, a malformed document, an external entity, a 20 MB upload.

use entities::purchasing::tables::supplier_invoice;
use http::StatusCode;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use tests::{TestApp, shape_tests};

use super::{Buying, buying, id, line_ids, order, step};
use crate::inventory::stock::balance;

shape_tests!(
    a_suppliers_cfdi_is_matched_to_the_order_and_received,
    a_cfdi_to_another_receiver_or_from_another_issuer_is_refused,
    a_reused_uuid_is_refused,
    a_malformed_an_entity_laden_and_a_20_mb_cfdi_are_refused_and_change_nothing,
);

const BUSINESS_RFC: &str = "EKU9003173C9";
const SUPPLIER_RFC: &str = "PRO010101AB1";

/// A stamped CFDI 4.0 of `concepts` (`(NoIdentificacion, Descripcion, Cantidad, ValorUnitario)`).
fn cfdi(uuid: &str, issuer: &str, receiver: &str, concepts: &[(&str, &str, &str, &str)]) -> String {
    let mut body = String::new();
    let mut subtotal = rust_decimal::Decimal::ZERO;
    for (sku, desc, qty, unit) in concepts {
        let q: rust_decimal::Decimal = qty.parse().unwrap();
        let u: rust_decimal::Decimal = unit.parse().unwrap();
        let amount = (q * u).round_dp(2);
        subtotal += amount;
        let iva = (amount * rust_decimal::Decimal::new(16, 2)).round_dp(2);
        body.push_str(&format!(
            r#"<cfdi:Concepto ClaveProdServ="25174800" NoIdentificacion="{sku}" Cantidad="{qty}" ClaveUnidad="H87" Unidad="Pieza" Descripcion="{desc}" ValorUnitario="{unit}" Importe="{amount}" ObjetoImp="02"><cfdi:Impuestos><cfdi:Traslados><cfdi:Traslado Base="{amount}" Impuesto="002" TipoFactor="Tasa" TasaOCuota="0.160000" Importe="{iva}"/></cfdi:Traslados></cfdi:Impuestos></cfdi:Concepto>"#
        ));
    }
    let iva = (subtotal * rust_decimal::Decimal::new(16, 2)).round_dp(2);
    let total = subtotal + iva;
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<cfdi:Comprobante xmlns:cfdi="http://www.sat.gob.mx/cfd/4" xmlns:tfd="http://www.sat.gob.mx/TimbreFiscalDigital" Version="4.0" Serie="FA" Folio="77" Fecha="2026-12-01T10:00:00" SubTotal="{subtotal}" Moneda="MXN" Total="{total}" TipoDeComprobante="I" Exportacion="01" MetodoPago="PPD" LugarExpedicion="64000">
<cfdi:Emisor Rfc="{issuer}" Nombre="REFACCIONES DEL NORTE &amp; CIA" RegimenFiscal="601"/>
<cfdi:Receptor Rfc="{receiver}" Nombre="ESCUELA KEMPER URGATE" DomicilioFiscalReceptor="26015" RegimenFiscalReceptor="601" UsoCFDI="G01"/>
<cfdi:Conceptos>{body}</cfdi:Conceptos>
<cfdi:Impuestos TotalImpuestosTrasladados="{iva}"><cfdi:Traslados><cfdi:Traslado Base="{subtotal}" Impuesto="002" TipoFactor="Tasa" TasaOCuota="0.160000" Importe="{iva}"/></cfdi:Traslados></cfdi:Impuestos>
<cfdi:Complemento><tfd:TimbreFiscalDigital Version="1.1" UUID="{uuid}" FechaTimbrado="2026-12-01T10:01:00" RfcProvCertif="SAT970701NN3" SelloCFD="x" NoCertificadoSAT="30001000000500003456" SelloSAT="y"/></cfdi:Complemento>
</cfdi:Comprobante>"#
    )
}

/// The business's fiscal data (its RFC is what a supplier's CFDI must be addressed to).
async fn fiscal(app: &TestApp, b: &Buying) {
    let r = app
        .session(b.token())
        .put("/pos/api/settings/fiscal", json!({"issuer_rfc": BUSINESS_RFC, "legal_name": "Escuela Kemper Urgate", "tax_regime": "601"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

/// A sent order of 5 A (supplier SKU `PRV-A`) at 100.00 and 2 B at 50.00.
async fn sent_order(app: &TestApp, b: &Buying) -> Value {
    let r = app
        .session(b.token())
        .post(
            "/pos/api/purchase-orders",
            json!({"supplier_id": b.supplier, "warehouse_id": b.wh(), "lines": [
            {"item_id": b.items[0], "qty": 5, "unit_cost": "100.00", "supplier_sku": "PRV-A"},
            {"item_id": b.items[1], "qty": 2, "unit_cost": "50.00"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    step(app, b.token(), id(&r.json), "send").await;
    r.json
}

async fn upload(app: &TestApp, b: &Buying, po: uuid::Uuid, xml: &str) -> tests::TestResponse {
    app.session(b.token())
        .post(
            &format!("/pos/api/purchase-orders/{po}/cfdi"),
            json!({ "xml": xml }),
        )
        .await
}

async fn a_suppliers_cfdi_is_matched_to_the_order_and_received(app: TestApp) {
    let b = buying(&app, "xmlok").await;
    let db = app.tenant_db(&b.f.t).await;
    fiscal(&app, &b).await;
    let po = sent_order(&app, &b).await;
    let p = id(&po);
    let lines = line_ids(&po);
    let uuid = "6F1C2B8A-3D4E-4F50-9A1B-2C3D4E5F6A7B";
    // A by the supplier's SKU, 4 of 5 at 102.00; B by our SKU at the ordered price; a freight
    // concept that matches nothing.
    let xml = cfdi(
        uuid,
        SUPPLIER_RFC,
        BUSINESS_RFC,
        &[
            ("PRV-A", "Balata delantera", "4", "102.00"),
            ("xmlok-B", "Pieza B", "2", "50.00"),
            ("FLETE", "Flete", "1", "150.00"),
        ],
    );
    let r = upload(&app, &b, p, &xml).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["uuid"], uuid);
    assert_eq!(r.json["status"], "pending");
    let c = &r.json["concepts"];
    assert_eq!(c[0]["line_id"], lines[0].to_string());
    assert_eq!(c[0]["matched_by"], "supplier_sku");
    assert_eq!(c[0]["qty_invoiced"], "4");
    assert_eq!(c[0]["qty_open"], 5);
    assert_eq!(c[0]["price_invoiced"], "102.00");
    assert_eq!(c[0]["price_ordered"], "100.00");
    assert_eq!(c[1]["line_id"], lines[1].to_string());
    assert_eq!(c[1]["matched_by"], "item_sku");
    assert!(c[1]["price_invoiced"].is_null());
    assert!(c[2]["line_id"].is_null());
    assert_eq!(
        balance(&db, b.items[0], b.wh()).await,
        0,
        "an upload receives nothing"
    );
    // The XML is kept.
    let row = supplier_invoice::Entity::find_by_id(uuid.to_owned())
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let kept = app
        .app
        .services
        .files
        .as_ref()
        .unwrap()
        .get(&row.file_key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept, xml.as_bytes());
    // Accepting the match receives what was invoiced.
    let r = app
        .session(b.token())
        .post(
            &format!("/pos/api/purchase-orders/{p}/cfdi/{uuid}/receive"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["receipt"]["invoice_uuid"], uuid);
    assert_eq!(r.json["order"]["status"], "partially_received");
    assert_eq!(balance(&db, b.items[0], b.wh()).await, 4);
    assert_eq!(balance(&db, b.items[1], b.wh()).await, 2);
    // Once.
    let again = app
        .session(b.token())
        .post(
            &format!("/pos/api/purchase-orders/{p}/cfdi/{uuid}/receive"),
            json!({}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "cfdi_received");
    assert_eq!(balance(&db, b.items[0], b.wh()).await, 4);
}

async fn a_cfdi_to_another_receiver_or_from_another_issuer_is_refused(app: TestApp) {
    let b = buying(&app, "xmlrfc").await;
    fiscal(&app, &b).await;
    let p = id(&sent_order(&app, &b).await);
    let concepts = [("PRV-A", "Balata", "5", "100.00")];
    let r = upload(
        &app,
        &b,
        p,
        &cfdi(
            "11111111-2222-4333-8444-555555555555",
            SUPPLIER_RFC,
            "XAXX010101000",
            &concepts,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "xml");
    assert!(r.text().contains("not to this business"), "{}", r.text());
    let r = upload(
        &app,
        &b,
        p,
        &cfdi(
            "11111111-2222-4333-8444-555555555555",
            "OTR010101AB1",
            BUSINESS_RFC,
            &concepts,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(
        r.text().contains("not by the order's supplier"),
        "{}",
        r.text()
    );
    // Nothing was kept; the right document is accepted after.
    let r = upload(
        &app,
        &b,
        p,
        &cfdi(
            "11111111-2222-4333-8444-555555555555",
            SUPPLIER_RFC,
            BUSINESS_RFC,
            &concepts,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

async fn a_reused_uuid_is_refused(app: TestApp) {
    let b = buying(&app, "xmluuid").await;
    fiscal(&app, &b).await;
    let first = id(&sent_order(&app, &b).await);
    let second = id(&sent_order(&app, &b).await);
    let xml = cfdi(
        "AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE",
        SUPPLIER_RFC,
        BUSINESS_RFC,
        &[("PRV-A", "Balata", "5", "100.00")],
    );
    assert_eq!(
        upload(&app, &b, first, &xml).await.status,
        StatusCode::CREATED
    );
    for po in [first, second] {
        let r = upload(&app, &b, po, &xml).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
        assert_eq!(r.code(), "cfdi_uuid_reused");
    }
}

async fn a_malformed_an_entity_laden_and_a_20_mb_cfdi_are_refused_and_change_nothing(app: TestApp) {
    let b = buying(&app, "xmlmal").await;
    let db = app.tenant_db(&b.f.t).await;
    fiscal(&app, &b).await;
    let p = id(&sent_order(&app, &b).await);
    let good = cfdi(
        "12345678-1234-4234-8234-123456789012",
        SUPPLIER_RFC,
        BUSINESS_RFC,
        &[("PRV-A", "Balata", "5", "100.00")],
    );
    let malformed = good.replace("</cfdi:Conceptos>", "");
    let r = upload(&app, &b, p, &malformed).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "xml");
    let xxe = good.replace(
        "<cfdi:Comprobante",
        "<!DOCTYPE cfdi:Comprobante [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<cfdi:Comprobante",
    );
    let r = upload(&app, &b, p, &xxe).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("DOCTYPE"), "{}", r.text());
    // 20 MB: refused before it is read (the body limit), or by the parser's limit.
    let huge = format!("{good}{}", " ".repeat(20 * 1024 * 1024));
    let r = upload(&app, &b, p, &huge).await;
    assert!(
        [
            StatusCode::PAYLOAD_TOO_LARGE,
            StatusCode::UNPROCESSABLE_ENTITY
        ]
        .contains(&r.status),
        "{}",
        r.status
    );
    assert!(
        supplier_invoice::Entity::find()
            .all(&db)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(balance(&db, b.items[0], b.wh()).await, 0);
    // A closed or draft order takes no CFDI.
    let draft = id(&order(&app, &b, &[(b.items[0], 1, "1.00")]).await);
    let r = upload(&app, &b, draft, &good).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "invalid_purchase_order_state");
}
