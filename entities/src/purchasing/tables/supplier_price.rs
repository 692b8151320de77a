//! A supplier's price for an item at a break quantity, valid from a day (to a day).

use sea_orm::entity::prelude::*;

/// A row of `supplier_prices`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "supplier_prices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub supplier_id: Uuid,
    pub item_id: Uuid,
    /// The supplier's own code (`NoIdentificacion` on its CFDI).
    pub supplier_sku: Option<String>,
    /// The price applies from this many units.
    pub min_qty: i64,
    /// Minor units of `currency`, before IVA.
    pub price_cents: i64,
    pub currency: String,
    pub valid_from: Date,
    /// Last day it applies; none: until replaced.
    pub valid_to: Option<Date>,
    /// Overrides the supplier's lead time for this item.
    pub lead_days: Option<i32>,
    /// The supplier sells in packs of this many.
    pub pack_multiple: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of `supplier_prices` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
