//! Outgoing messages (WhatsApp, e-mail): a row per message, written with the job that delivers
//! it. A channel that is not configured parks the row with the reason instead of pretending it
//! was sent; parked rows are sent once the channel is configured (a later issue).

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use std::collections::HashMap;

use uuid::Uuid;

use crate::Result;
use crate::notifications::tables::notification;

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

/// A message to send.
#[derive(Debug, Clone)]
pub struct NewNotification<'a> {
    /// `whatsapp` or `email`.
    pub channel: &'a str,
    /// Phone (E.164) or address.
    pub recipient: &'a str,
    /// What it says: `quote`, `ticket`.
    pub template: &'a str,
    /// Document kind.
    pub ref_type: &'a str,
    /// Document id.
    pub ref_id: String,
    /// What the template needs.
    pub payload: serde_json::Value,
}

/// Writes a `queued` notification (the caller enqueues its `notify.send` job in the same
/// transaction).
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
    }
    .insert(db)
    .await?)
}

/// Sets a notification's status and reason, counting the attempt.
///
/// # Errors
/// Database errors.
pub async fn set_status(
    db: &impl ConnectionTrait,
    n: notification::Model,
    new_status: Status,
    reason: Option<String>,
) -> Result<notification::Model> {
    let attempts = n.attempts + 1;
    let mut am: notification::ActiveModel = n.into();
    am.status = Set(new_status);
    am.reason = Set(reason);
    am.attempts = Set(attempts);
    am.updated_at = Set(crate::now());
    Ok(am.update(db).await?)
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
