//! The signed-in user's in-app notifications: unread first, mark read, mark all, and a live
//! stream (server-sent events) so the POS shows alerts without polling.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::{DateTime, Utc};
use entities::PageRequest;
use entities::notifications::inbox;
use entities::notifications::tables::notification;
use futures_util::stream::{self, Stream};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppPath, AppQuery};
use crate::state::AppState;

/// The inbox routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_mine))
        .routes(routes!(read_one))
        .routes(routes!(read_all))
        .routes(routes!(stream_mine))
}

/// An in-app notification.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InboxItem {
    /// Id.
    pub id: Uuid,
    /// The event (`low_stock`, `po_received`…).
    pub event: String,
    /// Title.
    pub title: Option<String>,
    /// Text.
    pub body: Option<String>,
    /// The document it is about (`purchase_order`, `stock`…)…
    pub ref_type: String,
    /// …and its id.
    pub ref_id: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When the user read it.
    pub read_at: Option<DateTime<Utc>>,
}

impl From<notification::Model> for InboxItem {
    fn from(n: notification::Model) -> Self {
        Self {
            id: n.id,
            event: n.event.unwrap_or(n.template),
            title: n.subject,
            body: n.body,
            ref_type: n.ref_type,
            ref_id: n.ref_id,
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}

/// A page of in-app notifications.
pub type InboxPage = crate::page::Page<InboxItem>;

impl crate::page::Listed for InboxItem {
    const PAGE: &'static str = "InboxPage";
    const PAGE_DOC: &'static str = "A page of the user's in-app notifications.";
    const ITEMS_DOC: &'static str = "Unread first, then read; newest first within each.";
}

/// Filters of the inbox.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    /// Page from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size (≤ 200).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    /// Only the unread ones.
    pub unread: Option<bool>,
}

/// The signed-in user's in-app notifications, unread first.
#[utoipa::path(
    get, path = "/pos/api/notifications", tag = "notifications", security(("bearer" = [])),
    params(InboxQuery),
    responses((status = 200, body = InboxPage), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody))
)]
pub async fn list_mine(
    ctx: TenantCtx,
    AppQuery(q): AppQuery<InboxQuery>,
) -> ApiResult<Json<InboxPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let rows = inbox::list(
        &ctx.db,
        ctx.principal.user_id,
        q.unread.unwrap_or(false),
        page,
    )
    .await?;
    Ok(Json(InboxPage::from_rows(rows, InboxItem::from)))
}

/// Marks one of the user's notifications read (reading it again changes nothing).
#[utoipa::path(
    post, path = "/pos/api/notifications/{id}/read", tag = "notifications", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Notification id")),
    responses((status = 200, body = InboxItem), (status = 404, description = "Not the user's", body = ErrorBody))
)]
pub async fn read_one(ctx: TenantCtx, AppPath(id): AppPath<Uuid>) -> ApiResult<Json<InboxItem>> {
    let n = inbox::mark_read(&ctx.db, ctx.principal.user_id, id).await?;
    Ok(Json(n.into()))
}

/// How many were marked read.
#[derive(Debug, Serialize, ToSchema)]
pub struct MarkedRead {
    /// Notifications marked read now.
    pub marked: u64,
}

/// Marks every unread notification of the user read.
#[utoipa::path(
    post, path = "/pos/api/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = MarkedRead), (status = 401, body = ErrorBody))
)]
pub async fn read_all(ctx: TenantCtx) -> ApiResult<Json<MarkedRead>> {
    let marked = inbox::mark_all_read(&ctx.db, ctx.principal.user_id).await?;
    Ok(Json(MarkedRead { marked }))
}

/// How the live stream runs.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    /// Seconds the stream stays open before it ends (the browser's `EventSource` reconnects by
    /// itself, sending `Last-Event-ID`), 1 to 300; 55 by default, under most proxies' idle
    /// timeout.
    #[param(minimum = 1, maximum = 300)]
    pub seconds: Option<u64>,
}

/// How often the stream looks for new notifications.
const STREAM_POLL: Duration = Duration::from_secs(1);

/// The user's new in-app notifications as server-sent events (`event: notification`, `data:`
/// an `InboxItem`, `id:` the notification's id). Only what arrives after the stream opens (or
/// after `Last-Event-ID`) is sent; the list endpoint gives the rest.
#[utoipa::path(
    get, path = "/pos/api/notifications/stream", tag = "notifications", security(("bearer" = [])),
    params(StreamQuery),
    responses(
        (status = 200, description = "A `text/event-stream` of `notification` events, each an `InboxItem` in JSON", content_type = "text/event-stream", body = String),
        (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)
    )
)]
pub async fn stream_mine(
    ctx: TenantCtx,
    headers: axum::http::HeaderMap,
    AppQuery(q): AppQuery<StreamQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let seconds = q.seconds.unwrap_or(55);
    if !(1..=300).contains(&seconds) {
        return Err(ApiError::invalid("seconds", "between 1 and 300"));
    }
    let user = ctx.principal.user_id;
    // Resume after the last event the browser saw, else from now.
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<Uuid>().ok());
    let start = match last {
        Some(id) => entities::notifications::messages::get(&ctx.db, id)
            .await
            .ok()
            .filter(|n| n.user_id == Some(user))
            .map(|n| (n.created_at, n.id)),
        None => None,
    }
    .unwrap_or((entities::now(), Uuid::max()));
    let db = ctx.db.clone();
    let until = tokio::time::Instant::now() + Duration::from_secs(seconds);
    let events = stream::unfold(
        (db, start, Vec::<Event>::new()),
        move |(db, mut cursor, mut queue)| async move {
            loop {
                if let Some(e) = queue.pop() {
                    return Some((Ok(e), (db, cursor, queue)));
                }
                if tokio::time::Instant::now() >= until {
                    return None;
                }
                tokio::time::sleep(STREAM_POLL).await;
                let Ok(new) = inbox::since(&db, user, cursor.0, cursor.1, 50).await else {
                    // The database is away: the stream ends and the browser reconnects.
                    return None;
                };
                if let Some(n) = new.last() {
                    cursor = (n.created_at, n.id);
                }
                // Oldest first on the wire: the queue pops from its end.
                for n in new.into_iter().rev() {
                    let id = n.id.to_string();
                    let item = InboxItem::from(n);
                    if let Ok(e) = Event::default()
                        .event("notification")
                        .id(id)
                        .json_data(&item)
                    {
                        queue.push(e);
                    }
                }
            }
        },
    );
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
