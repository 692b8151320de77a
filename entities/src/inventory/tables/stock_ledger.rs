//! One stock movement: append-only, the source of truth of every balance.

use sea_orm::entity::prelude::*;

/// A row of `stock_ledger`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stock_ledger")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub item_id: Uuid,
    pub warehouse_id: Uuid,
    pub branch_id: Uuid,
    /// Units in (positive) or out (negative).
    pub delta: i64,
    /// The balance after this movement.
    pub balance_after: i64,
    /// Why: `sale`, `return`, `cancellation`, `adjustment`, `count`, `transfer_out`, `transfer_in`, `transfer_cancel`.
    pub reason: String,
    /// The document kind behind it (`sale`, `transfer`, `adjustment`…).
    pub ref_type: String,
    /// The document's id (with a receipt number for partial receipts).
    pub ref_id: String,
    pub note: Option<String>,
    pub actor_user_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

/// Relations of `stock_ledger` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
