//! A business's version of a message template (event × channel × locale); the newest version
//! not retired is the one used, else the platform's default.

use sea_orm::entity::prelude::*;

/// A row of `notification_templates`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_templates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub event: String,
    /// `email`, `whatsapp`, `push` or `in_app`.
    pub channel: String,
    pub locale: String,
    /// 1 for the first override of this event, channel and locale, then 2, 3…
    pub version: i32,
    pub subject: Option<String>,
    pub body: String,
    /// The e-mail's HTML part.
    pub html: Option<String>,
    /// The Meta-approved WhatsApp template used outside the 24-hour window.
    pub wa_template: Option<String>,
    pub wa_language: Option<String>,
    /// One template expression per `{{n}}` parameter of the approved template's body.
    pub wa_params: Option<Json>,
    /// Set when the business went back to the default.
    pub retired_at: Option<DateTimeUtc>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

/// Relations of `notification_templates`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
