//! One step of a claim's history (append-only).

use sea_orm::entity::prelude::*;

/// A row of `warranty_claim_events`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "warranty_claim_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `customer` or `supplier`.
    pub claim_kind: String,
    pub claim_id: Uuid,
    pub from_status: Option<String>,
    pub to_status: String,
    pub note: Option<String>,
    pub actor: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

/// Relations of `warranty_claim_events` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
