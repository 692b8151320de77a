//! The append-only history of a service order: who did what, when, from which state to which.

use sea_orm::entity::prelude::*;

/// A row of `service_order_events`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_order_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: Uuid,
    /// `status`, `approval`, `supplement`, `line`, `assignment`, `labour`, `photo`, `reception`.
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub actor_id: Option<Uuid>,
    /// Who acted when it was not a user: the customer through the public link.
    pub actor_name: Option<String>,
    pub note: Option<String>,
    /// JSON with what changed.
    pub details: Option<String>,
    pub created_at: DateTimeUtc,
}

/// Relations of `service_order_events` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
