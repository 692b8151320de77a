//! The business's fleet settings (one row, id 1).

use sea_orm::entity::prelude::*;

/// A row of `fleet_settings`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fleet_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub very_urgent_days: i32,
    pub very_urgent_km: i64,
    /// The warning window: a `maintenance_due` event is recorded from here on.
    pub urgent_days: i32,
    pub urgent_km: i64,
    /// `contract_expiring` this many days before a contract's end.
    pub contract_notice_days: i32,
    /// And again this many days before.
    pub contract_second_notice_days: i32,
    pub updated_at: DateTimeUtc,
}

/// Relations of `fleet_settings`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
