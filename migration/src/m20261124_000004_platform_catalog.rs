use sea_orm_migration::sea_orm::DatabaseBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CatalogMakes {
    Table,
    Id,
    Name,
    Country,
    VcdbId,
}

#[derive(DeriveIden)]
enum CatalogModels {
    Table,
    Id,
    MakeId,
    Name,
    VcdbId,
}

#[derive(DeriveIden)]
enum CatalogVehicles {
    Table,
    Id,
    Year,
    MakeId,
    ModelId,
    Submodel,
    LitersX10,
    Cylinders,
    Fuel,
    Aspiration,
    BaseVehicleId,
    EngineBaseId,
}

#[derive(DeriveIden)]
enum CatalogBrands {
    Table,
    Id,
    Name,
    AaiaId,
}

#[derive(DeriveIden)]
enum CatalogCategories {
    Table,
    Id,
    Name,
    NameEn,
    PcdbId,
}

#[derive(DeriveIden)]
enum CatalogParts {
    Table,
    Id,
    BrandId,
    Number,
    NumberNorm,
    Name,
    Description,
    CategoryId,
    Attributes,
    SatProductKey,
    SatUnitKey,
    RetailPriceCents,
    ImageRefs,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CatalogFitment {
    Table,
    PartId,
    VehicleId,
    Position,
    Qty,
    Qualifiers,
    Note,
}

#[derive(DeriveIden)]
enum CatalogInterchange {
    Table,
    PartId,
    Kind,
    Brand,
    Number,
    NumberNorm,
}

#[derive(DeriveIden)]
enum CatalogChanges {
    Table,
    Seq,
    PartId,
    ChangedAt,
}

#[derive(DeriveIden)]
enum SearchSyncState {
    Table,
    Name,
    LastSeq,
    IndexUid,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(CatalogMakes::Table)
                .col(pk_auto(CatalogMakes::Id))
                .col(string_len_uniq(CatalogMakes::Name, 64))
                .col(string_len_null(CatalogMakes::Country, 2))
                // ACES VCdb ids, so imported applications find our rows.
                .col(integer_null(CatalogMakes::VcdbId).unique_key())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CatalogModels::Table)
                .col(pk_auto(CatalogModels::Id))
                .col(integer(CatalogModels::MakeId))
                .col(string_len(CatalogModels::Name, 64))
                .col(integer_null(CatalogModels::VcdbId).unique_key())
                .foreign_key(
                    ForeignKey::create()
                        .from(CatalogModels::Table, CatalogModels::MakeId)
                        .to(CatalogMakes::Table, CatalogMakes::Id),
                )
                .index(
                    Index::create()
                        .unique()
                        .name("ux_catalog_models_make_name")
                        .col(CatalogModels::MakeId)
                        .col(CatalogModels::Name),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CatalogVehicles::Table)
                .col(pk_auto(CatalogVehicles::Id))
                .col(small_integer(CatalogVehicles::Year))
                .col(integer(CatalogVehicles::MakeId))
                .col(integer(CatalogVehicles::ModelId))
                .col(string_len_null(CatalogVehicles::Submodel, 64))
                .col(small_integer_null(CatalogVehicles::LitersX10))
                .col(small_integer_null(CatalogVehicles::Cylinders))
                .col(string_len_null(CatalogVehicles::Fuel, 16))
                .col(string_len_null(CatalogVehicles::Aspiration, 16))
                // VCdb BaseVehicle (year + make + model) and EngineBase of this vehicle.
                .col(integer_null(CatalogVehicles::BaseVehicleId))
                .col(integer_null(CatalogVehicles::EngineBaseId))
                .foreign_key(
                    ForeignKey::create()
                        .from(CatalogVehicles::Table, CatalogVehicles::MakeId)
                        .to(CatalogMakes::Table, CatalogMakes::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(CatalogVehicles::Table, CatalogVehicles::ModelId)
                        .to(CatalogModels::Table, CatalogModels::Id),
                )
                .to_owned(),
        )
        .await?;
        // The lookup cascade reads years, then makes of a year, then models of a year and make.
        m.create_index(
            Index::create()
                .name("ix_catalog_vehicles_ymm")
                .table(CatalogVehicles::Table)
                .col(CatalogVehicles::Year)
                .col(CatalogVehicles::MakeId)
                .col(CatalogVehicles::ModelId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_catalog_vehicles_base")
                .table(CatalogVehicles::Table)
                .col(CatalogVehicles::BaseVehicleId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CatalogBrands::Table)
                .col(pk_auto(CatalogBrands::Id))
                .col(string_len_uniq(CatalogBrands::Name, 64))
                .col(string_len_null(CatalogBrands::AaiaId, 8).unique_key())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CatalogCategories::Table)
                .col(pk_auto(CatalogCategories::Id))
                .col(string_len_uniq(CatalogCategories::Name, 80))
                .col(string_len_null(CatalogCategories::NameEn, 80))
                .col(integer_null(CatalogCategories::PcdbId).unique_key())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CatalogParts::Table)
                .col(big_pk_auto(CatalogParts::Id))
                .col(integer(CatalogParts::BrandId))
                .col(string_len(CatalogParts::Number, 64))
                .col(string_len(CatalogParts::NumberNorm, 64))
                .col(string_len(CatalogParts::Name, 200))
                .col(text_null(CatalogParts::Description))
                .col(integer_null(CatalogParts::CategoryId))
                .col(json_null(CatalogParts::Attributes))
                .col(string_len_null(CatalogParts::SatProductKey, 8))
                .col(string_len_null(CatalogParts::SatUnitKey, 3))
                .col(big_integer_null(CatalogParts::RetailPriceCents))
                .col(json_null(CatalogParts::ImageRefs))
                .col(timestamp_with_time_zone(CatalogParts::CreatedAt))
                .col(timestamp_with_time_zone(CatalogParts::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(CatalogParts::Table, CatalogParts::BrandId)
                        .to(CatalogBrands::Table, CatalogBrands::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(CatalogParts::Table, CatalogParts::CategoryId)
                        .to(CatalogCategories::Table, CatalogCategories::Id),
                )
                .index(
                    Index::create()
                        .unique()
                        .name("ux_catalog_parts_brand_number")
                        .col(CatalogParts::BrandId)
                        .col(CatalogParts::NumberNorm),
                )
                .to_owned(),
        )
        .await?;
        // A number typed at the counter is looked up without its brand.
        m.create_index(
            Index::create()
                .name("ix_catalog_parts_number_norm")
                .table(CatalogParts::Table)
                .col(CatalogParts::NumberNorm)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CatalogFitment::Table)
                .col(big_integer(CatalogFitment::PartId))
                .col(integer(CatalogFitment::VehicleId))
                // '' when the application names no position: part of the key, so not NULL.
                .col(string_len(CatalogFitment::Position, 32).default(""))
                .col(small_integer(CatalogFitment::Qty).default(1))
                .col(json_null(CatalogFitment::Qualifiers))
                .col(text_null(CatalogFitment::Note))
                .primary_key(
                    Index::create()
                        .col(CatalogFitment::PartId)
                        .col(CatalogFitment::VehicleId)
                        .col(CatalogFitment::Position),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(CatalogFitment::Table, CatalogFitment::PartId)
                        .to(CatalogParts::Table, CatalogParts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(CatalogFitment::Table, CatalogFitment::VehicleId)
                        .to(CatalogVehicles::Table, CatalogVehicles::Id),
                )
                .to_owned(),
        )
        .await?;
        // "What fits this car?" reads fitment by vehicle; the key serves "which cars does this
        // part fit?".
        m.create_index(
            Index::create()
                .name("ix_catalog_fitment_vehicle")
                .table(CatalogFitment::Table)
                .col(CatalogFitment::VehicleId)
                .col(CatalogFitment::PartId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CatalogInterchange::Table)
                .col(big_integer(CatalogInterchange::PartId))
                .col(string_len(CatalogInterchange::Kind, 16))
                .col(string_len(CatalogInterchange::Brand, 64))
                .col(string_len(CatalogInterchange::Number, 64))
                .col(string_len(CatalogInterchange::NumberNorm, 64))
                .primary_key(
                    Index::create()
                        .col(CatalogInterchange::PartId)
                        .col(CatalogInterchange::Kind)
                        .col(CatalogInterchange::NumberNorm),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(CatalogInterchange::Table, CatalogInterchange::PartId)
                        .to(CatalogParts::Table, CatalogParts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_catalog_interchange_number")
                .table(CatalogInterchange::Table)
                .col(CatalogInterchange::NumberNorm)
                .to_owned(),
        )
        .await?;
        // The catalog belongs to no tenant, so it has no tenant outbox: every write to a part,
        // its fitment or its numbers appends the part here in the same transaction, and the
        // search sync drains this log from its cursor.
        m.create_table(
            Table::create()
                .table(CatalogChanges::Table)
                .col(big_pk_auto(CatalogChanges::Seq))
                .col(big_integer(CatalogChanges::PartId))
                .col(timestamp_with_time_zone(CatalogChanges::ChangedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SearchSyncState::Table)
                .col(string_len(SearchSyncState::Name, 64).primary_key())
                .col(big_integer(SearchSyncState::LastSeq).default(0))
                .col(string_len_null(SearchSyncState::IndexUid, 128))
                .col(timestamp_with_time_zone(SearchSyncState::UpdatedAt))
                .to_owned(),
        )
        .await?;

        let db = m.get_connection();
        match m.get_database_backend() {
            DatabaseBackend::Sqlite => {
                // Contentless full-text index keyed by part id: `text` holds name, description,
                // brand and category, `numbers` every normalised number of the part, `filters`
                // one token per vehicle it fits (`v123`), its brand (`b4`) and category (`c7`),
                // so fitment, brand and category filters intersect inside FTS5 instead of
                // joining tens of thousands of text matches to the fitment table.
                db.execute_unprepared(
                    "CREATE VIRTUAL TABLE catalog_parts_fts USING fts5(\
                     text, numbers, filters, content='', contentless_delete=1, \
                     tokenize='unicode61 remove_diacritics 2', prefix='2 3 4')",
                )
                .await?;
            }
            DatabaseBackend::Postgres => {
                // Spanish stemming over unaccented text, trigrams for part numbers. Creating the
                // extensions needs a role allowed to (the database owner on PostgreSQL ≥ 13 for
                // these trusted ones).
                db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS unaccent")
                    .await?;
                db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                    .await?;
                db.execute_unprepared(
                    "CREATE TABLE catalog_search (\
                     part_id BIGINT PRIMARY KEY REFERENCES catalog_parts(id) ON DELETE CASCADE, \
                     doc TSVECTOR NOT NULL, numbers TEXT NOT NULL)",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE INDEX ix_catalog_search_doc ON catalog_search USING GIN (doc)",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE INDEX ix_catalog_search_numbers ON catalog_search \
                     USING GIN (numbers gin_trgm_ops)",
                )
                .await?;
            }
            _ => {}
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match m.get_database_backend() {
            DatabaseBackend::Sqlite => {
                db.execute_unprepared("DROP TABLE IF EXISTS catalog_parts_fts")
                    .await?;
            }
            DatabaseBackend::Postgres => {
                db.execute_unprepared("DROP TABLE IF EXISTS catalog_search")
                    .await?;
            }
            _ => {}
        }
        for t in [
            SearchSyncState::Table.into_iden(),
            CatalogChanges::Table.into_iden(),
            CatalogInterchange::Table.into_iden(),
            CatalogFitment::Table.into_iden(),
            CatalogParts::Table.into_iden(),
            CatalogCategories::Table.into_iden(),
            CatalogBrands::Table.into_iden(),
            CatalogVehicles::Table.into_iden(),
            CatalogModels::Table.into_iden(),
            CatalogMakes::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
