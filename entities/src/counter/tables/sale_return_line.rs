//! A line of a return.

use sea_orm::entity::prelude::*;

/// A row of `sale_return_lines`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sale_return_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub return_id: Uuid,
    pub sale_line_id: i64,
    pub qty: i64,
    /// Refund of the line.
    pub refund_cents: i64,
}

/// Relations of `sale_return_lines` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
