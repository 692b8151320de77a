//! A fleet's driver.

use sea_orm::entity::prelude::*;

/// A row of `fleet_drivers`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fleet_drivers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_id: Uuid,
    pub name: String,
    pub phone: Option<String>,
    /// Driving licence number.
    pub license_no: Option<String>,
    pub license_expires_on: Option<Date>,
    pub is_active: bool,
    pub created_at: DateTimeUtc,
}

/// Relations of `fleet_drivers`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
