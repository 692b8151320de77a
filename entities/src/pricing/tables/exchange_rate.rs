//! An exchange rate set by an admin; the latest per currency is in force.

use sea_orm::entity::prelude::*;

/// A row of `exchange_rates`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "exchange_rates")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The foreign currency (`USD`).
    pub currency: String,
    /// MXN per unit, in millionths.
    pub rate_micros: i64,
    pub note: Option<String>,
    pub set_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

/// Relations of `exchange_rates` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
