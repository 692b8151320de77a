//! A quote (cotización) with a public read-only link.

use sea_orm::entity::prelude::*;

/// A row of `quotes`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "quotes")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Folio, e.g. `COT-000042`.
    pub folio: String,
    /// Unguessable token of the public link.
    pub token: String,
    /// Branch.
    pub branch_id: Uuid,
    /// Customer.
    pub customer_id: Option<Uuid>,
    /// Who made it.
    pub created_by: Option<Uuid>,
    /// `open`, `converted` or `cancelled` (expiry is read from `valid_until`).
    pub status: String,
    /// Price list used.
    pub price_list: String,
    /// Rate in force.
    pub exchange_rate_micros: i64,
    /// Prices honoured until then.
    pub valid_until: DateTimeUtc,
    /// Sum of bases.
    pub subtotal_cents: i64,
    /// Sum of discounts.
    pub discount_cents: i64,
    /// Sum of IVA.
    pub tax_cents: i64,
    /// Sum of totals.
    pub total_cents: i64,
    /// At reference retail prices.
    pub retail_total_cents: i64,
    /// Sum of savings.
    pub savings_cents: i64,
    /// Note.
    pub note: Option<String>,
    /// The sale it became.
    pub sale_id: Option<Uuid>,
    /// When it was last sent.
    pub sent_at: Option<DateTimeUtc>,
    /// Created.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// Relations of `quotes` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
