//! Finds the runs of an outbox row's attempt: the relay's check for sent jobs the queue lost
//! (`outbox::requeue_lost`) looks them up per row.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("ix_job_runs_outbox")
                .table(Alias::new("job_runs"))
                .col(Alias::new("outbox_id"))
                .col(Alias::new("attempt"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_job_runs_outbox")
                .table(Alias::new("job_runs"))
                .to_owned(),
        )
        .await
    }
}
