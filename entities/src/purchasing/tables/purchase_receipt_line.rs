//! Units of one order line in a receipt.

use sea_orm::entity::prelude::*;

/// A row of `purchase_receipt_lines`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "purchase_receipt_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub receipt_id: Uuid,
    pub line_id: Uuid,
    pub item_id: Uuid,
    pub qty: i64,
    /// MXN centavos a unit at the order's rate.
    pub unit_cost_mxn_cents: i64,
}

/// Relations of `purchase_receipt_lines` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
