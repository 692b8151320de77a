//! The owner's purchasing settings: one row.

use sea_orm::entity::prelude::*;

/// The row of `purchasing_settings` (id 1).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "purchasing_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// Orders at or above this total (MXN centavos) need an owner's approval before sending.
    pub approval_threshold_cents: Option<i64>,
    /// How far a receipt may exceed the ordered quantity, basis points of it.
    pub over_receipt_tolerance_bp: i32,
    /// Weight of a lost unit against a sold one in the velocity, basis points.
    pub lost_sale_weight_bp: i32,
    /// Days of stock kept beyond the lead time (the min).
    pub safety_days: i32,
    /// Days between reviews (max − min).
    pub review_days: i32,
    /// A received special order not collected after this many days is reported.
    pub special_order_days: i32,
    pub updated_at: DateTimeUtc,
}

/// Relations of `purchasing_settings` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
