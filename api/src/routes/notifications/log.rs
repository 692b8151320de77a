//! The delivery log for managers: every message with its states, provider ids, errors and cost
//! category; and putting parked messages back in line once their channel is configured.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use entities::PageRequest;
use entities::notifications::messages::{self, LogFilter, Status};
use entities::notifications::tables::notification;
use jobs::notifications::SendNotification;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::state::AppState;

/// The log routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_log))
        .routes(routes!(get_log))
        .routes(routes!(resend_parked))
}

/// A message of the log.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogEntry {
    /// Id.
    pub id: Uuid,
    /// `email`, `whatsapp`, `push` or `in_app`.
    pub channel: String,
    /// Address, phone, or user id.
    pub recipient: String,
    /// The event or template (`low_stock`, `quote_sent`).
    pub template: String,
    /// The business event it came from.
    pub event_id: Option<i64>,
    /// Its document kind…
    pub ref_type: String,
    /// …and id.
    pub ref_id: String,
    /// `queued`, `parked`, `sending`, `sent`, `delivered`, `read`, `failed` or `skipped`.
    pub status: String,
    /// Why it is parked, skipped or failed.
    pub reason: Option<String>,
    /// Sends tried.
    pub attempts: i32,
    /// What it said.
    pub subject: Option<String>,
    /// Its text.
    pub body: Option<String>,
    /// The provider's id.
    pub provider_id: Option<String>,
    /// The provider's pricing category.
    pub cost_category: Option<String>,
    /// The staff member it is for.
    pub user_id: Option<Uuid>,
    /// The customer it is for.
    pub customer_id: Option<Uuid>,
    /// Written.
    pub created_at: DateTime<Utc>,
    /// Not sent before (quiet hours).
    pub not_before: Option<DateTime<Utc>>,
    /// Taken by the provider.
    pub sent_at: Option<DateTime<Utc>>,
    /// Delivered to the device (in-app: stored).
    pub delivered_at: Option<DateTime<Utc>>,
    /// Read.
    pub read_at: Option<DateTime<Utc>>,
    /// Failed.
    pub failed_at: Option<DateTime<Utc>>,
}

impl From<notification::Model> for LogEntry {
    fn from(n: notification::Model) -> Self {
        Self {
            id: n.id,
            channel: n.channel,
            recipient: n.recipient,
            template: n.template,
            event_id: n.event_id,
            ref_type: n.ref_type,
            ref_id: n.ref_id,
            status: n.status.to_string(),
            reason: n.reason,
            attempts: n.attempts,
            subject: n.subject,
            body: n.body,
            provider_id: n.provider_id,
            cost_category: n.cost_category,
            user_id: n.user_id,
            customer_id: n.customer_id,
            created_at: n.created_at,
            not_before: n.not_before,
            sent_at: n.sent_at,
            delivered_at: n.delivered_at,
            read_at: n.read_at,
            failed_at: n.failed_at,
        }
    }
}

/// A page of the delivery log.
pub type LogPage = crate::page::Page<LogEntry>;

impl crate::page::Listed for LogEntry {
    const PAGE: &'static str = "NotificationLogPage";
    const PAGE_DOC: &'static str = "A page of the delivery log.";
    const ITEMS_DOC: &'static str = "Messages, newest first.";
}

/// Filters of the log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    /// Page from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size (≤ 200).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    /// One channel.
    #[param(pattern = "^(email|whatsapp|push|in_app)$")]
    pub channel: Option<String>,
    /// One state.
    #[param(pattern = "^(queued|parked|sending|sent|delivered|read|failed|skipped)$")]
    pub status: Option<String>,
    /// One event or template.
    #[param(max_length = 48)]
    pub template: Option<String>,
    /// Messages about one kind of document…
    #[param(max_length = 32)]
    pub ref_type: Option<String>,
    /// …and id.
    #[param(max_length = 80)]
    pub ref_id: Option<String>,
    /// To one recipient.
    #[param(max_length = 254)]
    pub recipient: Option<String>,
    /// Written at or after.
    pub from: Option<DateTime<Utc>>,
    /// Written before.
    pub to: Option<DateTime<Utc>>,
}

/// Every message sent, parked or failed, newest first (managers).
#[utoipa::path(
    get, path = "/pos/api/notifications/log", tag = "notifications", security(("bearer" = [])),
    params(LogQuery),
    responses((status = 200, body = LogPage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn list_log(ctx: TenantCtx, AppQuery(q): AppQuery<LogQuery>) -> ApiResult<Json<LogPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    for (field, value, max) in [
        ("template", &q.template, 48),
        ("ref_type", &q.ref_type, 32),
        ("ref_id", &q.ref_id, 80),
        ("recipient", &q.recipient, 254),
    ] {
        if value.as_ref().is_some_and(|v| v.chars().count() > max) {
            return Err(ApiError::invalid(
                field,
                format!("at most {max} characters"),
            ));
        }
    }
    let status = q
        .status
        .as_deref()
        .map(|s| {
            s.parse::<Status>()
                .map_err(|_| ApiError::invalid("status", "not a notification state"))
        })
        .transpose()?;
    if let Some(c) = &q.channel
        && !entities::notifications::templates::CHANNELS.contains(&c.as_str())
    {
        return Err(ApiError::invalid(
            "channel",
            "email, whatsapp, push or in_app",
        ));
    }
    let f = LogFilter {
        channel: q.channel,
        status,
        template: q.template,
        ref_type: q.ref_type,
        ref_id: q.ref_id,
        recipient: q.recipient,
        from: q.from,
        to: q.to,
    };
    let rows = messages::log(&ctx.db, &f, page).await?;
    Ok(Json(LogPage::from_rows(rows, LogEntry::from)))
}

/// One message of the log (managers).
#[utoipa::path(
    get, path = "/pos/api/notifications/log/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Notification id")),
    responses((status = 200, body = LogEntry), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
pub async fn get_log(ctx: TenantCtx, AppPath(id): AppPath<Uuid>) -> ApiResult<Json<LogEntry>> {
    Ok(Json(messages::get(&ctx.db, id).await?.into()))
}

/// Which parked messages to put back in line.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResendParked {
    /// The channel that is configured now: `email`, `whatsapp` or `push`.
    #[schema(pattern = "^(email|whatsapp|push)$")]
    pub channel: String,
}

/// How many were put back in line.
#[derive(Debug, Serialize, ToSchema)]
pub struct Requeued {
    /// Messages queued again (at most 5,000 a call).
    pub queued: u64,
}

/// Puts the parked messages of a channel back in line, once that channel is configured
/// (admins); each is sent by its own job, and parks again if the channel is still not there.
#[utoipa::path(
    post, path = "/pos/api/notifications/resend-parked", tag = "notifications", security(("bearer" = [])),
    request_body = ResendParked,
    responses((status = 200, body = Requeued), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn resend_parked(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppJson(req): AppJson<ResendParked>,
) -> ApiResult<Json<Requeued>> {
    if !["email", "whatsapp", "push"].contains(&req.channel.as_str()) {
        return Err(ApiError::invalid("channel", "email, whatsapp or push"));
    }
    let tid = ctx.principal.tenant.id;
    let txn = entities::db::begin_write(&ctx.db).await?;
    let ids = messages::unpark(&txn, &req.channel, 5_000).await?;
    for id in &ids {
        jobs::outbox::enqueue(
            &txn,
            &SendNotification {
                tenant_id: tid,
                notification_id: *id,
            },
        )
        .await?;
    }
    entities::org::audit::Entry::new("notifications.resend_parked")
        .actor(Some(ctx.principal.user_id))
        .target("notifications", &req.channel)
        .details(serde_json::json!({"channel": req.channel, "queued": ids.len()}))
        .record_tenant(&txn)
        .await?;
    txn.commit().await?;
    state.waker.wake(tid);
    Ok(Json(Requeued {
        queued: ids.len() as u64,
    }))
}
