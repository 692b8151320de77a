//! CFDI invoicing: the business's fiscal settings (one row), invoices with the idempotency key of
//! each attempt, and the Facturapi webhook events already seen.

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
                .table(a("fiscal_settings"))
                .col(integer(a("id")).primary_key())
                .col(string_len(a("issuer_rfc"), 13))
                .col(string(a("legal_name")))
                .col(string_len(a("tax_regime"), 3))
                .col(string_len(a("invoice_series"), 25))
                .col(string_len(a("credit_note_series"), 25))
                .col(string_len(a("payment_series"), 25))
                // Write-only through the API: never returned, never logged.
                .col(text_null(a("facturapi_key")))
                .col(text_null(a("webhook_secret")))
                .col(string_len(a("default_product_key"), 8))
                .col(string_len(a("default_unit_key"), 3))
                .col(uuid_null(a("updated_by")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("invoices"))
                .col(uuid(a("id")).primary_key())
                .col(string_len(a("kind"), 1))
                .col(uuid_null(a("sale_id")))
                // `<sale>:<kind>` while the invoice stands; cleared when it is cancelled, so a
                // substitute can be issued for the same sale.
                .col(string_len_null(a("active_key"), 64))
                .col(uuid_null(a("customer_id")))
                .col(string_len(a("status"), 16))
                .col(string_len(a("cancellation_status"), 16))
                .col(string_len_null(a("cancellation_motive"), 2))
                .col(string_len_null(a("substitution_uuid"), 36))
                .col(string_len_null(a("facturapi_id"), 64))
                .col(string_len_null(a("uuid"), 36))
                .col(string_len_null(a("series"), 25))
                .col(big_integer_null(a("folio_number")))
                .col(string_len(a("receiver_rfc"), 13))
                .col(string(a("receiver_name")))
                .col(string_len(a("cfdi_use"), 4))
                .col(string_len(a("payment_form"), 2))
                .col(string_len(a("payment_method"), 3))
                .col(big_integer(a("total_cents")))
                .col(big_integer(a("tax_cents")))
                // The exact body of the attempt: a retry sends the same body with the same key.
                .col(json(a("request")))
                .col(integer(a("generation")).default(0))
                .col(string_len(a("idempotency_key"), 100))
                .col(integer(a("calls")).default(0))
                .col(text_null(a("failure_reason")))
                .col(string_len_null(a("failure_code"), 64))
                .col(timestamp_with_time_zone_null(a("stamped_at")))
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        // One standing invoice per sale and kind: a second request finds the first.
        m.create_index(
            Index::create()
                .name("ux_invoices_active")
                .table(a("invoices"))
                .col(a("active_key"))
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_invoices_sale")
                .table(a("invoices"))
                .col(a("sale_id"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_invoices_status")
                .table(a("invoices"))
                .col(a("status"))
                .col(a("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("webhook_events"))
                .col(string_len(a("provider"), 16))
                .col(string_len(a("event_id"), 100))
                .col(string_len(a("kind"), 64))
                .col(timestamp_with_time_zone(a("received_at")))
                .primary_key(Index::create().col(a("provider")).col(a("event_id")))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["webhook_events", "invoices", "fiscal_settings"] {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        Ok(())
    }
}
