//! The business's notification settings: sender name, reply-to, locale and staff quiet hours
//! (one row, id 1; the defaults until an owner writes it).

use sea_orm::entity::prelude::*;

/// A row of `notification_settings`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// The display name of e-mails' `From` (the address is the platform relay's).
    pub email_from_name: Option<String>,
    pub email_reply_to: Option<String>,
    /// Staff alerts other than in-app wait out `quiet_from`..`quiet_to` ("HH:MM", Mexico City).
    pub quiet_from: Option<String>,
    pub quiet_to: Option<String>,
    pub locale: String,
    pub updated_by: Option<Uuid>,
    pub updated_at: DateTimeUtc,
}

/// Relations of `notification_settings`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
