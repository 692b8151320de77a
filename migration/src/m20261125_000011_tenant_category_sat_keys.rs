//! Default SAT keys per part type: the ClaveProdServ and ClaveUnidad an invoice line takes when
//! neither its item nor its catalog part names one, keyed by the shared catalog's category.

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
                .table(a("category_sat_keys"))
                // `catalog_categories.id` of the platform database (no foreign key across
                // databases; the API checks the category exists).
                .col(integer(a("category_id")).primary_key())
                .col(string_len_null(a("product_key"), 8))
                .col(string_len_null(a("unit_key"), 3))
                .col(uuid_null(a("updated_by")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(a("category_sat_keys")).to_owned())
            .await
    }
}
