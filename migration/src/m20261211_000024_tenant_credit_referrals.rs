//! Credit from behaviour (suggestions a manager accepts, edits or dismisses) and referrals
//! (embajadores): each customer's referral code, the referrals with their one reward, and the
//! business's referral rules.

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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(a("customers"))
                .add_column(string_len_null(a("referral_code"), 12))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "customers_referral_code",
            "customers",
            &["referral_code"],
            true,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("credit_reviews"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("customer_id")))
                .col(big_integer(a("current_limit_cents")))
                .col(big_integer(a("suggested_limit_cents")))
                .col(integer(a("suggested_terms_days")))
                // The figures the suggestion came from, kept as they were.
                .col(integer_null(a("on_time_bp")))
                .col(integer_null(a("avg_days_late")))
                .col(big_integer(a("volume_12m_cents")))
                .col(integer(a("tenure_days")))
                .col(json(a("reasons")))
                // `pending`, `accepted`, `edited` or `dismissed`.
                .col(string_len(a("status"), 16))
                .col(big_integer_null(a("applied_limit_cents")))
                .col(uuid_null(a("decided_by")))
                .col(timestamp_with_time_zone_null(a("decided_at")))
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "credit_reviews_by_customer",
            "credit_reviews",
            &["customer_id", "created_at"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("referral_settings"))
                .col(integer(a("id")).primary_key())
                .col(boolean(a("enabled")))
                // `points` or `store_credit`.
                .col(string_len(a("reward_kind"), 16))
                .col(big_integer(a("reward_cents")))
                // The referred customer's first sale must pay at least this to count.
                .col(big_integer(a("min_sale_cents")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("referrals"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("ambassador_id")))
                .col(uuid(a("referred_id")))
                .col(string_len(a("code"), 12))
                // `pending` (no qualifying sale yet) or `rewarded`.
                .col(string_len(a("status"), 16))
                .col(string_len_null(a("reward_kind"), 16))
                .col(big_integer(a("reward_cents")).default(0))
                .col(uuid_null(a("sale_id")))
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone_null(a("rewarded_at")))
                .to_owned(),
        )
        .await?;
        // A customer is referred once: the reward can only be paid once per referred customer.
        index(m, "referrals_referred", "referrals", &["referred_id"], true).await?;
        index(
            m,
            "referrals_by_ambassador",
            "referrals",
            &["ambassador_id", "created_at"],
            false,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["referrals", "referral_settings", "credit_reviews"] {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        m.drop_index(
            Index::drop()
                .name("customers_referral_code")
                .table(a("customers"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(a("customers"))
                .drop_column(a("referral_code"))
                .to_owned(),
        )
        .await
    }
}
