//! A receipt: units of a purchase order that arrived at a warehouse together.

use sea_orm::entity::prelude::*;

/// A row of `purchase_receipts`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "purchase_receipts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub purchase_order_id: Uuid,
    /// 1, 2… within the order.
    pub number: i32,
    pub warehouse_id: Uuid,
    /// The supplier's CFDI it was received from.
    pub invoice_uuid: Option<String>,
    pub note: Option<String>,
    pub received_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

/// Relations of `purchase_receipts` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
