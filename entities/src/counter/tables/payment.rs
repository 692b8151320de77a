//! A payment of a sale.

use sea_orm::entity::prelude::*;

/// A row of `payments`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub sale_id: Uuid,
    /// `cash`, `card`, `transfer` or `usd_cash`.
    pub method: String,
    /// `MXN` or `USD`.
    pub currency: String,
    /// Amount tendered, in minor units of its currency.
    pub amount_minor: i64,
    /// The same in MXN centavos.
    pub amount_mxn_cents: i64,
    /// Rate used, in millionths (1 000 000 for MXN).
    pub exchange_rate_micros: i64,
    /// Card authorisation or transfer reference.
    pub reference: Option<String>,
    pub created_at: DateTimeUtc,
}

/// Relations of `payments` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
