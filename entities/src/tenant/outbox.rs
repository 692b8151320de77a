//! The transactional outbox: one row per job a business change causes, written in the same
//! transaction as the change, moved to the queues by the relay after commit.

use sea_orm::entity::prelude::*;

/// An outbox row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    /// Sequence number; with the tenant id, the job's idempotency key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The job's stable name.
    pub job_name: String,
    /// The queue it goes to.
    pub queue: String,
    /// The job's payload (ids only).
    pub payload: Json,
    /// When it was written.
    pub created_at: DateTimeUtc,
    /// Not to run before this time.
    pub available_at: DateTimeUtc,
    /// When the relay handed it to the queue backend.
    pub sent_at: Option<DateTimeUtc>,
    /// Which run of the job the row stands for (0 first; a retry of ours adds one).
    pub attempt: i32,
    /// How many times the relay tried to hand it over.
    pub relay_attempts: i32,
    /// Why the last hand-over failed.
    pub last_error: Option<String>,
}

/// Relations of an outbox row.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
