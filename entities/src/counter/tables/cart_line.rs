//! A line of a cart: an item from one warehouse.

use sea_orm::entity::prelude::*;

/// A row of `cart_lines`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cart_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub cart_id: Uuid,
    /// Order in the cart.
    pub position: i32,
    pub item_id: Uuid,
    /// Where it is taken from.
    pub warehouse_id: Uuid,
    pub qty: i64,
    /// Discount in basis points of the price.
    pub discount_bp: i32,
    pub created_at: DateTimeUtc,
}

/// Relations of `cart_lines` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
