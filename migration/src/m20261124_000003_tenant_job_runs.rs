use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ProcessedJobs {
    Table,
    Key,
    JobName,
    ProcessedAt,
}

#[derive(DeriveIden)]
enum JobRuns {
    Table,
    PushKey,
    JobName,
    Queue,
    OutboxId,
    Attempt,
    Starts,
    Status,
    LastError,
    StartedAt,
    FinishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One row per job whose effect is done: a second delivery finds it and does nothing.
        m.create_table(
            Table::create()
                .table(ProcessedJobs::Table)
                .col(string_len(ProcessedJobs::Key, 80).primary_key())
                .col(string_len(ProcessedJobs::JobName, 64))
                .col(timestamp_with_time_zone(ProcessedJobs::ProcessedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_processed_jobs_at")
                .table(ProcessedJobs::Table)
                .col(ProcessedJobs::ProcessedAt)
                .to_owned(),
        )
        .await?;
        // One row per run of a job: its starts (a crash loop is quarantined), its outcome and why.
        m.create_table(
            Table::create()
                .table(JobRuns::Table)
                .col(string_len(JobRuns::PushKey, 90).primary_key())
                .col(string_len(JobRuns::JobName, 64))
                .col(string_len(JobRuns::Queue, 32))
                .col(big_integer(JobRuns::OutboxId))
                .col(integer(JobRuns::Attempt))
                .col(integer(JobRuns::Starts))
                .col(string_len(JobRuns::Status, 16))
                .col(text_null(JobRuns::LastError))
                .col(timestamp_with_time_zone(JobRuns::StartedAt))
                .col(timestamp_with_time_zone_null(JobRuns::FinishedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_job_runs_status")
                .table(JobRuns::Table)
                .col(JobRuns::Status)
                .col(JobRuns::StartedAt)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(JobRuns::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(ProcessedJobs::Table).to_owned())
            .await
    }
}
