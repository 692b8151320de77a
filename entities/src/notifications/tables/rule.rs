//! Who is told of an event, on which channels (a row per event the business changed; the
//! catalogue's default otherwise).

use sea_orm::entity::prelude::*;

/// A row of `notification_rules`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_rules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub event: String,
    pub enabled: bool,
    /// Channels the event's customer is told on, in order of preference.
    pub customer_channels: Json,
    /// Roles told (of the event's branch, when it has one).
    pub staff_roles: Json,
    /// Users told whatever their role.
    pub user_ids: Json,
    /// Channels staff are told on.
    pub staff_channels: Json,
    pub updated_by: Option<Uuid>,
    pub updated_at: DateTimeUtc,
}

/// Relations of `notification_rules`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
