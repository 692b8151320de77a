//! Widens `transfers.status` to 32 characters: `partially_received` (18) does not fit the 16 the
//! counter migration gave it. SQLite does not enforce a `varchar` length, so only PostgreSQL
//! changes.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DatabaseBackend::Postgres {
            m.get_connection()
                .execute_unprepared("ALTER TABLE transfers ALTER COLUMN status TYPE varchar(32)")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DatabaseBackend::Postgres {
            m.get_connection()
                .execute_unprepared("ALTER TABLE transfers ALTER COLUMN status TYPE varchar(16)")
                .await?;
        }
        Ok(())
    }
}
