//! `/pos/api/warranties`: the warranty of each sold line (a copy of its policy on the day),
//! registered by the checkout or by hand, listed and read with its eligibility today; and
//! `/pos/api/customers/{id}/warranties`.

use axum::Json;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use entities::PageRequest;
use entities::rules::money::Money;
use entities::rules::warranty::Eligibility;
use entities::warranties::coverage::{self, Registration, Standing, WarrantyFilter};
use entities::warranties::tables::warranty;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::state::AppState;

/// The warranty routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_warranties, register_warranty))
        .routes(routes!(get_warranty))
        .routes(routes!(customer_warranties))
}

/// The warranty of a sold or installed line.
#[derive(Debug, Serialize, ToSchema)]
pub struct WarrantyView {
    /// Id.
    pub id: Uuid,
    /// The sale.
    pub sale_id: Uuid,
    /// The line's number in the sale.
    pub sale_line_no: i32,
    /// The item.
    pub item_id: Uuid,
    /// Units.
    pub qty: i64,
    /// Unit price, IVA included, MXN.
    #[schema(value_type = String, example = "450.00")]
    pub unit_price: Money,
    /// The customer.
    pub customer_id: Option<Uuid>,
    /// The vehicle it went into.
    pub vehicle_id: Option<Uuid>,
    /// The odometer when installed, km.
    pub odometer_at_install: Option<i64>,
    /// The workshop's service order.
    pub service_order_id: Option<Uuid>,
    /// The policy it was copied from.
    pub policy_id: Option<Uuid>,
    /// Calendar months.
    pub months: i32,
    /// Kilometres, whichever comes first.
    pub km: Option<i64>,
    /// `parts` or `parts_labor`.
    pub coverage: String,
    /// `sale` or `installation`.
    pub starts_on: String,
    /// What the supplier covers, months.
    pub supplier_months: Option<i32>,
    /// What the supplier covers, km.
    pub supplier_km: Option<i64>,
    /// The terms printed on the receipt.
    pub terms: Option<String>,
    /// The supplier of the item's last receipt.
    pub supplier_id: Option<Uuid>,
    /// The first day covered.
    pub starts_at: NaiveDate,
    /// The last day covered.
    pub expires_on: NaiveDate,
    /// `active` or `expired` today.
    pub status: String,
    /// Registered.
    pub created_at: DateTime<Utc>,
}

impl From<warranty::Model> for WarrantyView {
    fn from(w: warranty::Model) -> Self {
        let status = if entities::today() > w.expires_on {
            "expired"
        } else {
            "active"
        };
        Self {
            id: w.id,
            sale_id: w.sale_id,
            sale_line_no: w.sale_line_no,
            item_id: w.item_id,
            qty: w.qty,
            unit_price: Money(w.unit_price_cents),
            customer_id: w.customer_id,
            vehicle_id: w.vehicle_id,
            odometer_at_install: w.odometer_at_install,
            service_order_id: w.service_order_id,
            policy_id: w.policy_id,
            months: w.months,
            km: w.km,
            coverage: w.coverage.to_string(),
            starts_on: w.starts_on.to_string(),
            supplier_months: w.supplier_months,
            supplier_km: w.supplier_km,
            terms: w.terms,
            supplier_id: w.supplier_id,
            starts_at: w.starts_at,
            expires_on: w.expires_on,
            status: status.into(),
            created_at: w.created_at,
        }
    }
}

/// Whether a warranty covers.
#[derive(Debug, Serialize, ToSchema)]
pub struct WarrantyEligibilityView {
    /// Covered.
    pub eligible: bool,
    /// The limits that failed: `expired`, `km_exceeded`.
    pub failed: Vec<String>,
    /// The last day covered.
    pub expires_on: NaiveDate,
    /// Kilometres driven since installation, when the readings are known.
    pub km_driven: Option<i64>,
    /// The day it was checked.
    pub checked_on: NaiveDate,
}

impl WarrantyEligibilityView {
    /// The view of an eligibility checked on `on`.
    #[must_use]
    pub fn of(e: &Eligibility, on: NaiveDate) -> Self {
        Self {
            eligible: e.eligible,
            failed: e.failed.iter().map(|f| f.as_str().to_owned()).collect(),
            expires_on: e.expires_on,
            km_driven: e.km_driven,
            checked_on: on,
        }
    }
}

/// A warranty with its eligibility today (by date; a claim gives the odometer for the km).
#[derive(Debug, Serialize, ToSchema)]
pub struct WarrantyDetailView {
    /// The warranty.
    #[serde(flatten)]
    pub warranty: WarrantyView,
    /// Eligibility today: by date, and by km at the odometer asked.
    pub eligibility: WarrantyEligibilityView,
}

/// A page of warranties.
pub type WarrantyPage = crate::page::Page<WarrantyView>;

impl crate::page::Listed for WarrantyView {
    const PAGE: &'static str = "WarrantyPage";
    const PAGE_DOC: &'static str = "A page of warranties.";
    const ITEMS_DOC: &'static str = "Warranties, newest first.";
}

/// Filters and page of the warranty list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WarrantyQuery {
    /// One customer's.
    pub customer_id: Option<Uuid>,
    /// One item's.
    pub item_id: Option<Uuid>,
    /// One sale's.
    pub sale_id: Option<Uuid>,
    /// `active` or `expired` today.
    #[param(pattern = "^(active|expired)$")]
    pub status: Option<String>,
    /// Ending within this many days (0 to 3650).
    #[param(minimum = 0, maximum = 3650)]
    pub expiring_within_days: Option<i64>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// A warranty registered by hand for a sale's line.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterWarrantyRequest {
    /// The sale.
    pub sale_id: Uuid,
    /// The line's number in the sale.
    pub line_no: i32,
    /// The vehicle it went into.
    pub vehicle_id: Option<Uuid>,
    /// The odometer when installed, km.
    #[schema(minimum = 0, maximum = 10_000_000)]
    pub odometer: Option<i64>,
    /// Months instead of the policy's (managers; needed when the item has no policy).
    #[schema(minimum = 1, maximum = 120)]
    pub months: Option<i32>,
    /// Km instead of the policy's (managers).
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub km: Option<i64>,
}

async fn list_with(
    ctx: &TenantCtx,
    q: WarrantyQuery,
    customer_id: Option<Uuid>,
) -> ApiResult<Json<WarrantyPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let standing = match q.status.as_deref() {
        None => None,
        Some("active") => Some(Standing::Active),
        Some("expired") => Some(Standing::Expired),
        Some(_) => {
            return Err(
                entities::Error::validation("status", "status is active or expired").into(),
            );
        }
    };
    let rows = coverage::list(
        &ctx.db,
        WarrantyFilter {
            customer_id: customer_id.or(q.customer_id),
            item_id: q.item_id,
            sale_id: q.sale_id,
            standing,
            expiring_within_days: q.expiring_within_days,
        },
        page,
    )
    .await?;
    Ok(Json(WarrantyPage::from_rows(rows, Into::into)))
}

/// Warranties, newest first.
#[utoipa::path(
    get, path = "/pos/api/warranties", tag = "warranties", security(("bearer" = [])),
    params(WarrantyQuery),
    responses((status = 200, body = WarrantyPage), (status = 422, body = ErrorBody))
)]
pub async fn list_warranties(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<WarrantyQuery>,
) -> ApiResult<Json<WarrantyPage>> {
    list_with(&ctx, q, None).await
}

/// A customer's warranties, newest first.
#[utoipa::path(
    get, path = "/pos/api/customers/{id}/warranties", tag = "warranties", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id"), WarrantyQuery),
    responses((status = 200, body = WarrantyPage), (status = 422, body = ErrorBody))
)]
pub async fn customer_warranties(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<WarrantyQuery>,
) -> ApiResult<Json<WarrantyPage>> {
    list_with(&ctx, q, Some(id)).await
}

/// Registers the warranty of a sale's line by hand (owner, admin, manager, cashier): with the
/// vehicle and odometer; months or km other than the policy's need a manager. Honours
/// `Idempotency-Key`.
#[utoipa::path(
    post, path = "/pos/api/warranties", tag = "warranties", security(("bearer" = [])),
    request_body = RegisterWarrantyRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    responses(
        (status = 201, body = WarrantyView),
        (status = 403, body = ErrorBody),
        (status = 404, description = "`sale_not_found`, `vehicle_not_found`", body = ErrorBody),
        (status = 409, description = "`no_warranty_policy`, `warranty_exists`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn register_warranty(
    ctx: TenantCtx,
    headers: axum::http::HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<axum::response::Response> {
    let req: RegisterWarrantyRequest = crate::extract::body_as(&raw)?;
    let seller = ctx.seller();
    let reg = Registration {
        sale_id: req.sale_id,
        line_no: req.line_no,
        vehicle_id: req.vehicle_id,
        odometer_km: req.odometer,
        months: req.months,
        km: req.km,
    };
    let written = crate::idempotency::write_once(
        &ctx.db,
        &headers,
        "warranties.register",
        &raw,
        StatusCode::CREATED,
        async |txn| {
            let w = coverage::register(txn, &seller, reg).await?;
            Ok((crate::extract::to_value(&WarrantyView::from(w))?, ()))
        },
    )
    .await?;
    Ok(written.response())
}

/// What to check a warranty's eligibility at.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WarrantyEligibilityQuery {
    /// The odometer now, km: the distance limit is checked too (by date only without it).
    #[param(minimum = 0, maximum = 10_000_000)]
    pub odometer: Option<i64>,
}

/// One warranty, with its eligibility today: by date, and by km at `odometer` when given.
#[utoipa::path(
    get, path = "/pos/api/warranties/{id}", tag = "warranties", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Warranty id"), WarrantyEligibilityQuery),
    responses(
        (status = 200, body = WarrantyDetailView),
        (status = 404, body = ErrorBody),
        (status = 422, description = "`odometer` below the one at installation", body = ErrorBody),
    )
)]
pub async fn get_warranty(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<WarrantyEligibilityQuery>,
) -> ApiResult<Json<WarrantyDetailView>> {
    let w = coverage::get(&ctx.db, id).await?;
    let today = entities::today();
    let e = match q.odometer {
        Some(o) => coverage::eligibility(&w, today, Some(o))?,
        None => coverage::by_date(&w, today),
    };
    Ok(Json(WarrantyDetailView {
        warranty: w.into(),
        eligibility: WarrantyEligibilityView::of(&e, today),
    }))
}
