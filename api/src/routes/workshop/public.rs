//! The customer's side of an order: the public page of the budget opened from a WhatsApp link
//! (`/so/{token}`), where the customer approves or declines it without a login, and the
//! printable order and receipt in Spanish with parts, labour and warranty itemised (LFPC
//! arts. 57 and 62; PROFECO's reception form).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Response};
use entities::org::tables::{branch, tenant};
use entities::org::tenants;
use entities::rules::money::Money;
use entities::workshop::orders::{self, OrderDoc, Status};
use entities::workshop::tables::service_order_line::{Kind, LineStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppPath, AppQuery};
use crate::routes::counter::quotes::{
    PublicQuery, escape, not_found_page, page, private, wants_json,
};
use crate::routes::workshop::orders::{ServiceLineView, ServiceTotals};
use crate::state::AppState;

/// The public routes and the printable order.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(public_service_order))
        .routes(routes!(answer_service_order))
        .routes(routes!(print_service_order))
}

/// What a customer sees of their order.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicServiceOrder {
    /// Business.
    pub business: String,
    /// Branch.
    pub branch: String,
    /// Branch phone.
    pub phone: Option<String>,
    /// Folio.
    pub folio: String,
    /// The order's state.
    pub status: String,
    /// Plate.
    pub plate: Option<String>,
    /// Vehicle.
    pub vehicle: Option<String>,
    /// What the customer said was wrong.
    pub complaint: String,
    /// Promised for.
    pub promised_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Whether a budget waits for the customer's answer.
    pub awaiting_answer: bool,
    /// The lines waiting for the answer, and those approved before.
    pub lines: Vec<ServiceLineView>,
    /// Total of what waits for the answer.
    pub pending: ServiceTotals,
    /// Total of the budget (approved and pending).
    pub budget: ServiceTotals,
}

async fn load(
    state: &AppState,
    token: &str,
) -> ApiResult<Option<(tenant::Model, sea_orm::DatabaseConnection, OrderDoc)>> {
    let Some((tenant_id, t)) = entities::counter::quotes::split_public(token) else {
        return Ok(None);
    };
    let ten = match tenants::find(&state.platform, tenant_id).await {
        Ok(t) if t.status == tenant::STATUS_ACTIVE => t,
        Ok(_) | Err(entities::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let db = state.tenants.connection(&ten).await?;
    match orders::by_token(&db, t).await {
        Ok(d) => Ok(Some((ten, db, d))),
        Err(entities::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn public_view(
    db: &sea_orm::DatabaseConnection,
    business: String,
    d: &OrderDoc,
) -> ApiResult<PublicServiceOrder> {
    use sea_orm::EntityTrait;
    let b = branch::Entity::find_by_id(d.order.branch_id)
        .one(db)
        .await?;
    let shown: Vec<_> = d
        .lines
        .iter()
        .filter(|l| matches!(l.status, LineStatus::Proposed | LineStatus::Approved))
        .collect();
    let mut pending = entities::rules::money::Totals::default();
    for l in shown.iter().filter(|l| l.status == LineStatus::Proposed) {
        pending.add(&orders::amounts_of(l));
    }
    Ok(PublicServiceOrder {
        business,
        branch: b.as_ref().map(|b| b.name.clone()).unwrap_or_default(),
        phone: b.and_then(|b| b.phone),
        folio: d.order.folio.clone(),
        status: d.order.status.to_string(),
        plate: d.order.plate.clone(),
        vehicle: d.order.vehicle_label.clone(),
        complaint: d.order.complaint.clone(),
        promised_at: d.order.promised_at,
        awaiting_answer: d.order.status == Status::AwaitingApproval,
        lines: shown.into_iter().map(Into::into).collect(),
        pending: pending.into(),
        budget: d.budget().into(),
    })
}

fn status_es(s: &str) -> &'static str {
    s.parse::<Status>()
        .map_or("", entities::workshop::board::default_label)
}

fn lines_table(lines: &[ServiceLineView]) -> String {
    let mut rows = String::new();
    for (title, kind) in [("Refacciones", "part"), ("Mano de obra", "labour")] {
        let mine: Vec<&ServiceLineView> = lines.iter().filter(|l| l.kind == kind).collect();
        if mine.is_empty() {
            continue;
        }
        rows.push_str(&format!("<tr><th colspan=\"4\">{title}</th></tr>"));
        for l in mine {
            let state = if l.status == "proposed" {
                " <small>(por aprobar)</small>"
            } else {
                ""
            };
            let qty = l
                .hours
                .map_or_else(|| l.qty.to_string(), |h| format!("{} h", h.grouped()));
            rows.push_str(&format!(
                "<tr><td>{}{state}<br><small>{}</small></td><td class=\"n\">{}</td><td class=\"n\">${}</td><td class=\"n\">${}</td></tr>",
                escape(&l.name),
                escape(&l.sku),
                qty,
                l.unit_price.grouped(),
                l.total.grouped()
            ));
        }
    }
    format!(
        "<table><thead><tr><th>Concepto</th><th class=\"n\">Cant.</th><th class=\"n\">Precio</th><th class=\"n\">Importe</th></tr></thead><tbody>{rows}</tbody></table>"
    )
}

fn public_html(p: &PublicServiceOrder, token: &str, answered: Option<&str>) -> String {
    let head = format!(
        "<h1>{biz}</h1><p>{branch}{phone}</p><h2>Orden de servicio {folio}</h2><p>Vehículo: {veh} {plate}</p><p>Estado: {status}</p><p>Falla reportada: {complaint}</p>",
        biz = escape(&p.business),
        branch = escape(&p.branch),
        phone = p
            .phone
            .as_deref()
            .map(|ph| format!(" · Tel. {}", escape(ph)))
            .unwrap_or_default(),
        folio = escape(&p.folio),
        veh = escape(p.vehicle.as_deref().unwrap_or("")),
        plate = escape(p.plate.as_deref().unwrap_or("")),
        status = status_es(&p.status),
        complaint = escape(&p.complaint),
    );
    let answer = match answered {
        Some(msg) => format!("<p class=\"tot\">{}</p>", escape(msg)),
        None if p.awaiting_answer => format!(
            "<p class=\"tot\">Por aprobar: ${pending} MXN (IVA incluido)</p>\
<form method=\"post\" action=\"/so/{token}/answer\"><p><label>Su nombre <input name=\"name\" required maxlength=\"200\"></label></p>\
<p><label>Comentario <input name=\"note\" maxlength=\"1000\"></label></p>\
<p><button name=\"answer\" value=\"approve\">Apruebo el presupuesto</button> \
<button name=\"answer\" value=\"decline\">No apruebo</button></p></form>\
<p><small>Si no aprueba el presupuesto, sólo se cobra la revisión y el diagnóstico.</small></p>",
            pending = p.pending.total.grouped(),
            token = escape(token),
        ),
        None => String::new(),
    };
    let body = format!(
        "{head}{table}<p class=\"tot\">Total del presupuesto: ${total} MXN (IVA incluido)</p>{answer}",
        table = lines_table(&p.lines),
        total = p.budget.total.grouped(),
    );
    page(&format!("Orden de servicio {}", p.folio), &body)
}

fn not_found(json: bool) -> Response {
    not_found_page(json, "service_order", "Orden no encontrada")
}

/// The public page of a service order's budget, opened from the customer's link: HTML with
/// the approve and decline buttons while a budget waits, or JSON (`?format=json` or
/// `Accept: application/json`). No login: the token (256 random bits) is the key.
#[utoipa::path(
    get, path = "/so/{token}", tag = "workshop",
    params(("token" = String, Path, description = "The order's public token"), PublicQuery),
    responses(
        (status = 200, description = "HTML page, or JSON", body = PublicServiceOrder),
        (status = 404, description = "Unknown token"),
    )
)]
pub async fn public_service_order(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppPath(token): AppPath<String>,
    AppQuery(q): AppQuery<PublicQuery>,
) -> Response {
    let json = wants_json(&headers, &q);
    let found = match load(&state, &token).await {
        Ok(Some(f)) => f,
        Ok(None) => return not_found(json),
        Err(e) => return e.into_response(),
    };
    let (ten, db, d) = found;
    match public_view(&db, ten.name, &d).await {
        Ok(p) => {
            let mut r = if json {
                Json(&p).into_response()
            } else {
                Html(public_html(&p, &token, None)).into_response()
            };
            private(&mut r);
            r
        }
        Err(e) => e.into_response(),
    }
}

/// The customer's answer on the public page.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicAnswer {
    /// `approve` or `decline`.
    #[schema(pattern = "^(approve|decline)$")]
    pub answer: String,
    /// The customer's name.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// A comment.
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

/// The customer approves or declines the budget waiting for them, from the public page (a form
/// post, answered with the page) or as JSON (answered with the order as the public page shows
/// it). An approval holds the parts as one at the counter does.
#[utoipa::path(
    post, path = "/so/{token}/answer", tag = "workshop",
    params(("token" = String, Path, description = "The order's public token")),
    request_body(content(
        (PublicAnswer = "application/json"),
        (PublicAnswer = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 200, description = "The page after a form post, or JSON", content(
            (PublicServiceOrder = "application/json"),
            (String = "text/html"),
        )),
        (status = 404, description = "Unknown token: the error envelope, or a page after a form post", content(
            (ErrorBody = "application/json"),
            (String = "text/html"),
        )),
        (status = 409, description = "`invalid_transition`: nothing waits for an answer", body = ErrorBody),
        (status = 400, description = "Neither JSON nor a form", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn answer_service_order(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppPath(token): AppPath<String>,
    body: Bytes,
) -> Response {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let form = ct.starts_with("application/x-www-form-urlencoded");
    let parsed: Result<PublicAnswer, ApiError> = if form {
        serde_urlencoded::from_bytes(&body)
            .map_err(|e| ApiError::invalid("body", format!("the form could not be read: {e}")))
    } else if ct.starts_with("application/json") {
        serde_json::from_slice::<serde_json::Value>(&body)
            .map_err(|e| ApiError::invalid("body", format!("the JSON could not be read: {e}")))
            .and_then(|v| crate::extract::body_as(&v))
    } else {
        Err(ApiError::BadRequest {
            code: "unsupported_media_type",
            message: "send application/json or a form".into(),
        })
    };
    let a = match parsed {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let approve = match a.answer.as_str() {
        "approve" => true,
        "decline" => false,
        _ => {
            return ApiError::invalid("answer", "answer is approve or decline").into_response();
        }
    };
    let (ten, db, _) = match load(&state, &token).await {
        Ok(Some(f)) => f,
        Ok(None) => return not_found(!form),
        Err(e) => return e.into_response(),
    };
    let Some((_, t)) = entities::counter::quotes::split_public(&token) else {
        return not_found(!form);
    };
    let answered = async {
        let txn = entities::db::begin_write(&db).await?;
        let d = orders::answer_by_link(&txn, t, approve, a.name, a.note).await?;
        txn.commit().await?;
        Ok::<_, ApiError>(d)
    }
    .await;
    let d = match answered {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    state.waker.wake(ten.id);
    match public_view(&db, ten.name, &d).await {
        Ok(p) if form => {
            let msg = if approve {
                "¡Gracias! Su aprobación quedó registrada; el taller continúa con la reparación."
            } else {
                "Su respuesta quedó registrada: no se realizará el trabajo presupuestado."
            };
            let mut r = Html(public_html(&p, &token, Some(msg))).into_response();
            private(&mut r);
            r
        }
        Ok(p) => Json(p).into_response(),
        Err(e) => e.into_response(),
    }
}

/// The printable order (or receipt once delivered), in Spanish: the business, the reception
/// record (odometer, fuel, accessories, complaint, consent to used parts), parts and labour
/// itemised with their totals, the warranty granted on each line, PROFECO's diagnosis clause
/// and the signatures.
#[utoipa::path(
    get, path = "/pos/api/service-orders/{id}/print", tag = "workshop", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Service order id")),
    responses(
        (status = 200, description = "An HTML page to print", content_type = "text/html"),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn print_service_order(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Response> {
    use sea_orm::EntityTrait;
    let d = orders::get(&ctx.db, &ctx.seller(), id).await?;
    let o = &d.order;
    let b = branch::Entity::find_by_id(o.branch_id).one(&ctx.db).await?;
    let c = entities::customers::tables::customer::Entity::find_by_id(o.customer_id)
        .one(&ctx.db)
        .await?;
    let business = tenants::find(&state.platform, ctx.principal.tenant.id)
        .await
        .map(|t| t.name)
        .unwrap_or_default();
    let lines: Vec<ServiceLineView> = d
        .lines
        .iter()
        .filter(|l| matches!(l.status, LineStatus::Proposed | LineStatus::Approved))
        .map(Into::into)
        .collect();
    let accessories: std::collections::BTreeMap<String, bool> =
        serde_json::from_str(&o.accessories).unwrap_or_default();
    let acc = accessories
        .iter()
        .map(|(k, v)| format!("{}: {}", escape(k), if *v { "sí" } else { "no" }))
        .collect::<Vec<_>>()
        .join(", ");
    let (mut parts, mut labour) = (Money(0), Money(0));
    for l in d
        .lines
        .iter()
        .filter(|l| l.status == LineStatus::Approved || l.status == LineStatus::Proposed)
    {
        match l.kind {
            Kind::Part => parts.0 += l.total_cents,
            Kind::Labour => labour.0 += l.total_cents,
        }
    }
    let budget = d.budget();
    let warranty = orders::warranty_terms(&ctx.db, &d).await?;
    let warranty_html = if warranty.is_empty() {
        "<p>Garantía: la que la ley establece para el servicio prestado.</p>".to_owned()
    } else {
        let items: String = warranty
            .iter()
            .map(|(sku, terms)| format!("<li>{}: {}</li>", escape(sku), escape(terms)))
            .collect();
        format!("<p>Garantía otorgada:</p><ul>{items}</ul>")
    };
    let title = if o.status == Status::Delivered {
        "Comprobante de servicio"
    } else {
        "Orden de servicio"
    };
    let body = format!(
        "<h1>{biz}</h1><p>{branch}</p><h2>{title} {folio}</h2>\
<p>Cliente: {customer}</p><p>Vehículo: {veh} · Placas: {plate} · VIN: {vin}</p>\
<p>Kilometraje: {km} · Combustible: {fuel}/8</p><p>Inventario: {acc}</p>\
<p>Falla reportada: {complaint}</p><p>Fecha prometida de entrega: {promised}</p>\
<p>¿Acepta partes usadas o reconstruidas? {used}</p>{table}\
<p>Refacciones: ${parts} · Mano de obra: ${labour}</p><p>IVA incluido: ${tax}</p><p class=\"tot\">Total: ${total} MXN</p>\
{warranty_html}<p><small>Si el presupuesto no es aceptado, el consumidor sólo paga la revisión y el diagnóstico.</small></p>\
<p>Estado: {status}</p><p><br>_____________________________<br>Firma del cliente</p>",
        biz = escape(&business),
        branch = escape(b.as_ref().map_or("", |b| b.name.as_str())),
        folio = escape(&o.folio),
        customer = escape(c.as_ref().map_or("", |c| c.name.as_str())),
        veh = escape(o.vehicle_label.as_deref().unwrap_or("")),
        plate = escape(o.plate.as_deref().unwrap_or("")),
        vin = escape(o.vin.as_deref().unwrap_or("")),
        km = o
            .odometer_km
            .map_or_else(|| "—".to_owned(), |k| k.to_string()),
        fuel = o
            .fuel_eighths
            .map_or_else(|| "—".to_owned(), |f| f.to_string()),
        complaint = escape(&o.complaint),
        promised = o.promised_at.map_or_else(
            || "—".to_owned(),
            |p| entities::invoicing::global::local_date(p)
                .format("%d/%m/%Y")
                .to_string()
        ),
        used = if o.accepts_used_parts { "Sí" } else { "No" },
        table = lines_table(&lines),
        parts = parts.grouped(),
        labour = labour.grouped(),
        tax = budget.tax.grouped(),
        total = budget.total.grouped(),
        status = status_es(&o.status.to_string()),
    );
    let mut r = Html(page(&format!("{title} {}", o.folio), &body)).into_response();
    private(&mut r);
    Ok(r)
}
