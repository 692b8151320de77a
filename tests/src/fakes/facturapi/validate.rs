//! The body checks of `POST /v2/invoices` and the totals the fake computes, by the SAT rules of
//! [`super::sat`] (the fake's own copy).

use super::*;

fn micros(v: Option<&Value>) -> Option<i128> {
    let f = v?.as_f64()?;
    // Amounts of a CFDI have at most 6 decimals.
    Some((f * 1e6).round() as i128)
}

fn round_cents(micros: i128) -> i128 {
    // Half away from zero, from micro-units to centavos.
    let q = micros.abs() / 10_000;
    let r = micros.abs() % 10_000;
    let c = if r >= 5_000 { q + 1 } else { q };
    if micros < 0 { -c } else { c }
}

/// Checks the body as Facturapi's InvoiceIngresoInput would (the subset of domain.md §10.1).
pub(super) fn validate(body: &Value) -> Result<(), Response> {
    let kind = body.get("type").and_then(Value::as_str).unwrap_or("I");
    if !matches!(kind, "I" | "E" | "P") {
        return Err(invalid("type", "El campo \"type\" debe ser I, E o P."));
    }
    let Some(customer) = body.get("customer").filter(|c| c.is_object()) else {
        return Err(invalid("customer", "El campo \"customer\" es requerido."));
    };
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    for (k, p) in [
        ("legal_name", "customer.legal_name"),
        ("tax_id", "customer.tax_id"),
        ("tax_system", "customer.tax_system"),
    ] {
        if s(customer, k).trim().is_empty() {
            return Err(invalid(p, &format!("El campo \"{p}\" es requerido.")));
        }
    }
    let zip = customer
        .get("address")
        .map(|a| s(a, "zip"))
        .unwrap_or_default();
    let default_use = if kind == "P" { "CP01" } else { "G01" };
    let cfdi_use = body
        .get("use")
        .and_then(Value::as_str)
        .unwrap_or(default_use)
        .to_owned();
    let (legal_name, tax_id, tax_system) = (
        s(customer, "legal_name"),
        s(customer, "tax_id"),
        s(customer, "tax_system"),
    );
    sat::receiver(
        &tax_id,
        &legal_name,
        &tax_system,
        &zip,
        &cfdi_use,
        EXPEDITION_ZIP,
    )
    .map_err(|(p, m)| invalid(&p, &m))?;
    let general_public =
        tax_id == sat::RFC_PUBLIC && legal_name.trim().eq_ignore_ascii_case(sat::PUBLIC_NAME);
    match body.get("global") {
        Some(g) if !g.is_null() => {
            if tax_id != sat::RFC_PUBLIC || cfdi_use != "S01" {
                return Err(invalid(
                    "global",
                    "La información global solo aplica a XAXX010101000 con uso S01.",
                ));
            }
            let periodicity = g.get("periodicity").and_then(Value::as_str).unwrap_or("");
            let year = g.get("year").and_then(Value::as_i64).unwrap_or(0);
            sat::global(periodicity, &s(g, "months"), year).map_err(|(p, m)| invalid(&p, &m))?;
        }
        _ if general_public && kind == "I" => {
            // SAT's CFDI 4.0 rule: PUBLICO EN GENERAL with the generic RFC is a global invoice.
            return Err(invalid(
                "global",
                "El campo \"global\" es requerido para PUBLICO EN GENERAL.",
            ));
        }
        _ => {}
    }
    if let (Some(form), Some(method)) = (
        body.get("payment_form").and_then(Value::as_str),
        body.get("payment_method").and_then(Value::as_str),
    ) {
        sat::payment(form, method).map_err(|(p, m)| invalid(&p, &m))?;
    }
    let items = body
        .get("items")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if kind == "P" {
        let ok = body
            .get("complements")
            .and_then(Value::as_array)
            .is_some_and(|c| {
                c.iter()
                    .any(|c| c.get("type").and_then(Value::as_str) == Some("pago"))
            });
        if !ok {
            return Err(invalid(
                "complements",
                "Un comprobante de pago requiere el complemento \"pago\".",
            ));
        }
        return validate_payments(body);
    }
    if kind == "E" {
        validate_related(body)?;
    }
    if items.is_empty() {
        return Err(invalid(
            "items",
            "El campo \"items\" debe tener al menos un elemento.",
        ));
    }
    if items.len() > 5_000 {
        return Err(invalid(
            "items",
            "El campo \"items\" admite como máximo 5000 elementos.",
        ));
    }
    for (i, item) in items.iter().enumerate() {
        if micros(item.get("quantity")).is_none_or(|q| q <= 0) {
            return Err(invalid(
                &format!("items[{i}].quantity"),
                "La cantidad debe ser mayor que cero.",
            ));
        }
        let Some(product) = item.get("product").filter(|p| p.is_object()) else {
            return Err(invalid(
                &format!("items[{i}].product"),
                "El campo \"product\" es requerido.",
            ));
        };
        if s(product, "description").trim().is_empty() {
            return Err(invalid(
                &format!("items[{i}].product.description"),
                "La descripción es requerida.",
            ));
        }
        sat::keys(
            i,
            &s(product, "product_key"),
            product
                .get("unit_key")
                .and_then(Value::as_str)
                .unwrap_or("H87"),
        )
        .map_err(|(p, m)| invalid(&p, &m))?;
        if micros(product.get("price")).is_none_or(|p| p < 0) {
            return Err(invalid(
                &format!("items[{i}].product.price"),
                "El precio debe ser un número positivo.",
            ));
        }
    }
    Ok(())
}

/// Checks the `pago` complements of a type P body: each payment names a real form (never 99)
/// and settles documents by UUID with an installment from 1 and an amount above zero and within
/// the document's previous balance (domain.md §1.5 subcode
/// `amount_exceeds_related_document_balance`).
fn validate_payments(body: &Value) -> Result<(), Response> {
    let complements = body
        .get("complements")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    for (ci, c) in complements.iter().enumerate() {
        if c.get("type").and_then(Value::as_str) != Some("pago") {
            continue;
        }
        let data = c
            .get("data")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if data.is_empty() {
            return Err(invalid(
                &format!("complements[{ci}].data"),
                "El complemento de pago requiere al menos un pago.",
            ));
        }
        for (di, d) in data.iter().enumerate() {
            let at = format!("complements[{ci}].data[{di}]");
            let form = d.get("payment_form").and_then(Value::as_str).unwrap_or("");
            if form == "99" || !sat::PAYMENT_FORMS.contains(&form) {
                return Err(invalid(
                    &format!("{at}.payment_form"),
                    "La forma de pago del pago debe existir en el catálogo y no puede ser 99.",
                ));
            }
            let docs = d
                .get("related_documents")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            if docs.is_empty() {
                return Err(invalid(
                    &format!("{at}.related_documents"),
                    "El pago debe relacionar al menos un documento.",
                ));
            }
            for (ri, r) in docs.iter().enumerate() {
                let rp = format!("{at}.related_documents[{ri}]");
                if r.get("uuid")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    return Err(invalid(
                        &format!("{rp}.uuid"),
                        "El campo \"uuid\" es requerido.",
                    ));
                }
                if r.get("installment")
                    .and_then(Value::as_i64)
                    .is_none_or(|n| n < 1)
                {
                    return Err(invalid(
                        &format!("{rp}.installment"),
                        "El número de parcialidad debe ser mayor que cero.",
                    ));
                }
                let amount = micros(r.get("amount")).unwrap_or(0);
                let last = micros(r.get("last_balance")).unwrap_or(0);
                if amount <= 0 {
                    return Err(invalid(
                        &format!("{rp}.amount"),
                        "El importe pagado debe ser mayor que cero.",
                    ));
                }
                if amount > last {
                    let path = format!("{rp}.amount");
                    let msg =
                        "El importe pagado excede el saldo anterior del documento relacionado.";
                    return Err(error(
                        StatusCode::BAD_REQUEST,
                        "invalid_request",
                        msg,
                        Some(&path),
                        json!([{ "message": msg, "code": "amount_exceeds_related_document_balance",
                                 "source": "facturapi", "location": "body", "path": path }]),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A credit note (type E) relates to the documents it credits: at least one group with a
/// c_TipoRelacion key and at least one UUID.
fn validate_related(body: &Value) -> Result<(), Response> {
    let groups = body
        .get("related_documents")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if groups.is_empty() {
        return Err(invalid(
            "related_documents",
            "Un comprobante de egreso debe relacionar los documentos que acredita.",
        ));
    }
    for (i, g) in groups.iter().enumerate() {
        let rel = g.get("relationship").and_then(Value::as_str).unwrap_or("");
        if !matches!(
            rel,
            "01" | "02" | "03" | "04" | "05" | "06" | "07" | "08" | "09"
        ) {
            return Err(invalid(
                &format!("related_documents[{i}].relationship"),
                "El tipo de relación no existe en el catálogo c_TipoRelacion.",
            ));
        }
        let docs = g
            .get("documents")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        if docs.is_empty() || docs.iter().any(|d| d.as_str().is_none_or(str::is_empty)) {
            return Err(invalid(
                &format!("related_documents[{i}].documents"),
                "Cada relación debe listar los UUID de los documentos relacionados.",
            ));
        }
    }
    Ok(())
}

/// The total Facturapi would compute: per line, price × quantity − discount, plus each
/// transferred rate on that base when the price excludes taxes, rounded to centavos.
pub(super) fn total_cents(body: &Value) -> i128 {
    let items = body
        .get("items")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let mut total = 0i128;
    for item in items {
        let qty = micros(item.get("quantity")).unwrap_or(0);
        let product = item.get("product").cloned().unwrap_or(Value::Null);
        let price = micros(product.get("price")).unwrap_or(0);
        let discount = micros(item.get("discount")).unwrap_or(0);
        let amount = round_cents(qty * price / 1_000_000 - discount);
        let tax_included = product
            .get("tax_included")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        if tax_included {
            total += amount;
            continue;
        }
        let mut taxes = 0i128;
        let list = product
            .get("taxes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_else(|| vec![json!({"type": "IVA", "rate": 0.16})]);
        for t in &list {
            let exempt = t.get("factor").and_then(Value::as_str) == Some("Exento");
            let withholding = t
                .get("withholding")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let rate = micros(t.get("rate")).unwrap_or(0);
            let tax = round_cents(amount * 10_000 * rate / 1_000_000);
            if !exempt {
                taxes += if withholding { -tax } else { tax };
            }
        }
        total += amount + taxes;
    }
    total
}
