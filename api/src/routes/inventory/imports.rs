//! `/pos/api/items/imports`: bulk imports of items from a CSV, with list prices and opening
//! stock, carried out by the `inventory.import_items` job.
//!
//! Owners, admins and managers import and follow imports. The request checks the file's shape
//! (header, columns, size) and answers 202 at once; the job checks every row by the rules of
//! `POST /items` and applies all of them in one transaction or none (the import ends `failed`
//! with the errors of every bad row). The rules are in `entities::inventory::imports`.
//! A user limited to some branches imports into their warehouses only, sets no list prices (a
//! list price applies to every branch, as with `PUT /items/{id}/prices`), and sees the imports
//! into their warehouses.

use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use entities::PageRequest;
use entities::inventory::imports::{self, ImportFilter, NewImport, RowError, Status, Summary};
use jobs::inventory::ImportItems;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::idempotency::{Written, write_once};
use crate::state::AppState;

/// Largest request body of an import: a CSV at its limit written as a JSON string, where quotes
/// and line breaks take two bytes each. The CSV's own limit is checked on the text.
const BODY_LIMIT: usize = 2 * imports::MAX_CSV_BYTES;

/// The import routes, with a body limit of their own: above the server's default, which is
/// sized for documents of a few hundred lines.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_imports, create_import))
        .routes(routes!(get_import))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// An import to run.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateImportRequest {
    /// The CSV: comma-separated, quoted as RFC 4180, a header row first naming any of `sku`
    /// (required), `name`, `brand`, `part_number`, `catalog_part_id`, `sat_product_key`,
    /// `sat_unit_key`, `cost`, `retail_price`, `price` and `stock`, in any order and case; 1 to
    /// 5,000 rows, at most 2 MiB. A new SKU creates the item (a catalog part fills what the row
    /// leaves empty); an existing one updates the cells the row fills. `price` is the list price
    /// in `price_list` (MXN), `stock` the opening units of a new item in `warehouse_id`.
    #[schema(example = "sku,name,cost,price,stock\nBAL-001,Balata delantera,210.00,450.00,12\n")]
    pub csv: String,
    /// Where the opening stock of new items goes.
    pub warehouse_id: Uuid,
    /// The list `price` sets (`mostrador` by default).
    #[schema(
        pattern = "^(mostrador|taller|flotilla|mayoreo)$",
        example = "mostrador"
    )]
    pub price_list: Option<String>,
}

/// An import accepted.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportAccepted {
    /// Its id.
    pub id: Uuid,
    /// `queued`.
    pub status: String,
    /// Data rows of the CSV.
    pub total_rows: i64,
}

/// An error of one row.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportRowErrorView {
    /// The row as a spreadsheet numbers it: the header is row 1.
    pub row: u64,
    /// The column at fault; absent when the row as a whole is (a wrong number of cells).
    pub column: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl From<RowError> for ImportRowErrorView {
    fn from(e: RowError) -> Self {
        Self {
            row: e.row,
            column: e.column,
            message: e.message,
        }
    }
}

/// An import in a listing: its state, progress and counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportSummaryView {
    /// Id.
    pub id: Uuid,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    /// Where the opening stock of new items goes.
    pub warehouse_id: Uuid,
    /// The list `price` sets.
    pub price_list: String,
    /// Data rows of the CSV.
    pub total_rows: i64,
    /// Rows checked so far: moves while `running`.
    pub rows_processed: i64,
    /// Items created (once `done`).
    pub created: i64,
    /// Items updated (once `done`).
    pub updated: i64,
    /// Rows of items that existed whose `stock` was not applied: opening stock is for new items.
    pub stock_skipped: i64,
    /// Errors found in the rows (once `failed`).
    pub error_count: i64,
    /// Why the whole import failed (or why the last try did, while it is tried again).
    pub error: Option<String>,
    /// Who asked.
    pub requested_by: Option<Uuid>,
    /// Asked.
    pub created_at: DateTime<Utc>,
    /// Last change of state or progress.
    pub updated_at: DateTime<Utc>,
    /// Its job started (the last try).
    pub started_at: Option<DateTime<Utc>>,
    /// Ended.
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<Summary> for ImportSummaryView {
    fn from(s: Summary) -> Self {
        Self {
            id: s.id,
            status: s.status.to_string(),
            warehouse_id: s.warehouse_id,
            price_list: s.price_list,
            total_rows: s.total_rows,
            rows_processed: s.rows_processed,
            created: s.created_count,
            updated: s.updated_count,
            stock_skipped: s.stock_skipped,
            error_count: s.error_count,
            error: s.error,
            requested_by: s.requested_by,
            created_at: s.created_at,
            updated_at: s.updated_at,
            started_at: s.started_at,
            finished_at: s.finished_at,
        }
    }
}

/// An import: its state, progress, counts and the errors of its rows.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportView {
    /// State, progress and counts.
    #[serde(flatten)]
    pub summary: ImportSummaryView,
    /// Every error of every bad row, by row; empty unless `failed` because of its rows.
    pub errors: Vec<ImportRowErrorView>,
}

/// A page of imports.
pub type ImportPage = crate::page::Page<ImportSummaryView>;

impl crate::page::Listed for ImportSummaryView {
    const PAGE: &'static str = "ImportPage";
    const PAGE_DOC: &'static str = "A page of item imports.";
    const ITEMS_DOC: &'static str = "Imports, newest first.";
}

/// Filters and page of the import list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Only imports in this state: `queued`, `running`, `done` or `failed`.
    #[param(pattern = "^(queued|running|done|failed)$")]
    pub status: Option<String>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// Imports items from a CSV (owner, admin, manager): checks the file's shape, records the import
/// and its job in one transaction and answers at once; follow it at `Location`. The rows are
/// checked by the job: all of them are applied, or none.
#[utoipa::path(
    post, path = "/pos/api/items/imports", tag = "inventory", security(("bearer" = [])),
    request_body = CreateImportRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer instead of a second import")),
    responses(
        (status = 202, body = ImportAccepted, headers(("Location" = String, description = "The import"))),
        (status = 403, description = "`forbidden`: this needs owner, admin or manager; `branch_scope`: a user limited to some branches sends a `price` column", body = ErrorBody),
        (status = 404, description = "Unknown warehouse, or outside the caller's branches", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the CSV is over 2 MiB, or the body over 4 MiB", body = ErrorBody),
        (status = 422, description = "`field` `csv`: an unknown or repeated column (named), no `sku` column, no rows or more than 5,000; or an unknown `price_list`", body = ErrorBody),
    )
)]
pub async fn create_import(
    State(state): State<AppState>,
    ctx: TenantCtx,
    headers: axum::http::HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let req: CreateImportRequest = crate::extract::body_as(&raw)?;
    if req.csv.len() > imports::MAX_CSV_BYTES {
        return Err(ApiError::PayloadTooLarge {
            message: format!(
                "csv: an import's CSV has at most {} bytes (2 MiB), this one {}: split the file",
                imports::MAX_CSV_BYTES,
                req.csv.len()
            ),
        });
    }
    super::stock::own_warehouse(&ctx, req.warehouse_id).await?;
    let checked = NewImport {
        csv: req.csv,
        warehouse_id: req.warehouse_id,
        price_list: req.price_list,
    }
    .check()?;
    if checked.sets_prices() && ctx.principal.branch_scope.is_some() {
        return Err(ApiError::forbidden(
            "branch_scope",
            "a price column sets list prices, which apply to every branch; a user limited to \
             some branches imports without it",
        ));
    }
    let tenant_id = ctx.principal.tenant.id;
    let actor = ctx.actor();
    let written = write_once(
        &ctx.db,
        &headers,
        "items.import",
        &raw,
        StatusCode::ACCEPTED,
        async |txn| {
            let row = imports::request_import(txn, &actor, checked).await?;
            jobs::outbox::enqueue(
                txn,
                &ImportItems {
                    tenant_id,
                    import_id: row.id,
                },
            )
            .await?;
            let body = serde_json::to_value(ImportAccepted {
                id: row.id,
                status: Status::Queued.to_string(),
                total_rows: row.total_rows,
            })
            .map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok((body, row.id))
        },
    )
    .await?;
    Ok(match written {
        Written::Replayed(resp) => resp,
        Written::Done(status, body, id) => {
            state.waker.wake(tenant_id);
            (
                status,
                [(header::LOCATION, format!("/pos/api/items/imports/{id}"))],
                Json(body),
            )
                .into_response()
        }
    })
}

/// Imports, newest first (owner, admin, manager).
#[utoipa::path(
    get, path = "/pos/api/items/imports", tag = "inventory", security(("bearer" = [])),
    params(ImportQuery),
    responses((status = 200, body = ImportPage), (status = 422, description = "`status` is not a state", body = ErrorBody))
)]
pub async fn list_imports(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<ImportQuery>,
) -> ApiResult<Json<ImportPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let status = q
        .status
        .map(|s| {
            s.parse::<Status>().map_err(|_| {
                ApiError::invalid(
                    "status",
                    format!("status: {s:?} is not queued, running, done or failed"),
                )
            })
        })
        .transpose()?;
    let rows = imports::list_imports(
        &ctx.db,
        page,
        ImportFilter {
            status,
            branches: ctx.principal.branch_scope.clone(),
        },
    )
    .await?;
    Ok(Json(ImportPage::from_rows(rows, Into::into)))
}

/// One import: its state, progress (`rows_processed` of `total_rows`), counts, and the errors of
/// every bad row (owner, admin, manager).
#[utoipa::path(
    get, path = "/pos/api/items/imports/{id}", tag = "inventory", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Import id")),
    responses((status = 200, body = ImportView), (status = 404, description = "No such import here, or one into another branch's warehouse", body = ErrorBody))
)]
pub async fn get_import(ctx: TenantCtx, AppPath(id): AppPath<Uuid>) -> ApiResult<Json<ImportView>> {
    let (summary, errors) = imports::get_import(&ctx.db, id).await?;
    if ctx.principal.branch_scope.is_some() {
        // Another branch's import is as unknown as another tenant's.
        super::stock::own_warehouse(&ctx, summary.warehouse_id)
            .await
            .map_err(|_| ApiError::NotFound("item_import"))?;
    }
    Ok(Json(ImportView {
        summary: summary.into(),
        errors: errors.into_iter().map(Into::into).collect(),
    }))
}
