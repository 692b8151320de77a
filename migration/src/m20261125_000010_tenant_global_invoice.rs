//! The global invoice (sales to the general public): the business's periodicity, one row per
//! global invoice with its branch and period, and which sales each one covers. A sale stands in
//! at most one global invoice at a time (`active_sale_id` is unique and cleared when the global
//! is cancelled or fails).

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
                .table(a("fiscal_settings"))
                .add_column(string_len(a("global_periodicity"), 16).default("day"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("global_invoices"))
                .col(uuid(a("invoice_id")).primary_key())
                .col(uuid(a("branch_id")))
                .col(string_len(a("periodicity"), 16))
                // The period, half-open, as instants (local midnights in Mexico City).
                .col(timestamp_with_time_zone(a("period_from")))
                .col(timestamp_with_time_zone(a("period_to")))
                .col(string_len(a("months"), 2))
                .col(integer(a("year")))
                // The cancelled global this one replaces (motive 04).
                .col(uuid_null(a("replaces")))
                .col(integer(a("sales")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_global_invoices_period")
                .table(a("global_invoices"))
                .col(a("branch_id"))
                .col(a("period_from"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("global_invoice_sales"))
                .col(uuid(a("invoice_id")))
                .col(uuid(a("sale_id")))
                // The sale's id while the global stands; NULL once it is cancelled or failed, or
                // once the sale is invoiced to its customer. Unique: never in two standing globals.
                .col(uuid_null(a("active_sale_id")))
                // The sale's amount in the global (net of returns), MXN centavos.
                .col(big_integer(a("total_cents")))
                .primary_key(Index::create().col(a("invoice_id")).col(a("sale_id")))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_global_invoice_sales_active")
                .table(a("global_invoice_sales"))
                .col(a("active_sale_id"))
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_global_invoice_sales_sale")
                .table(a("global_invoice_sales"))
                .col(a("sale_id"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["global_invoice_sales", "global_invoices"] {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        m.alter_table(
            Table::alter()
                .table(a("fiscal_settings"))
                .drop_column(a("global_periodicity"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
