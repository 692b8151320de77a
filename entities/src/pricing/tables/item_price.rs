//! A price of an item in a price list; `branch_id` nil is the list price, any other a branch's override.

use sea_orm::entity::prelude::*;

/// A row of `item_prices`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "item_prices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub item_id: Uuid,
    /// `mostrador`, `taller`, `flotilla` or `mayoreo`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub price_list: String,
    /// The branch, or nil for every branch.
    #[sea_orm(primary_key, auto_increment = false)]
    pub branch_id: Uuid,
    /// The price, tax included, in minor units of its currency.
    pub amount_minor: i64,
    /// `MXN` or `USD`.
    pub currency: String,
    pub updated_by: Option<Uuid>,
    pub updated_at: DateTimeUtc,
}

/// Relations of `item_prices` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
