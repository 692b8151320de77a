//! A maintenance plan: a service every N km and/or M months, whichever comes first, of one
//! vehicle or of every fleet unit of a make and model.

use sea_orm::entity::prelude::*;

/// A row of `maintenance_plans`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "maintenance_plans")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `Cambio de aceite y filtro`.
    pub name: String,
    /// One vehicle's plan (or `make` and `model`).
    pub vehicle_id: Option<Uuid>,
    pub make: Option<String>,
    pub model: Option<String>,
    /// Lower case: what vehicles' make and model are matched on.
    pub make_key: Option<String>,
    pub model_key: Option<String>,
    /// The service item whose delivery in a service order does the plan's work.
    pub item_id: Option<Uuid>,
    pub interval_km: Option<i64>,
    pub interval_months: Option<i32>,
    /// The plan's own warning window, in place of the business's `urgent` one.
    pub warn_km: Option<i64>,
    pub warn_days: Option<i32>,
    pub is_active: bool,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of `maintenance_plans`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
