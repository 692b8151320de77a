//! The business's WhatsApp line (one row, id 1): Meta's Cloud API with its own number, or the
//! platform's bridge. The token and the app secret are write-only.

use sea_orm::entity::prelude::*;

/// A row of `whatsapp_settings`.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "whatsapp_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// `cloud` or `bridge`.
    pub transport: String,
    /// The Cloud API's sending number id.
    pub phone_number_id: Option<String>,
    /// The system-user token messages are sent with.
    pub access_token: Option<String>,
    /// The app secret webhooks are signed with.
    pub app_secret: Option<String>,
    /// What Meta's verification handshake must bring.
    pub verify_token: Option<String>,
    pub updated_by: Option<Uuid>,
    pub updated_at: DateTimeUtc,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secrets never reach a log.
        f.debug_struct("whatsapp_setting")
            .field("transport", &self.transport)
            .field("phone_number_id", &self.phone_number_id)
            .finish_non_exhaustive()
    }
}

/// Relations of `whatsapp_settings`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
