//! Who is told of what: per-event rules, the business's sender and quiet hours, and a
//! customer's consent per channel.

use axum::Json;
use entities::notifications::catalog;
use entities::notifications::rules::{self, Preferences, Rule, Settings};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath};
use crate::state::AppState;

/// The rule and settings routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_rules))
        .routes(routes!(put_rule))
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(get_preferences, put_preferences))
}

/// Who is told of an event.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleView {
    /// The event.
    pub event: String,
    /// What it means.
    pub what: String,
    /// Off: recorded, told to nobody.
    pub enabled: bool,
    /// The customer is told on the first of these they can be reached on and consented to.
    pub customer_channels: Vec<String>,
    /// Roles told (of the event's branch when it names one).
    pub staff_roles: Vec<String>,
    /// Users told whatever their role.
    pub user_ids: Vec<Uuid>,
    /// Channels staff are told on.
    pub staff_channels: Vec<String>,
}

impl From<Rule> for RuleView {
    fn from(r: Rule) -> Self {
        Self {
            what: catalog::event(&r.event)
                .map(|d| d.what)
                .unwrap_or_default()
                .to_owned(),
            event: r.event,
            enabled: r.enabled,
            customer_channels: r.customer_channels,
            staff_roles: r.staff_roles,
            user_ids: r.user_ids,
            staff_channels: r.staff_channels,
        }
    }
}

/// The rules of every event.
pub type RulePage = crate::page::Page<RuleView>;

impl crate::page::Listed for RuleView {
    const PAGE: &'static str = "NotificationRulePage";
    const PAGE_DOC: &'static str = "Every event's rule, in one page.";
    const ITEMS_DOC: &'static str = "Rules, in the catalogue's order.";
}

/// Every event Nexus tells of, with who is told (managers).
#[utoipa::path(
    get, path = "/pos/api/notification-rules", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = RulePage), (status = 403, body = ErrorBody))
)]
pub async fn list_rules(ctx: TenantCtx) -> ApiResult<Json<RulePage>> {
    let all = rules::rules(&ctx.db).await?;
    Ok(Json(RulePage::whole(
        all.into_iter().map(RuleView::from).collect(),
    )))
}

/// A rule as written.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    /// Off: recorded, told to nobody.
    pub enabled: bool,
    /// `whatsapp` and/or `email`, in order of preference.
    #[schema(max_items = 2, inline)]
    pub customer_channels: Vec<CustomerChannel>,
    /// Roles told.
    #[schema(max_items = 6, inline)]
    pub staff_roles: Vec<StaffRole>,
    /// Users told whatever their role (at most 50).
    #[schema(max_items = 50)]
    pub user_ids: Vec<Uuid>,
    /// `in_app`, `email` and/or `push`.
    #[schema(max_items = 3, inline)]
    pub staff_channels: Vec<StaffChannel>,
}

/// A channel a customer is told on.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CustomerChannel {
    /// WhatsApp.
    Whatsapp,
    /// E-mail.
    Email,
}

/// A channel staff are told on.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StaffChannel {
    /// The POS's inbox and live stream.
    InApp,
    /// E-mail to their login address.
    Email,
    /// Web Push to their subscribed browsers.
    Push,
}

/// A staff role.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// Owner.
    Owner,
    /// Admin.
    Admin,
    /// Manager.
    Manager,
    /// Cashier.
    Cashier,
    /// Mechanic.
    Mechanic,
    /// Viewer.
    Viewer,
}

fn text<T: Serialize>(v: &[T]) -> Vec<String> {
    v.iter()
        .filter_map(|x| serde_json::to_value(x).ok())
        .filter_map(|x| x.as_str().map(str::to_owned))
        .collect()
}

/// Sets who is told of an event (admins); audited.
#[utoipa::path(
    put, path = "/pos/api/notification-rules/{event}", tag = "notifications", security(("bearer" = [])),
    params(("event" = String, Path, description = "The event, e.g. `low_stock`")),
    request_body = RuleBody,
    responses((status = 200, body = RuleView), (status = 403, body = ErrorBody), (status = 404, description = "Not an event of the catalogue", body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn put_rule(
    ctx: TenantCtx,
    AppPath(event): AppPath<String>,
    AppJson(req): AppJson<RuleBody>,
) -> ApiResult<Json<RuleView>> {
    let r = Rule {
        event,
        enabled: req.enabled,
        customer_channels: text(&req.customer_channels),
        staff_roles: text(&req.staff_roles),
        user_ids: req.user_ids,
        staff_channels: text(&req.staff_channels),
    };
    let txn = entities::db::begin_write(&ctx.db).await?;
    let saved = rules::put_rule(&txn, &ctx.actor(), r).await?;
    txn.commit().await?;
    Ok(Json(saved.into()))
}

/// The business's sender and quiet hours.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    /// The name on e-mails' `From` (the business's name by default).
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = "^[^\\x00-\\x1f\\x7f]*\\S[^\\x00-\\x1f\\x7f]*$"
    )]
    pub email_from_name: Option<String>,
    /// Where customers' replies go.
    #[schema(max_length = 254, format = "email")]
    pub email_reply_to: Option<String>,
    /// Staff alerts other than in-app wait from this time ("HH:MM", Mexico City)…
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub quiet_from: Option<String>,
    /// …to this one (may be past midnight).
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub quiet_to: Option<String>,
    /// The locale messages are written in (`es-MX`).
    #[schema(pattern = "^es-MX$")]
    pub locale: String,
}

impl From<Settings> for SettingsBody {
    fn from(s: Settings) -> Self {
        Self {
            email_from_name: s.email_from_name,
            email_reply_to: s.email_reply_to,
            quiet_from: s.quiet_from,
            quiet_to: s.quiet_to,
            locale: s.locale,
        }
    }
}

/// The business's notification settings (managers).
#[utoipa::path(
    get, path = "/pos/api/notification-settings", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = SettingsBody), (status = 403, body = ErrorBody))
)]
pub async fn get_settings(ctx: TenantCtx) -> ApiResult<Json<SettingsBody>> {
    Ok(Json(rules::settings(&ctx.db).await?.into()))
}

/// Writes the business's notification settings (admins); audited.
#[utoipa::path(
    put, path = "/pos/api/notification-settings", tag = "notifications", security(("bearer" = [])),
    request_body = SettingsBody,
    responses((status = 200, body = SettingsBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn put_settings(
    ctx: TenantCtx,
    AppJson(req): AppJson<SettingsBody>,
) -> ApiResult<Json<SettingsBody>> {
    let s = Settings {
        email_from_name: req.email_from_name,
        email_reply_to: req.email_reply_to,
        quiet_from: req.quiet_from,
        quiet_to: req.quiet_to,
        locale: req.locale,
    };
    let txn = entities::db::begin_write(&ctx.db).await?;
    let saved = rules::put_settings(&txn, &ctx.actor(), s).await?;
    txn.commit().await?;
    Ok(Json(saved.into()))
}

/// A customer's consent per channel.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesBody {
    /// Their quotes, orders and invoices by e-mail.
    pub email_transactional: bool,
    /// Campaigns by e-mail.
    pub email_marketing: bool,
    /// Their quotes, orders and invoices by WhatsApp.
    pub whatsapp_transactional: bool,
    /// Campaigns by WhatsApp.
    pub whatsapp_marketing: bool,
}

impl From<Preferences> for PreferencesBody {
    fn from(p: Preferences) -> Self {
        Self {
            email_transactional: p.email_transactional,
            email_marketing: p.email_marketing,
            whatsapp_transactional: p.whatsapp_transactional,
            whatsapp_marketing: p.whatsapp_marketing,
        }
    }
}

/// A customer's consent per channel (transactional yes, marketing no until recorded).
#[utoipa::path(
    get, path = "/pos/api/customers/{id}/contact-preferences", tag = "notifications", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, body = PreferencesBody), (status = 404, body = ErrorBody))
)]
pub async fn get_preferences(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<PreferencesBody>> {
    entities::customers::records::get_customer(&ctx.db, id).await?;
    Ok(Json(rules::preferences(&ctx.db, id).await?.into()))
}

/// Records a customer's consent per channel; audited.
#[utoipa::path(
    put, path = "/pos/api/customers/{id}/contact-preferences", tag = "notifications", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Customer id")),
    request_body = PreferencesBody,
    responses((status = 200, body = PreferencesBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn put_preferences(
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<PreferencesBody>,
) -> ApiResult<Json<PreferencesBody>> {
    let p = Preferences {
        email_transactional: req.email_transactional,
        email_marketing: req.email_marketing,
        whatsapp_transactional: req.whatsapp_transactional,
        whatsapp_marketing: req.whatsapp_marketing,
    };
    let txn = entities::db::begin_write(&ctx.db).await?;
    let saved = rules::put_preferences(&txn, &ctx.actor(), id, p).await?;
    txn.commit().await?;
    Ok(Json(saved.into()))
}
