//! A line of a service order: a part from a warehouse or a labour operation.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// What a line charges.
    pub enum Kind {
        /// A part, held in stock at approval and taken at `ready`.
        Part = "part",
        /// Labour: a service item, hours × rate or a flat price.
        Labour = "labour",
    }
}

crate::text_enum! {
    /// Where a line stands in the customer's approval.
    pub enum LineStatus {
        /// In a budget or supplement not answered yet.
        Proposed = "proposed",
        /// Approved by the customer.
        Approved = "approved",
        /// Declined by the customer.
        Declined = "declined",
        /// Taken off before approval.
        Removed = "removed",
    }
}

/// A row of `service_order_lines`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_order_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub order_id: Uuid,
    pub line_no: i32,
    pub kind: Kind,
    /// The part, or the labour operation (a service item).
    pub item_id: Uuid,
    pub sku: String,
    pub name: String,
    /// Where a part is held and taken from.
    pub warehouse_id: Option<Uuid>,
    /// Units of a part; 1 for labour.
    pub qty: i64,
    /// Labour by the hour: hours in hundredths and the hourly rate, IVA included.
    pub hours_hundredths: Option<i64>,
    pub rate_cents: Option<i64>,
    pub technician_id: Option<Uuid>,
    /// Revision and diagnosis: charged even when the budget is declined (PROFECO's form).
    pub is_diagnosis: bool,
    /// Unit price, IVA included.
    pub unit_price_cents: i64,
    pub retail_unit_cents: i64,
    pub discount_bp: i32,
    pub discount_cents: i64,
    pub base_cents: i64,
    pub tax_cents: i64,
    pub total_cents: i64,
    pub iva_rate_bp: i32,
    /// 0: the first budget; n: the n-th supplement.
    pub version: i32,
    pub status: LineStatus,
    /// Units held in stock for the order.
    pub reserved_qty: i64,
    /// Units taken from stock at `ready`.
    pub used_qty: i64,
    /// Units held and not used, given back to the stock at `ready`.
    pub returned_qty: i64,
    pub created_at: DateTimeUtc,
}

/// Relations of `service_order_lines` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
