//! Notifications: templates per event, channel and locale (versioned overrides of the platform's
//! defaults), who is told of each event, customers' channel preferences, the business's sender
//! and quiet hours, and the delivery columns of every message (rendered text, provider id,
//! state timestamps, the in-app reader).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn a(name: &str) -> Alias {
    Alias::new(name)
}

async fn index(
    m: &SchemaManager<'_>,
    name: &str,
    table: &str,
    cols: &[&str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut i = Index::create();
    i.name(name).table(a(table));
    for c in cols {
        i.col(a(c));
    }
    if unique {
        i.unique();
    }
    m.create_index(i.to_owned()).await
}

/// The columns added to `notifications`, one `ALTER` each (SQLite takes one at a time).
fn message_columns() -> Vec<ColumnDef> {
    vec![
        // The business event it was made for; `NULL` for messages sent by hand (a quote).
        big_integer_null(a("event_id")),
        string_len_null(a("event"), 48),
        // The staff member it is for (in-app, push and staff e-mail).
        uuid_null(a("user_id")),
        uuid_null(a("customer_id")),
        string_len(a("locale"), 8).default("es-MX").to_owned(),
        // What was rendered for it, kept as sent.
        text_null(a("subject")),
        text_null(a("body")),
        text_null(a("html")),
        string_len_null(a("provider_id"), 128),
        // The provider's pricing category (WhatsApp: `utility`, `marketing`…).
        string_len_null(a("cost_category"), 32),
        timestamp_with_time_zone_null(a("sent_at")),
        timestamp_with_time_zone_null(a("delivered_at")),
        timestamp_with_time_zone_null(a("read_at")),
        timestamp_with_time_zone_null(a("failed_at")),
        // When the send job may run (quiet hours put staff alerts off until morning).
        timestamp_with_time_zone_null(a("not_before")),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for mut c in message_columns() {
            m.alter_table(
                Table::alter()
                    .table(a("notifications"))
                    .add_column(&mut c)
                    .to_owned(),
            )
            .await?;
        }
        // One message per event, channel and recipient, however often the dispatch runs.
        index(
            m,
            "notifications_once_per_event",
            "notifications",
            &["event_id", "channel", "recipient"],
            true,
        )
        .await?;
        index(
            m,
            "notifications_inbox",
            "notifications",
            &["user_id", "channel", "created_at"],
            false,
        )
        .await?;
        index(
            m,
            "notifications_log",
            "notifications",
            &["created_at"],
            false,
        )
        .await?;
        index(
            m,
            "notifications_by_provider_id",
            "notifications",
            &["provider_id"],
            false,
        )
        .await?;
        index(
            m,
            "business_events_pending",
            "business_events",
            &["handled_at", "id"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("notification_templates"))
                .col(uuid(a("id")).primary_key())
                .col(string_len(a("event"), 48))
                // `email`, `whatsapp`, `push` or `in_app`.
                .col(string_len(a("channel"), 16))
                .col(string_len(a("locale"), 8))
                .col(integer(a("version")))
                .col(text_null(a("subject")))
                .col(text(a("body")))
                // The e-mail's HTML part (escaped on render).
                .col(text_null(a("html")))
                // A Meta-approved template's name and language, and one expression per
                // `{{n}}` parameter of its body.
                .col(string_len_null(a("wa_template"), 512))
                .col(string_len_null(a("wa_language"), 16))
                .col(json_null(a("wa_params")))
                // Set when the business went back to the platform's default.
                .col(timestamp_with_time_zone_null(a("retired_at")))
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "notification_templates_version",
            "notification_templates",
            &["event", "channel", "locale", "version"],
            true,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("notification_rules"))
                .col(string_len(a("event"), 48).primary_key())
                .col(boolean(a("enabled")))
                // Channels the customer of the event is told on (`[]`: not told).
                .col(json(a("customer_channels")))
                // Staff roles told of it (of the event's branch when it has one), specific
                // users, and the channels staff are told on.
                .col(json(a("staff_roles")))
                .col(json(a("user_ids")))
                .col(json(a("staff_channels")))
                .col(uuid_null(a("updated_by")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("notification_settings"))
                .col(integer(a("id")).primary_key())
                .col(string_len_null(a("email_from_name"), 120))
                .col(string_len_null(a("email_reply_to"), 254))
                // Staff alerts (not in-app) wait out these hours, local time, "HH:MM".
                .col(string_len_null(a("quiet_from"), 5))
                .col(string_len_null(a("quiet_to"), 5))
                .col(string_len(a("locale"), 8))
                .col(uuid_null(a("updated_by")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("contact_preferences"))
                .col(uuid(a("customer_id")).primary_key())
                // Transactional messages (their quote, their order) and marketing (campaigns)
                // are consented apart, per channel.
                .col(boolean(a("email_transactional")))
                .col(boolean(a("email_marketing")))
                .col(boolean(a("whatsapp_transactional")))
                .col(boolean(a("whatsapp_marketing")))
                .col(uuid_null(a("updated_by")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "contact_preferences",
            "notification_settings",
            "notification_rules",
            "notification_templates",
        ] {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        for (name, table) in [
            ("business_events_pending", "business_events"),
            ("notifications_by_provider_id", "notifications"),
            ("notifications_log", "notifications"),
            ("notifications_inbox", "notifications"),
            ("notifications_once_per_event", "notifications"),
        ] {
            m.drop_index(Index::drop().name(name).table(a(table)).to_owned())
                .await?;
        }
        for c in message_columns() {
            m.alter_table(
                Table::alter()
                    .table(a("notifications"))
                    .drop_column(Alias::new(c.get_column_name()))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
