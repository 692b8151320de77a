//! A fleet's cost centre (a route, a branch of the fleet's business): what its costs are
//! grouped by.

use sea_orm::entity::prelude::*;

/// A row of `fleet_cost_centres`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fleet_cost_centres")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_id: Uuid,
    /// Upper case, unique in the fleet.
    pub code: String,
    pub name: String,
    pub created_at: DateTimeUtc,
}

/// Relations of `fleet_cost_centres`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
