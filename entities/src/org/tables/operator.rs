//! A platform operator: a user who may watch and act on every tenant's queued work.

use sea_orm::entity::prelude::*;

/// An operator grant of the platform database.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "operators")]
pub struct Model {
    /// The user holding the grant.
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// When it was granted.
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
