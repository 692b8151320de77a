//! A quote (cotización) with a public read-only link.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// The state of a quote.
    pub enum Status {
        /// Can be converted.
        Open = "open",
        /// Became a sale.
        Converted = "converted",
        /// Withdrawn.
        Cancelled = "cancelled",
        /// Open, but past `valid_until` (never stored).
        Expired = "expired",
    }
}

/// A row of `quotes`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "quotes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Folio, e.g. `COT-000042`.
    pub folio: String,
    /// Unguessable token of the public link.
    pub token: String,
    pub branch_id: Uuid,
    pub customer_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    /// `open`, `converted` or `cancelled` (expiry is read from `valid_until`).
    pub status: Status,
    pub price_list: String,
    pub exchange_rate_micros: i64,
    /// Prices honoured until then.
    pub valid_until: DateTimeUtc,
    pub subtotal_cents: i64,
    pub discount_cents: i64,
    pub tax_cents: i64,
    pub total_cents: i64,
    /// At reference retail prices.
    pub retail_total_cents: i64,
    pub savings_cents: i64,
    pub note: Option<String>,
    /// The sale it became.
    pub sale_id: Option<Uuid>,
    /// When it was last queued to be sent; whether it arrived is its message's status. The
    /// column keeps its first name.
    #[sea_orm(column_name = "sent_at")]
    pub queued_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of `quotes` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
