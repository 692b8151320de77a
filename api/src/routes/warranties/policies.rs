//! `/pos/api/warranty-policies`: warranty policies per item or per brand (managers write,
//! everyone reads), and `/pos/api/warranty-settings` (the days before its end a warranty's
//! `warranty_expiring` event is recorded).

use axum::Json;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use entities::PageRequest;
use entities::warranties::expiring;
use entities::warranties::policies::{self, NewPolicy, PolicyFilter, Terms};
use entities::warranties::tables::{policy, setting};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::parse_text;
use crate::auth::TenantCtx;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::state::AppState;

/// The policy and settings routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_warranty_policies, create_warranty_policy))
        .routes(routes!(
            get_warranty_policy,
            update_warranty_policy,
            delete_warranty_policy
        ))
        .routes(routes!(get_warranty_settings, put_warranty_settings))
}

/// A warranty policy.
#[derive(Debug, Serialize, ToSchema)]
pub struct WarrantyPolicyView {
    /// Id.
    pub id: Uuid,
    /// The item it covers (or `brand`).
    pub item_id: Option<Uuid>,
    /// The brand it covers (or `item_id`).
    pub brand: Option<String>,
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
    /// Printed on the receipt.
    pub terms: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<policy::Model> for WarrantyPolicyView {
    fn from(p: policy::Model) -> Self {
        Self {
            id: p.id,
            item_id: p.item_id,
            brand: p.brand,
            months: p.months,
            km: p.km,
            coverage: p.coverage.to_string(),
            starts_on: p.starts_on.to_string(),
            supplier_months: p.supplier_months,
            supplier_km: p.supplier_km,
            terms: p.terms,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// A page of warranty policies.
pub type WarrantyPolicyPage = crate::page::Page<WarrantyPolicyView>;

impl crate::page::Listed for WarrantyPolicyView {
    const PAGE: &'static str = "WarrantyPolicyPage";
    const PAGE_DOC: &'static str = "A page of warranty policies.";
    const ITEMS_DOC: &'static str = "Policies, newest first.";
}

/// Filters and page of the policy list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WarrantyPolicyQuery {
    /// One item's.
    pub item_id: Option<Uuid>,
    /// One brand's (any case).
    #[param(max_length = 120)]
    pub brand: Option<String>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
}

/// The terms of a policy.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarrantyTermsRequest {
    /// Calendar months, 1 to 120.
    #[schema(minimum = 1, maximum = 120)]
    pub months: i32,
    /// Kilometres, whichever comes first (none for no distance limit).
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub km: Option<i64>,
    /// `parts` or `parts_labor`.
    #[schema(pattern = "^(parts|parts_labor)$")]
    pub coverage: String,
    /// `sale` or `installation`.
    #[schema(pattern = "^(sale|installation)$")]
    pub starts_on: String,
    /// What the supplier covers, months (1 to 120).
    #[schema(minimum = 1, maximum = 120)]
    pub supplier_months: Option<i32>,
    /// What the supplier covers, km.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub supplier_km: Option<i64>,
    /// Printed on the receipt (LFPC art. 62).
    #[schema(max_length = 2000)]
    pub terms: Option<String>,
}

impl WarrantyTermsRequest {
    fn terms(self) -> Result<Terms, entities::Error> {
        Ok(Terms {
            months: self.months,
            km: self.km,
            coverage: parse_text("coverage", &self.coverage, "parts or parts_labor")?,
            starts_on: parse_text("starts_on", &self.starts_on, "sale or installation")?,
            supplier_months: self.supplier_months,
            supplier_km: self.supplier_km,
            terms: self.terms,
        })
    }
}

/// A policy to create: of an item or of a brand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWarrantyPolicyRequest {
    /// The item (or `brand`).
    pub item_id: Option<Uuid>,
    /// The brand, matched to the items' brand in any case (or `item_id`).
    #[schema(max_length = 120)]
    pub brand: Option<String>,
    /// Calendar months, 1 to 120.
    #[schema(minimum = 1, maximum = 120)]
    pub months: i32,
    /// Kilometres, whichever comes first (none for no distance limit).
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub km: Option<i64>,
    /// `parts` or `parts_labor`.
    #[schema(pattern = "^(parts|parts_labor)$")]
    pub coverage: String,
    /// `sale` or `installation`.
    #[schema(pattern = "^(sale|installation)$")]
    pub starts_on: String,
    /// What the supplier covers, months (1 to 120).
    #[schema(minimum = 1, maximum = 120)]
    pub supplier_months: Option<i32>,
    /// What the supplier covers, km.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub supplier_km: Option<i64>,
    /// Printed on the receipt (LFPC art. 62).
    #[schema(max_length = 2000)]
    pub terms: Option<String>,
}

/// Warranty policies, newest first.
#[utoipa::path(
    get, path = "/pos/api/warranty-policies", tag = "warranties", security(("bearer" = [])),
    params(WarrantyPolicyQuery),
    responses((status = 200, body = WarrantyPolicyPage), (status = 422, body = ErrorBody))
)]
pub async fn list_warranty_policies(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<WarrantyPolicyQuery>,
) -> ApiResult<Json<WarrantyPolicyPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = policies::list(
        &ctx.db,
        PolicyFilter {
            item_id: q.item_id,
            brand: q.brand,
        },
        page,
    )
    .await?;
    Ok(Json(WarrantyPolicyPage::from_rows(rows, Into::into)))
}

/// Creates a policy of an item or of a brand (owner, admin, manager). An item's own policy wins
/// over its brand's. Honours `Idempotency-Key`.
#[utoipa::path(
    post, path = "/pos/api/warranty-policies", tag = "warranties", security(("bearer" = [])),
    request_body = CreateWarrantyPolicyRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry return the first answer")),
    responses(
        (status = 201, body = WarrantyPolicyView),
        (status = 403, body = ErrorBody),
        (status = 404, description = "`item_not_found`", body = ErrorBody),
        (status = 409, description = "`warranty_policy_exists`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn create_warranty_policy(
    ctx: TenantCtx,
    headers: axum::http::HeaderMap,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<axum::response::Response> {
    let req: CreateWarrantyPolicyRequest = crate::extract::body_as(&raw)?;
    let item_id = req.item_id;
    let brand = req.brand.clone();
    let terms = WarrantyTermsRequest {
        months: req.months,
        km: req.km,
        coverage: req.coverage,
        starts_on: req.starts_on,
        supplier_months: req.supplier_months,
        supplier_km: req.supplier_km,
        terms: req.terms,
    }
    .terms()?;
    let seller = ctx.seller();
    let written = crate::idempotency::write_once(
        &ctx.db,
        &headers,
        "warranties.policy",
        &raw,
        StatusCode::CREATED,
        async |txn| {
            let p = policies::create(
                txn,
                &seller,
                NewPolicy {
                    item_id,
                    brand,
                    terms,
                },
            )
            .await?;
            Ok((crate::extract::to_value(&WarrantyPolicyView::from(p))?, ()))
        },
    )
    .await?;
    Ok(written.response())
}

/// One policy.
#[utoipa::path(
    get, path = "/pos/api/warranty-policies/{id}", tag = "warranties", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Policy id")),
    responses((status = 200, body = WarrantyPolicyView), (status = 404, body = ErrorBody))
)]
pub async fn get_warranty_policy(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<WarrantyPolicyView>> {
    Ok(Json(policies::get(&ctx.db, id).await?.into()))
}

/// Replaces a policy's terms (owner, admin, manager). Warranties already given keep the terms
/// they were given with.
#[utoipa::path(
    put, path = "/pos/api/warranty-policies/{id}", tag = "warranties", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Policy id")),
    request_body = WarrantyTermsRequest,
    responses(
        (status = 200, body = WarrantyPolicyView),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn update_warranty_policy(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<WarrantyTermsRequest>,
) -> ApiResult<Json<WarrantyPolicyView>> {
    let terms = req.terms()?;
    let txn = entities::db::begin_write(&ctx.db).await?;
    let p = policies::update(&txn, &ctx.seller(), id, terms).await?;
    txn.commit().await?;
    Ok(Json(p.into()))
}

/// Deletes a policy (owner, admin, manager). Warranties already given keep theirs.
#[utoipa::path(
    delete, path = "/pos/api/warranty-policies/{id}", tag = "warranties", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Policy id")),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn delete_warranty_policy(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<StatusCode> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    policies::delete(&txn, &ctx.seller(), id).await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The warranty settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct WarrantySettingsView {
    /// Days before its last day a warranty's `warranty_expiring` event is recorded.
    pub expiring_notice_days: i32,
}

impl From<setting::Model> for WarrantySettingsView {
    fn from(s: setting::Model) -> Self {
        Self {
            expiring_notice_days: s.expiring_notice_days,
        }
    }
}

/// Changes to the warranty settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarrantySettingsRequest {
    /// Days before its last day a warranty's `warranty_expiring` event is recorded, 1 to 365.
    #[schema(minimum = 1, maximum = 365)]
    pub expiring_notice_days: i32,
}

/// The warranty settings (15 days' notice until changed).
#[utoipa::path(
    get, path = "/pos/api/warranty-settings", tag = "warranties", security(("bearer" = [])),
    responses((status = 200, body = WarrantySettingsView))
)]
pub async fn get_warranty_settings(ctx: TenantCtx) -> ApiResult<Json<WarrantySettingsView>> {
    Ok(Json(expiring::settings(&ctx.db).await?.into()))
}

/// Changes the warranty settings (owner, admin, manager).
#[utoipa::path(
    put, path = "/pos/api/warranty-settings", tag = "warranties", security(("bearer" = [])),
    request_body = WarrantySettingsRequest,
    responses((status = 200, body = WarrantySettingsView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn put_warranty_settings(
    ctx: TenantCtx,
    AppJson(req): AppJson<WarrantySettingsRequest>,
) -> ApiResult<Json<WarrantySettingsView>> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    let s = expiring::set_notice_days(&txn, &ctx.actor(), req.expiring_notice_days).await?;
    txn.commit().await?;
    Ok(Json(s.into()))
}
