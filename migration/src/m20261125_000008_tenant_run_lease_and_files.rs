//! A lease on running jobs (`job_runs.heartbeat_at`: a delivery that finds a run still being
//! renewed waits instead of counting a crash), and the files of invoices (XML and PDF), kept with
//! the tenant's files and listed here.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn a(name: &str) -> Alias {
    Alias::new(name)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(a("job_runs"))
                .add_column(timestamp_with_time_zone_null(a("heartbeat_at")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("invoice_files"))
                .col(uuid(a("invoice_id")))
                // `xml` or `pdf`.
                .col(string_len(a("format"), 8))
                // The store's key: `<tenant>/cfdi/<invoice>.<format>`.
                .col(string(a("path")))
                .col(big_integer(a("bytes")))
                .col(string_len(a("sha256"), 64))
                .col(timestamp_with_time_zone(a("stored_at")))
                .primary_key(Index::create().col(a("invoice_id")).col(a("format")))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(a("invoice_files")).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(a("job_runs"))
                .drop_column(a("heartbeat_at"))
                .to_owned(),
        )
        .await
    }
}
