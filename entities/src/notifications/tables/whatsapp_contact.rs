//! A number that wrote to the business on WhatsApp, and when it last did: free-form messages may
//! be sent for 24 hours after that, approved templates otherwise.

use sea_orm::entity::prelude::*;

/// A row of `whatsapp_contacts`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "whatsapp_contacts")]
pub struct Model {
    /// Canonical E.164.
    #[sea_orm(primary_key, auto_increment = false)]
    pub phone: String,
    /// The form WhatsApp knows it by (`521…`).
    pub wa_id: String,
    pub profile_name: Option<String>,
    pub last_inbound_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of `whatsapp_contacts`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
