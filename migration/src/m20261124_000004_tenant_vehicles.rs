use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CustomerVehicles {
    Table,
    Id,
    Plate,
    Vin,
    CatalogVehicleId,
    CustomerId,
    Year,
    Make,
    Model,
    Engine,
    Notes,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(CustomerVehicles::Table)
                .col(uuid(CustomerVehicles::Id).primary_key())
                // Normalised (`ABC123A`); NULLs do not collide in a unique index on either backend.
                .col(string_len_null(CustomerVehicles::Plate, 10))
                .col(string_len_null(CustomerVehicles::Vin, 17))
                // A vehicle of the shared catalog in the platform database: no foreign key across
                // databases.
                .col(big_integer_null(CustomerVehicles::CatalogVehicleId))
                // Customers come later; no foreign key yet.
                .col(uuid_null(CustomerVehicles::CustomerId))
                .col(integer_null(CustomerVehicles::Year))
                .col(string_len_null(CustomerVehicles::Make, 100))
                .col(string_len_null(CustomerVehicles::Model, 100))
                .col(string_len_null(CustomerVehicles::Engine, 100))
                .col(text_null(CustomerVehicles::Notes))
                .col(timestamp_with_time_zone(CustomerVehicles::CreatedAt))
                .col(timestamp_with_time_zone(CustomerVehicles::UpdatedAt))
                .check((
                    Alias::new("ck_customer_vehicles_plate_or_vin"),
                    Expr::col(CustomerVehicles::Plate)
                        .is_not_null()
                        .or(Expr::col(CustomerVehicles::Vin).is_not_null()),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_customer_vehicles_plate")
                .table(CustomerVehicles::Table)
                .col(CustomerVehicles::Plate)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_customer_vehicles_vin")
                .table(CustomerVehicles::Table)
                .col(CustomerVehicles::Vin)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_customer_vehicles_customer")
                .table(CustomerVehicles::Table)
                .col(CustomerVehicles::CustomerId)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(CustomerVehicles::Table).to_owned())
            .await
    }
}
