//! An outgoing message; a channel that is not configured parks it with the reason.

use sea_orm::entity::prelude::*;

/// A row of `notifications`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `whatsapp` or `email`.
    pub channel: String,
    /// Phone or address.
    pub recipient: String,
    /// What it says (`quote`, `ticket`).
    pub template: String,
    /// Document kind.
    pub ref_type: String,
    /// Document id.
    pub ref_id: String,
    /// What the template needs.
    pub payload: Json,
    /// `queued`, `parked`, `sent` or `failed`.
    pub status: String,
    /// Why it is parked or failed.
    pub reason: Option<String>,
    /// Delivery attempts.
    pub attempts: i32,
    /// Created.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// Relations of `notifications` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
