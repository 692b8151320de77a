//! `/pos/api/purchasing/settings`: the owner's settings of buying (approval threshold,
//! over-receipt tolerance, the velocity's lost-sale weight and days, when a special order is
//! overdue). Everyone reads; owners and admins change them.

use axum::Json;
use entities::purchasing::settings::{self, SettingsPatch};
use entities::purchasing::tables::setting;
use entities::rules::money::Money;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::TenantCtx;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::AppJson;
use crate::state::AppState;

/// The settings routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_purchasing_settings, update_purchasing_settings))
}

/// The owner's purchasing settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct PurchasingSettingsView {
    /// Orders at or above this total (MXN) need an owner's approval; none: no approval.
    #[schema(value_type = Option<String>, example = "50000.00")]
    pub approval_threshold: Option<Money>,
    /// How far a receipt may exceed the ordered quantity, percent.
    #[schema(value_type = String, example = "5")]
    pub over_receipt_tolerance_percent: String,
    /// Weight of a lost unit against a sold one in the velocity, percent.
    #[schema(value_type = String, example = "50")]
    pub lost_sale_weight_percent: String,
    /// Days of stock kept beyond the lead time.
    pub safety_days: i32,
    /// Days between reviews.
    pub review_days: i32,
    /// A received special order not collected after this many days is reported.
    pub special_order_days: i32,
}

fn percent(bp: i32) -> String {
    rust_decimal::Decimal::new(i64::from(bp), 2)
        .normalize()
        .to_string()
}

impl From<setting::Model> for PurchasingSettingsView {
    fn from(s: setting::Model) -> Self {
        Self {
            approval_threshold: s.approval_threshold_cents.map(Money),
            over_receipt_tolerance_percent: percent(s.over_receipt_tolerance_bp),
            lost_sale_weight_percent: percent(s.lost_sale_weight_bp),
            safety_days: s.safety_days,
            review_days: s.review_days,
            special_order_days: s.special_order_days,
        }
    }
}

/// Changes to the settings; a field left out is unchanged.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePurchasingSettingsRequest {
    /// Approval threshold, MXN; `null` turns approval off.
    #[serde(default, deserialize_with = "crate::extract::double_option_decimal")]
    #[schema(value_type = Option<crate::formats::Amount>, example = "50000.00")]
    pub approval_threshold: Option<Option<rust_decimal::Decimal>>,
    /// Over-receipt tolerance, percent (0 to 100).
    #[schema(value_type = Option<crate::formats::Percent>, example = "5")]
    #[serde(default, with = "crate::extract::decimal_text_option")]
    pub over_receipt_tolerance_percent: Option<rust_decimal::Decimal>,
    /// Weight of a lost unit, percent (0 to 100).
    #[schema(value_type = Option<crate::formats::Percent>, example = "50")]
    #[serde(default, with = "crate::extract::decimal_text_option")]
    pub lost_sale_weight_percent: Option<rust_decimal::Decimal>,
    /// Safety days, 0 to 365.
    #[schema(minimum = 0, maximum = 365)]
    pub safety_days: Option<i32>,
    /// Review days, 1 to 365.
    #[schema(minimum = 1, maximum = 365)]
    pub review_days: Option<i32>,
    /// Special-order days, 1 to 365.
    #[schema(minimum = 1, maximum = 365)]
    pub special_order_days: Option<i32>,
}

/// An optional percentage as basis points, by the counter's one rule for percentages.
fn to_bp(field: &str, p: Option<rust_decimal::Decimal>) -> ApiResult<Option<i32>> {
    p.map(|p| crate::routes::counter::sales::percent_bp(field, Some(p)))
        .transpose()
}

/// The purchasing settings.
#[utoipa::path(
    get, path = "/pos/api/purchasing/settings", tag = "purchasing", security(("bearer" = [])),
    responses((status = 200, body = PurchasingSettingsView))
)]
pub async fn get_purchasing_settings(ctx: TenantCtx) -> ApiResult<Json<PurchasingSettingsView>> {
    Ok(Json(settings::get(&ctx.db).await?.into()))
}

/// Changes the purchasing settings (owner, admin); audited.
#[utoipa::path(
    put, path = "/pos/api/purchasing/settings", tag = "purchasing", security(("bearer" = [])),
    request_body = UpdatePurchasingSettingsRequest,
    responses((status = 200, body = PurchasingSettingsView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn update_purchasing_settings(
    ctx: TenantCtx,
    AppJson(req): AppJson<UpdatePurchasingSettingsRequest>,
) -> ApiResult<Json<PurchasingSettingsView>> {
    let patch = SettingsPatch {
        approval_threshold_cents: req
            .approval_threshold
            .map(|t| {
                t.map(|d| Money::from_decimal("approval_threshold", d).map(|m| m.0))
                    .transpose()
            })
            .transpose()?,
        over_receipt_tolerance_bp: to_bp(
            "over_receipt_tolerance_percent",
            req.over_receipt_tolerance_percent,
        )?,
        lost_sale_weight_bp: to_bp("lost_sale_weight_percent", req.lost_sale_weight_percent)?,
        safety_days: req.safety_days,
        review_days: req.review_days,
        special_order_days: req.special_order_days,
    };
    let txn = entities::db::begin_write(&ctx.db).await?;
    let s = settings::update(&txn, &ctx.actor(), patch).await?;
    txn.commit().await?;
    Ok(Json(s.into()))
}
