//! A sale line can never have more units returned than it sold, nor fewer than none: the database
//! refuses it whatever path writes (a CHECK constraint on PostgreSQL; SQLite cannot add one to an
//! existing table, so two triggers there).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_TRIGGERS: [(&str, &str); 2] = [
    ("sale_lines_returned_qty_insert", "INSERT"),
    (
        "sale_lines_returned_qty_update",
        "UPDATE OF returned_qty, qty",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match m.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "ALTER TABLE sale_lines ADD CONSTRAINT sale_lines_returned_qty_range \
                     CHECK (returned_qty >= 0 AND returned_qty <= qty)",
                )
                .await?;
            }
            _ => {
                for (name, event) in SQLITE_TRIGGERS {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {name} BEFORE {event} ON sale_lines \
                         WHEN NEW.returned_qty < 0 OR NEW.returned_qty > NEW.qty \
                         BEGIN SELECT RAISE(ABORT, 'sale_lines_returned_qty_range'); END"
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match m.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "ALTER TABLE sale_lines DROP CONSTRAINT sale_lines_returned_qty_range",
                )
                .await?;
            }
            _ => {
                for (name, _) in SQLITE_TRIGGERS {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {name}"))
                        .await?;
                }
            }
        }
        Ok(())
    }
}
