use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum VinDecodes {
    Table,
    Vin,
    Status,
    ModelYear,
    Decoded,
    RequestedAt,
    UpdatedAt,
    Attempts,
    LastError,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // A VIN decodes the same for every tenant, so the cache of NHTSA vPIC answers is shared
        // in the platform database; tenants keep only their own vehicles.
        m.create_table(
            Table::create()
                .table(VinDecodes::Table)
                .col(string_len(VinDecodes::Vin, 17).primary_key())
                // pending | done | unavailable
                .col(string_len(VinDecodes::Status, 16))
                // The model year sent to vPIC with the VIN (NHTSA recommends always sending one).
                .col(integer_null(VinDecodes::ModelYear))
                .col(json_null(VinDecodes::Decoded))
                .col(timestamp_with_time_zone(VinDecodes::RequestedAt))
                .col(timestamp_with_time_zone(VinDecodes::UpdatedAt))
                .col(integer(VinDecodes::Attempts).default(0))
                .col(text_null(VinDecodes::LastError))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(VinDecodes::Table).to_owned())
            .await
    }
}
