//! Credit from behaviour (`/customers/{id}/credit-reviews`, `/credit-reviews/{id}/accept|dismiss`)
//! and referrals (`/customers/{id}/referral`, `/crm/referrals`, `/referrals/settings`).
//!
//! Reviews are for managers and up: a suggestion changes no limit until a manager accepts or
//! edits it. Every role reads a customer's referral code; all but viewer record a referral;
//! the referral list and report are for managers; the rules for owners and admins.

use axum::Json;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use entities::PageRequest;
use entities::customers::credit;
use entities::customers::referrals::{self, Filter};
use entities::customers::tables::{credit_review, referral, referral_setting};
use entities::rules::money::Money;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::routes::customers::crm::PageQuery;
use crate::state::AppState;

/// The credit and referral routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_credit_reviews, create_credit_review))
        .routes(routes!(accept_credit_review))
        .routes(routes!(dismiss_credit_review))
        .routes(routes!(customer_referral, refer_customer))
        .routes(routes!(list_referrals))
        .routes(routes!(referral_report))
        .routes(routes!(get_referral_settings, set_referral_settings))
}

/// A credit suggestion and its decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreditReviewView {
    /// Review id.
    pub id: Uuid,
    /// Customer id.
    pub customer_id: Uuid,
    /// The limit when the review was made, MXN.
    #[schema(value_type = String, example = "5000.00")]
    pub current_limit: Money,
    /// The suggested limit, MXN (whole hundreds).
    #[schema(value_type = String, example = "30000.00")]
    pub suggested_limit: Money,
    /// The suggested terms in days (0: cash only).
    pub suggested_terms_days: i32,
    /// Charges settled within terms, percent (absent without credit history).
    pub on_time_percent: Option<f64>,
    /// Mean days past terms.
    pub avg_days_late: Option<i32>,
    /// Bought in the last 12 months, MXN.
    #[schema(value_type = String, example = "120000.00")]
    pub volume_12m: Money,
    /// Days since the first purchase.
    pub tenure_days: i32,
    /// Why, one sentence each.
    pub reasons: Vec<String>,
    /// `pending`, `accepted`, `edited` or `dismissed`.
    pub status: String,
    /// The limit applied, MXN.
    #[schema(value_type = Option<String>, example = "25000.00")]
    pub applied_limit: Option<Money>,
    /// Who decided.
    pub decided_by: Option<Uuid>,
    /// When decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Made.
    pub created_at: DateTime<Utc>,
}

impl From<credit_review::Model> for CreditReviewView {
    fn from(r: credit_review::Model) -> Self {
        Self {
            id: r.id,
            customer_id: r.customer_id,
            current_limit: Money(r.current_limit_cents),
            suggested_limit: Money(r.suggested_limit_cents),
            suggested_terms_days: r.suggested_terms_days,
            on_time_percent: r.on_time_bp.map(|b| f64::from(b) / 100.0),
            avg_days_late: r.avg_days_late,
            volume_12m: Money(r.volume_12m_cents),
            tenure_days: r.tenure_days,
            reasons: serde_json::from_value(r.reasons).unwrap_or_default(),
            status: r.status.as_str().to_owned(),
            applied_limit: r.applied_limit_cents.map(Money),
            decided_by: r.decided_by,
            decided_at: r.decided_at,
            created_at: r.created_at,
        }
    }
}

/// A page of credit reviews.
pub type CreditReviewPage = crate::page::Page<CreditReviewView>;

impl crate::page::Listed for CreditReviewView {
    const PAGE: &'static str = "CreditReviewPage";
    const PAGE_DOC: &'static str = "A page of a customer's credit reviews.";
    const ITEMS_DOC: &'static str = "Reviews, newest first.";
}

/// Suggests a credit limit and terms from the customer's payment history, with the reasons
/// (managers); changes no limit. Audited.
#[utoipa::path(
    post, path = "/pos/api/customers/{id}/credit-reviews", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 201, body = CreditReviewView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn create_credit_review(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<(StatusCode, Json<CreditReviewView>)> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    let r = credit::review(&txn, &ctx.actor(), id).await?;
    txn.commit().await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

/// A customer's credit reviews, newest first (managers).
#[utoipa::path(
    get, path = "/pos/api/customers/{id}/credit-reviews", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id"), PageQuery),
    responses((status = 200, body = CreditReviewPage), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn list_credit_reviews(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<PageQuery>,
) -> ApiResult<Json<CreditReviewPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = credit::reviews(&ctx.db, id, page).await?;
    Ok(Json(CreditReviewPage::from_rows(rows, Into::into)))
}

/// Applies a review.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptCreditReviewRequest {
    /// Another limit than suggested, MXN (the review is then `edited`).
    #[schema(value_type = Option<crate::formats::Amount>, example = "25000.00")]
    pub limit: Option<String>,
}

/// Applies a pending review's limit to the customer (or the `limit` given instead); audited.
#[utoipa::path(
    post, path = "/pos/api/credit-reviews/{id}/accept", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Review id")),
    request_body = AcceptCreditReviewRequest,
    responses((status = 200, body = CreditReviewView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "`review_decided`", body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn accept_credit_review(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<AcceptCreditReviewRequest>,
) -> ApiResult<Json<CreditReviewView>> {
    let limit = req
        .limit
        .as_deref()
        .map(|l| Money::parse("limit", l))
        .transpose()?;
    let txn = entities::db::begin_write(&ctx.db).await?;
    let r = credit::decide(&txn, &ctx.actor(), id, Some(limit)).await?;
    txn.commit().await?;
    Ok(Json(r.into()))
}

/// Leaves a pending review's suggestion unapplied; audited.
#[utoipa::path(
    post, path = "/pos/api/credit-reviews/{id}/dismiss", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Review id")),
    responses((status = 200, body = CreditReviewView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, description = "`review_decided`", body = ErrorBody))
)]
pub async fn dismiss_credit_review(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<CreditReviewView>> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    let r = credit::decide(&txn, &ctx.actor(), id, None).await?;
    txn.commit().await?;
    Ok(Json(r.into()))
}

/// A customer's referral code.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralCodeView {
    /// Customer id.
    pub customer_id: Uuid,
    /// The code a new customer gives at the counter.
    pub code: String,
    /// A message to share by WhatsApp.
    pub share_text: String,
}

/// A customer's referral code (made on first ask).
#[utoipa::path(
    get, path = "/pos/api/customers/{id}/referral", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, body = ReferralCodeView), (status = 404, body = ErrorBody))
)]
pub async fn customer_referral(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<ReferralCodeView>> {
    let code = referrals::code_of(&ctx.db, id).await?;
    Ok(Json(ReferralCodeView {
        customer_id: id,
        share_text: format!(
            "Compra tus refacciones en {} y da mi código {code} en el mostrador.",
            ctx.principal.tenant.name
        ),
        code,
    }))
}

/// The code a new customer gave.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferRequest {
    /// The ambassador's referral code.
    #[schema(min_length = 1, max_length = 12, pattern = "^[A-Za-z0-9 ]+$")]
    pub code: String,
}

/// A referral.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReferralView {
    /// Referral id.
    pub id: Uuid,
    /// The ambassador.
    pub ambassador_id: Uuid,
    /// The referred customer.
    pub referred_id: Uuid,
    /// The code given.
    pub code: String,
    /// `pending` or `rewarded`.
    pub status: String,
    /// `points` or `store_credit`, once rewarded.
    pub reward_kind: Option<String>,
    /// The reward, MXN.
    #[schema(value_type = String, example = "100.00")]
    pub reward: Money,
    /// The referred customer's sale that earned it.
    pub sale_id: Option<Uuid>,
    /// Recorded.
    pub created_at: DateTime<Utc>,
    /// Rewarded.
    pub rewarded_at: Option<DateTime<Utc>>,
}

impl From<referral::Model> for ReferralView {
    fn from(r: referral::Model) -> Self {
        Self {
            id: r.id,
            ambassador_id: r.ambassador_id,
            referred_id: r.referred_id,
            code: r.code,
            status: r.status,
            reward_kind: r.reward_kind,
            reward: Money(r.reward_cents),
            sale_id: r.sale_id,
            created_at: r.created_at,
            rewarded_at: r.rewarded_at,
        }
    }
}

/// Records that a new customer came with an ambassador's code; audited. The ambassador is
/// rewarded once, at the new customer's first paid sale of at least the minimum.
#[utoipa::path(
    post, path = "/pos/api/customers/{id}/referral", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The referred (new) customer's id")),
    request_body = ReferRequest,
    responses(
        (status = 201, body = ReferralView),
        (status = 403, body = ErrorBody),
        (status = 404, description = "`not_found` for the customer or the code", body = ErrorBody),
        (status = 409, description = "`self_referral`, `same_person`, `not_a_new_customer`, `already_referred`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn refer_customer(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<ReferRequest>,
) -> ApiResult<(StatusCode, Json<ReferralView>)> {
    let txn = entities::db::begin_write(&ctx.db).await?;
    let r = referrals::refer(&txn, &ctx.actor(), id, &req.code).await?;
    txn.commit().await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

/// A page of referrals.
pub type ReferralPage = crate::page::Page<ReferralView>;

impl crate::page::Listed for ReferralView {
    const PAGE: &'static str = "ReferralPage";
    const PAGE_DOC: &'static str = "A page of referrals.";
    const ITEMS_DOC: &'static str = "Referrals, newest first.";
}

/// Filters of the referral list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReferralQuery {
    /// Page from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size (≤ 200).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    /// One ambassador's.
    pub ambassador_id: Option<Uuid>,
    /// `pending` or `rewarded`.
    #[param(pattern = "^(pending|rewarded)$")]
    pub status: Option<String>,
}

/// Referrals, newest first (managers).
#[utoipa::path(
    get, path = "/pos/api/crm/referrals", tag = "customers", security(("bearer" = [])),
    params(ReferralQuery),
    responses((status = 200, body = ReferralPage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn list_referrals(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<ReferralQuery>,
) -> ApiResult<Json<ReferralPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = referrals::list(
        &ctx.db,
        &Filter {
            ambassador_id: q.ambassador_id,
            status: q.status,
        },
        page,
    )
    .await?;
    Ok(Json(ReferralPage::from_rows(rows, Into::into)))
}

/// An ambassador's conversions.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversionView {
    /// The ambassador.
    pub ambassador_id: Uuid,
    /// Customers referred.
    pub referred: i64,
    /// Of those, rewarded.
    pub converted: i64,
    /// Rewards paid, MXN.
    #[schema(value_type = String, example = "300.00")]
    pub rewards: Money,
}

/// Conversions per ambassador, most referred first (managers; up to 500).
#[utoipa::path(
    get, path = "/pos/api/crm/referrals/report", tag = "customers", security(("bearer" = [])),
    responses((status = 200, body = Vec<ConversionView>), (status = 403, body = ErrorBody))
)]
pub async fn referral_report(ctx: TenantCtx) -> ApiResult<Json<Vec<ConversionView>>> {
    Ok(Json(
        referrals::report(&ctx.db)
            .await?
            .into_iter()
            .map(|c| ConversionView {
                ambassador_id: c.ambassador_id,
                referred: c.referred,
                converted: c.converted,
                rewards: Money(c.rewards_cents),
            })
            .collect(),
    ))
}

/// The referral rules.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralSettingsBody {
    /// Whether referrals are rewarded.
    pub enabled: bool,
    /// `points` or `store_credit`.
    #[schema(pattern = "^(points|store_credit)$")]
    pub reward_kind: String,
    /// The reward, MXN (points are centavos of value).
    #[schema(value_type = crate::formats::PositiveAmount, example = "100.00")]
    pub reward: String,
    /// What the referred customer's first sale must pay, MXN.
    #[schema(value_type = crate::formats::Amount, example = "500.00")]
    pub min_sale: String,
}

impl From<referral_setting::Model> for ReferralSettingsBody {
    fn from(s: referral_setting::Model) -> Self {
        Self {
            enabled: s.enabled,
            reward_kind: s.reward_kind,
            reward: Money(s.reward_cents).to_string(),
            min_sale: Money(s.min_sale_cents).to_string(),
        }
    }
}

/// The referral rules (off, $100 in points for a first sale of $500, until written).
#[utoipa::path(
    get, path = "/pos/api/referrals/settings", tag = "customers", security(("bearer" = [])),
    responses((status = 200, body = ReferralSettingsBody), (status = 401, body = ErrorBody))
)]
pub async fn get_referral_settings(ctx: TenantCtx) -> ApiResult<Json<ReferralSettingsBody>> {
    Ok(Json(referrals::settings(&ctx.db).await?.into()))
}

/// Writes the referral rules (owner, admin); audited.
#[utoipa::path(
    put, path = "/pos/api/referrals/settings", tag = "customers", security(("bearer" = [])),
    request_body = ReferralSettingsBody,
    responses((status = 200, body = ReferralSettingsBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn set_referral_settings(
    ctx: TenantCtx,
    AppJson(req): AppJson<ReferralSettingsBody>,
) -> ApiResult<Json<ReferralSettingsBody>> {
    let s = referral_setting::Model {
        id: 1,
        enabled: req.enabled,
        reward_kind: req.reward_kind,
        reward_cents: Money::parse("reward", &req.reward)?.0,
        min_sale_cents: Money::parse("min_sale", &req.min_sale)?.0,
        updated_at: entities::now(),
    };
    let txn = entities::db::begin_write(&ctx.db).await?;
    let saved = referrals::set_settings(&txn, &ctx.actor(), s).await?;
    txn.commit().await?;
    Ok(Json(saved.into()))
}
