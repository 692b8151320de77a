//! A customer's consent per channel, transactional and marketing apart (no row: transactional
//! yes, marketing no).

use sea_orm::entity::prelude::*;

/// A row of `contact_preferences`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contact_preferences")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: Uuid,
    pub email_transactional: bool,
    pub email_marketing: bool,
    pub whatsapp_transactional: bool,
    pub whatsapp_marketing: bool,
    pub updated_by: Option<Uuid>,
    pub updated_at: DateTimeUtc,
}

/// Relations of `contact_preferences`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
