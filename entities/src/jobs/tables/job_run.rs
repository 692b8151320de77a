//! Runs of jobs in this tenant: starts, outcome and reason, for quarantine and for operators.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// The state of a job run.
    pub enum Status {
        /// A worker is on it (or died on it).
        Running = "running",
        /// Succeeded.
        Done = "done",
        /// Failed, back in the outbox for another run.
        Retrying = "retrying",
        /// Given up.
        Dead = "dead",
        /// Started too many times without finishing.
        Quarantined = "quarantined",
        /// An operator retried it: its job runs again as a new run.
        Retried = "retried",
        /// An operator gave up on it.
        Discarded = "discarded",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_runs")]
pub struct Model {
    /// `tenant:outbox_id:attempt`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub push_key: String,
    pub job_name: String,
    pub queue: String,
    pub outbox_id: i64,
    /// Which run (0 first).
    pub attempt: i32,
    /// How many times a worker started it (more than one: a worker died running it).
    pub starts: i32,
    /// `running`, `done`, `retrying`, `dead`, `quarantined`.
    pub status: Status,
    pub last_error: Option<String>,
    pub started_at: DateTimeUtc,
    /// Last renewal of the running delivery's lease (its start, then every
    /// `Runtime::LEASE_RENEW` while the handler runs).
    pub heartbeat_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
