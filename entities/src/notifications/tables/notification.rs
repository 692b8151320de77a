//! An outgoing message to one recipient on one channel, with its rendered text and the states it
//! went through; a channel that is not configured parks it with the reason.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// The state of a notification.
    pub enum Status {
        /// Waiting for its send job.
        Queued = "queued",
        /// Its channel is not configured: kept, not sent (sent once it is).
        Parked = "parked",
        /// A send started and its outcome is not recorded yet. A run that finds a message in
        /// this state knows an earlier run died mid-send and does not send it again.
        Sending = "sending",
        /// Accepted by the provider.
        Sent = "sent",
        /// The provider says it reached the device (in-app: stored for the user).
        Delivered = "delivered",
        /// The recipient read it.
        Read = "read",
        /// Refused for good, or its outcome is unknown after a crash mid-send.
        Failed = "failed",
        /// Not sent on purpose: the customer opted out of the channel.
        Skipped = "skipped",
    }
}

/// A row of `notifications`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `email`, `whatsapp`, `push` or `in_app`.
    pub channel: String,
    /// Phone (E.164), e-mail address, or the user's id (in-app and push).
    pub recipient: String,
    /// The event whose template it is rendered from (`quote_sent`, `low_stock`…).
    pub template: String,
    pub ref_type: String,
    pub ref_id: String,
    /// The template's context.
    pub payload: Json,
    pub status: Status,
    /// Why it is parked, skipped or failed.
    pub reason: Option<String>,
    pub attempts: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The business event it was made for (`None`: sent by hand).
    pub event_id: Option<i64>,
    pub event: Option<String>,
    /// The staff member it is for.
    pub user_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub locale: String,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub html: Option<String>,
    /// The provider's message id (SMTP Message-ID, WhatsApp `wamid`).
    pub provider_id: Option<String>,
    pub cost_category: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    pub delivered_at: Option<DateTimeUtc>,
    pub read_at: Option<DateTimeUtc>,
    pub failed_at: Option<DateTimeUtc>,
    /// Quiet hours: not sent before this.
    pub not_before: Option<DateTimeUtc>,
}

/// Relations of `notifications` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
