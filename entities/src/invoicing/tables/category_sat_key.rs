//! The default SAT keys of one part type (a category of the shared catalog).

use sea_orm::entity::prelude::*;

/// A row of `category_sat_keys`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "category_sat_keys")]
pub struct Model {
    /// `catalog_categories.id` in the platform database.
    #[sea_orm(primary_key, auto_increment = false)]
    pub category_id: i32,
    /// ClaveProdServ for this part type; `None` leaves it to the next default.
    pub product_key: Option<String>,
    /// ClaveUnidad for this part type; `None` leaves it to the next default.
    pub unit_key: Option<String>,
    /// Who set it last.
    pub updated_by: Option<Uuid>,
    pub updated_at: DateTimeUtc,
}

/// Relations of `category_sat_keys` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
