//! WhatsApp: the business's line (Cloud API or the platform's bridge, with write-only secrets),
//! the numbers that wrote and when (the 24-hour window), and the webhook items already applied
//! (replays dropped).

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
                .table(a("whatsapp_settings"))
                .col(integer(a("id")).primary_key())
                // `cloud` (Meta's Cloud API with the business's number) or `bridge` (the
                // platform's WhatsApp Web bridge).
                .col(string_len(a("transport"), 16))
                .col(string_len_null(a("phone_number_id"), 32))
                // Write-only secrets: the system-user token and the app secret that signs
                // webhooks.
                .col(string_len_null(a("access_token"), 512))
                .col(string_len_null(a("app_secret"), 128))
                .col(string_len_null(a("verify_token"), 128))
                .col(uuid_null(a("updated_by")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("whatsapp_contacts"))
                // Canonical E.164 (`+52` and ten digits for Mexico).
                .col(string_len(a("phone"), 20).primary_key())
                // The form WhatsApp knows the number by (`521…` for many Mexican mobiles).
                .col(string_len(a("wa_id"), 20))
                .col(string_len_null(a("profile_name"), 120))
                // The customer's last message: free text may be sent for 24 hours after it.
                .col(timestamp_with_time_zone(a("last_inbound_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("whatsapp_webhook_events"))
                // `status:<wamid>:<status>` or `message:<wamid>`: a replay is dropped.
                .col(string_len(a("key"), 200).primary_key())
                .col(timestamp_with_time_zone(a("received_at")))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "whatsapp_webhook_events",
            "whatsapp_contacts",
            "whatsapp_settings",
        ] {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        Ok(())
    }
}
