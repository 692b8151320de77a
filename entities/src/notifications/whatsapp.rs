//! The business's WhatsApp line: its settings (secrets write-only), the 24-hour window of each
//! number that wrote, and what Meta's webhooks say of the messages Nexus sent (sent, delivered,
//! read, failed, with the pricing category), each applied once.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use crate::invoicing::fiscal::Secret;
use crate::notifications::tables::notification::{self, Status};
use crate::notifications::tables::{whatsapp_contact, whatsapp_setting, whatsapp_webhook_event};
use crate::org::audit::Entry;
use crate::org::branches::Actor;
use crate::{Error, Result};

/// How long after a customer's last message free text may be sent.
pub const WINDOW_HOURS: i64 = 24;

/// The settings as written.
#[derive(Clone, Default)]
pub struct SettingsInput {
    /// `cloud` or `bridge`.
    pub transport: String,
    /// The Cloud API's number id.
    pub phone_number_id: Option<String>,
    /// The system-user token.
    pub access_token: Secret,
    /// The app secret.
    pub app_secret: Secret,
    /// The verification handshake's token.
    pub verify_token: Secret,
}

impl std::fmt::Debug for SettingsInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SettingsInput")
            .field("transport", &self.transport)
            .field("phone_number_id", &self.phone_number_id)
            .finish_non_exhaustive()
    }
}

/// The settings, when saved.
///
/// # Errors
/// Database errors.
pub async fn settings(db: &impl ConnectionTrait) -> Result<Option<whatsapp_setting::Model>> {
    Ok(whatsapp_setting::Entity::find_by_id(1).one(db).await?)
}

fn secret(field: &str, s: Secret, stored: Option<String>) -> Result<Option<String>> {
    match s {
        Secret::Keep => Ok(stored),
        Secret::Clear => Ok(None),
        Secret::Set(v) => {
            let v = v.trim().to_owned();
            if v.len() < 8 || v.len() > 512 || v.chars().any(char::is_whitespace) {
                return Err(Error::validation(
                    field,
                    "8 to 512 characters without spaces",
                ));
            }
            Ok(Some(v))
        }
    }
}

/// Saves the settings; secrets are kept, replaced or cleared, never returned or audited.
///
/// # Errors
/// [`Error::Validation`] for an unknown transport, a number id that is not digits, a secret
/// out of bounds, or a Cloud line without its number id and token.
pub async fn put_settings(
    db: &impl ConnectionTrait,
    actor: &Actor,
    s: SettingsInput,
) -> Result<whatsapp_setting::Model> {
    if !["cloud", "bridge"].contains(&s.transport.as_str()) {
        return Err(Error::validation("transport", "cloud or bridge"));
    }
    if let Some(id) = &s.phone_number_id
        && (id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(Error::validation(
            "phone_number_id",
            "the number id Meta shows, digits only",
        ));
    }
    let stored = settings(db).await?;
    let old = |f: fn(&whatsapp_setting::Model) -> Option<String>| stored.as_ref().and_then(f);
    let access_token = secret(
        "access_token",
        s.access_token,
        old(|m| m.access_token.clone()),
    )?;
    let app_secret = secret("app_secret", s.app_secret, old(|m| m.app_secret.clone()))?;
    let verify_token = secret(
        "verify_token",
        s.verify_token,
        old(|m| m.verify_token.clone()),
    )?;
    if s.transport == "cloud" && (s.phone_number_id.is_none() || access_token.is_none()) {
        return Err(Error::validation(
            "access_token",
            "the Cloud API needs the number id and a token",
        ));
    }
    let am = whatsapp_setting::ActiveModel {
        id: Set(1),
        transport: Set(s.transport.clone()),
        phone_number_id: Set(s.phone_number_id.clone()),
        access_token: Set(access_token),
        app_secret: Set(app_secret),
        verify_token: Set(verify_token),
        updated_by: Set(actor.user_id),
        updated_at: Set(crate::now()),
    };
    let saved = if stored.is_some() {
        am.update(db).await?
    } else {
        am.insert(db).await?
    };
    Entry::new("whatsapp.settings_updated")
        .actor(actor.user_id)
        .target("whatsapp_settings", 1)
        .request(None, actor.request_id.clone())
        .details(json!({"transport": saved.transport, "phone_number_id": saved.phone_number_id}))
        .record_tenant(db)
        .await?;
    Ok(saved)
}

/// Whether free text may be sent to `phone` (canonical E.164) at `now`: it wrote within the
/// last 24 hours.
///
/// # Errors
/// Database errors.
pub async fn window_open(
    db: &impl ConnectionTrait,
    phone: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    Ok(whatsapp_contact::Entity::find_by_id(phone)
        .one(db)
        .await?
        .is_some_and(|c| c.last_inbound_at > now - Duration::hours(WINDOW_HOURS)))
}

/// Marks a webhook item applied; `false` when it was already (a replay).
///
/// # Errors
/// Database errors.
pub async fn first_time(db: &impl ConnectionTrait, key: &str) -> Result<bool> {
    let n = whatsapp_webhook_event::Entity::insert(whatsapp_webhook_event::ActiveModel {
        key: Set(key.chars().take(200).collect()),
        received_at: Set(crate::now()),
    })
    .on_conflict(
        OnConflict::column(whatsapp_webhook_event::Column::Key)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(n == 1)
}

/// Records a message a customer sent (its window opens); a replay changes nothing.
///
/// # Errors
/// Database errors.
pub async fn inbound(
    db: &impl ConnectionTrait,
    message_id: &str,
    wa_id: &str,
    profile_name: Option<&str>,
    at: DateTime<Utc>,
) -> Result<bool> {
    let Some(phone) = crate::rules::whatsapp::canonical(wa_id) else {
        return Ok(false);
    };
    if !first_time(db, &format!("message:{message_id}")).await? {
        return Ok(false);
    }
    let existing = whatsapp_contact::Entity::find_by_id(phone.clone())
        .one(db)
        .await?;
    let am = whatsapp_contact::ActiveModel {
        phone: Set(phone),
        wa_id: Set(wa_id.to_owned()),
        profile_name: Set(profile_name.map(|n| n.chars().take(120).collect())),
        last_inbound_at: Set(existing.as_ref().map_or(at, |c| c.last_inbound_at.max(at))),
        updated_at: Set(crate::now()),
    };
    if existing.is_some() {
        am.update(db).await?;
    } else {
        am.insert(db).await?;
    }
    Ok(true)
}

/// What a status update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusOutcome {
    /// The message moved forward.
    Applied,
    /// Seen before, or behind what the message already reached (statuses arrive out of order).
    Ignored,
    /// No message of ours has that id.
    Unknown,
}

fn rank(s: Status) -> u8 {
    match s {
        Status::Sent => 1,
        Status::Delivered => 2,
        Status::Read => 3,
        Status::Failed => 4,
        _ => 0,
    }
}

/// A status Meta reports for a message Nexus sent (`wamid`): sent, delivered, read or failed,
/// with its time, pricing category and error. Applied once and only forward.
///
/// # Errors
/// Database errors.
pub async fn status(
    db: &impl ConnectionTrait,
    wamid: &str,
    status: &str,
    at: DateTime<Utc>,
    category: Option<&str>,
    error: Option<&str>,
) -> Result<StatusOutcome> {
    let new = match status {
        "sent" => Status::Sent,
        "delivered" => Status::Delivered,
        "read" => Status::Read,
        "failed" => Status::Failed,
        _ => return Ok(StatusOutcome::Ignored),
    };
    let Some(n) = notification::Entity::find()
        .filter(notification::Column::Channel.eq("whatsapp"))
        .filter(notification::Column::ProviderId.eq(wamid))
        .one(db)
        .await?
    else {
        return Ok(StatusOutcome::Unknown);
    };
    if !first_time(db, &format!("status:{wamid}:{status}")).await? {
        return Ok(StatusOutcome::Ignored);
    }
    let mut am: notification::ActiveModel = n.clone().into();
    if let Some(c) = category {
        am.cost_category = Set(Some(c.chars().take(32).collect()));
    }
    match new {
        Status::Sent => am.sent_at = Set(Some(n.sent_at.unwrap_or(at))),
        Status::Delivered => am.delivered_at = Set(Some(at)),
        Status::Read => {
            am.read_at = Set(Some(at));
            am.delivered_at = Set(Some(n.delivered_at.unwrap_or(at)));
        }
        _ => {
            am.failed_at = Set(Some(at));
            am.reason = Set(Some(error.map_or_else(
                || "WhatsApp reported it failed".to_owned(),
                str::to_owned,
            )));
        }
    }
    if rank(new) > rank(n.status) {
        am.status = Set(new);
    }
    am.updated_at = Set(crate::now());
    am.update(db).await?;
    Ok(StatusOutcome::Applied)
}
