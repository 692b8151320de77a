//! Staff managed from the API: a membership disabled in one business without touching the
//! person's other businesses, a manager's PIN for authorising a cashier's action, one-time set-up
//! links for invited users and password resets, and the single-use manager overrides.

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
                .table(a("memberships"))
                .add_column(timestamp_with_time_zone_null(a("disabled_at")))
                .to_owned(),
        )
        .await?;
        // An argon2 PHC string of the manager's PIN in this business, when set.
        m.alter_table(
            Table::alter()
                .table(a("memberships"))
                .add_column(string_len_null(a("pin_hash"), 200))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("setup_tokens"))
                // Hex SHA-256 of the token; the token itself is shown once.
                .col(string_len(a("token_hash"), 64).primary_key())
                .col(uuid(a("user_id")))
                .col(uuid(a("tenant_id")))
                // `invite` or `reset`.
                .col(string_len(a("purpose"), 8))
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("expires_at")))
                .col(timestamp_with_time_zone_null(a("used_at")))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_setup_tokens_user")
                .table(a("setup_tokens"))
                .col(a("user_id"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("manager_overrides"))
                .col(string_len(a("token_hash"), 64).primary_key())
                .col(uuid(a("tenant_id")))
                // The cashier whose terminal it was granted at, the only one who may use it.
                .col(uuid(a("requested_by")))
                .col(uuid(a("authorized_by")))
                .col(string_len(a("authorized_role"), 16))
                // `discount`, `cancel`, `return` or `price_list`.
                .col(string_len(a("action"), 16))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("expires_at")))
                .col(timestamp_with_time_zone_null(a("used_at")))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(a("manager_overrides")).to_owned())
            .await?;
        m.drop_table(Table::drop().table(a("setup_tokens")).to_owned())
            .await?;
        for c in ["pin_hash", "disabled_at"] {
            m.alter_table(
                Table::alter()
                    .table(a("memberships"))
                    .drop_column(a(c))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
