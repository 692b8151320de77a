//! Time a technician logged on a labour line.

use sea_orm::entity::prelude::*;

/// A row of `labour_entries`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "labour_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub order_id: Uuid,
    pub line_id: Uuid,
    pub technician_id: Uuid,
    pub minutes: i64,
    pub worked_on: Date,
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
}

/// Relations of `labour_entries` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
