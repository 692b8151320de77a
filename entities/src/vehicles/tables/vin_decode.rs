//! The shared cache of NHTSA vPIC decodes: one row per VIN, for every tenant (a VIN decodes the
//! same whoever asks).

use sea_orm::entity::prelude::*;

/// A cached decode.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "vin_decodes")]
pub struct Model {
    /// The normalised VIN.
    #[sea_orm(primary_key, auto_increment = false)]
    pub vin: String,
    /// `pending`, `done` or `unavailable` (see [`crate::vehicles::vin_decodes::status`]).
    pub status: String,
    /// The model year sent to vPIC with the VIN.
    pub model_year: Option<i32>,
    /// What vPIC said ([`crate::vehicles::vin_decodes::VpicData`] as JSON), when it said something.
    pub decoded: Option<Json>,
    /// When the decode was first (or last re-) requested.
    pub requested_at: DateTimeUtc,
    /// Last change.
    pub updated_at: DateTimeUtc,
    /// Calls made to vPIC for this VIN.
    pub attempts: i32,
    /// Why the last call failed, or why the decode is unavailable.
    pub last_error: Option<String>,
}

/// Relations of a cached decode.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
