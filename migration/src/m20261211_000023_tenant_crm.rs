//! The CRM around the customer record: free tags, manual activities and tasks, saved segments,
//! the loyalty programme (settings, a points ledger whose earning rows are lots that expire,
//! tier changes) and the nightly per-customer analytics.

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

async fn add(m: &SchemaManager<'_>, table: &str, col: &mut ColumnDef) -> Result<(), DbErr> {
    // One column per statement: SQLite's ALTER TABLE adds one at a time.
    m.alter_table(Table::alter().table(a(table)).add_column(col).to_owned())
        .await
}

const TABLES: [&str; 7] = [
    "customer_tags",
    "customer_activities",
    "customer_segments",
    "loyalty_settings",
    "loyalty_entries",
    "loyalty_tier_changes",
    "customer_stats",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    #[allow(clippy::too_many_lines)]
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Redeemable points, in MXN centavos of value: changed only with a ledger row, by a
        // conditional update, like the account's balance.
        add(
            m,
            "customers",
            big_integer(a("loyalty_points_cents")).default(0),
        )
        .await?;
        add(
            m,
            "customers",
            string_len(a("loyalty_tier"), 16).default("bronze"),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("customer_tags"))
                .col(uuid(a("customer_id")))
                // As written the first time, and folded (lower case, no accents) for matching.
                .col(string_len(a("tag"), 40))
                .col(string_len(a("tag_key"), 40))
                .col(timestamp_with_time_zone(a("created_at")))
                .primary_key(Index::create().col(a("customer_id")).col(a("tag_key")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "customer_tags_by_key",
            "customer_tags",
            &["tag_key"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("customer_activities"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("customer_id")))
                // `call`, `visit`, `note` or `task`.
                .col(string_len(a("kind"), 16))
                .col(string_len(a("subject"), 200))
                .col(text_null(a("body")))
                // Tasks: when, who, and when it was done.
                .col(date_null(a("due_on")))
                .col(uuid_null(a("owner_id")))
                .col(timestamp_with_time_zone_null(a("done_at")))
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "customer_activities_by_customer",
            "customer_activities",
            &["customer_id", "created_at"],
            false,
        )
        .await?;
        index(
            m,
            "customer_activities_by_owner_due",
            "customer_activities",
            &["owner_id", "due_on"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("customer_segments"))
                .col(uuid(a("id")).primary_key())
                .col(string_len(a("name"), 80))
                .col(string_len(a("name_key"), 80))
                // The rules, as validated (`customers::segments::Rules`).
                .col(json(a("rules")))
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "customer_segments_name",
            "customer_segments",
            &["name_key"],
            true,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("loyalty_settings"))
                .col(integer(a("id")).primary_key())
                .col(boolean(a("enabled")))
                // Spend over the last 12 months from which each tier starts, MXN centavos.
                .col(big_integer(a("silver_from_cents")))
                .col(big_integer(a("gold_from_cents")))
                .col(big_integer(a("platinum_from_cents")))
                // Points earned per tier, basis points of the paid amount.
                .col(integer(a("bronze_bp")))
                .col(integer(a("silver_bp")))
                .col(integer(a("gold_bp")))
                .col(integer(a("platinum_bp")))
                .col(integer(a("expiry_months")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("loyalty_entries"))
                .col(big_pk_auto(a("id")))
                .col(uuid(a("customer_id")))
                // `earn`, `redeem`, `reverse`, `expire` or `adjust`.
                .col(string_len(a("kind"), 16))
                // Signed: earnings add, the rest take away.
                .col(big_integer(a("points_cents")))
                // An earning is a lot: what is left of it to spend or expire (FIFO).
                .col(big_integer(a("remaining_cents")).default(0))
                .col(date_null(a("expires_on")))
                .col(uuid_null(a("sale_id")))
                // What the row answers for (`sale:<id>`, `return:<id>`, `allocation:<id>`):
                // unique per kind, so a retried request never earns or takes twice.
                .col(string_len_null(a("ref_key"), 80))
                .col(uuid_null(a("actor_id")))
                .col(string_len_null(a("note"), 200))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "loyalty_entries_by_customer",
            "loyalty_entries",
            &["customer_id", "id"],
            false,
        )
        .await?;
        index(
            m,
            "loyalty_entries_once",
            "loyalty_entries",
            &["kind", "ref_key"],
            true,
        )
        .await?;
        index(
            m,
            "loyalty_entries_lots",
            "loyalty_entries",
            &["expires_on", "remaining_cents"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("loyalty_tier_changes"))
                .col(big_pk_auto(a("id")))
                .col(uuid(a("customer_id")))
                .col(string_len(a("from_tier"), 16))
                .col(string_len(a("to_tier"), 16))
                .col(big_integer(a("spend_cents")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "loyalty_tier_changes_by_customer",
            "loyalty_tier_changes",
            &["customer_id", "id"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("customer_stats"))
                .col(uuid(a("customer_id")).primary_key())
                .col(big_integer(a("lifetime_cents")))
                .col(big_integer(a("spend_12m_cents")))
                .col(integer(a("orders")))
                .col(big_integer(a("avg_ticket_cents")))
                .col(timestamp_with_time_zone_null(a("first_purchase_at")))
                .col(timestamp_with_time_zone_null(a("last_purchase_at")))
                .col(integer_null(a("days_since_last")))
                // Mean days between purchases; none before a second purchase.
                .col(integer_null(a("avg_interval_days")))
                // `new`, `active`, `at_risk`, `churning` or `lost` (docs/customers.md).
                .col(string_len(a("churn_risk"), 16))
                .col(json(a("top_categories")))
                .col(json(a("top_brands")))
                .col(timestamp_with_time_zone(a("computed_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "customer_stats_by_risk",
            "customer_stats",
            &["churn_risk"],
            false,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in TABLES.iter().rev() {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        for col in ["loyalty_tier", "loyalty_points_cents"] {
            m.alter_table(
                Table::alter()
                    .table(a("customers"))
                    .drop_column(a(col))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
