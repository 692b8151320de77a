use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Operators {
    Table,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Platform operators see every tenant's queued work; a grant of its own, apart from
        // tenant memberships, so no tenant role can ever imply it.
        m.create_table(
            Table::create()
                .table(Operators::Table)
                .col(uuid(Operators::UserId).primary_key())
                .col(timestamp_with_time_zone(Operators::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Operators::Table, Operators::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Operators::Table).to_owned())
            .await
    }
}
