//! A line of a sale, with its rounded amounts.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// What a sale line charges.
    pub enum Kind {
        /// A part from a warehouse.
        Part = "part",
        /// A labour operation of a service order (a service item, no stock).
        Labour = "labour",
        /// The refundable deposit for the old unit (casco) of the part line before it.
        Core = "core",
    }
}

/// A row of `sale_lines`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sale_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub sale_id: Uuid,
    /// Where the stock came from.
    pub warehouse_id: Uuid,
    pub line_no: i32,
    /// `part`, `labour` or `core`.
    pub kind: Kind,
    pub item_id: Uuid,
    /// SKU at the time.
    pub sku: String,
    /// Name at the time.
    pub name: String,
    pub qty: i64,
    /// Unit price, IVA included.
    pub unit_price_cents: i64,
    /// Reference retail unit price.
    pub retail_unit_cents: i64,
    /// Discount on the line.
    pub discount_cents: i64,
    pub base_cents: i64,
    pub tax_cents: i64,
    /// Line total (base + IVA).
    pub total_cents: i64,
    pub savings_cents: i64,
    /// IVA rate in basis points.
    pub iva_rate_bp: i32,
    /// Units returned so far.
    pub returned_qty: i64,
}

/// Relations of `sale_lines` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
