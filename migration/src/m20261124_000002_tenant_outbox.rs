use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    JobName,
    Queue,
    Payload,
    CreatedAt,
    AvailableAt,
    SentAt,
    Attempt,
    RelayAttempts,
    LastError,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Outbox::Table)
                .col(big_pk_auto(Outbox::Id))
                .col(string_len(Outbox::JobName, 64))
                .col(string_len(Outbox::Queue, 32))
                .col(json(Outbox::Payload))
                .col(timestamp_with_time_zone(Outbox::CreatedAt))
                .col(timestamp_with_time_zone(Outbox::AvailableAt))
                .col(timestamp_with_time_zone_null(Outbox::SentAt))
                .col(integer(Outbox::Attempt).default(0))
                .col(integer(Outbox::RelayAttempts).default(0))
                .col(text_null(Outbox::LastError))
                .to_owned(),
        )
        .await?;
        // The relay scans each queue's unsent rows in id order; sent rows are deleted by age.
        m.create_index(
            Index::create()
                .name("ix_outbox_pending")
                .table(Outbox::Table)
                .col(Outbox::Queue)
                .col(Outbox::SentAt)
                .col(Outbox::Id)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Outbox::Table).to_owned())
            .await
    }
}
