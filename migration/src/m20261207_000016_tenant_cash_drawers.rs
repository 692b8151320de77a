//! Cash drawers (corte de caja): a session per register from opening float to closing count, the
//! movements that make up what the drawer should hold, the session each sale and refund went
//! through, how a refund was paid back, the branch setting that lets cash sales go without a
//! drawer, and the customer's store credit (saldo a favor) that a refund may go to.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn a(name: &str) -> Alias {
    Alias::new(name)
}

/// SQLite alters one column a statement.
async fn add(m: &SchemaManager<'_>, table: &str, col: ColumnDef) -> Result<(), DbErr> {
    let mut col = col;
    m.alter_table(
        Table::alter()
            .table(a(table))
            .add_column(&mut col)
            .to_owned(),
    )
    .await
}

async fn drop(m: &SchemaManager<'_>, table: &str, col: &str) -> Result<(), DbErr> {
    m.alter_table(
        Table::alter()
            .table(a(table))
            .drop_column(a(col))
            .to_owned(),
    )
    .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add(
            m,
            "branches",
            boolean(a("cash_drawer_required")).default(true).to_owned(),
        )
        .await?;
        add(m, "sales", uuid_null(a("drawer_session_id"))).await?;
        // `cash`, `card`, `transfer` or `store_credit`; none for what went to the account.
        add(m, "sale_returns", string_len_null(a("refund_method"), 16)).await?;
        add(m, "sale_returns", string_len_null(a("refund_currency"), 3)).await?;
        // What was paid back, in minor units of `refund_currency`.
        add(
            m,
            "sale_returns",
            big_integer(a("refund_minor")).default(0).to_owned(),
        )
        .await?;
        add(m, "sale_returns", uuid_null(a("drawer_session_id"))).await?;
        add(
            m,
            "customers",
            big_integer(a("store_credit_cents")).default(0).to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("drawer_sessions"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("branch_id")))
                // The register (terminal) of the branch, e.g. `caja-1`.
                .col(string_len(a("register"), 40))
                // `branch:register` while open, NULL once closed: the unique index lets one
                // session a register be open, on both databases (NULLs never collide).
                .col(string_len_null(a("open_key"), 80))
                // `open` or `closed`.
                .col(string_len(a("status"), 8))
                .col(uuid(a("opened_by")))
                .col(timestamp_with_time_zone(a("opened_at")))
                .col(uuid_null(a("closed_by")))
                .col(timestamp_with_time_zone_null(a("closed_at")))
                // At close: what the movements add up to and what was counted, per method and
                // currency, and the denominations counted, as JSON.
                .col(text_null(a("expected")))
                .col(text_null(a("counted")))
                .col(text_null(a("denominations")))
                // MXN cash counted minus expected (negative: short).
                .col(big_integer_null(a("cash_difference_cents")))
                .col(string_len_null(a("note"), 500))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_drawer_sessions_open_key")
                .table(a("drawer_sessions"))
                .col(a("open_key"))
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_drawer_sessions_branch")
                .table(a("drawer_sessions"))
                .col(a("branch_id"))
                .col(a("opened_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("drawer_movements"))
                .col(big_pk_auto(a("id")))
                .col(uuid(a("session_id")))
                // `float`, `sale`, `change`, `refund`, `account_payment`, `cash_in`, `cash_out`.
                .col(string_len(a("kind"), 16))
                // `cash`, `usd_cash`, `card` or `transfer`.
                .col(string_len(a("method"), 16))
                .col(string_len(a("currency"), 3))
                // Signed: into the drawer above zero, out of it below.
                .col(big_integer(a("amount_minor")))
                .col(big_integer(a("amount_mxn_cents")))
                .col(uuid_null(a("sale_id")))
                .col(uuid_null(a("return_id")))
                .col(uuid_null(a("entry_id")))
                .col(string_len_null(a("reason"), 200))
                .col(uuid(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_drawer_movements_session")
                .table(a("drawer_movements"))
                .col(a("session_id"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(a("drawer_movements")).to_owned())
            .await?;
        m.drop_table(Table::drop().table(a("drawer_sessions")).to_owned())
            .await?;
        drop(m, "customers", "store_credit_cents").await?;
        for c in [
            "drawer_session_id",
            "refund_minor",
            "refund_currency",
            "refund_method",
        ] {
            drop(m, "sale_returns", c).await?;
        }
        drop(m, "sales", "drawer_session_id").await?;
        drop(m, "branches", "cash_drawer_required").await
    }
}
