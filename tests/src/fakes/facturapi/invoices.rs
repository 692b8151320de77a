//! The invoice endpoints: create (with idempotency keys and modes), read, list, cancel and
//! the XML/PDF downloads.

use super::validate::{total_cents, validate};
use super::*;

fn stamp_now(inv: &mut Value, seq: u64) {
    inv["status"] = json!("valid");
    inv["uuid"] = json!(format!("{:08X}-FA4E-4C0D-9A1B-{:012X}", seq, seq * 7919));
    inv["stamp"] = json!({
        "date": chrono::Utc::now().to_rfc3339(),
        "signature": format!("fake-cfdi-seal-{seq}"),
        "sat_cert_number": "30001000000500003456",
        "sat_signature": format!("fake-sat-seal-{seq}"),
    });
    inv["verification_url"] = json!(format!(
        "https://verificacfdi.facturaelectronica.sat.gob.mx/default.aspx?id={}",
        inv["uuid"].as_str().unwrap_or_default()
    ));
}

pub(super) async fn create(
    State(inner): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    bytes: Bytes,
) -> Response {
    let query = query.unwrap_or_default();
    let body: Option<Value> = serde_json::from_slice(&bytes).ok();
    let (idx, mode, livemode) = match begin(
        &inner,
        &headers,
        &Method::POST,
        "/v2/invoices",
        &query,
        body.as_ref(),
    ) {
        Ok(x) => x,
        Err((idx, resp)) => return finish(&inner, idx, resp),
    };
    let Some(body) = body.filter(Value::is_object) else {
        return finish(
            &inner,
            idx,
            error(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                "El cuerpo no es JSON válido.",
                None,
                json!([]),
            ),
        );
    };
    if mode == Mode::KeyInUse {
        return finish(
            &inner,
            idx,
            error(
                StatusCode::CONFLICT,
                "idempotency_key_in_use",
                "La llave de idempotencia está siendo usada por otra solicitud.",
                None,
                json!([]),
            ),
        );
    }
    if let Err(resp) = validate(&body) {
        return finish(&inner, idx, resp);
    }
    let key = body
        .get("idempotency_key")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .map(str::to_owned);
    let delay = {
        let mut g = lock(&inner);
        if let Some(k) = &key {
            match g.keys.get(k) {
                Some(KeyEntry {
                    state: KeyState::InFlight,
                    ..
                }) => {
                    drop(g);
                    return finish(
                        &inner,
                        idx,
                        error(
                            StatusCode::CONFLICT,
                            "idempotency_key_in_use",
                            "La llave de idempotencia está siendo usada por otra solicitud.",
                            None,
                            json!([]),
                        ),
                    );
                }
                Some(KeyEntry {
                    state: KeyState::Done(id),
                    body: first,
                }) => {
                    let resp = if *first == body {
                        let inv = g
                            .invoices
                            .get(id)
                            .map(|s| s.invoice.clone())
                            .unwrap_or(Value::Null);
                        (StatusCode::OK, axum::Json(inv)).into_response()
                    } else {
                        error(
                            StatusCode::CONFLICT,
                            "conflict",
                            "La llave de idempotencia ya se usó con otro contenido.",
                            Some("idempotency_key"),
                            json!([]),
                        )
                    };
                    drop(g);
                    return finish(&inner, idx, resp);
                }
                None => {
                    g.keys.insert(
                        k.clone(),
                        KeyEntry {
                            body: body.clone(),
                            state: KeyState::InFlight,
                        },
                    );
                }
            }
        }
        g.stamp_delay
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if mode == Mode::SatValidationError {
        if let Some(k) = &key {
            lock(&inner).keys.remove(k);
        }
        let msg = "CFDI40145 - El campo Nombre del receptor, debe pertenecer al nombre asociado al RFC registrado en el campo Rfc del Receptor.";
        return finish(
            &inner,
            idx,
            error(
                StatusCode::BAD_REQUEST,
                "invoice_stamping_validation_error",
                msg,
                None,
                json!([{ "message": msg, "code": "CFDI40145", "source": "sat" }]),
            ),
        );
    }
    let asynchronous = query.split('&').any(|p| p == "async=true");
    let (invoice, hang) = {
        let mut g = lock(&inner);
        g.seq += 1;
        let seq = g.seq;
        let id = format!("{:024x}", 0x6650_0000_0000_0000_u64 + seq);
        let external_id = body.get("external_id").cloned().unwrap_or(Value::Null);
        let cents = total_cents(&body);
        let mut inv = json!({
            "id": id,
            "created_at": chrono::Utc::now().to_rfc3339(),
            "livemode": livemode,
            "status": "pending",
            "cancellation_status": "none",
            "verification_url": null,
            "date": chrono::Utc::now().to_rfc3339(),
            "type": body.get("type").cloned().unwrap_or(json!("I")),
            "customer": body.get("customer").cloned().unwrap_or(Value::Null),
            "items": body.get("items").cloned().unwrap_or(json!([])),
            "total": (cents as f64) / 100.0,
            "uuid": null,
            "folio_number": body.get("folio_number").cloned().unwrap_or(json!(seq)),
            "series": body.get("series").cloned().unwrap_or(Value::Null),
            "external_id": external_id,
            "idempotency_key": key.clone(),
            "payment_form": body.get("payment_form").cloned().unwrap_or(Value::Null),
            "payment_method": body.get("payment_method").cloned().unwrap_or(json!("PUE")),
            "use": body.get("use").cloned().unwrap_or(Value::Null),
            "currency": body.get("currency").cloned().unwrap_or(json!("MXN")),
            "exchange": body.get("exchange").cloned().unwrap_or(json!(1)),
            "related_documents": body.get("related_documents").cloned().unwrap_or(json!([])),
            "global": body.get("global").cloned().unwrap_or(Value::Null),
            "stamp": null,
        });
        let polls_left = match mode {
            Mode::PendingThenValid { polls } => polls.max(1),
            _ if asynchronous => 1,
            _ => {
                stamp_now(&mut inv, seq);
                0
            }
        };
        if let Some(e) = external_id.as_str() {
            *g.stamps.entry(e.to_owned()).or_insert(0) += 1;
        }
        g.order.push(id.clone());
        g.invoices.insert(
            id.clone(),
            Stored {
                invoice: inv.clone(),
                polls_left,
            },
        );
        if let Some(k) = &key
            && let Some(entry) = g.keys.get_mut(k)
        {
            entry.state = KeyState::Done(id);
        }
        (inv, g.hang)
    };
    match mode {
        Mode::PendingThenValid { .. } => finish(
            &inner,
            idx,
            (StatusCode::ACCEPTED, axum::Json(invoice)).into_response(),
        ),
        Mode::TimeoutAfterStamp => {
            tokio::time::sleep(hang).await;
            finish(
                &inner,
                idx,
                (StatusCode::OK, axum::Json(invoice)).into_response(),
            )
        }
        Mode::DropAfterStamp => dropped(&inner, idx, &invoice),
        _ => finish(
            &inner,
            idx,
            (StatusCode::OK, axum::Json(invoice)).into_response(),
        ),
    }
}

/// An answer whose body fails on its first frame: hyper aborts the connection, so the client
/// gets no complete answer although the fake did what was asked. Recorded as never answered.
fn dropped(inner: &Shared, idx: usize, body: &Value) -> Response {
    let broken =
        http_body_util::Limited::new(http_body_util::Full::new(Bytes::from(body.to_string())), 1);
    let mut resp = Response::new(Body::new(broken));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    lock(inner).requests[idx].status = 0;
    resp
}

fn not_found(idx: usize, inner: &Shared) -> Response {
    finish(
        inner,
        idx,
        error(
            StatusCode::NOT_FOUND,
            "invoice_not_found",
            "No se encontró la factura.",
            None,
            json!([]),
        ),
    )
}

pub(super) async fn get_one(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let path = format!("/v2/invoices/{id}");
    let idx = match begin(&inner, &headers, &Method::GET, &path, "", None) {
        Ok((idx, ..)) => idx,
        Err((idx, resp)) => return finish(&inner, idx, resp),
    };
    let inv = {
        let mut g = lock(&inner);
        let seq = g.seq + 1;
        match g.invoices.get_mut(&id) {
            Some(stored) => {
                if stored.polls_left > 0 {
                    stored.polls_left -= 1;
                    if stored.polls_left == 0 {
                        stamp_now(&mut stored.invoice, seq);
                    }
                }
                Some(stored.invoice.clone())
            }
            None => None,
        }
    };
    match inv {
        Some(inv) => finish(
            &inner,
            idx,
            (StatusCode::OK, axum::Json(inv)).into_response(),
        ),
        None => not_found(idx, &inner),
    }
}

pub(super) async fn list(
    State(inner): State<Shared>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let idx = match begin(
        &inner,
        &headers,
        &Method::GET,
        "/v2/invoices",
        &raw.unwrap_or_default(),
        None,
    ) {
        Ok((idx, ..)) => idx,
        Err((idx, resp)) => return finish(&inner, idx, resp),
    };
    let data: Vec<Value> = {
        let g = lock(&inner);
        g.order
            .iter()
            .rev()
            .filter_map(|id| g.invoices.get(id))
            .map(|s| s.invoice.clone())
            .filter(|inv| {
                q.get("external_id")
                    .is_none_or(|e| inv["external_id"].as_str() == Some(e))
            })
            .collect()
    };
    let n = data.len();
    finish(
        &inner,
        idx,
        axum::Json(json!({ "page": 1, "total_pages": 1, "total_results": n, "data": data }))
            .into_response(),
    )
}

pub(super) async fn cancel(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let path = format!("/v2/invoices/{id}");
    let (idx, mode) = match begin(
        &inner,
        &headers,
        &Method::DELETE,
        &path,
        &raw.unwrap_or_default(),
        None,
    ) {
        Ok((idx, mode, _)) => (idx, mode),
        Err((idx, resp)) => return finish(&inner, idx, resp),
    };
    let motive = q.get("motive").map(String::as_str).unwrap_or("");
    let substitution = q
        .get("substitution")
        .map(String::as_str)
        .filter(|s| !s.is_empty());
    if !sat::motive_exists(motive) {
        return finish(
            &inner,
            idx,
            error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "El motivo debe ser 01, 02, 03 o 04.",
                Some("motive"),
                json!([]),
            ),
        );
    }
    let mut g = lock(&inner);
    if sat::motive_needs_substitute(motive) {
        let Some(sub) = substitution else {
            drop(g);
            return finish(
                &inner,
                idx,
                error(
                    StatusCode::BAD_REQUEST,
                    "substitution_invoice_required",
                    "El motivo 01 requiere la factura que sustituye.",
                    Some("substitution"),
                    json!([]),
                ),
            );
        };
        let exists = g.invoices.values().any(|s| {
            (s.invoice["id"].as_str() == Some(sub) || s.invoice["uuid"].as_str() == Some(sub))
                && s.invoice["status"] == json!("valid")
        });
        if !exists {
            drop(g);
            return finish(
                &inner,
                idx,
                error(
                    StatusCode::BAD_REQUEST,
                    "substitution_invoice_not_found",
                    "No se encontró la factura sustituta.",
                    Some("substitution"),
                    json!([]),
                ),
            );
        }
    }
    let Some(stored) = g.invoices.get_mut(&id) else {
        drop(g);
        return not_found(idx, &inner);
    };
    let inv = &mut stored.invoice;
    if inv["status"] != json!("valid") {
        drop(g);
        return finish(
            &inner,
            idx,
            error(
                StatusCode::BAD_REQUEST,
                "invoice_not_cancelable",
                "Solo se pueden cancelar facturas válidas.",
                None,
                json!([]),
            ),
        );
    }
    if matches!(
        inv["cancellation_status"].as_str(),
        Some("pending" | "verifying")
    ) {
        drop(g);
        return finish(
            &inner,
            idx,
            error(
                StatusCode::CONFLICT,
                "invoice_cancellation_in_progress",
                "Ya hay una solicitud de cancelación en curso.",
                None,
                json!([]),
            ),
        );
    }
    if mode == Mode::CancelRefusedBySat {
        drop(g);
        let msg = "El SAT no permite cancelar la factura: tiene documentos relacionados vigentes.";
        return finish(
            &inner,
            idx,
            error(
                StatusCode::BAD_REQUEST,
                "invoice_not_cancelable_by_sat",
                msg,
                None,
                json!([{ "message": msg, "code": "invoice_not_cancelable_by_sat", "source": "sat" }]),
            ),
        );
    }
    // SAT cancels without the receiver's acceptance up to $1,000, for the general public and
    // for egresos/payments (domain.md §1.6); otherwise the receiver has 3 business days.
    let small = inv["total"].as_f64().unwrap_or(f64::MAX) <= 1_000.0;
    let public = inv["customer"]["tax_id"].as_str() == Some(sat::RFC_PUBLIC);
    let no_acceptance = matches!(inv["type"].as_str(), Some("E" | "P"));
    if (small || public || no_acceptance) && mode != Mode::CancelPending {
        inv["status"] = json!("canceled");
        inv["cancellation_status"] = json!("accepted");
    } else {
        inv["cancellation_status"] = json!("pending");
    }
    inv["cancellation"] = json!({ "motive": motive, "substitution": substitution });
    let out = inv.clone();
    *g.cancellations.entry(id).or_insert(0) += 1;
    drop(g);
    if mode == Mode::CancelThenDrop {
        return dropped(&inner, idx, &out);
    }
    finish(&inner, idx, axum::Json(out).into_response())
}

pub(super) async fn download(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Path((id, format)): Path<(String, String)>,
) -> Response {
    let path = format!("/v2/invoices/{id}/{format}");
    let idx = match begin_with(&inner, &headers, &Method::GET, &path, "", None, false) {
        Ok((idx, ..)) => idx,
        Err((idx, resp)) => return finish(&inner, idx, resp),
    };
    let inv = lock(&inner).invoices.get(&id).map(|s| s.invoice.clone());
    let Some(inv) = inv else {
        return not_found(idx, &inner);
    };
    if !matches!(inv["status"].as_str(), Some("valid" | "canceled")) {
        return finish(
            &inner,
            idx,
            error(
                StatusCode::BAD_REQUEST,
                "invoice_not_stamped",
                "La factura no ha sido timbrada.",
                None,
                json!([]),
            ),
        );
    }
    let uuid = inv["uuid"].as_str().unwrap_or_default();
    let (ctype, bytes) = match format.as_str() {
        "xml" => (
            "application/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<cfdi:Comprobante xmlns:cfdi=\"http://www.sat.gob.mx/cfd/4\" Version=\"4.0\" Total=\"{}\"><cfdi:Complemento><tfd:TimbreFiscalDigital xmlns:tfd=\"http://www.sat.gob.mx/TimbreFiscalDigital\" Version=\"1.1\" UUID=\"{uuid}\"/></cfdi:Complemento></cfdi:Comprobante>\n",
                inv["total"]
            )
            .into_bytes(),
        ),
        "pdf" => ("application/pdf", format!("%PDF-1.4\n% fake CFDI {uuid}\n%%EOF\n").into_bytes()),
        _ => return not_found(idx, &inner),
    };
    let mut resp = Response::new(Body::from(bytes));
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{id}.{format}\"")) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    finish(&inner, idx, resp)
}
