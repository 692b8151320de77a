//! The concepts of a CFDI as Nexus computed them (quantity, unit value, amount, discount, the IVA
//! transfer's base, rate and amount, and what the ticket charged), kept with the invoice so its
//! lines and per-line taxes can be shown and audited without re-deriving them from the request.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("invoices"))
                // Absent for payment complements (no concepts) and rows from before.
                .add_column(json_null(Alias::new("lines")))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Alias::new("invoices"))
                .drop_column(Alias::new("lines"))
                .to_owned(),
        )
        .await
    }
}
