//! Message templates per event, channel and locale: the platform's defaults, a business's
//! versioned overrides (checked against the event's sample context on save: an unknown
//! variable is refused by name), going back to the default, and a preview.

use axum::Json;
use chrono::{DateTime, Utc};
use entities::notifications::catalog;
use entities::notifications::templates::{self, Rendered, Template};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::state::AppState;

/// The template routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_templates))
        .routes(routes!(get_template, put_template, reset_template))
        .routes(routes!(template_versions))
        .routes(routes!(preview_template))
}

/// One event × channel of the catalogue, with whether the business wrote its own.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateSummary {
    /// The event.
    pub event: String,
    /// What it means.
    pub what: String,
    /// `email`, `whatsapp`, `push` or `in_app`.
    pub channel: String,
    /// `es-MX`.
    pub locale: String,
    /// The business's version in use; 0 for the platform's default.
    pub version: i32,
}

/// Every template.
pub type TemplateSummaryPage = crate::page::Page<TemplateSummary>;

impl crate::page::Listed for TemplateSummary {
    const PAGE: &'static str = "NotificationTemplatePage";
    const PAGE_DOC: &'static str = "Every event and channel's template, in one page.";
    const ITEMS_DOC: &'static str = "By event in the catalogue's order, then channel.";
}

/// Every event and channel, with the version in use (managers).
#[utoipa::path(
    get, path = "/pos/api/notification-templates", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = TemplateSummaryPage), (status = 403, body = ErrorBody))
)]
pub async fn list_templates(ctx: TenantCtx) -> ApiResult<Json<TemplateSummaryPage>> {
    let locale = templates::LOCALES[0];
    let mut out = Vec::new();
    for def in catalog::EVENTS {
        for channel in templates::CHANNELS {
            let version = templates::current_override(&ctx.db, def.name, channel, locale)
                .await?
                .map_or(0, |t| t.version);
            out.push(TemplateSummary {
                event: def.name.to_owned(),
                what: def.what.to_owned(),
                channel: channel.to_owned(),
                locale: locale.to_owned(),
                version,
            });
        }
    }
    Ok(Json(TemplateSummaryPage::whole(out)))
}

/// Which locale.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LocaleQuery {
    /// `es-MX` (the default).
    #[param(pattern = "^es-MX$")]
    pub locale: Option<String>,
}

/// A template's parts as written.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    /// E-mail subject, push and in-app title (required for e-mail).
    #[schema(max_length = 8000)]
    pub subject: Option<String>,
    /// E-mail text part, WhatsApp text, push and in-app body (minijinja: `{{ customer.name }}`).
    #[schema(min_length = 1, max_length = 8000, pattern = "\\S")]
    pub body: String,
    /// The e-mail's HTML part (variables are HTML-escaped).
    #[schema(max_length = 8000)]
    pub html: Option<String>,
    /// WhatsApp: the Meta-approved template used outside the 24-hour window.
    #[schema(max_length = 512, pattern = "^[a-z0-9_]+$")]
    pub wa_template: Option<String>,
    /// Its language code (`es_MX`).
    #[schema(max_length = 16)]
    pub wa_language: Option<String>,
    /// One expression per `{{n}}` parameter of the approved template.
    #[schema(max_items = 20)]
    pub wa_params: Option<Vec<String>>,
}

impl From<&TemplateBody> for Template {
    fn from(b: &TemplateBody) -> Self {
        Template {
            version: 0,
            subject: b.subject.clone(),
            body: b.body.clone(),
            html: b.html.clone(),
            wa_template: b.wa_template.clone(),
            wa_language: b.wa_language.clone(),
            wa_params: b.wa_params.clone().unwrap_or_default(),
        }
    }
}

/// A template with what it can use.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateView {
    /// The event.
    pub event: String,
    /// The channel.
    pub channel: String,
    /// The locale.
    pub locale: String,
    /// The business's version; 0 for the platform's default.
    pub version: i32,
    /// E-mail subject, push and in-app title.
    pub subject: Option<String>,
    /// Body.
    pub body: String,
    /// E-mail HTML.
    pub html: Option<String>,
    /// WhatsApp's approved template.
    pub wa_template: Option<String>,
    /// Its language.
    pub wa_language: Option<String>,
    /// Its parameters.
    pub wa_params: Vec<String>,
    /// The variables this event's messages have (`customer.name`, `folio`…).
    pub variables: Vec<String>,
}

fn view(event: &str, channel: &str, locale: &str, t: Template) -> TemplateView {
    let variables = catalog::event(event)
        .map(|d| templates::known_variables(&d.sample()))
        .unwrap_or_default();
    TemplateView {
        event: event.to_owned(),
        channel: channel.to_owned(),
        locale: locale.to_owned(),
        version: t.version,
        subject: t.subject,
        body: t.body,
        html: t.html,
        wa_template: t.wa_template,
        wa_language: t.wa_language,
        wa_params: t.wa_params,
        variables,
    }
}

fn locale_of(q: &LocaleQuery) -> ApiResult<&'static str> {
    match q.locale.as_deref() {
        None => Ok(templates::LOCALES[0]),
        Some(l) => templates::LOCALES
            .iter()
            .find(|x| **x == l)
            .copied()
            .ok_or_else(|| ApiError::invalid("locale", "es-MX")),
    }
}

/// The template a message of this event and channel is rendered from (managers).
#[utoipa::path(
    get, path = "/pos/api/notification-templates/{event}/{channel}", tag = "notifications", security(("bearer" = [])),
    params(("event" = String, Path, description = "The event"), ("channel" = String, Path, description = "`email`, `whatsapp`, `push` or `in_app`"), LocaleQuery),
    responses((status = 200, body = TemplateView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn get_template(
    ctx: TenantCtx,
    AppPath((event, channel)): AppPath<(String, String)>,
    AppQuery(q): AppQuery<LocaleQuery>,
) -> ApiResult<Json<TemplateView>> {
    let locale = locale_of(&q)?;
    templates::known(&event, &channel, locale)?;
    let t = templates::resolve(&ctx.db, &event, &channel, locale)
        .await?
        .ok_or(entities::Error::NotFound {
            entity: "notification_template",
        })?;
    Ok(Json(view(&event, &channel, locale, t)))
}

/// Saves a new version of the business's template (admins): refused with the part and the
/// variable named when it uses one the event does not have, or does not render; audited.
#[utoipa::path(
    put, path = "/pos/api/notification-templates/{event}/{channel}", tag = "notifications", security(("bearer" = [])),
    params(("event" = String, Path, description = "The event"), ("channel" = String, Path, description = "`email`, `whatsapp`, `push` or `in_app`"), LocaleQuery),
    request_body = TemplateBody,
    responses((status = 200, body = TemplateView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, description = "An unknown variable, a syntax error, a missing subject", body = ErrorBody))
)]
pub async fn put_template(
    ctx: TenantCtx,
    AppPath((event, channel)): AppPath<(String, String)>,
    AppQuery(q): AppQuery<LocaleQuery>,
    AppJson(req): AppJson<TemplateBody>,
) -> ApiResult<Json<TemplateView>> {
    let locale = locale_of(&q)?;
    let t = Template::from(&req);
    let txn = entities::db::begin_write(&ctx.db).await?;
    let saved = templates::save(&txn, &ctx.actor(), &event, &channel, locale, &t).await?;
    txn.commit().await?;
    Ok(Json(view(
        &event,
        &channel,
        locale,
        Template {
            version: saved.version,
            ..t
        },
    )))
}

/// Goes back to the platform's default (admins): the business's versions are kept, retired;
/// audited. Answers the default.
#[utoipa::path(
    delete, path = "/pos/api/notification-templates/{event}/{channel}", tag = "notifications", security(("bearer" = [])),
    params(("event" = String, Path, description = "The event"), ("channel" = String, Path, description = "`email`, `whatsapp`, `push` or `in_app`"), LocaleQuery),
    responses((status = 200, body = TemplateView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn reset_template(
    ctx: TenantCtx,
    AppPath((event, channel)): AppPath<(String, String)>,
    AppQuery(q): AppQuery<LocaleQuery>,
) -> ApiResult<Json<TemplateView>> {
    let locale = locale_of(&q)?;
    let def = templates::known(&event, &channel, locale)?;
    let txn = entities::db::begin_write(&ctx.db).await?;
    templates::reset(&txn, &ctx.actor(), &event, &channel, locale).await?;
    txn.commit().await?;
    Ok(Json(view(
        &event,
        &channel,
        locale,
        templates::default_for(def, &channel),
    )))
}

/// A saved version.
#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateVersion {
    /// Its number.
    pub version: i32,
    /// Subject.
    pub subject: Option<String>,
    /// Body.
    pub body: String,
    /// HTML.
    pub html: Option<String>,
    /// WhatsApp's approved template.
    pub wa_template: Option<String>,
    /// Who saved it.
    pub created_by: Option<Uuid>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When the business went back to the default past it.
    pub retired_at: Option<DateTime<Utc>>,
}

/// Every version.
pub type TemplateVersionPage = crate::page::Page<TemplateVersion>;

impl crate::page::Listed for TemplateVersion {
    const PAGE: &'static str = "NotificationTemplateVersionPage";
    const PAGE_DOC: &'static str = "Every version a business saved of a template, in one page.";
    const ITEMS_DOC: &'static str = "Versions, newest first.";
}

/// Every version the business saved of a template, newest first (managers).
#[utoipa::path(
    get, path = "/pos/api/notification-templates/{event}/{channel}/versions", tag = "notifications", security(("bearer" = [])),
    params(("event" = String, Path, description = "The event"), ("channel" = String, Path, description = "`email`, `whatsapp`, `push` or `in_app`"), LocaleQuery),
    responses((status = 200, body = TemplateVersionPage), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn template_versions(
    ctx: TenantCtx,
    AppPath((event, channel)): AppPath<(String, String)>,
    AppQuery(q): AppQuery<LocaleQuery>,
) -> ApiResult<Json<TemplateVersionPage>> {
    let locale = locale_of(&q)?;
    templates::known(&event, &channel, locale)?;
    let rows = templates::versions(&ctx.db, &event, &channel, locale).await?;
    Ok(Json(TemplateVersionPage::whole(
        rows.into_iter()
            .map(|r| TemplateVersion {
                version: r.version,
                subject: r.subject,
                body: r.body,
                html: r.html,
                wa_template: r.wa_template,
                created_by: r.created_by,
                created_at: r.created_at,
                retired_at: r.retired_at,
            })
            .collect(),
    )))
}

/// What to preview.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// The event.
    #[schema(max_length = 48)]
    pub event: String,
    /// `email`, `whatsapp`, `push` or `in_app`.
    #[schema(pattern = "^(email|whatsapp|push|in_app)$")]
    pub channel: String,
    /// A draft to render; the template in use when absent.
    pub template: Option<TemplateBody>,
    /// A context to render with; the event's sample when absent.
    #[schema(value_type = Option<Object>)]
    pub context: Option<serde_json::Map<String, serde_json::Value>>,
}

/// What a template rendered to.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewView {
    /// Subject or title.
    pub subject: Option<String>,
    /// Text.
    pub body: String,
    /// HTML (e-mail).
    pub html: Option<String>,
    /// WhatsApp's approved template…
    pub wa_template: Option<String>,
    /// …its language…
    pub wa_language: Option<String>,
    /// …and its rendered parameters.
    pub wa_params: Vec<String>,
    /// The context it was rendered with.
    #[schema(value_type = Object)]
    pub context: serde_json::Value,
}

/// Renders a template, the one in use or a draft, with the event's sample context or one
/// given (managers). A draft is checked as on save.
#[utoipa::path(
    post, path = "/pos/api/notification-templates/preview", tag = "notifications", security(("bearer" = [])),
    request_body = PreviewRequest,
    responses((status = 200, body = PreviewView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, description = "The draft is refused, or does not render with the context given", body = ErrorBody))
)]
pub async fn preview_template(
    ctx: TenantCtx,
    AppJson(req): AppJson<PreviewRequest>,
) -> ApiResult<Json<PreviewView>> {
    let locale = templates::LOCALES[0];
    let def = templates::known(&req.event, &req.channel, locale)?;
    let t = match &req.template {
        Some(b) => {
            let t = Template::from(b);
            templates::check(def, &req.channel, &t)?;
            t
        }
        None => templates::resolve(&ctx.db, &req.event, &req.channel, locale)
            .await?
            .ok_or(entities::Error::NotFound {
                entity: "notification_template",
            })?,
    };
    let context = match req.context {
        Some(c) => serde_json::Value::Object(c),
        None => def.sample(),
    };
    let r: Rendered = templates::render(&t, &context)
        .map_err(|e| ApiError::invalid(&format!("template.{}", e.part), e.message))?;
    Ok(Json(PreviewView {
        subject: r.subject,
        body: r.body,
        html: r.html,
        wa_template: r.wa_template,
        wa_language: r.wa_language,
        wa_params: r.wa_params,
        context,
    }))
}
