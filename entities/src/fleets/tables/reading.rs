//! An odometer reading of a registered vehicle.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// What a reading is.
    pub enum Kind {
        /// An ordinary reading: never below the current one.
        Reading = "reading",
        /// The odometer rolled over (or was replaced): a new base, by a manager.
        Rollover = "rollover",
        /// A wrong reading corrected: a new base, by a manager.
        Correction = "correction",
    }
}

crate::text_enum! {
    /// Where a reading came from.
    pub enum Source {
        /// Typed in on the vehicle.
        Manual = "manual",
        /// A service order's reception.
        Reception = "reception",
        /// A counter sale for the vehicle.
        Sale = "sale",
        /// A fleet log (fuel, service, other cost).
        Log = "log",
    }
}

/// A row of `odometer_readings`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "odometer_readings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub vehicle_id: Uuid,
    pub km: i64,
    pub read_on: Date,
    pub kind: Kind,
    pub source: Source,
    /// The service order, sale or log it came with.
    pub source_id: Option<Uuid>,
    /// Below the current reading when a reception recorded it: kept for review, never current.
    pub flagged: bool,
    pub note: Option<String>,
    pub recorded_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

/// Relations of `odometer_readings`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
