//! Claimed ticks of the cron table: every scheduler replica fires every tick, and the one whose
//! insert of `(schedule, tick)` wins enqueues the tick's jobs.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "schedule_ticks")]
pub struct Model {
    /// The schedule's stable name, e.g. `nightly-cleanup`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub schedule: String,
    /// The tick's time (UTC, whole seconds), as the schedule computed it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tick: DateTimeUtc,
    /// The replica that claimed it (`host:pid:run`).
    pub fired_by: String,
    /// When it was claimed.
    pub fired_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
