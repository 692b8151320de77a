//! `/pos/api/customers`: the customer record (fiscal data for CFDI, WhatsApp contact, price list
//! and credit), the vehicles a customer owns, and what customers saved against retail prices.
//!
//! Everyone reads; every role but viewer registers and edits customers, but only owners, admins
//! and managers grant a price list other than `mostrador` or a credit limit above zero. The
//! savings report across customers is for managers and up.

use axum::Json;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use entities::PageRequest;
use entities::counter::savings::{self, Period};
use entities::customers::records::{self, CustomerFilter, CustomerPatch, NewCustomer};
use entities::customers::tables::customer;
use entities::pricing::prices::{DEFAULT_LIST, check_list};
use entities::rules::money::Money;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery, double_option};
use crate::routes::vehicles::lookup::VehiclePage;
use crate::state::AppState;

/// The customer routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_customers, create_customer))
        .routes(routes!(get_customer, update_customer))
        .routes(routes!(customer_vehicles))
        .routes(routes!(customer_savings))
        .routes(routes!(savings_report))
}

/// A customer.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerView {
    /// Customer id.
    pub id: Uuid,
    /// Name or business name.
    pub name: String,
    /// RFC.
    pub rfc: Option<String>,
    /// SAT tax regime key (c_RegimenFiscal).
    pub tax_regime: Option<String>,
    /// Fiscal postal code.
    pub zip: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// WhatsApp number in E.164.
    pub whatsapp_phone: Option<String>,
    /// Price list: `mostrador`, `taller`, `flotilla` or `mayoreo`.
    pub price_list: String,
    /// Credit limit in MXN, decimal string.
    #[schema(value_type = String, example = "5000.00")]
    pub credit_limit: Money,
    /// What the customer owes on account (credit sales less payments and return credits), MXN,
    /// decimal string; `GET /pos/api/customers/{id}/account` has the detail.
    #[schema(value_type = String, example = "1250.00")]
    pub balance: Money,
    /// Store credit (saldo a favor) from refunds, MXN, spent with the `store_credit` payment
    /// method.
    #[schema(value_type = String, example = "0.00")]
    pub store_credit: Money,
    /// Notes.
    pub notes: Option<String>,
    /// Whether the customer is sold to.
    pub is_active: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<customer::Model> for CustomerView {
    fn from(c: customer::Model) -> Self {
        Self {
            id: c.id,
            name: c.name,
            rfc: c.rfc,
            tax_regime: c.tax_regime,
            zip: c.zip,
            email: c.email,
            whatsapp_phone: c.whatsapp_phone,
            price_list: c.price_list,
            credit_limit: Money(c.credit_limit_cents),
            balance: Money(c.balance_cents),
            store_credit: Money(c.store_credit_cents),
            notes: c.notes,
            is_active: c.is_active,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A page of customers.
pub type CustomerPage = crate::page::Page<CustomerView>;

impl crate::page::Listed for CustomerView {
    const PAGE: &'static str = "CustomerPage";
    const PAGE_DOC: &'static str = "A page of customers.";
    const ITEMS_DOC: &'static str = "Customers of this page.";
}

/// Filters and page of the customer list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CustomerQuery {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    /// Name, RFC or WhatsApp number contains this.
    pub q: Option<String>,
    /// Only customers of this price list.
    #[param(pattern = "^(mostrador|taller|flotilla|mayoreo)$", example = "taller")]
    pub price_list: Option<String>,
    /// Only active (`true`) or inactive (`false`) customers.
    pub active: Option<bool>,
}

/// A new customer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCustomerRequest {
    /// Name or business name.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// RFC (generic `XAXX010101000` / `XEXX010101000` allowed).
    #[schema(
        pattern = "^(|[A-Za-z&Ññ]{3,4}[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[A-Za-z0-9]{3})$"
    )]
    pub rfc: Option<String>,
    /// SAT tax regime key, e.g. `601`, `612`, `626`.
    #[schema(
        pattern = "^(|601|603|605|606|607|608|610|611|612|614|615|616|620|621|622|623|624|625|626)$"
    )]
    pub tax_regime: Option<String>,
    /// Five-digit fiscal postal code.
    #[schema(pattern = "^(|[0-9]{5})$")]
    pub zip: Option<String>,
    /// E-mail.
    #[schema(
        max_length = 254,
        pattern = "^(|[^@\\s\\u0000-\\u001F\\u007F-\\u009F]+@[^@.\\s\\u0000-\\u001F\\u007F-\\u009F][^@\\s\\u0000-\\u001F\\u007F-\\u009F]*\\.[^@\\s\\u0000-\\u001F\\u007F-\\u009F]*[^@.\\s\\u0000-\\u001F\\u007F-\\u009F])$"
    )]
    pub email: Option<String>,
    /// WhatsApp number; 10 digits are taken as Mexican (`+52`).
    #[schema(pattern = "^(|\\+52[0-9]{10}|[1-9][0-9]{9}|\\+[1-46-9][0-9]{7,14})$")]
    pub whatsapp_phone: Option<String>,
    /// Price list (`mostrador` by default; others need a manager).
    #[schema(pattern = "^(mostrador|taller|flotilla|mayoreo)$", example = "taller")]
    pub price_list: Option<String>,
    /// Credit limit in MXN, decimal string (`"0"` by default; above zero needs a manager).
    #[schema(value_type = Option<crate::formats::Amount>, example = "5000.00")]
    pub credit_limit: Option<String>,
    /// Notes.
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
}

/// Changes to a customer; absent fields stay, `null` clears an optional one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCustomerRequest {
    /// New name.
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// New RFC or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(pattern = "^(|[A-Za-z&Ññ]{3,4}[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[A-Za-z0-9]{3})$", value_type = Option<String>)]
    pub rfc: Option<Option<String>>,
    /// New tax regime or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(pattern = "^(|601|603|605|606|607|608|610|611|612|614|615|616|620|621|622|623|624|625|626)$", value_type = Option<String>)]
    pub tax_regime: Option<Option<String>>,
    /// New postal code or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(pattern = "^(|[0-9]{5})$", value_type = Option<String>)]
    pub zip: Option<Option<String>>,
    /// New e-mail or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 254, pattern = "^(|[^@\\s\\u0000-\\u001F\\u007F-\\u009F]+@[^@.\\s\\u0000-\\u001F\\u007F-\\u009F][^@\\s\\u0000-\\u001F\\u007F-\\u009F]*\\.[^@\\s\\u0000-\\u001F\\u007F-\\u009F]*[^@.\\s\\u0000-\\u001F\\u007F-\\u009F])$", value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// New WhatsApp number or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(pattern = "^(|\\+52[0-9]{10}|[1-9][0-9]{9}|\\+[1-46-9][0-9]{7,14})$", value_type = Option<String>)]
    pub whatsapp_phone: Option<Option<String>>,
    /// New price list (other than `mostrador` needs a manager).
    #[schema(pattern = "^(mostrador|taller|flotilla|mayoreo)$", example = "taller")]
    pub price_list: Option<String>,
    /// New credit limit (above zero needs a manager).
    #[schema(value_type = Option<crate::formats::Amount>)]
    pub credit_limit: Option<String>,
    /// New notes or `null`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(max_length = 2000, value_type = Option<String>)]
    pub notes: Option<Option<String>>,
    /// Activate or deactivate.
    pub is_active: Option<bool>,
}

/// Reads the commercial terms of a request and refuses them unless the caller is a manager or
/// more: a price list other than `mostrador` and credit are discounts and risk the business
/// takes, not counter decisions.
fn terms(
    ctx: &TenantCtx,
    price_list: Option<&str>,
    credit_limit: Option<&str>,
) -> ApiResult<(Option<String>, Option<Money>)> {
    let list = price_list
        .map(|l| check_list("price_list", l))
        .transpose()?;
    let credit = credit_limit
        .map(|c| Money::parse("credit_limit", c))
        .transpose()?;
    let privileged = list.is_some_and(|l| l != DEFAULT_LIST) || credit.is_some_and(|c| c.0 > 0);
    if privileged && !ctx.principal.role.is_manager() {
        return Err(ApiError::forbidden(
            "forbidden",
            format!(
                "a price list other than {DEFAULT_LIST} or a credit limit needs the owner, \
                 admin or manager role; you are {}",
                ctx.principal.role
            ),
        ));
    }
    Ok((list.map(str::to_owned), credit))
}

/// Lists customers.
#[utoipa::path(
    get, path = "/pos/api/customers", tag = "customers", security(("bearer" = [])),
    params(CustomerQuery),
    responses((status = 200, body = CustomerPage), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn list_customers(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<CustomerQuery>,
) -> ApiResult<Json<CustomerPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = records::list_customers(
        &ctx.db,
        page,
        CustomerFilter {
            q: q.q,
            price_list: q.price_list,
            active: q.active,
        },
    )
    .await?;
    Ok(Json(CustomerPage::from_rows(rows, Into::into)))
}

/// Registers a customer (every role but viewer; price lists and credit need a manager).
#[utoipa::path(
    post, path = "/pos/api/customers", tag = "customers", security(("bearer" = [])),
    request_body = CreateCustomerRequest,
    responses(
        (status = 201, body = CustomerView),
        (status = 403, body = ErrorBody),
        (status = 422, description = "A field is invalid; `field` names it", body = ErrorBody),
    )
)]
pub async fn create_customer(
    ctx: TenantCtx,
    AppJson(req): AppJson<CreateCustomerRequest>,
) -> ApiResult<(StatusCode, Json<CustomerView>)> {
    let (price_list, credit_limit) =
        terms(&ctx, req.price_list.as_deref(), req.credit_limit.as_deref())?;
    let new = NewCustomer {
        name: req.name,
        rfc: req.rfc,
        tax_regime: req.tax_regime,
        zip: req.zip,
        email: req.email,
        whatsapp_phone: req.whatsapp_phone,
        price_list,
        credit_limit,
        notes: req.notes,
    };
    let c = records::create_customer(&ctx.db, &ctx.actor(), new).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// One customer.
#[utoipa::path(
    get, path = "/pos/api/customers/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, body = CustomerView), (status = 404, body = ErrorBody))
)]
pub async fn get_customer(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<CustomerView>> {
    Ok(Json(records::get_customer(&ctx.db, id).await?.into()))
}

/// Changes a customer (every role but viewer; price lists and credit need a manager).
#[utoipa::path(
    patch, path = "/pos/api/customers/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    request_body = UpdateCustomerRequest,
    responses(
        (status = 200, body = CustomerView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`fiscal_pair_mismatch`: the RFC or regime sent does not fit the other one stored", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn update_customer(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<UpdateCustomerRequest>,
) -> ApiResult<Json<CustomerView>> {
    let (price_list, credit_limit) =
        terms(&ctx, req.price_list.as_deref(), req.credit_limit.as_deref())?;
    let patch = CustomerPatch {
        name: req.name,
        rfc: req.rfc,
        tax_regime: req.tax_regime,
        zip: req.zip,
        email: req.email,
        whatsapp_phone: req.whatsapp_phone,
        price_list,
        credit_limit,
        notes: req.notes,
        is_active: req.is_active,
    };
    Ok(Json(
        records::update_customer(&ctx.db, &ctx.actor(), id, patch)
            .await?
            .into(),
    ))
}

/// The vehicles registered to a customer, newest first.
#[utoipa::path(
    get, path = "/pos/api/customers/{id}/vehicles", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, body = VehiclePage), (status = 404, body = ErrorBody))
)]
pub async fn customer_vehicles(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<VehiclePage>> {
    let vs = records::customer_vehicles(&ctx.db, id).await?;
    Ok(Json(VehiclePage::whole(
        vs.into_iter().map(Into::into).collect(),
    )))
}

/// A period of a savings query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SavingsQuery {
    /// From this date (`2026-11-01`, from 00:00 UTC) or instant (RFC 3339), inclusive.
    #[param(value_type = Option<crate::formats::DateOrInstant>, inline)]
    pub from: Option<String>,
    /// To this date (inclusive: the whole day, UTC) or instant (exclusive).
    #[param(value_type = Option<crate::formats::DateOrInstant>, inline)]
    pub to: Option<String>,
}

/// A period and branch of the savings report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SavingsReportQuery {
    /// From this date or instant, inclusive.
    #[param(value_type = Option<crate::formats::DateOrInstant>, inline)]
    pub from: Option<String>,
    /// To this date (inclusive) or instant (exclusive).
    #[param(value_type = Option<crate::formats::DateOrInstant>, inline)]
    pub to: Option<String>,
    /// Only this branch.
    pub branch_id: Option<Uuid>,
}

/// Reads a bound of a period: an RFC 3339 instant, or a date (UTC) whose day is included whole.
fn bound(field: &str, v: Option<&str>, end: bool) -> ApiResult<Option<DateTime<Utc>>> {
    let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    let bad = || {
        ApiError::invalid(
            field,
            format!("{field}: use a date (2026-11-01) or an RFC 3339 instant"),
        )
    };
    let d = NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| bad())?;
    let d = if end {
        d.succ_opt().ok_or_else(bad)?
    } else {
        d
    };
    Ok(Some(d.and_time(chrono::NaiveTime::MIN).and_utc()))
}

/// A period; one whose end is not after its start holds nothing, and its report is all zeros.
fn period(from: Option<&str>, to: Option<&str>) -> ApiResult<Period> {
    Ok(Period {
        from: bound("from", from, false)?,
        to: bound("to", to, true)?,
    })
}

/// What a customer saved buying at their prices instead of the reference retail prices.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerSavingsView {
    /// The customer.
    pub customer_id: Uuid,
    /// Sales counted (cancelled sales are not).
    pub sales: u64,
    /// What the customer paid, MXN.
    #[schema(value_type = String, example = "1160.00")]
    pub total: Money,
    /// What it costs at retail prices, MXN.
    #[schema(value_type = String, example = "1400.00")]
    pub retail_total: Money,
    /// Savings, less what returns took back, MXN.
    #[schema(value_type = String, example = "240.00")]
    pub savings: Money,
}

impl From<savings::Totals> for CustomerSavingsView {
    fn from(t: savings::Totals) -> Self {
        Self {
            customer_id: t.key.unwrap_or_default(),
            sales: t.sales,
            total: t.total,
            retail_total: t.retail_total,
            savings: t.savings,
        }
    }
}

/// A customer's savings in a period.
#[utoipa::path(
    get, path = "/pos/api/customers/{id}/savings", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id"), SavingsQuery),
    responses((status = 200, body = CustomerSavingsView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn customer_savings(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<SavingsQuery>,
) -> ApiResult<Json<CustomerSavingsView>> {
    let p = period(q.from.as_deref(), q.to.as_deref())?;
    records::get_customer(&ctx.db, id).await?;
    let mut t = savings::customer_savings(&ctx.db, id, p).await?;
    t.key = Some(id);
    Ok(Json(t.into()))
}

/// Savings of one group (a branch or a customer).
#[derive(Debug, Serialize, ToSchema)]
pub struct SavingsRow {
    /// Sales counted.
    pub sales: u64,
    /// Paid, MXN.
    #[schema(value_type = String)]
    pub total: Money,
    /// At retail prices, MXN.
    #[schema(value_type = String)]
    pub retail_total: Money,
    /// Savings, MXN.
    #[schema(value_type = String)]
    pub savings: Money,
}

/// Savings of a branch.
#[derive(Debug, Serialize, ToSchema)]
pub struct BranchSavings {
    /// The branch.
    pub branch_id: Uuid,
    /// Its sums.
    #[serde(flatten)]
    pub sums: SavingsRow,
}

/// Savings of a customer in the report.
#[derive(Debug, Serialize, ToSchema)]
pub struct TopCustomer {
    /// The customer.
    pub customer_id: Uuid,
    /// Their name.
    pub name: String,
    /// Their sums.
    #[serde(flatten)]
    pub sums: SavingsRow,
}

/// The savings report.
#[derive(Debug, Serialize, ToSchema)]
pub struct SavingsReport {
    /// Sales counted.
    pub sales: u64,
    /// Paid, MXN.
    #[schema(value_type = String)]
    pub total: Money,
    /// At retail prices, MXN.
    #[schema(value_type = String)]
    pub retail_total: Money,
    /// Savings, MXN.
    #[schema(value_type = String)]
    pub savings: Money,
    /// Per branch, by savings.
    pub branches: Vec<BranchSavings>,
    /// The 20 customers who saved most.
    pub top_customers: Vec<TopCustomer>,
}

fn row(t: &savings::Totals) -> SavingsRow {
    SavingsRow {
        sales: t.sales,
        total: t.total,
        retail_total: t.retail_total,
        savings: t.savings,
    }
}

/// What customers saved, in total, per branch and for the top 20 customers (owner, admin,
/// manager).
#[utoipa::path(
    get, path = "/pos/api/reports/savings", tag = "customers", security(("bearer" = [])),
    params(SavingsReportQuery),
    responses((status = 200, body = SavingsReport), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn savings_report(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<SavingsReportQuery>,
) -> ApiResult<Json<SavingsReport>> {
    let p = period(q.from.as_deref(), q.to.as_deref())?;
    if let Some(b) = q.branch_id
        && !ctx.principal.can_see_branch(b)
    {
        return Err(ApiError::NotFound("branch"));
    }
    // A manager limited to some branches sees only those, in the totals and in the ranking.
    let only: Option<Vec<Uuid>> = match q.branch_id {
        Some(b) => Some(vec![b]),
        None => ctx.principal.branch_scope.clone(),
    };
    let r = savings::report(&ctx.db, p, only.as_deref(), savings::TOP_CUSTOMERS).await?;
    let total = r.total();
    Ok(Json(SavingsReport {
        sales: total.sales,
        total: total.total,
        retail_total: total.retail_total,
        savings: total.savings,
        branches: r
            .branches
            .iter()
            .map(|b| BranchSavings {
                branch_id: b.key.unwrap_or_default(),
                sums: row(b),
            })
            .collect(),
        top_customers: r
            .top_customers
            .into_iter()
            .map(|(t, name)| TopCustomer {
                customer_id: t.key.unwrap_or_default(),
                name,
                sums: row(&t),
            })
            .collect(),
    }))
}
