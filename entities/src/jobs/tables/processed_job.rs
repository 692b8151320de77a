//! Marks of jobs whose effect is done, written in the same transaction as the effect.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "processed_jobs")]
pub struct Model {
    /// `tenant:outbox_id`: the same for every delivery and retry of the job.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub job_name: String,
    /// When its effect was committed.
    pub processed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
