//! Outgoing messages: a row per message and recipient, written with the job that delivers it,
//! and the states a send moves it through. A channel that is not configured parks the row with
//! the reason instead of pretending it was sent; parked rows are put back in line once it is.
//!
//! A send is claimed (`sending`, committed) before the provider is called, so a run that finds
//! a message already `sending` knows an earlier run died mid-send: where the provider offers no
//! idempotency (SMTP) it is not sent again.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use std::collections::HashMap;

use uuid::Uuid;

use crate::notifications::tables::notification;
use crate::{Error, Page, PageRequest, Result};

pub use crate::notifications::tables::notification::Status;

/// The status of the newest message about each of `ref_ids` (documents of `ref_type`, e.g.
/// `quote`); a document never messaged is absent.
///
/// # Errors
/// Database errors.
pub async fn latest_statuses(
    db: &impl ConnectionTrait,
    ref_type: &str,
    ref_ids: &[String],
) -> Result<HashMap<String, Status>> {
    if ref_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = notification::Entity::find()
        .filter(notification::Column::RefType.eq(ref_type))
        .filter(notification::Column::RefId.is_in(ref_ids.iter().cloned()))
        .order_by_asc(notification::Column::CreatedAt)
        .order_by_asc(notification::Column::Id)
        .all(db)
        .await?;
    // Oldest first: a newer message's status replaces an older one's.
    Ok(rows.into_iter().map(|n| (n.ref_id, n.status)).collect())
}

/// A message to send by hand (not from an event).
#[derive(Debug, Clone)]
pub struct NewNotification<'a> {
    /// `whatsapp` or `email`.
    pub channel: &'a str,
    /// Phone (E.164) or address.
    pub recipient: &'a str,
    /// The catalogue's event whose template renders it (`quote_sent`, `sale_ticket`).
    pub template: &'a str,
    /// Document kind.
    pub ref_type: &'a str,
    /// Document id.
    pub ref_id: String,
    /// The template's context (an `attachments` list of `{key, filename, content_type}` in the
    /// tenant's file store goes with an e-mail).
    pub payload: serde_json::Value,
}

/// Writes a `queued` notification (the caller enqueues its `notify.send` job in the same
/// transaction); it is rendered when sent.
///
/// # Errors
/// Database errors.
pub async fn create(
    db: &impl ConnectionTrait,
    n: NewNotification<'_>,
) -> Result<notification::Model> {
    let now = crate::now();
    Ok(notification::ActiveModel {
        id: Set(Uuid::now_v7()),
        channel: Set(n.channel.to_owned()),
        recipient: Set(n.recipient.to_owned()),
        template: Set(n.template.to_owned()),
        ref_type: Set(n.ref_type.to_owned()),
        ref_id: Set(n.ref_id),
        payload: Set(n.payload),
        status: Set(Status::Queued),
        reason: Set(None),
        attempts: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        event_id: Set(None),
        event: Set(None),
        user_id: Set(None),
        customer_id: Set(None),
        locale: Set(crate::notifications::templates::LOCALES[0].to_owned()),
        subject: Set(None),
        body: Set(None),
        html: Set(None),
        provider_id: Set(None),
        cost_category: Set(None),
        sent_at: Set(None),
        delivered_at: Set(None),
        read_at: Set(None),
        failed_at: Set(None),
        not_before: Set(None),
    }
    .insert(db)
    .await?)
}

/// What a send job found when it claimed its message.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// Claimed: the caller sends it and records the outcome.
    Send(Box<notification::Model>),
    /// An earlier run claimed it and never recorded an outcome: it died mid-send.
    Interrupted(Box<notification::Model>),
    /// Nothing to do: already sent, failed, skipped or delivered.
    Done,
}

/// Claims a queued or parked message for sending (counted as an attempt), in its own statement:
/// the caller commits it before calling the provider.
///
/// # Errors
/// [`Error::NotFound`] `notification`; database errors.
pub async fn claim(db: &impl ConnectionTrait, id: Uuid) -> Result<Claim> {
    let n = notification::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "notification",
        })?;
    match n.status {
        Status::Queued | Status::Parked => {}
        Status::Sending => return Ok(Claim::Interrupted(Box::new(n))),
        _ => return Ok(Claim::Done),
    }
    let now = crate::now();
    // Conditional on the state read: of two runs racing for one message, one claims it.
    let r = notification::Entity::update_many()
        .col_expr(
            notification::Column::Status,
            Expr::value(Status::Sending.as_str()),
        )
        .col_expr(notification::Column::Attempts, Expr::value(n.attempts + 1))
        .col_expr(notification::Column::UpdatedAt, Expr::value(now))
        .filter(notification::Column::Id.eq(id))
        .filter(notification::Column::Status.eq(n.status.as_str()))
        .exec(db)
        .await?;
    if r.rows_affected == 0 {
        return Ok(Claim::Done);
    }
    Ok(Claim::Send(Box::new(notification::Model {
        status: Status::Sending,
        attempts: n.attempts + 1,
        updated_at: now,
        ..n
    })))
}

/// What a send ended in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The provider accepted it, with its id and pricing category.
    Sent {
        /// Message-ID or `wamid`.
        provider_id: Option<String>,
        /// WhatsApp's pricing category.
        cost_category: Option<String>,
    },
    /// The channel is not configured: kept until it is.
    Parked(String),
    /// Nothing reached the provider and it may be tried again: back in line.
    Again(String),
    /// Refused for good (or unknown after a crash).
    Failed(String),
}

/// Records the outcome of a claimed send, with what was rendered for it.
///
/// # Errors
/// Database errors.
pub async fn finish(
    db: &impl ConnectionTrait,
    n: notification::Model,
    rendered: Option<&crate::notifications::templates::Rendered>,
    outcome: Outcome,
) -> Result<notification::Model> {
    let now = crate::now();
    let mut am: notification::ActiveModel = n.into();
    if let Some(r) = rendered {
        am.subject = Set(r.subject.clone());
        am.body = Set(Some(r.body.clone()));
        am.html = Set(r.html.clone());
    }
    match outcome {
        Outcome::Sent {
            provider_id,
            cost_category,
        } => {
            am.status = Set(Status::Sent);
            am.reason = Set(None);
            am.provider_id = Set(provider_id);
            am.cost_category = Set(cost_category);
            am.sent_at = Set(Some(now));
        }
        Outcome::Parked(why) => {
            am.status = Set(Status::Parked);
            am.reason = Set(Some(why));
        }
        Outcome::Again(why) => {
            am.status = Set(Status::Queued);
            am.reason = Set(Some(why));
        }
        Outcome::Failed(why) => {
            am.status = Set(Status::Failed);
            am.reason = Set(Some(why));
            am.failed_at = Set(Some(now));
        }
    }
    am.updated_at = Set(now);
    Ok(am.update(db).await?)
}

/// Puts the parked messages of `channel` back in line (its channel is configured now); answers
/// their ids, for the caller to enqueue their send jobs in the same transaction.
///
/// # Errors
/// Database errors.
pub async fn unpark(db: &impl ConnectionTrait, channel: &str, limit: u64) -> Result<Vec<Uuid>> {
    use sea_orm::QuerySelect;
    let ids: Vec<Uuid> = notification::Entity::find()
        .select_only()
        .column(notification::Column::Id)
        .filter(notification::Column::Channel.eq(channel))
        .filter(notification::Column::Status.eq(Status::Parked.as_str()))
        .order_by_asc(notification::Column::CreatedAt)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    for chunk in ids.chunks(500) {
        notification::Entity::update_many()
            .col_expr(
                notification::Column::Status,
                Expr::value(Status::Queued.as_str()),
            )
            .col_expr(notification::Column::UpdatedAt, Expr::value(crate::now()))
            .filter(notification::Column::Id.is_in(chunk.iter().copied()))
            .exec(db)
            .await?;
    }
    Ok(ids)
}

/// Filters of the delivery log.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// One channel.
    pub channel: Option<String>,
    /// One state.
    pub status: Option<Status>,
    /// One event or template (`low_stock`, `quote_sent`).
    pub template: Option<String>,
    /// Messages about one document kind…
    pub ref_type: Option<String>,
    /// …and id.
    pub ref_id: Option<String>,
    /// To one recipient (exact).
    pub recipient: Option<String>,
    /// Written at or after.
    pub from: Option<DateTime<Utc>>,
    /// Written before.
    pub to: Option<DateTime<Utc>>,
}

/// The delivery log, newest first.
///
/// # Errors
/// Database errors.
pub async fn log(
    db: &impl ConnectionTrait,
    f: &LogFilter,
    page: PageRequest,
) -> Result<Page<notification::Model>> {
    let mut q = notification::Entity::find();
    if let Some(c) = &f.channel {
        q = q.filter(notification::Column::Channel.eq(c.clone()));
    }
    if let Some(s) = f.status {
        q = q.filter(notification::Column::Status.eq(s.as_str()));
    }
    if let Some(t) = &f.template {
        q = q.filter(notification::Column::Template.eq(t.clone()));
    }
    if let Some(t) = &f.ref_type {
        q = q.filter(notification::Column::RefType.eq(t.clone()));
    }
    if let Some(r) = &f.ref_id {
        q = q.filter(notification::Column::RefId.eq(r.clone()));
    }
    if let Some(r) = &f.recipient {
        q = q.filter(notification::Column::Recipient.eq(r.clone()));
    }
    if let Some(t) = f.from {
        q = q.filter(notification::Column::CreatedAt.gte(t));
    }
    if let Some(t) = f.to {
        q = q.filter(notification::Column::CreatedAt.lt(t));
    }
    let q = q
        .order_by_desc(notification::Column::CreatedAt)
        .order_by_desc(notification::Column::Id);
    page.fetch(db, q).await
}

/// One message of the log.
///
/// # Errors
/// [`Error::NotFound`] `notification`.
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<notification::Model> {
    notification::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "notification",
        })
}

/// The notifications of a document, newest first.
///
/// # Errors
/// Database errors.
pub async fn of_ref(
    db: &impl ConnectionTrait,
    ref_type: &str,
    ref_id: &str,
) -> Result<Vec<notification::Model>> {
    Ok(notification::Entity::find()
        .filter(notification::Column::RefType.eq(ref_type))
        .filter(notification::Column::RefId.eq(ref_id))
        .order_by_desc(notification::Column::CreatedAt)
        .all(db)
        .await?)
}
