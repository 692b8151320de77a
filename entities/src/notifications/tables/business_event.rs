//! Something that happened which someone may want to be told of (`po_received`,
//! `reorder_alert`…): recorded with the change, sent by the notifications area.

use sea_orm::entity::prelude::*;

/// A row of `business_events`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "business_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    pub ref_type: String,
    pub ref_id: String,
    pub payload: Json,
    /// When the notifications area dealt with it.
    pub handled_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

/// Relations of `business_events` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
