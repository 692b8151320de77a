//! A line of a quote.

use sea_orm::entity::prelude::*;

/// A row of `quote_lines`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "quote_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub quote_id: Uuid,
    pub warehouse_id: Uuid,
    pub line_no: i32,
    pub item_id: Uuid,
    pub sku: String,
    pub name: String,
    pub qty: i64,
    /// Unit price, IVA included.
    pub unit_price_cents: i64,
    /// Reference retail unit price.
    pub retail_unit_cents: i64,
    pub discount_cents: i64,
    pub base_cents: i64,
    pub tax_cents: i64,
    pub total_cents: i64,
    pub savings_cents: i64,
    /// IVA rate in basis points.
    pub iva_rate_bp: i32,
}

/// Relations of `quote_lines` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
