//! `/pos/api/cores/*`, `/pos/api/customers/{id}/cores`, `/pos/api/suppliers/{id}/cores`: core
//! charges (cascos). The old unit brought back refunds its deposit; cores go back to suppliers
//! in batches; the ledger per customer and per supplier.
//!
//! Taking cores back: the roles that sell. Batches and credits: managers and up.

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use entities::rules::money::Money;
use entities::workshop::cores::{self, BatchLine, Condition, CoreReturn};
use entities::workshop::tables::{core_batch, core_entry};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath};
use crate::routes::counter::sales::{RefundMethod, ReturnView, refund_ask};
use crate::state::AppState;

/// The core routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(take_cores_back))
        .routes(routes!(customer_cores))
        .routes(routes!(send_core_batch))
        .routes(routes!(credit_core_batch))
        .routes(routes!(supplier_cores))
}

/// A row of the core ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoreEntryView {
    /// `deposit`, `returned`, `rejected`, `to_supplier` or `supplier_credit`.
    pub kind: String,
    /// The item (the part the core is of); the nil id on a supplier's credit of a whole batch.
    pub item_id: Uuid,
    /// Units.
    pub qty: i64,
    /// MXN, IVA included: the deposit, the refund, the credit expected or given.
    #[schema(value_type = String, example = "350.00")]
    pub amount: Money,
    /// The sale.
    pub sale_id: Option<Uuid>,
    /// The batch to the supplier.
    pub batch_id: Option<Uuid>,
    /// Note.
    pub note: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

impl From<&core_entry::Model> for CoreEntryView {
    fn from(e: &core_entry::Model) -> Self {
        Self {
            kind: e.kind.to_string(),
            item_id: e.item_id,
            qty: e.qty,
            amount: Money(e.amount_cents),
            sale_id: e.sale_id,
            batch_id: e.batch_id,
            note: e.note.clone(),
            at: e.created_at,
        }
    }
}

/// Old units brought back.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoreReturnRequest {
    /// The sale that charged the deposit.
    pub sale_id: Uuid,
    /// Its deposit line.
    #[schema(minimum = 1, maximum = 400)]
    pub line_no: i32,
    /// Units brought back.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub qty: i64,
    /// `good` (refunded) or `damaged` (cracked, burnt, not the part sold: nothing refunded).
    #[schema(pattern = "^(good|damaged)$", value_type = String)]
    pub condition: Condition,
    /// How the refund is paid within the window (the way the sale was paid when absent); after
    /// the window it is store credit.
    pub refund_method: Option<RefundMethod>,
    /// The drawer session a cash refund leaves from (your own open one by default).
    pub drawer_session_id: Option<Uuid>,
    /// Note.
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// What taking cores back did.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoreReturnView {
    /// The ledger row.
    pub entry: CoreEntryView,
    /// The refund (a return of the deposit line, kind `core`), when the units were good.
    pub refund: Option<ReturnView>,
    /// The window had passed: the refund went to store credit.
    pub late: bool,
}

/// Takes old units back against a sale's deposit line (owner, admin, manager, cashier): only
/// what is still owed on it; good units are refunded and go into the branch's cores warehouse
/// (`<BRANCH>-CASCOS`) through the ledger; damaged ones refund nothing.
#[utoipa::path(
    post, path = "/pos/api/cores/returns", tag = "workshop", security(("bearer" = [])),
    request_body = CoreReturnRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer instead of a second refund")),
    responses(
        (status = 201, body = CoreReturnView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`no_core_deposit`, `drawer_not_open`, `sale_cancelled`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn take_cores_back(
    ctx: TenantCtx,
    headers: HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: CoreReturnRequest = crate::extract::body_as(&raw)?;
    let r = CoreReturn {
        sale_id: req.sale_id,
        line_no: req.line_no,
        qty: req.qty,
        condition: req.condition,
        refund: refund_ask(req.refund_method, None, req.drawer_session_id)?,
        note: req.note,
    };
    let seller = ctx.seller();
    let written = crate::idempotency::write_once(
        &ctx.db,
        &headers,
        "cores.return",
        &raw,
        StatusCode::CREATED,
        async |txn| {
            let window = entities::workshop::board::settings(txn)
                .await?
                .core_window_days;
            let t = cores::take_back(txn, &seller, r, window).await?;
            let view = CoreReturnView {
                entry: (&t.entry).into(),
                refund: t.refund.as_ref().map(ReturnView::from),
                late: t.late,
            };
            Ok((crate::extract::to_value(&view)?, ()))
        },
    )
    .await?;
    Ok(written.response())
}

/// A deposit line a customer still owes cores on.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwedCoreView {
    /// The sale.
    pub sale_id: Uuid,
    /// Its folio.
    pub folio: String,
    /// The deposit line.
    pub line_no: i32,
    /// The part.
    pub item_id: Uuid,
    /// The deposit line's SKU.
    pub sku: String,
    /// Cores still owed.
    pub qty: i64,
    /// The deposit a unit, IVA included.
    #[schema(value_type = String)]
    pub unit_deposit: Money,
    /// Sold.
    pub sold_at: DateTime<Utc>,
}

/// A customer's cores: what they still owe, and the ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerCoresView {
    /// Deposit lines with cores still owed, oldest first.
    pub owed: Vec<OwedCoreView>,
    /// Deposits held for those cores, MXN.
    #[schema(value_type = String)]
    pub deposits_held: Money,
    /// Every row, oldest first.
    pub entries: Vec<CoreEntryView>,
}

/// A customer's core ledger and what they still owe.
#[utoipa::path(
    get, path = "/pos/api/customers/{id}/cores", tag = "workshop", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, body = CustomerCoresView), (status = 404, body = ErrorBody))
)]
pub async fn customer_cores(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<CustomerCoresView>> {
    use sea_orm::EntityTrait;
    entities::customers::tables::customer::Entity::find_by_id(id)
        .one(&ctx.db)
        .await?
        .ok_or(entities::Error::NotFound { entity: "customer" })?;
    let (owed, entries) = cores::of_customer(&ctx.db, id).await?;
    let held = owed.iter().map(|o| o.line.unit_price_cents * o.qty).sum();
    Ok(Json(CustomerCoresView {
        owed: owed
            .iter()
            .map(|o| OwedCoreView {
                sale_id: o.sale.id,
                folio: o.sale.folio.clone(),
                line_no: o.line.line_no,
                item_id: o.line.item_id,
                sku: o.line.sku.clone(),
                qty: o.qty,
                unit_deposit: Money(o.line.unit_price_cents),
                sold_at: o.sale.created_at,
            })
            .collect(),
        deposits_held: Money(held),
        entries: entries.iter().map(Into::into).collect(),
    }))
}

/// A line of a batch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoreBatchLineRequest {
    /// The item.
    pub item_id: Uuid,
    /// Cores sent.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub qty: i64,
    /// What the supplier credits a unit, MXN (the item's core charge by default).
    #[schema(value_type = Option<crate::formats::Amount>, example = "300.00")]
    #[serde(default, with = "crate::extract::decimal_text_option")]
    pub unit_credit: Option<Decimal>,
}

/// Cores sent back to a supplier.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoreBatchRequest {
    /// The supplier.
    pub supplier_id: Uuid,
    /// The cores warehouse they leave.
    pub warehouse_id: Uuid,
    /// Lines.
    #[schema(min_items = 1, max_items = 200)]
    pub lines: Vec<CoreBatchLineRequest>,
    /// Note.
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// A batch of cores to a supplier.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoreBatchView {
    /// Id.
    pub id: Uuid,
    /// Folio, e.g. `CB-000003`.
    pub folio: String,
    /// Supplier.
    pub supplier_id: Uuid,
    /// The cores warehouse they left.
    pub warehouse_id: Uuid,
    /// `sent` or `credited`.
    pub status: String,
    /// Units.
    pub units: i64,
    /// Credit expected, MXN.
    #[schema(value_type = String)]
    pub expected: Money,
    /// Credit given, MXN.
    #[schema(value_type = String)]
    pub credited: Money,
    /// Sent.
    pub created_at: DateTime<Utc>,
}

impl From<&core_batch::Model> for CoreBatchView {
    fn from(b: &core_batch::Model) -> Self {
        Self {
            id: b.id,
            folio: b.folio.clone(),
            supplier_id: b.supplier_id,
            warehouse_id: b.warehouse_id,
            status: b.status.to_string(),
            units: b.units,
            expected: Money(b.expected_cents),
            credited: Money(b.credited_cents),
            created_at: b.created_at,
        }
    }
}

/// Sends cores from a cores warehouse back to a supplier (owner, admin, manager): they leave
/// through the ledger and the credit expected is recorded.
#[utoipa::path(
    post, path = "/pos/api/cores/batches", tag = "workshop", security(("bearer" = [])),
    request_body = CoreBatchRequest,
    responses(
        (status = 201, body = CoreBatchView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`not_a_cores_warehouse`, `insufficient_stock`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn send_core_batch(
    ctx: TenantCtx,
    AppJson(req): AppJson<CoreBatchRequest>,
) -> ApiResult<(StatusCode, Json<CoreBatchView>)> {
    let mut lines = Vec::with_capacity(req.lines.len());
    for (i, l) in req.lines.iter().enumerate() {
        lines.push(BatchLine {
            item_id: l.item_id,
            qty: l.qty,
            unit_cents: l
                .unit_credit
                .map(|d| Money::from_decimal(&format!("lines[{i}].unit_credit"), d).map(|m| m.0))
                .transpose()?,
        });
    }
    let txn = entities::db::begin_write(&ctx.db).await?;
    let b = cores::send_batch(
        &txn,
        &ctx.seller(),
        req.supplier_id,
        req.warehouse_id,
        &lines,
        req.note,
    )
    .await?;
    txn.commit().await?;
    Ok((StatusCode::CREATED, Json((&b).into())))
}

/// A supplier's credit for a batch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoreCreditRequest {
    /// MXN credited.
    #[schema(value_type = crate::formats::Amount, example = "900.00")]
    #[serde(with = "crate::extract::decimal_text")]
    pub amount: Decimal,
}

/// Records the supplier's credit for a batch (owner, admin, manager).
#[utoipa::path(
    post, path = "/pos/api/cores/batches/{id}/credit", tag = "workshop", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Batch id")),
    request_body = CoreCreditRequest,
    responses(
        (status = 200, body = CoreBatchView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`batch_credited`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn credit_core_batch(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<CoreCreditRequest>,
) -> ApiResult<Json<CoreBatchView>> {
    let amount = Money::from_decimal("amount", req.amount)?.0;
    let txn = entities::db::begin_write(&ctx.db).await?;
    let b = cores::credit_batch(&txn, &ctx.seller(), id, amount).await?;
    txn.commit().await?;
    Ok(Json((&b).into()))
}

/// A supplier's cores: batches and the ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupplierCoresView {
    /// Credit expected for every batch, MXN.
    #[schema(value_type = String)]
    pub expected: Money,
    /// Credit given, MXN.
    #[schema(value_type = String)]
    pub credited: Money,
    /// Batches sent and not credited yet, MXN expected.
    #[schema(value_type = String)]
    pub pending: Money,
    /// Batches, newest first.
    pub batches: Vec<CoreBatchView>,
    /// Every row, oldest first.
    pub entries: Vec<CoreEntryView>,
}

/// A supplier's core ledger.
#[utoipa::path(
    get, path = "/pos/api/suppliers/{id}/cores", tag = "workshop", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Supplier id")),
    responses((status = 200, body = SupplierCoresView), (status = 404, body = ErrorBody))
)]
pub async fn supplier_cores(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<SupplierCoresView>> {
    use sea_orm::EntityTrait;
    entities::purchasing::tables::supplier::Entity::find_by_id(id)
        .one(&ctx.db)
        .await?
        .ok_or(entities::Error::NotFound { entity: "supplier" })?;
    let (batches, entries) = cores::of_supplier(&ctx.db, id).await?;
    let expected: i64 = batches.iter().map(|b| b.expected_cents).sum();
    let credited: i64 = batches.iter().map(|b| b.credited_cents).sum();
    let pending: i64 = batches
        .iter()
        .filter(|b| b.status == core_batch::Status::Sent)
        .map(|b| b.expected_cents)
        .sum();
    Ok(Json(SupplierCoresView {
        expected: Money(expected),
        credited: Money(credited),
        pending: Money(pending),
        batches: batches.iter().map(Into::into).collect(),
        entries: entries.iter().map(Into::into).collect(),
    }))
}
