//! Loyalty: the programme's settings (`/loyalty/settings`, owner and admin) and a customer's
//! points, tier and ledger (`/customers/{id}/loyalty`). Points are spent at checkout with the
//! `points` payment.

use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use entities::PageRequest;
use entities::customers::loyalty;
use entities::customers::tables::{loyalty_entry, loyalty_setting};
use entities::rules::money::Money;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::routes::customers::crm::PageQuery;
use crate::state::AppState;

/// The loyalty routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_loyalty_settings, set_loyalty_settings))
        .routes(routes!(customer_loyalty))
        .routes(routes!(customer_points))
}

/// The loyalty programme's settings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoyaltySettingsBody {
    /// Whether points are earned (points held can always be spent).
    pub enabled: bool,
    /// 12-month spend (MXN) from which silver starts.
    #[schema(value_type = crate::formats::PositiveAmount, example = "20000.00")]
    pub silver_from: String,
    /// From which gold starts (above silver).
    #[schema(value_type = crate::formats::PositiveAmount, example = "60000.00")]
    pub gold_from: String,
    /// From which platinum starts (above gold).
    #[schema(value_type = crate::formats::PositiveAmount, example = "150000.00")]
    pub platinum_from: String,
    /// Points earned per tier, in basis points of the money paid (100 = 1 %), 0 to 2000,
    /// rising with the tier.
    #[schema(minimum = 0, maximum = 2000, example = 100)]
    pub bronze_rate_bp: i32,
    /// Silver's rate.
    #[schema(minimum = 0, maximum = 2000, example = 150)]
    pub silver_rate_bp: i32,
    /// Gold's rate.
    #[schema(minimum = 0, maximum = 2000, example = 200)]
    pub gold_rate_bp: i32,
    /// Platinum's rate.
    #[schema(minimum = 0, maximum = 2000, example = 300)]
    pub platinum_rate_bp: i32,
    /// Months after which earned points expire, 1 to 60.
    #[schema(minimum = 1, maximum = 60, example = 12)]
    pub expiry_months: i32,
}

impl From<loyalty_setting::Model> for LoyaltySettingsBody {
    fn from(s: loyalty_setting::Model) -> Self {
        Self {
            enabled: s.enabled,
            silver_from: Money(s.silver_from_cents).to_string(),
            gold_from: Money(s.gold_from_cents).to_string(),
            platinum_from: Money(s.platinum_from_cents).to_string(),
            bronze_rate_bp: s.bronze_bp,
            silver_rate_bp: s.silver_bp,
            gold_rate_bp: s.gold_bp,
            platinum_rate_bp: s.platinum_bp,
            expiry_months: s.expiry_months,
        }
    }
}

/// The loyalty programme's settings (the defaults until an owner writes them: off).
#[utoipa::path(
    get, path = "/pos/api/loyalty/settings", tag = "customers", security(("bearer" = [])),
    responses((status = 200, body = LoyaltySettingsBody), (status = 401, body = ErrorBody))
)]
pub async fn get_loyalty_settings(ctx: TenantCtx) -> ApiResult<Json<LoyaltySettingsBody>> {
    Ok(Json(loyalty::settings(&ctx.db).await?.into()))
}

/// Writes the loyalty programme's settings (owner, admin); audited.
#[utoipa::path(
    put, path = "/pos/api/loyalty/settings", tag = "customers", security(("bearer" = [])),
    request_body = LoyaltySettingsBody,
    responses((status = 200, body = LoyaltySettingsBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn set_loyalty_settings(
    ctx: TenantCtx,
    AppJson(req): AppJson<LoyaltySettingsBody>,
) -> ApiResult<Json<LoyaltySettingsBody>> {
    let s = loyalty_setting::Model {
        id: 1,
        enabled: req.enabled,
        silver_from_cents: Money::parse("silver_from", &req.silver_from)?.0,
        gold_from_cents: Money::parse("gold_from", &req.gold_from)?.0,
        platinum_from_cents: Money::parse("platinum_from", &req.platinum_from)?.0,
        bronze_bp: req.bronze_rate_bp,
        silver_bp: req.silver_rate_bp,
        gold_bp: req.gold_rate_bp,
        platinum_bp: req.platinum_rate_bp,
        expiry_months: req.expiry_months,
        updated_at: entities::now(),
    };
    let txn = entities::db::begin_write(&ctx.db).await?;
    let saved = loyalty::set_settings(&txn, &ctx.actor(), s).await?;
    txn.commit().await?;
    Ok(Json(saved.into()))
}

/// A tier change.
#[derive(Debug, Serialize, ToSchema)]
pub struct TierChangeView {
    /// From.
    pub from: String,
    /// To.
    pub to: String,
    /// The 12-month spend that moved it, MXN.
    #[schema(value_type = String, example = "20000.00")]
    pub spend_12m: Money,
    /// When.
    pub at: DateTime<Utc>,
}

/// A customer's standing in the programme.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerLoyaltyView {
    /// Customer id.
    pub customer_id: Uuid,
    /// `bronze`, `silver`, `gold` or `platinum`.
    pub tier: String,
    /// Points held, as MXN to spend with the `points` payment.
    #[schema(value_type = String, example = "185.20")]
    pub points: Money,
    /// Spend over the last 12 months (sales less refunds), MXN.
    #[schema(value_type = String, example = "18520.00")]
    pub spend_12m: Money,
    /// The next tier, when there is one.
    pub next_tier: Option<String>,
    /// What is left to spend to reach it, MXN.
    #[schema(value_type = Option<String>, example = "1480.00")]
    pub to_next_tier: Option<Money>,
    /// The earning rate now, basis points.
    pub rate_bp: i32,
    /// Tier changes, newest first (up to 100).
    pub tier_changes: Vec<TierChangeView>,
}

/// A customer's tier, points, 12-month spend and what is left to the next tier.
#[utoipa::path(
    get, path = "/pos/api/customers/{id}/loyalty", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, body = CustomerLoyaltyView), (status = 404, body = ErrorBody))
)]
pub async fn customer_loyalty(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<CustomerLoyaltyView>> {
    let c = entities::customers::records::get_customer(&ctx.db, id).await?;
    let s = loyalty::settings(&ctx.db).await?;
    let spend = loyalty::spend_12m(&ctx.db, id, entities::today()).await?;
    let next = match c.loyalty_tier.as_str() {
        "bronze" => Some(("silver", s.silver_from_cents)),
        "silver" => Some(("gold", s.gold_from_cents)),
        "gold" => Some(("platinum", s.platinum_from_cents)),
        _ => None,
    };
    let changes = loyalty::tier_changes(&ctx.db, id).await?;
    Ok(Json(CustomerLoyaltyView {
        customer_id: id,
        rate_bp: loyalty::rate_bp(&c.loyalty_tier, &s),
        tier: c.loyalty_tier,
        points: Money(c.loyalty_points_cents),
        spend_12m: Money(spend),
        next_tier: next.map(|(t, _)| t.to_owned()),
        to_next_tier: next.map(|(_, from)| Money((from - spend).max(0))),
        tier_changes: changes
            .into_iter()
            .map(|t| TierChangeView {
                from: t.from_tier,
                to: t.to_tier,
                spend_12m: Money(t.spend_cents),
                at: t.created_at,
            })
            .collect(),
    }))
}

/// A row of a customer's points ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct PointsEntryView {
    /// Row id.
    pub id: i64,
    /// `earn`, `redeem`, `reverse`, `expire` or `refund`.
    pub kind: String,
    /// Signed points, as MXN.
    #[schema(value_type = String, example = "-50.00")]
    pub points: Money,
    /// Of an earning or a refund: what is left of it.
    #[schema(value_type = String, example = "12.00")]
    pub remaining: Money,
    /// Of an earning or a refund: the day it expires.
    pub expires_on: Option<NaiveDate>,
    /// The sale it answers for.
    pub sale_id: Option<Uuid>,
    /// Note.
    pub note: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<loyalty_entry::Model> for PointsEntryView {
    fn from(e: loyalty_entry::Model) -> Self {
        Self {
            id: e.id,
            kind: e.kind.as_str().to_owned(),
            points: Money(e.points_cents),
            remaining: Money(e.remaining_cents),
            expires_on: e.expires_on,
            sale_id: e.sale_id,
            note: e.note,
            created_at: e.created_at,
        }
    }
}

/// A page of a points ledger.
pub type PointsEntryPage = crate::page::Page<PointsEntryView>;

impl crate::page::Listed for PointsEntryView {
    const PAGE: &'static str = "PointsEntryPage";
    const PAGE_DOC: &'static str = "A page of a customer's points ledger.";
    const ITEMS_DOC: &'static str = "Rows, newest first.";
}

/// A customer's points ledger, newest first.
#[utoipa::path(
    get, path = "/pos/api/customers/{id}/loyalty/entries", tag = "customers", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id"), PageQuery),
    responses((status = 200, body = PointsEntryPage), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn customer_points(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<PageQuery>,
) -> ApiResult<Json<PointsEntryPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = loyalty::ledger(&ctx.db, id, page).await?;
    Ok(Json(PointsEntryPage::from_rows(rows, Into::into)))
}
