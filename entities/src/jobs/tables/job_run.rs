//! Runs of jobs in this tenant: starts, outcome and reason, for quarantine and for operators.

use sea_orm::entity::prelude::*;

/// A job-run row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_runs")]
pub struct Model {
    /// `tenant:outbox_id:attempt`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub push_key: String,
    /// The job's name.
    pub job_name: String,
    /// Its queue.
    pub queue: String,
    /// Its outbox row.
    pub outbox_id: i64,
    /// Which run (0 first).
    pub attempt: i32,
    /// How many times a worker started it (more than one: a worker died running it).
    pub starts: i32,
    /// `running`, `done`, `retrying`, `dead`, `quarantined`.
    pub status: String,
    /// Why it failed.
    pub last_error: Option<String>,
    /// First start.
    pub started_at: DateTimeUtc,
    /// Last renewal of the running delivery's lease (its start, then every
    /// `Runtime::LEASE_RENEW` while the handler runs).
    pub heartbeat_at: Option<DateTimeUtc>,
    /// End.
    pub finished_at: Option<DateTimeUtc>,
}

/// Relations of a job run.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
