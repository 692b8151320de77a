//! A fleet unit: a registered vehicle (`customer_vehicles`) of the fleet's customer.

use sea_orm::entity::prelude::*;

/// A row of `fleet_vehicles`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fleet_vehicles")]
pub struct Model {
    /// The registered vehicle's id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub vehicle_id: Uuid,
    pub customer_id: Uuid,
    /// The fleet's unit number (número económico).
    pub unit_no: Option<String>,
    pub driver_id: Option<Uuid>,
    pub cost_centre_id: Option<Uuid>,
    pub is_active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of `fleet_vehicles`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
