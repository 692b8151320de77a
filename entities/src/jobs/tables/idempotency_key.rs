//! An `Idempotency-Key` seen on a POST, with the first answer.

use sea_orm::entity::prelude::*;

/// A row of `idempotency_keys`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    /// The endpoint and user it was sent to.
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// SHA-256 of the body.
    pub request_hash: String,
    /// `in_progress` or `done`.
    pub status: String,
    /// The first answer's status.
    pub response_status: Option<i32>,
    /// The first answer's body.
    pub response_body: Option<Json>,
    /// When the first answer was stored.
    pub finished_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

/// Relations of `idempotency_keys` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
