//! Quotes (cotizaciones): `/pos/api/quotes` to make, read, convert into a sale, cancel and send
//! them, and the public read-only page `/q/{token}` a customer opens from WhatsApp.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use entities::PageRequest;
use entities::counter::quotes::{self, NewQuote, QuoteDoc};
use entities::counter::sales::NewSale;
use entities::notifications::messages::{self, NewNotification};
use entities::rules::money::{Money, Rate};
use entities::{
    counter::tables::quote, counter::tables::quote_line, customers::tables::customer,
    org::tables::branch,
};
use entities::{org::tables::tenant, org::tenants};
use jobs::notifications::SendNotification;
use sea_orm::EntityTrait;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery, body_as};
use crate::routes::counter::sales::{
    LineRequest, PaymentRequest, checked_out, checkout_in, payments,
};
use crate::state::AppState;

/// The quote routes (authenticated) and the public page.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_quote, list_quotes))
        .routes(routes!(get_quote))
        .routes(routes!(convert_quote))
        .routes(routes!(cancel_quote))
        .routes(routes!(send_quote))
        .routes(routes!(public_quote))
}

/// A quote line.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteLineView {
    /// Position.
    pub line_no: i32,
    /// Item.
    pub item_id: Uuid,
    /// SKU.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Warehouse proposed.
    pub warehouse_id: Uuid,
    /// Units.
    pub qty: i64,
    /// Unit price, IVA included.
    #[schema(value_type = String)]
    pub unit_price: Money,
    /// Discount.
    #[schema(value_type = String)]
    pub discount: Money,
    /// IVA.
    #[schema(value_type = String)]
    pub tax: Money,
    /// Line total.
    #[schema(value_type = String)]
    pub total: Money,
    /// Savings.
    #[schema(value_type = String)]
    pub savings: Money,
}

impl From<&quote_line::Model> for QuoteLineView {
    fn from(l: &quote_line::Model) -> Self {
        Self {
            line_no: l.line_no,
            item_id: l.item_id,
            sku: l.sku.clone(),
            name: l.name.clone(),
            warehouse_id: l.warehouse_id,
            qty: l.qty,
            unit_price: Money(l.unit_price_cents),
            discount: Money(l.discount_cents),
            tax: Money(l.tax_cents),
            total: Money(l.total_cents),
            savings: Money(l.savings_cents),
        }
    }
}

/// A quote.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteView {
    /// Id.
    pub id: Uuid,
    /// Folio.
    pub folio: String,
    /// `open`, `expired`, `converted` or `cancelled`.
    pub status: String,
    /// Branch.
    pub branch_id: Uuid,
    /// Customer.
    pub customer_id: Option<Uuid>,
    /// Price list.
    pub price_list: String,
    /// USD rate used.
    #[schema(value_type = String)]
    pub exchange_rate: Rate,
    /// Prices honoured until.
    pub valid_until: chrono::DateTime<chrono::Utc>,
    /// Sum of bases.
    #[schema(value_type = String)]
    pub subtotal: Money,
    /// Sum of discounts.
    #[schema(value_type = String)]
    pub discount: Money,
    /// Sum of IVA.
    #[schema(value_type = String)]
    pub tax: Money,
    /// Total.
    #[schema(value_type = String)]
    pub total: Money,
    /// Savings.
    #[schema(value_type = String)]
    pub savings: Money,
    /// Note.
    pub note: Option<String>,
    /// The sale it became.
    pub sale_id: Option<Uuid>,
    /// When it was last queued to be sent (`POST /pos/api/quotes/{id}/send`); whether it
    /// arrived is `delivery`.
    pub queued_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Where the last send stands: `queued` (waiting for its job), `parked` (the channel is not
    /// configured; kept until it is), `sent` (the provider took it) or `failed` (refused, with
    /// the reason on the message); absent when never sent.
    pub delivery: Option<String>,
    /// The public link: absolute when `NEXUS_PUBLIC_URL` is set, a path otherwise.
    pub public_url: String,
    /// Created.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Lines (empty in lists).
    pub lines: Vec<QuoteLineView>,
}

/// Where a tenant's public links point: `NEXUS_PUBLIC_URL` and the tenant.
struct Linker {
    base: Option<String>,
    tenant_id: Uuid,
}

impl Linker {
    fn of(state: &AppState, ctx: &TenantCtx) -> Self {
        Self {
            base: state.config.public_url.clone(),
            tenant_id: ctx.principal.tenant.id,
        }
    }

    /// The quote page's link, absolute when the deployment's address is known.
    fn quote(&self, token: &str) -> String {
        let path = quotes::public_path(self.tenant_id, token);
        match &self.base {
            Some(b) => format!("{b}{path}"),
            None => path,
        }
    }
}

fn view(
    link: &Linker,
    q: &quote::Model,
    status: quotes::Status,
    delivery: Option<messages::Status>,
    lines: &[quote_line::Model],
) -> QuoteView {
    QuoteView {
        id: q.id,
        folio: q.folio.clone(),
        status: status.to_string(),
        branch_id: q.branch_id,
        customer_id: q.customer_id,
        price_list: q.price_list.clone(),
        exchange_rate: Rate(q.exchange_rate_micros),
        valid_until: q.valid_until,
        subtotal: Money(q.subtotal_cents),
        discount: Money(q.discount_cents),
        tax: Money(q.tax_cents),
        total: Money(q.total_cents),
        savings: Money(q.savings_cents),
        note: q.note.clone(),
        sale_id: q.sale_id,
        queued_at: q.queued_at,
        delivery: delivery.map(|d| d.to_string()),
        public_url: link.quote(&q.token),
        created_at: q.created_at,
        lines: lines.iter().map(Into::into).collect(),
    }
}

fn doc_view(link: &Linker, d: &QuoteDoc, delivery: Option<messages::Status>) -> QuoteView {
    view(
        link,
        &d.quote,
        d.status(entities::now()),
        delivery,
        &d.lines,
    )
}

/// The delivery of the last message about the quote `id`.
async fn delivery_of(ctx: &TenantCtx, id: Uuid) -> ApiResult<Option<messages::Status>> {
    let id = id.to_string();
    Ok(
        messages::latest_statuses(&ctx.db, "quote", std::slice::from_ref(&id))
            .await?
            .remove(&id),
    )
}

/// A new quote.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateQuote {
    /// Branch quoting.
    pub branch_id: Uuid,
    /// Customer.
    pub customer_id: Option<Uuid>,
    /// Another list than the customer's (manager and up).
    #[schema(pattern = "^(mostrador|taller|flotilla|mayoreo)$", example = "taller")]
    pub price_list: Option<String>,
    /// Lines.
    #[schema(min_items = 1, max_items = 200)]
    pub lines: Vec<LineRequest>,
    /// Days valid, 1–60 (7 by default).
    #[schema(minimum = 1, maximum = 60)]
    pub valid_days: Option<i64>,
    /// Note.
    pub note: Option<String>,
}

/// Makes a quote at today's prices, valid `valid_days`. Honours `Idempotency-Key`: a retried
/// request makes no second quote.
#[utoipa::path(
    post,
    path = "/pos/api/quotes",
    tag = "quotes",
    request_body = CreateQuote,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    responses(
        (status = 201, body = QuoteView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`idempotency_key_in_use`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create_quote(
    State(state): State<AppState>,
    ctx: TenantCtx,
    headers: HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: CreateQuote = body_as(&raw)?;
    let lines = req
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| l.input(i))
        .collect::<ApiResult<Vec<_>>>()?;
    let new = NewQuote {
        branch_id: req.branch_id,
        customer_id: req.customer_id,
        price_list: req.price_list,
        lines,
        valid_days: req.valid_days,
        note: req.note,
    };
    let seller = ctx.seller();
    let link = Linker::of(&state, &ctx);
    let written = crate::idempotency::write_once(
        &ctx.db,
        &headers,
        "quotes.create",
        &raw,
        StatusCode::CREATED,
        async |txn| {
            let d = quotes::create(txn, &seller, new, state.config.usd_rate).await?;
            let body = serde_json::to_value(doc_view(&link, &d, None))
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok((body, ()))
        },
    )
    .await?;
    Ok(written.response())
}

/// Filters of the quote list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QuoteQuery {
    /// Page from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size.
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    /// One customer.
    pub customer_id: Option<Uuid>,
    /// `open`, `expired`, `converted` or `cancelled`.
    #[param(pattern = "^(open|expired|converted|cancelled)$")]
    pub status: Option<String>,
}

/// A page of quotes.
pub type QuotePage = crate::page::Page<QuoteView>;

impl crate::page::Listed for QuoteView {
    const PAGE: &'static str = "QuotePage";
    const PAGE_DOC: &'static str = "A page of quotes.";
    const ITEMS_DOC: &'static str = "Quotes, newest first (without lines).";
}

/// Lists quotes.
#[utoipa::path(
    get,
    path = "/pos/api/quotes",
    tag = "quotes",
    params(QuoteQuery),
    responses((status = 200, body = QuotePage), (status = 422, description = "`status` is not open, expired, converted or cancelled", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn list_quotes(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppQuery(q): AppQuery<QuoteQuery>,
) -> ApiResult<Json<QuotePage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let p = quotes::list(
        &ctx.db,
        q.customer_id,
        q.status
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|_| {
                ApiError::invalid("status", "status: open, expired, converted or cancelled")
            })?,
        ctx.principal.branch_scope.as_deref(),
        page,
    )
    .await?;
    let now = entities::now();
    let link = Linker::of(&state, &ctx);
    let ids: Vec<String> = p.items.iter().map(|q| q.id.to_string()).collect();
    let mut delivery = messages::latest_statuses(&ctx.db, "quote", &ids).await?;
    Ok(Json(QuotePage::from_rows(p, |qm| {
        let d = delivery.remove(&qm.id.to_string());
        view(&link, &qm, quotes::effective_status(&qm, now), d, &[])
    })))
}

async fn visible(ctx: &TenantCtx, id: Uuid) -> ApiResult<QuoteDoc> {
    let d = quotes::get(&ctx.db, id).await?;
    if !ctx.principal.can_see_branch(d.quote.branch_id) {
        return Err(ApiError::NotFound("quote"));
    }
    Ok(d)
}

/// One quote with its lines.
#[utoipa::path(
    get,
    path = "/pos/api/quotes/{id}",
    tag = "quotes",
    params(("id" = Uuid, Path, description = "Quote id")),
    responses((status = 200, body = QuoteView), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn get_quote(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<QuoteView>> {
    let d = visible(&ctx, id).await?;
    let delivery = delivery_of(&ctx, id).await?;
    Ok(Json(doc_view(&Linker::of(&state, &ctx), &d, delivery)))
}

/// Converting a quote.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertQuote {
    /// Payments.
    pub payments: Vec<PaymentRequest>,
    /// Note on the ticket.
    pub note: Option<String>,
    /// For an expired quote: sell at today's prices instead of refusing.
    #[serde(default)]
    pub reprice: bool,
    /// The drawer session the money goes through; your own open one in the quote's branch when
    /// absent.
    pub drawer_session_id: Option<Uuid>,
}

/// Sells a quote: at its prices and rate while it is valid (stock is checked now); an expired
/// quote is 409 `quote_expired` unless `reprice` asks for today's prices. Honours
/// `Idempotency-Key`.
#[utoipa::path(
    post,
    path = "/pos/api/quotes/{id}/convert",
    tag = "quotes",
    params(("id" = Uuid, Path, description = "Quote id")),
    request_body = ConvertQuote,
    responses(
        (status = 201, description = "The sale", body = crate::routes::counter::sales::SaleView),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`quote_expired`, `quote_not_open`, `insufficient_stock`, `drawer_not_open`, `drawer_closed`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn convert_quote(
    State(state): State<AppState>,
    ctx: TenantCtx,
    headers: HeaderMap,
    AppPath(id): AppPath<Uuid>,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: ConvertQuote = body_as(&raw)?;
    let written = crate::idempotency::write_once(
        &ctx.db,
        &headers,
        &format!("quotes.convert:{id}"),
        &raw,
        StatusCode::CREATED,
        async |txn| {
            let new = async {
                let d = visible(&ctx, id).await?;
                let st = d.status(entities::now());
                if st == quotes::Status::Expired && !req.reprice {
                    return Err(ApiError::Conflict {
                        code: "quote_expired",
                        message: "the quote's prices expired; send reprice: true to sell at today's prices"
                            .into(),
                    });
                }
                if st != quotes::Status::Open && st != quotes::Status::Expired {
                    return Err(ApiError::Conflict {
                        code: "quote_not_open",
                        message: format!("the quote is {st}"),
                    });
                }
                let valid = st == quotes::Status::Open;
                Ok(NewSale {
                    branch_id: d.quote.branch_id,
                    customer_id: d.quote.customer_id,
                    price_list: Some(d.quote.price_list.clone()),
                    lines: d.inputs(valid),
                    payments: payments(&req.payments)?,
                    note: req.note.clone(),
                    quote_id: Some(id),
                    fixed_rate: valid.then_some(Rate(d.quote.exchange_rate_micros)),
                    drawer_session_id: req.drawer_session_id,
                })
            }
            .await?;
            checkout_in(&state, &ctx, txn, new, None, async |txn, out| {
                quotes::mark_converted(txn, id, out.doc.sale.id).await?;
                Ok(())
            })
            .await
        },
    )
    .await?;
    Ok(checked_out(&state, &ctx, written).await)
}

/// Cancels an open quote.
#[utoipa::path(
    post,
    path = "/pos/api/quotes/{id}/cancel",
    tag = "quotes",
    params(("id" = Uuid, Path, description = "Quote id")),
    responses((status = 200, body = QuoteView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn cancel_quote(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<QuoteView>> {
    visible(&ctx, id).await?;
    let d = quotes::cancel(&ctx.db, &ctx.seller(), id).await?;
    let delivery = delivery_of(&ctx, id).await?;
    Ok(Json(doc_view(&Linker::of(&state, &ctx), &d, delivery)))
}

/// Sending a quote.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendQuote {
    /// `whatsapp` (default) or `email`.
    #[serde(default)]
    pub channel: QuoteChannel,
    /// WhatsApp number (E.164 or 10 Mexican digits); the customer's by default.
    pub phone: Option<String>,
    /// E-mail address (with `channel: email`); the customer's by default.
    #[schema(max_length = 254)]
    pub email: Option<String>,
}

/// The channel a quote is sent on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuoteChannel {
    /// By WhatsApp.
    #[default]
    Whatsapp,
    /// By e-mail.
    Email,
}

/// A notification queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    /// Id.
    pub id: Uuid,
    /// Channel.
    pub channel: String,
    /// Recipient.
    pub recipient: String,
    /// `queued`, `parked`, `sent` or `failed`.
    pub status: String,
    /// Why it is parked or failed.
    pub reason: Option<String>,
}

/// Normalises a WhatsApp number as customers' are (`customers::normalize_phone`), naming the
/// request's field in the error.
fn e164(field: &str, raw: &str) -> ApiResult<String> {
    entities::customers::records::normalize_phone(raw).map_err(|e| match e {
        entities::Error::Validation { message, .. } => ApiError::invalid(field, message),
        other => other.into(),
    })
}

/// Sends the quote's public link by WhatsApp or e-mail: a `notify.send` job is queued. Until the
/// channel is configured, the job parks the message with the reason (see the notification's
/// `status`) and it goes out once it is; nothing is reported as sent that was not.
#[utoipa::path(
    post,
    path = "/pos/api/quotes/{id}/send",
    tag = "quotes",
    params(("id" = Uuid, Path, description = "Quote id")),
    request_body = SendQuote,
    responses((status = 202, body = NotificationView), (status = 404, body = ErrorBody), (status = 409, description = "`quote_not_open`: cancelled, converted or expired", body = ErrorBody), (status = 422, description = "No phone or e-mail, or a bad one", body = ErrorBody)),
    security(("bearer" = []))
)]
pub async fn send_quote(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<SendQuote>,
) -> ApiResult<(StatusCode, Json<NotificationView>)> {
    let d = visible(&ctx, id).await?;
    // Only a quote the customer can still accept is sent: a link to a cancelled, converted or
    // expired one would offer prices nobody honours.
    let shown = quotes::effective_status(&d.quote, entities::now());
    if shown != quotes::Status::Open {
        return Err(ApiError::Conflict {
            code: "quote_not_open",
            message: format!("the quote is {shown}: only an open quote is sent"),
        });
    }
    let customer = match d.quote.customer_id {
        Some(c) => customer::Entity::find_by_id(c).one(&ctx.db).await?,
        None => None,
    };
    let (channel, recipient) = match req.channel {
        QuoteChannel::Whatsapp => {
            if req.email.is_some() {
                return Err(ApiError::invalid(
                    "email",
                    "an e-mail address goes with channel: email",
                ));
            }
            let phone = match req.phone {
                Some(p) => e164("phone", &p)?,
                None => customer.and_then(|c| c.whatsapp_phone).ok_or_else(|| {
                    ApiError::invalid(
                        "phone",
                        "the quote's customer has no WhatsApp number; send one",
                    )
                })?,
            };
            ("whatsapp", phone)
        }
        QuoteChannel::Email => {
            if req.phone.is_some() {
                return Err(ApiError::invalid(
                    "phone",
                    "a phone goes with channel: whatsapp",
                ));
            }
            let email = match req.email {
                Some(e) => entities::org::accounts::normalize_email(&e)
                    .map_err(|_| ApiError::invalid("email", "not a valid e-mail address"))?,
                None => customer.and_then(|c| c.email).ok_or_else(|| {
                    ApiError::invalid("email", "the quote's customer has no e-mail; send one")
                })?,
            };
            ("email", email)
        }
    };
    let tid = ctx.principal.tenant.id;
    let txn = entities::db::begin_write(&ctx.db).await?;
    let n = messages::create(
        &txn,
        NewNotification {
            channel,
            recipient: &recipient,
            template: "quote_sent",
            ref_type: "quote",
            ref_id: id.to_string(),
            payload: serde_json::json!({
                "folio": d.quote.folio,
                "total": Money(d.quote.total_cents).to_string(),
                "valid_until": d.quote.valid_until,
                "url": Linker::of(&state, &ctx).quote(&d.quote.token),
            }),
        },
    )
    .await?;
    jobs::outbox::enqueue(
        &txn,
        &SendNotification {
            tenant_id: tid,
            notification_id: n.id,
        },
    )
    .await?;
    quotes::mark_queued(&txn, id).await?;
    txn.commit().await?;
    state.waker.wake(tid);
    Ok((
        StatusCode::ACCEPTED,
        Json(NotificationView {
            id: n.id,
            channel: n.channel,
            recipient: n.recipient,
            status: n.status.to_string(),
            reason: n.reason,
        }),
    ))
}

/// How the public page answers.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicQuery {
    /// `json` for JSON; HTML otherwise (or send `Accept: application/json`).
    pub format: Option<String>,
}

/// What a customer sees of a quote.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicQuote {
    /// Business.
    pub business: String,
    /// Branch.
    pub branch: String,
    /// Branch phone.
    pub phone: Option<String>,
    /// Folio.
    pub folio: String,
    /// `open`, `expired`, `converted` or `cancelled`.
    pub status: String,
    /// Valid until.
    pub valid_until: chrono::DateTime<chrono::Utc>,
    /// The note the counter wrote for the customer.
    pub note: Option<String>,
    /// Lines.
    pub lines: Vec<QuoteLineView>,
    /// IVA.
    #[schema(value_type = String)]
    pub tax: Money,
    /// Total.
    #[schema(value_type = String)]
    pub total: Money,
    /// Savings.
    #[schema(value_type = String)]
    pub savings: Money,
}

pub(crate) fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"es\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><meta name=\"robots\" content=\"noindex\">\
<title>{t}</title><style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:1rem auto;padding:0 1rem;color:#222}}\
table{{width:100%;border-collapse:collapse}}td,th{{padding:.3rem;border-bottom:1px solid #ddd;text-align:left}}\
td.n,th.n{{text-align:right}}.tot{{font-weight:bold}}.warn{{background:#fee;padding:.5rem}}</style></head><body>{body}</body></html>",
        t = escape(title)
    )
}

fn html(p: &PublicQuote) -> String {
    // A discounted line shows its discount, so quantity × price − discount is the amount the
    // customer reads (a 10 % line once read "2 × $1291.58 = $2324.84").
    let any_discount = p.lines.iter().any(|l| l.discount.0 > 0);
    let mut rows = String::new();
    for l in &p.lines {
        let discount = if !any_discount {
            String::new()
        } else if l.discount.0 > 0 {
            format!("<td class=\"n\">-${}</td>", l.discount.grouped())
        } else {
            "<td class=\"n\"></td>".to_owned()
        };
        rows.push_str(&format!(
            "<tr><td>{}<br><small>{}</small></td><td class=\"n\">{}</td><td class=\"n\">${}</td>{discount}<td class=\"n\">${}</td></tr>",
            escape(&l.name),
            escape(&l.sku),
            l.qty,
            l.unit_price.grouped(),
            l.total.grouped()
        ));
    }
    let discount_head = if any_discount {
        "<th class=\"n\">Descuento</th>"
    } else {
        ""
    };
    let note = p
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| format!("<p>Nota: {}</p>", escape(n).replace('\n', "<br>")))
        .unwrap_or_default();
    let state = match p.status.as_str() {
        "open" => format!(
            "<p>Precios válidos hasta el {}.</p>",
            p.valid_until.format("%d/%m/%Y")
        ),
        "expired" => {
            "<p class=\"warn\">Esta cotización venció; los precios pueden haber cambiado.</p>"
                .to_owned()
        }
        "converted" => "<p>Esta cotización ya se convirtió en venta. ¡Gracias!</p>".to_owned(),
        _ => "<p class=\"warn\">Esta cotización fue cancelada.</p>".to_owned(),
    };
    let savings = if p.savings.0 > 0 {
        format!(
            "<p>Usted ahorra ${} frente al precio de lista.</p>",
            p.savings.grouped()
        )
    } else {
        String::new()
    };
    let body = format!(
        "<h1>{biz}</h1><p>{branch}{phone}</p><h2>Cotización {folio}</h2>{state}\
<table><thead><tr><th>Pieza</th><th class=\"n\">Cant.</th><th class=\"n\">Precio</th>{discount_head}<th class=\"n\">Importe</th></tr></thead>\
<tbody>{rows}</tbody></table><p class=\"n\">IVA incluido: ${tax}</p><p class=\"tot\">Total: ${total} MXN</p>{savings}{note}",
        biz = escape(&p.business),
        branch = escape(&p.branch),
        phone = p
            .phone
            .as_deref()
            .map(|ph| format!(" · Tel. {}", escape(ph)))
            .unwrap_or_default(),
        folio = escape(&p.folio),
        tax = p.tax.grouped(),
        total = p.total.grouped(),
    );
    page(&format!("Cotización {}", p.folio), &body)
}

pub(crate) fn wants_json(headers: &HeaderMap, q: &PublicQuery) -> bool {
    q.format.as_deref() == Some("json")
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"))
}

fn not_found(json: bool) -> Response {
    not_found_page(json, "quote", "Cotización no encontrada")
}

/// A public link that leads nowhere: the error envelope for JSON, or a small page saying so.
pub(crate) fn not_found_page(json: bool, entity: &'static str, title: &str) -> Response {
    if json {
        return ApiError::NotFound(entity).into_response();
    }
    let mut r = (
        StatusCode::NOT_FOUND,
        Html(page(
            title,
            &format!("<h1>{title}</h1><p>Revise el enlace que recibió.</p>"),
        )),
    )
        .into_response();
    private(&mut r);
    r
}

pub(crate) fn private(r: &mut Response) {
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// The public, read-only page of a quote, opened from a WhatsApp link: a small HTML page, or
/// JSON with `Accept: application/json` or `?format=json`. No login: the link's token (256
/// random bits) is the key.
#[utoipa::path(
    get,
    path = "/q/{token}",
    tag = "quotes",
    params(("token" = String, Path, description = "The quote's public token"), PublicQuery),
    responses(
        (status = 200, description = "HTML page, or JSON", body = PublicQuote),
        (status = 404, description = "Unknown token"),
    )
)]
pub async fn public_quote(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppPath(token): AppPath<String>,
    AppQuery(q): AppQuery<PublicQuery>,
) -> Response {
    let json = wants_json(&headers, &q);
    match load_public(&state, &token).await {
        Ok(Some(p)) => {
            let mut r = if json {
                Json(&p).into_response()
            } else {
                Html(html(&p)).into_response()
            };
            private(&mut r);
            r
        }
        Ok(None) => not_found(json),
        Err(e) => e.into_response(),
    }
}

async fn load_public(state: &AppState, token: &str) -> ApiResult<Option<PublicQuote>> {
    let Some((tenant_id, qtoken)) = quotes::split_public(token) else {
        return Ok(None);
    };
    let t = match tenants::find(&state.platform, tenant_id).await {
        Ok(t) if t.status == tenant::STATUS_ACTIVE => t,
        Ok(_) | Err(entities::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let db = state.tenants.connection(&t).await?;
    let d = match quotes::by_token(&db, qtoken).await {
        Ok(d) => d,
        Err(entities::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let b = branch::Entity::find_by_id(d.quote.branch_id)
        .one(&db)
        .await?;
    Ok(Some(PublicQuote {
        business: t.name,
        branch: b.as_ref().map(|b| b.name.clone()).unwrap_or_default(),
        phone: b.and_then(|b| b.phone),
        folio: d.quote.folio.clone(),
        status: d.status(entities::now()).to_string(),
        valid_until: d.quote.valid_until,
        note: d.quote.note.clone(),
        lines: d.lines.iter().map(Into::into).collect(),
        tax: Money(d.quote.tax_cents),
        total: Money(d.quote.total_cents),
        savings: Money(d.quote.savings_cents),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_what_people_typed() {
        assert_eq!(
            escape("<b>\"x\" & 'y'</b>"),
            "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;"
        );
    }

    #[test]
    fn ten_mexican_digits_become_e164() {
        assert_eq!(e164("p", "664 123 4567").unwrap(), "+526641234567");
        assert_eq!(e164("p", "+1 (555) 123-4567").unwrap(), "+15551234567");
        assert!(e164("p", "12345").is_err());
        assert!(e164("p", "abc").is_err());
    }
}
