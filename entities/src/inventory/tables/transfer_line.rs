//! An item of a transfer with its requested, shipped and received quantities.

use sea_orm::entity::prelude::*;

/// A row of `transfer_lines`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "transfer_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub transfer_id: Uuid,
    pub item_id: Uuid,
    pub qty_requested: i64,
    pub qty_shipped: i64,
    pub qty_received: i64,
}

/// Relations of `transfer_lines` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
