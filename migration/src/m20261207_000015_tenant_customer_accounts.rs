//! Customer accounts (crédito y abonos): what a customer owes (`customers.balance_cents`, kept
//! with the entries so a credit sale checks the limit against it with one conditional update), the
//! entries of the account (charges from credit sales, payments on account, credits from returns),
//! how each payment or credit was applied to the charges, and how much of a return went to the
//! account rather than back in cash.

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
                .table(a("customers"))
                .add_column(big_integer(a("balance_cents")).default(0))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(a("sale_returns"))
                .add_column(big_integer(a("account_credit_cents")).default(0))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("account_entries"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("customer_id")))
                // `charge`, `payment` or `return_credit`.
                .col(string_len(a("kind"), 16))
                .col(uuid_null(a("sale_id")))
                .col(uuid_null(a("return_id")))
                // Always above zero, MXN centavos; the kind says which way it moves the balance.
                .col(big_integer(a("amount_cents")))
                // Of a charge: what is still unpaid. Zero for payments and credits.
                .col(big_integer(a("open_cents")))
                // Of a payment: `cash`, `transfer` or `card`.
                .col(string_len_null(a("method"), 16))
                .col(string_len_null(a("reference"), 100))
                .col(string_len_null(a("note"), 500))
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_account_entries_customer")
                .table(a("account_entries"))
                .col(a("customer_id"))
                .col(a("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_account_entries_sale")
                .table(a("account_entries"))
                .col(a("sale_id"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("account_allocations"))
                .col(big_pk_auto(a("id")))
                // The payment or credit applied.
                .col(uuid(a("entry_id")))
                // The charge it paid (part of).
                .col(uuid(a("charge_id")))
                .col(big_integer(a("amount_cents")))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_account_allocations_entry")
                .table(a("account_allocations"))
                .col(a("entry_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_account_allocations_charge")
                .table(a("account_allocations"))
                .col(a("charge_id"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(a("account_allocations")).to_owned())
            .await?;
        m.drop_table(Table::drop().table(a("account_entries")).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(a("sale_returns"))
                .drop_column(a("account_credit_cents"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(a("customers"))
                .drop_column(a("balance_cents"))
                .to_owned(),
        )
        .await
    }
}
