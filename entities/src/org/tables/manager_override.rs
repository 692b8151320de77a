//! A manager's authorisation of one action at a cashier's terminal, used once.

use sea_orm::entity::prelude::*;

/// A row of `manager_overrides` (platform database).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "manager_overrides")]
pub struct Model {
    /// Hex SHA-256 of the token; the token itself is given once to the cashier's terminal.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    pub tenant_id: Uuid,
    /// The cashier it was granted to; nobody else may use it.
    pub requested_by: Uuid,
    pub authorized_by: Uuid,
    /// The authorising manager's role at the time.
    pub authorized_role: String,
    /// `discount`, `cancel`, `return` or `price_list`.
    pub action: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
}

/// Relations of `manager_overrides` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
