//! One vehicle on one plan: when the work was last done and when it is next due.

use sea_orm::entity::prelude::*;

/// A row of `vehicle_plan_states`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "vehicle_plan_states")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub vehicle_id: Uuid,
    pub plan_id: Uuid,
    /// The odometer base (none while the vehicle has no reading).
    pub last_done_km: Option<i64>,
    pub last_done_on: Date,
    pub next_due_km: Option<i64>,
    pub next_due_on: Option<Date>,
    /// The due point (`km|date`) whose `maintenance_due` event was recorded.
    pub notified_due: Option<String>,
    pub notified_on: Option<Date>,
    pub updated_at: DateTimeUtc,
}

/// Relations of `vehicle_plan_states`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
