//! CFDI documents that relate to an invoice: credit notes (type E) issued for returns, and the
//! payments a PPD invoice receives, each with its payment complement (type P). The CFDIs
//! themselves are rows of `invoices`; these tables say which invoice they relate to.

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
                .table(a("credit_notes"))
                // The credit note's own `invoices` row (kind E).
                .col(uuid(a("id")).primary_key())
                // The type I invoice it credits.
                .col(uuid(a("invoice_id")))
                .col(uuid(a("sale_id")))
                .col(uuid(a("return_id")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_credit_notes_invoice")
                .table(a("credit_notes"))
                .col(a("invoice_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_credit_notes_return")
                .table(a("credit_notes"))
                .col(a("return_id"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("invoice_payments"))
                .col(uuid(a("id")).primary_key())
                // The PPD invoice paid.
                .col(uuid(a("invoice_id")))
                // Parcialidad: 1, 2, 3… without gaps (the unique index below backs it).
                .col(integer(a("installment")))
                .col(big_integer(a("last_balance_cents")))
                .col(big_integer(a("amount_cents")))
                .col(big_integer(a("balance_cents")))
                .col(string_len(a("payment_form"), 2))
                .col(timestamp_with_time_zone(a("paid_at")))
                .col(string_len_null(a("reference"), 100))
                // The payment complement's `invoices` row (kind P).
                .col(uuid(a("complement_id")))
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_invoice_payments_installment")
                .table(a("invoice_payments"))
                .col(a("invoice_id"))
                .col(a("installment"))
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_invoice_payments_complement")
                .table(a("invoice_payments"))
                .col(a("complement_id"))
                .unique()
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["invoice_payments", "credit_notes"] {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        Ok(())
    }
}
