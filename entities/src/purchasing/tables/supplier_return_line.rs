//! Units of an item in a return to a supplier.

use sea_orm::entity::prelude::*;

/// A row of `supplier_return_lines`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "supplier_return_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub return_id: Uuid,
    pub item_id: Uuid,
    /// The order line the units came on, when known.
    pub line_id: Option<Uuid>,
    pub qty: i64,
    /// MXN centavos a unit the credit is computed at.
    pub unit_cost_cents: i64,
}

/// Relations of `supplier_return_lines` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
