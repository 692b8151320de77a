//! A person who signs in. One user may belong to several tenants.

use sea_orm::entity::prelude::*;

/// A user row of the platform database.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    /// User id; the `sub` of tokens.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Lower-cased e-mail, the login name.
    #[sea_orm(unique)]
    pub email: String,
    /// Name shown in the POS.
    pub full_name: String,
    pub password_hash: String,
    /// Set when the user may no longer sign in.
    pub disabled_at: Option<DateTimeUtc>,
    pub last_login_at: Option<DateTimeUtc>,
    /// When the user was created.
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
