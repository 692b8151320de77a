//! The shared cache of NHTSA vPIC decodes: one row per VIN, for every tenant (a VIN decodes the
//! same whoever asks).

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// The state of a cached decode.
    pub enum Status {
        /// Asked for; the enrichment job has not answered yet.
        Pending = "pending",
        /// vPIC answered with useful data.
        Done = "done",
        /// vPIC had nothing useful, or kept failing; the reason is in `last_error`.
        Unavailable = "unavailable",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "vin_decodes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub vin: String,
    /// `pending`, `done` or `unavailable` (see [`crate::vehicles::vin_decodes::status`]).
    pub status: Status,
    /// The model year sent to vPIC with the VIN.
    pub model_year: Option<i32>,
    /// What vPIC said ([`crate::vehicles::vin_decodes::VpicData`] as JSON), when it said something.
    pub decoded: Option<Json>,
    /// When the decode was first (or last re-) requested.
    pub requested_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Calls made to vPIC for this VIN.
    pub attempts: i32,
    /// Why the last call failed, or why the decode is unavailable.
    pub last_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
