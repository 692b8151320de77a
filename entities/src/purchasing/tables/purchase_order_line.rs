//! A line of a purchase order.

use sea_orm::entity::prelude::*;

/// A row of `purchase_order_lines`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "purchase_order_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub purchase_order_id: Uuid,
    /// Order of the lines on the document.
    pub position: i32,
    pub item_id: Uuid,
    pub supplier_sku: Option<String>,
    /// Units ordered.
    pub qty: i64,
    /// Units received so far.
    pub received_qty: i64,
    /// Units sent back to the supplier.
    pub returned_qty: i64,
    /// Minor units of the order's currency, before IVA.
    pub unit_cost_cents: i64,
    pub iva_rate_bp: i32,
    pub subtotal_cents: i64,
    pub tax_cents: i64,
    pub total_cents: i64,
    pub expected_on: Option<Date>,
    /// The customer's special order this line buys for.
    pub special_order_id: Option<Uuid>,
}

impl Model {
    /// Units still to arrive.
    #[must_use]
    pub const fn open_qty(&self) -> i64 {
        let open = self.qty - self.received_qty;
        if open > 0 { open } else { 0 }
    }
}

/// Relations of `purchase_order_lines` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
