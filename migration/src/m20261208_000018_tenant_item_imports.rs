//! Bulk imports of items from a CSV: the file as sent, where its opening stock goes, the list its
//! prices go to, and how the `inventory.import_items` job that carries it out is doing (status,
//! rows checked so far, what it created and updated, the errors of each bad row).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn a(name: &str) -> Alias {
    Alias::new(name)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(a("item_imports"))
                .col(uuid(a("id")).primary_key())
                // `queued`, `running`, `done` or `failed`.
                .col(string_len(a("status"), 16))
                .col(uuid(a("warehouse_id")))
                .col(string_len(a("price_list"), 16))
                // The CSV as sent (at most 2 MiB): kept with the import rather than in the job's
                // payload, which travels through the outbox and the queue.
                .col(text(a("csv")))
                .col(big_integer(a("total_rows")))
                // Rows checked so far: the progress a client polls.
                .col(big_integer(a("rows_processed")).default(0))
                .col(big_integer(a("created_count")).default(0))
                .col(big_integer(a("updated_count")).default(0))
                // Rows of items that existed already whose `stock` was not applied: opening
                // stock is for new items only.
                .col(big_integer(a("stock_skipped")).default(0))
                // `[{row, column, message}]`, every error of every bad row.
                .col(json(a("errors")))
                .col(big_integer(a("error_count")).default(0))
                // Why the import as a whole failed (or why the last try did, while retried).
                .col(text_null(a("error")))
                .col(uuid_null(a("requested_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .col(timestamp_with_time_zone_null(a("started_at")))
                .col(timestamp_with_time_zone_null(a("finished_at")))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_item_imports_created")
                .table(a("item_imports"))
                .col(a("created_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(a("item_imports")).to_owned())
            .await
    }
}
