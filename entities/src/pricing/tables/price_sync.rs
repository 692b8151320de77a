//! A request to propagate prices to every branch, carried out by a `pricing` job.

use sea_orm::entity::prelude::*;

/// A row of `price_syncs`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "price_syncs")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    /// What was asked.
    pub request: Json,
    /// What was done.
    pub result: Option<Json>,
    /// Why it failed.
    pub error: Option<String>,
    /// Who asked.
    pub requested_by: Option<Uuid>,
    /// When it ended.
    pub finished_at: Option<DateTimeUtc>,
    /// Asked.
    pub created_at: DateTimeUtc,
}

/// Relations of `price_syncs` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
