//! A sale that did not happen: what the customer asked for and why it was not sold.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// Why the sale was lost.
    pub enum Reason {
        /// Nothing available.
        NoStock = "no_stock",
        /// The customer refused the price.
        Price = "price",
        /// Anything else.
        Other = "other",
    }
}

/// A row of `lost_sales`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "lost_sales")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub item_id: Option<Uuid>,
    /// A catalog part the store does not stock.
    pub catalog_part_id: Option<i64>,
    pub warehouse_id: Option<Uuid>,
    pub branch_id: Option<Uuid>,
    pub qty: i64,
    pub reason: Reason,
    /// `manual`, `stock_lookup` or `cart`.
    pub source: String,
    pub customer_id: Option<Uuid>,
    pub note: Option<String>,
    pub recorded_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

/// Relations of `lost_sales` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
