//! Receiving: `/pos/api/purchase-orders/{id}/receipts` (units arriving, in one transaction with
//! their stock, ledger, average cost and the order's state), `/cfdi` (the supplier's invoice
//! XML checked and matched to the order, then received), and `/pos/api/supplier-returns`
//! (units back to the supplier, the credit expected).
//!
//! Managers and above; everyone reads.

use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use entities::PageRequest;
use entities::purchasing::invoices::{self, Accepted};
use entities::purchasing::receiving::{
    self, NewReceipt, NewReturn, ReceiptDetail, ReceiptLine, ReturnLine,
};
use entities::purchasing::tables::{
    purchase_receipt, purchase_receipt_line, supplier_return, supplier_return_line,
};
use entities::rules::money::Money;
use entities::rules::supplier_cfdi::ConceptMatch;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::routes::purchasing::orders::{PurchaseOrderView, detail_view};
use crate::state::AppState;

/// The receiving routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_receipts, receive_purchase_order))
        .routes(routes!(receive_supplier_cfdi))
        .routes(routes!(list_supplier_returns, create_supplier_return))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(upload_supplier_cfdi))
                .layer(DefaultBodyLimit::max(
                    2 * entities::rules::supplier_cfdi::MAX_XML_BYTES,
                )),
        )
}

/// Units of one line in a receipt.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptLineView {
    /// The order line.
    pub line_id: Uuid,
    /// The item.
    pub item_id: Uuid,
    /// Units.
    pub qty: i64,
    /// MXN a unit at the order's rate: what the average cost took in.
    #[schema(value_type = String, example = "210.00")]
    pub unit_cost_mxn: Money,
}

/// A receipt.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptView {
    /// Id (the ledger's reference).
    pub id: Uuid,
    /// The order.
    pub purchase_order_id: Uuid,
    /// 1, 2… within the order.
    pub number: i32,
    /// Where the units arrived.
    pub warehouse_id: Uuid,
    /// The supplier's CFDI it came from.
    pub invoice_uuid: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// Who received.
    pub received_by: Option<Uuid>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// What arrived.
    pub lines: Vec<ReceiptLineView>,
}

fn receipt_view(
    r: purchase_receipt::Model,
    lines: Vec<purchase_receipt_line::Model>,
) -> ReceiptView {
    ReceiptView {
        id: r.id,
        purchase_order_id: r.purchase_order_id,
        number: r.number,
        warehouse_id: r.warehouse_id,
        invoice_uuid: r.invoice_uuid,
        note: r.note,
        received_by: r.received_by,
        created_at: r.created_at,
        lines: lines
            .into_iter()
            .map(|l| ReceiptLineView {
                line_id: l.line_id,
                item_id: l.item_id,
                qty: l.qty,
                unit_cost_mxn: Money(l.unit_cost_mxn_cents),
            })
            .collect(),
    }
}

/// A receipt with the order as it stands after it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceivedView {
    /// The receipt.
    pub receipt: ReceiptView,
    /// The order after it.
    pub order: PurchaseOrderView,
}

async fn received_view(
    db: &impl sea_orm::ConnectionTrait,
    d: ReceiptDetail,
) -> ApiResult<ReceivedView> {
    Ok(ReceivedView {
        receipt: receipt_view(d.receipt, d.lines),
        order: detail_view(db, d.order).await?,
    })
}

/// A line of a receipt.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptLineRequest {
    /// The order line.
    pub line_id: Uuid,
    /// Units arriving.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub qty: i64,
}

/// A receipt to record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptRequest {
    /// Where the units arrive (the order's warehouse by default).
    pub warehouse_id: Option<Uuid>,
    /// 1 to 500 lines, an order line once.
    #[schema(min_items = 1, max_items = 500)]
    pub lines: Vec<ReceiptLineRequest>,
    /// A note.
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

/// The receipts of an order, oldest first.
#[utoipa::path(
    get, path = "/pos/api/purchase-orders/{id}/receipts", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    responses((status = 200, body = [ReceiptView]), (status = 404, body = ErrorBody))
)]
pub async fn list_receipts(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<Vec<ReceiptView>>> {
    let rows = receiving::receipts_of(&ctx.db, id).await?;
    Ok(Json(
        rows.into_iter().map(|(r, l)| receipt_view(r, l)).collect(),
    ))
}

/// Receives some or all of an order (owner, admin, manager): stock and ledger rows (`purchase`),
/// the items' average cost, the order's received quantities and state, in one transaction.
/// Beyond the open quantity and the owner's tolerance is 409 `over_receipt`; what is not
/// received stays open (back order) until the order is closed.
#[utoipa::path(
    post, path = "/pos/api/purchase-orders/{id}/receipts", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer instead of receiving twice")),
    request_body = ReceiptRequest,
    responses(
        (status = 201, body = ReceivedView),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown order, `purchase_order_line_not_found`, `warehouse_not_found`", body = ErrorBody),
        (status = 409, description = "`invalid_purchase_order_state`, `over_receipt`, `warehouse_inactive`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn receive_purchase_order(
    ctx: TenantCtx,
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    AppPath(id): AppPath<Uuid>,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<axum::response::Response> {
    let req: ReceiptRequest = crate::extract::body_as(&raw)?;
    let actor = ctx.actor();
    let new = NewReceipt {
        warehouse_id: req.warehouse_id,
        lines: req
            .lines
            .iter()
            .map(|l| ReceiptLine {
                line_id: l.line_id,
                qty: l.qty,
            })
            .collect(),
        note: req.note,
        invoice_uuid: None,
    };
    let mut items = Vec::new();
    let written = crate::idempotency::write_once(
        &ctx.db,
        &headers,
        &format!("purchasing.receipt.{id}"),
        &raw,
        StatusCode::CREATED,
        async |txn| {
            let d = receiving::receive(txn, &actor, id, new).await?;
            items = d.order.items();
            Ok((crate::extract::to_value(&received_view(txn, d).await?)?, ()))
        },
    )
    .await?;
    state
        .stock_cache()
        .invalidate(ctx.principal.tenant.id, &items)
        .await;
    Ok(written.response())
}

/// A supplier's CFDI to check against an order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadCfdiRequest {
    /// The CFDI 4.0 XML as the supplier sent it (at most 2 MiB; no DOCTYPE).
    #[schema(min_length = 1, max_length = 2097152)]
    pub xml: String,
}

/// A concept of the CFDI and the order line it matches.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConceptMatchView {
    /// Position of the concept in the CFDI, from 0.
    pub concept_index: usize,
    /// The supplier's code (`NoIdentificacion`).
    pub supplier_sku: Option<String>,
    /// The concept's description.
    pub description: String,
    /// The matched order line, if any.
    pub line_id: Option<Uuid>,
    /// `supplier_sku`, `item_sku` or `description`.
    pub matched_by: Option<String>,
    /// Units invoiced (0 when not whole).
    pub quantity: i64,
    /// Invoiced quantity (a decimal) when it differs from what is open on the line.
    #[schema(value_type = Option<String>, example = "3")]
    pub qty_invoiced: Option<String>,
    /// What is open on the line when it differs.
    pub qty_open: Option<i64>,
    /// Invoiced net unit price when it differs from the order's cost by more than a centavo.
    #[schema(value_type = Option<String>, example = "212.00")]
    pub price_invoiced: Option<Money>,
    /// The order's unit cost when it differs.
    #[schema(value_type = Option<String>, example = "210.00")]
    pub price_ordered: Option<Money>,
}

/// A supplier's CFDI uploaded to an order, with its proposed match.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupplierCfdiView {
    /// The CFDI's UUID.
    pub uuid: String,
    /// The order.
    pub purchase_order_id: Uuid,
    /// Issuer RFC.
    pub issuer_rfc: String,
    /// Series.
    pub series: Option<String>,
    /// Folio.
    pub folio: Option<String>,
    /// Currency.
    pub currency: String,
    /// Subtotal.
    #[schema(value_type = String, example = "420.00")]
    pub subtotal: Money,
    /// Total.
    #[schema(value_type = String, example = "487.20")]
    pub total: Money,
    /// `pending` until received.
    pub status: String,
    /// The concepts and their match.
    pub concepts: Vec<ConceptMatchView>,
}

fn concept_views(
    inv: &entities::rules::supplier_cfdi::SupplierInvoice,
    matches: &[ConceptMatch],
) -> Vec<ConceptMatchView> {
    matches
        .iter()
        .map(|m| {
            let c = inv.concepts.get(m.concept_index);
            ConceptMatchView {
                concept_index: m.concept_index,
                supplier_sku: c.and_then(|c| c.supplier_sku.clone()),
                description: c.map(|c| c.description.clone()).unwrap_or_default(),
                line_id: m.line_id,
                matched_by: m.matched_by.as_ref().and_then(|b| {
                    serde_json::to_value(b)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                }),
                quantity: m.quantity,
                qty_invoiced: m
                    .qty_mismatch
                    .as_ref()
                    .map(|q| q.invoiced.normalize().to_string()),
                qty_open: m.qty_mismatch.as_ref().map(|q| q.open),
                price_invoiced: m.price_mismatch.as_ref().map(|p| Money(p.invoiced_cents)),
                price_ordered: m.price_mismatch.as_ref().map(|p| Money(p.ordered_cents)),
            }
        })
        .collect()
}

/// Uploads the supplier's CFDI (XML) to an order (owner, admin, manager): parsed without a DTD
/// and within 2 MiB, addressed to this business, issued by the order's supplier, a UUID never
/// received before; its concepts are matched to the order's lines by the supplier's SKU or
/// description, with differences of quantity and price shown. The XML is kept in the tenant's
/// files. Nothing is received until the match is accepted (`…/cfdi/{uuid}/receive`).
#[utoipa::path(
    post, path = "/pos/api/purchase-orders/{id}/cfdi", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id")),
    request_body = UploadCfdiRequest,
    responses(
        (status = 201, body = SupplierCfdiView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`invalid_purchase_order_state`, `cfdi_uuid_reused`, `fiscal_settings_missing`", body = ErrorBody),
        (status = 413, description = "Body over the limit", body = ErrorBody),
        (status = 422, description = "Malformed or refused XML, another receiver, another issuer", body = ErrorBody),
    )
)]
pub async fn upload_supplier_cfdi(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<UploadCfdiRequest>,
) -> ApiResult<(StatusCode, Json<SupplierCfdiView>)> {
    let checked = invoices::check(&ctx.db, id, req.xml.as_bytes()).await?;
    let key = invoices::file_key(ctx.principal.tenant.id, &checked.invoice.uuid);
    // Kept before the row: a row never points at a file that is not there; a file whose row
    // failed is overwritten by the next upload of the same UUID.
    state
        .config
        .files
        .put(&key, req.xml.as_bytes())
        .await
        .map_err(|e| ApiError::Internal(format!("storing the CFDI: {e}")))?;
    let txn = entities::db::begin_write(&ctx.db).await?;
    let row = invoices::record(&txn, &ctx.actor(), id, &checked, key).await?;
    txn.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(SupplierCfdiView {
            concepts: concept_views(&checked.invoice, &checked.matches),
            uuid: row.uuid,
            purchase_order_id: row.purchase_order_id,
            issuer_rfc: row.issuer_rfc,
            series: row.series,
            folio: row.folio,
            currency: row.currency,
            subtotal: Money(row.subtotal_cents),
            total: Money(row.total_cents),
            status: row.status,
        }),
    ))
}

/// An accepted concept: units into an order line.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptedLineRequest {
    /// The order line.
    pub line_id: Uuid,
    /// Units.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub qty: i64,
}

/// How to receive an uploaded CFDI.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveCfdiRequest {
    /// The lines to receive; by default every matched concept at its invoiced quantity.
    #[schema(max_items = 500)]
    pub lines: Option<Vec<AcceptedLineRequest>>,
    /// Where the units arrive (the order's warehouse by default).
    pub warehouse_id: Option<Uuid>,
}

/// Receives an uploaded CFDI (owner, admin, manager): its accepted match becomes a receipt that
/// names the CFDI.
#[utoipa::path(
    post, path = "/pos/api/purchase-orders/{id}/cfdi/{uuid}/receive", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Order id"), ("uuid" = String, Path, description = "The CFDI's UUID")),
    request_body = ReceiveCfdiRequest,
    responses(
        (status = 201, body = ReceivedView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`cfdi_received`, `cfdi_nothing_matched`, `over_receipt`, `invalid_purchase_order_state`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn receive_supplier_cfdi(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppPath((id, uuid)): AppPath<(Uuid, String)>,
    AppJson(req): AppJson<ReceiveCfdiRequest>,
) -> ApiResult<(StatusCode, Json<ReceivedView>)> {
    let accepted = req.lines.map(|ls| {
        ls.into_iter()
            .map(|l| Accepted {
                line_id: l.line_id,
                qty: l.qty,
            })
            .collect()
    });
    let txn = entities::db::begin_write(&ctx.db).await?;
    let d = invoices::receive(&txn, &ctx.actor(), id, &uuid, accepted, req.warehouse_id).await?;
    let items = d.order.items();
    let v = received_view(&txn, d).await?;
    txn.commit().await?;
    state
        .stock_cache()
        .invalidate(ctx.principal.tenant.id, &items)
        .await;
    Ok((StatusCode::CREATED, Json(v)))
}

/// A return to a supplier.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupplierReturnView {
    /// Id.
    pub id: Uuid,
    /// Folio, e.g. `DP-000007`.
    pub folio: String,
    /// Supplier.
    pub supplier_id: Uuid,
    /// The order the units came on.
    pub purchase_order_id: Option<Uuid>,
    /// Where they left from.
    pub warehouse_id: Uuid,
    /// Why.
    pub reason: String,
    /// The credit the supplier owes, MXN.
    #[schema(value_type = String, example = "420.00")]
    pub expected_credit: Money,
    /// `pending` until the supplier's credit note arrives.
    pub status: String,
    /// Who.
    pub created_by: Option<Uuid>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Lines (in the answer of a return).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<SupplierReturnLineView>>,
}

/// Units of an item returned.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupplierReturnLineView {
    /// Item.
    pub item_id: Uuid,
    /// The order line.
    pub line_id: Option<Uuid>,
    /// Units.
    pub qty: i64,
    /// MXN a unit.
    #[schema(value_type = String, example = "210.00")]
    pub unit_cost: Money,
}

impl From<supplier_return::Model> for SupplierReturnView {
    fn from(r: supplier_return::Model) -> Self {
        Self {
            id: r.id,
            folio: r.folio,
            supplier_id: r.supplier_id,
            purchase_order_id: r.purchase_order_id,
            warehouse_id: r.warehouse_id,
            reason: r.reason,
            expected_credit: Money(r.expected_credit_cents),
            status: r.status,
            created_by: r.created_by,
            created_at: r.created_at,
            lines: None,
        }
    }
}

fn return_view(
    r: supplier_return::Model,
    lines: Vec<supplier_return_line::Model>,
) -> SupplierReturnView {
    let mut v = SupplierReturnView::from(r);
    v.lines = Some(
        lines
            .into_iter()
            .map(|l| SupplierReturnLineView {
                item_id: l.item_id,
                line_id: l.line_id,
                qty: l.qty,
                unit_cost: Money(l.unit_cost_cents),
            })
            .collect(),
    );
    v
}

/// A page of returns to suppliers.
pub type SupplierReturnPage = crate::page::Page<SupplierReturnView>;

impl crate::page::Listed for SupplierReturnView {
    const PAGE: &'static str = "SupplierReturnPage";
    const PAGE_DOC: &'static str = "A page of returns to suppliers.";
    const ITEMS_DOC: &'static str = "Returns, newest first.";
}

/// Filters and page of the return list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SupplierReturnQuery {
    /// One supplier.
    pub supplier_id: Option<Uuid>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A line of a return.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnLineRequest {
    /// Item.
    pub item_id: Uuid,
    /// Units.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub qty: i64,
}

/// A return to a supplier.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSupplierReturnRequest {
    /// Supplier.
    pub supplier_id: Uuid,
    /// The order the units came on (their cost is the order's, else the item's average).
    pub purchase_order_id: Option<Uuid>,
    /// Where they leave from.
    pub warehouse_id: Uuid,
    /// Why (1 to 500 characters).
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
    /// 1 to 500 lines.
    #[schema(min_items = 1, max_items = 500)]
    pub lines: Vec<ReturnLineRequest>,
}

/// Returns to suppliers, newest first.
#[utoipa::path(
    get, path = "/pos/api/supplier-returns", tag = "purchasing", security(("bearer" = [])),
    params(SupplierReturnQuery),
    responses((status = 200, body = SupplierReturnPage), (status = 422, body = ErrorBody))
)]
pub async fn list_supplier_returns(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<SupplierReturnQuery>,
) -> ApiResult<Json<SupplierReturnPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = receiving::list_returns(&ctx.db, q.supplier_id, page).await?;
    Ok(Json(SupplierReturnPage::from_rows(rows, Into::into)))
}

/// Returns units to a supplier (owner, admin, manager): they leave the warehouse through the
/// ledger (`supplier_return`); the credit expected is recorded.
#[utoipa::path(
    post, path = "/pos/api/supplier-returns", tag = "purchasing", security(("bearer" = [])),
    request_body = CreateSupplierReturnRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer instead of a second return")),
    responses(
        (status = 201, body = SupplierReturnView),
        (status = 403, body = ErrorBody),
        (status = 404, description = "`supplier_not_found`, `warehouse_not_found`, `item_not_found`, `purchase_order_not_found`", body = ErrorBody),
        (status = 409, description = "`insufficient_stock`, `over_return`, `supplier_inactive`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn create_supplier_return(
    ctx: TenantCtx,
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<axum::response::Response> {
    let req: CreateSupplierReturnRequest = crate::extract::body_as(&raw)?;
    let items: Vec<Uuid> = req.lines.iter().map(|l| l.item_id).collect();
    let new = NewReturn {
        supplier_id: req.supplier_id,
        purchase_order_id: req.purchase_order_id,
        warehouse_id: req.warehouse_id,
        reason: req.reason,
        lines: req
            .lines
            .iter()
            .map(|l| ReturnLine {
                item_id: l.item_id,
                qty: l.qty,
            })
            .collect(),
    };
    let actor = ctx.actor();
    let written = crate::idempotency::write_once(
        &ctx.db,
        &headers,
        "purchasing.supplier_return",
        &raw,
        StatusCode::CREATED,
        async |txn| {
            let (r, lines) = receiving::return_to_supplier(txn, &actor, new).await?;
            Ok((crate::extract::to_value(&return_view(r, lines))?, ()))
        },
    )
    .await?;
    state
        .stock_cache()
        .invalidate(ctx.principal.tenant.id, &items)
        .await;
    Ok(written.response())
}
