//! A request to propagate prices to every branch, carried out by a `pricing` job.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// The state of a price propagation.
    pub enum Status {
        /// Recorded, its job not started.
        Queued = "queued",
        /// A job is propagating (or died doing it and will resume).
        Running = "running",
        /// Finished; `result` says what changed.
        Done = "done",
        /// Gave up; `error` says why.
        Failed = "failed",
    }
}

/// A row of `price_syncs`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "price_syncs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `queued`, `running`, `done` or `failed`.
    pub status: Status,
    pub request: Json,
    pub result: Option<Json>,
    pub error: Option<String>,
    pub requested_by: Option<Uuid>,
    pub finished_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

/// Relations of `price_syncs` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
