//! A cost of a fleet unit: a service, fuel, or another cost.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// What a log records.
    pub enum Kind {
        /// Maintenance or repair (a delivered service order writes one).
        Service = "service",
        /// A fuel load.
        Fuel = "fuel",
        /// Anything else: tolls, washing, fines.
        Other = "other",
    }
}

/// A row of `fleet_logs`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fleet_logs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub vehicle_id: Uuid,
    pub customer_id: Uuid,
    pub kind: Kind,
    pub spent_on: Date,
    /// IVA included, MXN centavos.
    pub amount_cents: i64,
    pub odometer_km: Option<i64>,
    /// Fuel in millilitres.
    pub fuel_ml: Option<i64>,
    pub description: Option<String>,
    /// The delivered service order it came from.
    pub service_order_id: Option<Uuid>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

/// Relations of `fleet_logs`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
