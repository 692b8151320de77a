//! A vehicle the business knows: a customer's car, a fleet unit. Found again by plate or VIN.

use sea_orm::entity::prelude::*;

/// A registered vehicle.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_vehicles")]
pub struct Model {
    /// Vehicle id.
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
    /// Make as described.
    pub make: Option<String>,
    /// Model as described.
    pub model: Option<String>,
    /// Engine as described, e.g. `1.6L 4 cil`.
    pub engine: Option<String>,
    /// Free notes.
    pub notes: Option<String>,
    /// When it was registered.
    pub created_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
}

/// Relations of a registered vehicle.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
