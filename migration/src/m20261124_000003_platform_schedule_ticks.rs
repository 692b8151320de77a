use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ScheduleTicks {
    Table,
    Schedule,
    Tick,
    FiredBy,
    FiredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // apalis-cron fires every tick in every scheduler replica; the first insert of a
        // (schedule, tick) claims it, so the tick's jobs are enqueued once.
        m.create_table(
            Table::create()
                .table(ScheduleTicks::Table)
                .col(string_len(ScheduleTicks::Schedule, 64))
                .col(timestamp_with_time_zone(ScheduleTicks::Tick))
                .col(string_len(ScheduleTicks::FiredBy, 200))
                .col(timestamp_with_time_zone(ScheduleTicks::FiredAt))
                .primary_key(
                    Index::create()
                        .col(ScheduleTicks::Schedule)
                        .col(ScheduleTicks::Tick),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ScheduleTicks::Table).to_owned())
            .await
    }
}
