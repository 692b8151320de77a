//! A vehicle the business knows: a customer's car, a fleet unit. Found again by plate or VIN.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_vehicles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Normalised plate (`ABC123A`), unique in the tenant.
    #[sea_orm(unique)]
    pub plate: Option<String>,
    /// Normalised VIN, unique in the tenant.
    #[sea_orm(unique)]
    pub vin: Option<String>,
    /// A vehicle (year, make, model, engine) of the shared catalog in the platform database.
    pub catalog_vehicle_id: Option<i64>,
    /// The owner, once customers exist.
    pub customer_id: Option<Uuid>,
    /// Model year as described.
    pub year: Option<i32>,
    pub make: Option<String>,
    pub model: Option<String>,
    /// Engine as described, e.g. `1.6L 4 cil`.
    pub engine: Option<String>,
    pub notes: Option<String>,
    /// When it was registered.
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
