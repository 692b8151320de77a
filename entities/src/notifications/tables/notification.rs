//! An outgoing message; a channel that is not configured parks it with the reason.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// The state of a notification.
    pub enum Status {
        /// Waiting for its job.
        Queued = "queued",
        /// Its channel is not configured: kept, not sent.
        Parked = "parked",
        /// Delivered to the provider.
        Sent = "sent",
        /// The provider refused it for good.
        Failed = "failed",
    }
}

/// A row of `notifications`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `whatsapp` or `email`.
    pub channel: String,
    pub recipient: String,
    /// What it says (`quote`, `ticket`).
    pub template: String,
    pub ref_type: String,
    pub ref_id: String,
    /// What the template needs.
    pub payload: Json,
    /// `queued`, `parked`, `sent` or `failed`.
    pub status: Status,
    /// Why it is parked or failed.
    pub reason: Option<String>,
    pub attempts: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of `notifications` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
