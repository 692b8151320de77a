//! A WhatsApp webhook item already applied: a replay of it is dropped.

use sea_orm::entity::prelude::*;

/// A row of `whatsapp_webhook_events`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "whatsapp_webhook_events")]
pub struct Model {
    /// `status:<wamid>:<status>` or `message:<wamid>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub received_at: DateTimeUtc,
}

/// Relations of `whatsapp_webhook_events`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
