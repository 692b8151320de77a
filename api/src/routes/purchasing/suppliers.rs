//! `/pos/api/suppliers`: who the business buys from, and each supplier's price list (one price
//! at a time, or a CSV previewed before it is applied); `/pos/api/items/{id}/supplier-prices`:
//! the best offer of each supplier for a quantity.
//!
//! Everyone reads; managers and above write.

use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use entities::PageRequest;
use entities::purchasing::prices::{self, ImportReport, PriceInput};
use entities::purchasing::suppliers::{self, NewSupplier, SupplierFilter, SupplierPatch};
use entities::purchasing::tables::{supplier, supplier_price};
use entities::rules::money::Money;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::state::AppState;

/// The supplier routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_suppliers, create_supplier))
        .routes(routes!(get_supplier, update_supplier, delete_supplier))
        .routes(routes!(list_supplier_prices, put_supplier_price))
        .routes(routes!(delete_supplier_price))
        .routes(routes!(item_supplier_prices))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(import_supplier_prices))
                .layer(DefaultBodyLimit::max(2 * prices::MAX_IMPORT_BYTES)),
        )
}

/// A supplier.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupplierView {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// RFC.
    pub rfc: Option<String>,
    /// Contact person.
    pub contact_name: Option<String>,
    /// Where orders are e-mailed.
    pub email: Option<String>,
    /// Phone, E.164.
    pub phone: Option<String>,
    /// Days of credit.
    pub payment_terms_days: i32,
    /// `MXN` or `USD`.
    pub currency: String,
    /// Days from order to delivery.
    pub lead_days: i32,
    /// Notes.
    pub notes: Option<String>,
    /// Active.
    pub is_active: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<supplier::Model> for SupplierView {
    fn from(s: supplier::Model) -> Self {
        Self {
            id: s.id,
            name: s.name,
            rfc: s.rfc,
            contact_name: s.contact_name,
            email: s.email,
            phone: s.phone,
            payment_terms_days: s.payment_terms_days,
            currency: s.currency,
            lead_days: s.lead_days,
            notes: s.notes,
            is_active: s.is_active,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// A page of suppliers.
pub type SupplierPage = crate::page::Page<SupplierView>;

impl crate::page::Listed for SupplierView {
    const PAGE: &'static str = "SupplierPage";
    const PAGE_DOC: &'static str = "A page of suppliers.";
    const ITEMS_DOC: &'static str = "Suppliers by name.";
}

/// Filters and page of the supplier list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SupplierQuery {
    /// Text in the name, RFC or contact (accents and case ignored).
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// Only active (true) or inactive (false) ones.
    pub active: Option<bool>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A supplier to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSupplierRequest {
    /// Name (1 to 200 characters).
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// RFC: 12 (company) or 13 (person) characters.
    #[schema(
        example = "ACM010101AB1",
        pattern = "^(|[A-Za-z&Ññ]{3,4}[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[A-Za-z0-9]{3})$"
    )]
    pub rfc: Option<String>,
    /// Contact person.
    #[schema(max_length = 200)]
    pub contact_name: Option<String>,
    /// Where orders are e-mailed.
    #[schema(
        max_length = 254,
        example = "ventas@proveedor.mx",
        pattern = "^(|[^@\\s\\u0000-\\u001F\\u007F-\\u009F]+@[^@.\\s\\u0000-\\u001F\\u007F-\\u009F][^@\\s\\u0000-\\u001F\\u007F-\\u009F]*\\.[^@\\s\\u0000-\\u001F\\u007F-\\u009F]*[^@.\\s\\u0000-\\u001F\\u007F-\\u009F])$"
    )]
    pub email: Option<String>,
    /// Phone: 10 digits or +country code and number.
    #[schema(
        example = "8112345678",
        pattern = "^(|\\+52[0-9]{10}|[1-9][0-9]{9}|\\+[1-46-9][0-9]{7,14})$"
    )]
    pub phone: Option<String>,
    /// Days of credit, 0 to 365.
    #[schema(minimum = 0, maximum = 365)]
    pub payment_terms_days: Option<i32>,
    /// `MXN` (default) or `USD`.
    #[schema(pattern = "^(MXN|USD)$")]
    pub currency: Option<String>,
    /// Days from order to delivery, 0 to 365.
    #[schema(minimum = 0, maximum = 365)]
    pub lead_days: Option<i32>,
    /// Notes (up to 2000 characters).
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
}

/// Changes to a supplier; a field left out is unchanged, `null` clears it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSupplierRequest {
    /// New name.
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// New RFC, or `null`.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<String>, pattern = "^(|[A-Za-z&Ññ]{3,4}[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[A-Za-z0-9]{3})$")]
    pub rfc: Option<Option<String>>,
    /// New contact, or `null`.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub contact_name: Option<Option<String>>,
    /// New e-mail, or `null`.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<String>, max_length = 254, pattern = "^(|[^@\\s\\u0000-\\u001F\\u007F-\\u009F]+@[^@.\\s\\u0000-\\u001F\\u007F-\\u009F][^@\\s\\u0000-\\u001F\\u007F-\\u009F]*\\.[^@\\s\\u0000-\\u001F\\u007F-\\u009F]*[^@.\\s\\u0000-\\u001F\\u007F-\\u009F])$")]
    pub email: Option<Option<String>>,
    /// New phone, or `null`.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<String>, pattern = "^(|\\+52[0-9]{10}|[1-9][0-9]{9}|\\+[1-46-9][0-9]{7,14})$")]
    pub phone: Option<Option<String>>,
    /// New terms.
    #[schema(minimum = 0, maximum = 365)]
    pub payment_terms_days: Option<i32>,
    /// New currency.
    #[schema(pattern = "^(MXN|USD)$")]
    pub currency: Option<String>,
    /// New lead days.
    #[schema(minimum = 0, maximum = 365)]
    pub lead_days: Option<i32>,
    /// New notes, or `null`.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub notes: Option<Option<String>>,
    /// Active or not.
    pub is_active: Option<bool>,
}

/// Suppliers by name.
#[utoipa::path(
    get, path = "/pos/api/suppliers", tag = "purchasing", security(("bearer" = [])),
    params(SupplierQuery),
    responses((status = 200, body = SupplierPage), (status = 422, body = ErrorBody))
)]
pub async fn list_suppliers(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<SupplierQuery>,
) -> ApiResult<Json<SupplierPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = suppliers::list_suppliers(
        &ctx.db,
        page,
        SupplierFilter {
            q: q.q,
            active: q.active,
        },
    )
    .await?;
    Ok(Json(SupplierPage::from_rows(rows, Into::into)))
}

/// Creates a supplier (owner, admin, manager).
#[utoipa::path(
    post, path = "/pos/api/suppliers", tag = "purchasing", security(("bearer" = [])),
    request_body = CreateSupplierRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer instead of a second supplier")),
    responses(
        (status = 201, body = SupplierView),
        (status = 403, body = ErrorBody),
        (status = 409, description = "`supplier_rfc_taken`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn create_supplier(
    ctx: TenantCtx,
    headers: axum::http::HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<axum::response::Response> {
    let req: CreateSupplierRequest = crate::extract::body_as(&raw)?;
    let actor = ctx.actor();
    let written = crate::idempotency::write_once(
        &ctx.db,
        &headers,
        "purchasing.supplier",
        &raw,
        StatusCode::CREATED,
        async |txn| {
            let s = suppliers::create_supplier(
                txn,
                &actor,
                NewSupplier {
                    name: req.name,
                    rfc: req.rfc,
                    contact_name: req.contact_name,
                    email: req.email,
                    phone: req.phone,
                    payment_terms_days: req.payment_terms_days,
                    currency: req.currency,
                    lead_days: req.lead_days,
                    notes: req.notes,
                },
            )
            .await?;
            Ok((crate::extract::to_value(&SupplierView::from(s))?, ()))
        },
    )
    .await?;
    Ok(written.response())
}

/// One supplier.
#[utoipa::path(
    get, path = "/pos/api/suppliers/{id}", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Supplier id")),
    responses((status = 200, body = SupplierView), (status = 404, body = ErrorBody))
)]
pub async fn get_supplier(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<SupplierView>> {
    Ok(Json(suppliers::get_supplier(&ctx.db, id).await?.into()))
}

/// Changes a supplier (owner, admin, manager); audited.
#[utoipa::path(
    patch, path = "/pos/api/suppliers/{id}", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Supplier id")),
    request_body = UpdateSupplierRequest,
    responses(
        (status = 200, body = SupplierView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`supplier_rfc_taken`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn update_supplier(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<UpdateSupplierRequest>,
) -> ApiResult<Json<SupplierView>> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    let s = suppliers::update_supplier(
        &txn,
        &ctx.actor(),
        id,
        SupplierPatch {
            name: req.name,
            rfc: req.rfc,
            contact_name: req.contact_name,
            email: req.email,
            phone: req.phone,
            payment_terms_days: req.payment_terms_days,
            currency: req.currency,
            lead_days: req.lead_days,
            notes: req.notes,
            is_active: req.is_active,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(Json(s.into()))
}

/// Deletes a supplier (owner, admin, manager): gone from lists and new orders, kept on the
/// orders that name it. Refused while an order to it is open.
#[utoipa::path(
    delete, path = "/pos/api/suppliers/{id}", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Supplier id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`supplier_has_open_orders`", body = ErrorBody),
    )
)]
pub async fn delete_supplier(ctx: TenantCtx, AppPath(id): AppPath<Uuid>) -> ApiResult<StatusCode> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    suppliers::delete_supplier(&txn, &ctx.actor(), id).await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A price of a supplier's list.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupplierPriceView {
    /// Id.
    pub id: Uuid,
    /// The supplier.
    pub supplier_id: Uuid,
    /// The item.
    pub item_id: Uuid,
    /// The supplier's code.
    pub supplier_sku: Option<String>,
    /// The price applies from this many units.
    pub min_qty: i64,
    /// Price before IVA, in `currency`.
    #[schema(value_type = String, example = "215.00")]
    pub price: Money,
    /// `MXN` or `USD`.
    pub currency: String,
    /// First day.
    pub valid_from: NaiveDate,
    /// Last day.
    pub valid_to: Option<NaiveDate>,
    /// Lead days for this item.
    pub lead_days: Option<i32>,
    /// Sold in packs of this many.
    pub pack_multiple: i64,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<supplier_price::Model> for SupplierPriceView {
    fn from(p: supplier_price::Model) -> Self {
        Self {
            id: p.id,
            supplier_id: p.supplier_id,
            item_id: p.item_id,
            supplier_sku: p.supplier_sku,
            min_qty: p.min_qty,
            price: Money(p.price_cents),
            currency: p.currency,
            valid_from: p.valid_from,
            valid_to: p.valid_to,
            lead_days: p.lead_days,
            pack_multiple: p.pack_multiple,
            updated_at: p.updated_at,
        }
    }
}

/// A page of supplier prices.
pub type SupplierPricePage = crate::page::Page<SupplierPriceView>;

impl crate::page::Listed for SupplierPriceView {
    const PAGE: &'static str = "SupplierPricePage";
    const PAGE_DOC: &'static str = "A page of a supplier's prices.";
    const ITEMS_DOC: &'static str = "Prices by item, break quantity and first day.";
}

/// Filters and page of a price list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PriceQuery {
    /// One item.
    pub item_id: Option<Uuid>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A price to write: it replaces the one with the same item, break and first day.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutPriceRequest {
    /// The item.
    pub item_id: Uuid,
    /// The supplier's code.
    #[schema(max_length = 64)]
    pub supplier_sku: Option<String>,
    /// Break quantity (1 by default).
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub min_qty: Option<i64>,
    /// Price before IVA.
    #[schema(value_type = crate::formats::Amount, example = "215.00")]
    #[serde(with = "crate::extract::decimal_text")]
    pub price: rust_decimal::Decimal,
    /// `MXN` or `USD` (the supplier's by default).
    #[schema(pattern = "^(MXN|USD)$")]
    pub currency: Option<String>,
    /// First day (today by default).
    pub valid_from: Option<NaiveDate>,
    /// Last day (on or after the first).
    pub valid_to: Option<NaiveDate>,
    /// Lead days, 0 to 365.
    #[schema(minimum = 0, maximum = 365)]
    pub lead_days: Option<i32>,
    /// Pack size (1 by default).
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub pack_multiple: Option<i64>,
}

/// A supplier's prices.
#[utoipa::path(
    get, path = "/pos/api/suppliers/{id}/prices", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Supplier id"), PriceQuery),
    responses((status = 200, body = SupplierPricePage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn list_supplier_prices(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<PriceQuery>,
) -> ApiResult<Json<SupplierPricePage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = prices::list_prices(&ctx.db, id, q.item_id, page).await?;
    Ok(Json(SupplierPricePage::from_rows(rows, Into::into)))
}

/// Writes one price of a supplier (owner, admin, manager).
#[utoipa::path(
    post, path = "/pos/api/suppliers/{id}/prices", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Supplier id")),
    request_body = PutPriceRequest,
    responses(
        (status = 200, body = SupplierPriceView),
        (status = 403, body = ErrorBody),
        (status = 404, description = "Unknown supplier, or `item_not_found`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn put_supplier_price(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<PutPriceRequest>,
) -> ApiResult<Json<SupplierPriceView>> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    let p = prices::put_price(
        &txn,
        &ctx.actor(),
        id,
        PriceInput {
            item_id: req.item_id,
            supplier_sku: req.supplier_sku,
            min_qty: req.min_qty,
            price_cents: Money::from_decimal("price", req.price)?.0,
            currency: req.currency,
            valid_from: req.valid_from,
            valid_to: req.valid_to,
            lead_days: req.lead_days,
            pack_multiple: req.pack_multiple,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(Json(p.into()))
}

/// Deletes one price of a supplier (owner, admin, manager).
#[utoipa::path(
    delete, path = "/pos/api/suppliers/{id}/prices/{price_id}", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Supplier id"), ("price_id" = Uuid, Path, description = "Price id")),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn delete_supplier_price(
    ctx: TenantCtx,
    AppPath((id, price_id)): AppPath<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    prices::delete_price(&txn, &ctx.actor(), id, price_id).await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A price-list CSV to preview or apply.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportPricesRequest {
    /// The CSV, RFC 4180, a header naming `sku` and `price` (required) and any of
    /// `supplier_sku`, `min_qty`, `currency`, `valid_from`, `valid_to` (YYYY-MM-DD),
    /// `lead_days`, `pack_multiple`; at most 20,000 rows and 2 MiB. Rows are keyed by our SKU,
    /// break quantity and first day.
    #[schema(
        example = "sku,supplier_sku,min_qty,price\nBAL-001,PRV-77,1,210.00\n",
        max_length = 2097152
    )]
    pub csv: String,
    /// `false` (default): answer what would change; `true`: write it, unless a row has an error.
    #[serde(default)]
    pub apply: bool,
}

/// A row that adds or changes a price.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriceChangeView {
    /// CSV line (the header is line 1).
    pub line: u64,
    /// Our SKU.
    pub sku: String,
    /// `add` or `change`.
    pub action: String,
    /// Break quantity.
    pub min_qty: i64,
    /// The new price.
    #[schema(value_type = String, example = "210.00")]
    pub price: Money,
    /// The price it replaces.
    #[schema(value_type = Option<String>, example = "200.00")]
    pub before: Option<Money>,
    /// Currency.
    pub currency: String,
    /// First day.
    pub valid_from: NaiveDate,
}

/// A row's error.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriceImportErrorView {
    /// CSV line.
    pub line: u64,
    /// Column at fault.
    pub column: String,
    /// What is wrong.
    pub message: String,
}

/// What an import would do (or did).
#[derive(Debug, Serialize, ToSchema)]
pub struct PriceImportView {
    /// Written (false for a preview or when a row had an error).
    pub applied: bool,
    /// Rows read.
    pub rows: usize,
    /// New prices.
    pub added: usize,
    /// Replaced prices.
    pub changed: usize,
    /// Unchanged prices.
    pub unchanged: usize,
    /// Each row that adds or changes a price.
    pub changes: Vec<PriceChangeView>,
    /// Each error; one error and nothing is written.
    pub errors: Vec<PriceImportErrorView>,
}

impl From<ImportReport> for PriceImportView {
    fn from(r: ImportReport) -> Self {
        Self {
            applied: r.applied,
            rows: r.rows,
            added: r.added,
            changed: r.changed,
            unchanged: r.unchanged,
            changes: r
                .changes
                .into_iter()
                .map(|c| PriceChangeView {
                    line: c.line,
                    sku: c.sku,
                    action: serde_json::to_value(&c.action)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    min_qty: c.price.min_qty,
                    price: Money(c.price.price_cents),
                    before: c.before.map(|b| Money(b.price_cents)),
                    currency: c.price.currency,
                    valid_from: c.price.valid_from,
                })
                .collect(),
            errors: r
                .errors
                .into_iter()
                .map(|e| PriceImportErrorView {
                    line: e.line,
                    column: e.column,
                    message: e.message,
                })
                .collect(),
        }
    }
}

/// Previews (or applies) a supplier's price list from a CSV (owner, admin, manager): each row
/// that adds or changes a price with the price it replaces, and every row's errors. Applying
/// writes all rows or, when any row has an error, none.
#[utoipa::path(
    post, path = "/pos/api/suppliers/{id}/prices/import", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Supplier id")),
    request_body = ImportPricesRequest,
    responses(
        (status = 200, body = PriceImportView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, description = "Body over the limit", body = ErrorBody),
        (status = 422, description = "A file without the required columns, too large or too long", body = ErrorBody),
    )
)]
pub async fn import_supplier_prices(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<ImportPricesRequest>,
) -> ApiResult<Json<PriceImportView>> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    let r = prices::import_csv(&txn, &ctx.actor(), id, &req.csv, req.apply).await?;
    txn.commit().await?;
    Ok(Json(r.into()))
}

/// A supplier's best price for a quantity.
#[derive(Debug, Serialize, ToSchema)]
pub struct SupplierOfferView {
    /// The supplier.
    pub supplier_id: Uuid,
    /// The price row picked.
    pub price_id: Uuid,
    /// The supplier's code.
    pub supplier_sku: Option<String>,
    /// Break quantity of the price.
    pub min_qty: i64,
    /// Price before IVA, in `currency`.
    #[schema(value_type = String, example = "210.00")]
    pub price: Money,
    /// Currency.
    pub currency: String,
    /// The price in MXN (at the rate in force for USD).
    #[schema(value_type = String, example = "210.00")]
    pub price_mxn: Money,
    /// Pack size.
    pub pack_multiple: i64,
    /// Lead days (the price's, else the supplier's is the buyer's guess).
    pub lead_days: Option<i32>,
}

/// The quantity of an offer.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OfferQuery {
    /// Units (1 by default).
    #[param(minimum = 1, maximum = 1_000_000)]
    pub qty: Option<i64>,
}

/// The best price of each supplier for a quantity of an item today, cheapest first (in MXN):
/// among the prices valid today, the largest break at or below the quantity, then the lowest
/// price.
#[utoipa::path(
    get, path = "/pos/api/items/{id}/supplier-prices", tag = "purchasing", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Item id"), OfferQuery),
    responses((status = 200, body = [SupplierOfferView]), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn item_supplier_prices(
    ctx: TenantCtx,
    State(state): State<AppState>,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<OfferQuery>,
) -> ApiResult<Json<Vec<SupplierOfferView>>> {
    let qty = entities::rules::quantity::units("qty", q.qty.unwrap_or(1))?;
    entities::pricing::admin::get_item(&ctx.db, id).await?;
    let rate = entities::pricing::prices::current_rate(&ctx.db, state.config.usd_rate).await?;
    let offers = prices::offers(&ctx.db, id, None, qty, entities::today(), rate).await?;
    Ok(Json(
        offers
            .into_iter()
            .map(|o| SupplierOfferView {
                supplier_id: o.price.supplier_id,
                price_id: o.price.id,
                supplier_sku: o.price.supplier_sku,
                min_qty: o.price.min_qty,
                price: Money(o.price.price_cents),
                currency: o.price.currency,
                price_mxn: Money(o.price_mxn_cents),
                pack_multiple: o.price.pack_multiple,
                lead_days: o.price.lead_days,
            })
            .collect(),
    ))
}
