//! The warranty of a sold or installed line: a copy of its policy on that day.

use sea_orm::entity::prelude::*;

use super::policy::{Coverage, StartsOn};

/// A row of `warranties`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "warranties")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub sale_id: Uuid,
    pub sale_line_no: i32,
    pub item_id: Uuid,
    pub qty: i64,
    /// IVA included, MXN centavos.
    pub unit_price_cents: i64,
    pub customer_id: Option<Uuid>,
    pub vehicle_id: Option<Uuid>,
    pub odometer_at_install: Option<i64>,
    pub service_order_id: Option<Uuid>,
    /// The policy it was copied from.
    pub policy_id: Option<Uuid>,
    pub months: i32,
    pub km: Option<i64>,
    pub coverage: Coverage,
    pub starts_on: StartsOn,
    pub supplier_months: Option<i32>,
    pub supplier_km: Option<i64>,
    pub terms: Option<String>,
    /// The supplier of the item's last receipt before the sale.
    pub supplier_id: Option<Uuid>,
    pub starts_at: Date,
    /// The last day covered.
    pub expires_on: Date,
    /// When the `warranty_expiring` event was recorded.
    pub expiring_notified_on: Option<Date>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

/// Relations of `warranties` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
