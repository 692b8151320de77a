//! A return to a supplier (RMA out): stock leaves through the ledger, a credit is expected.

use sea_orm::entity::prelude::*;

/// A row of `supplier_returns`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "supplier_returns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `DP-000042`.
    pub folio: String,
    pub supplier_id: Uuid,
    pub purchase_order_id: Option<Uuid>,
    pub warehouse_id: Uuid,
    pub reason: String,
    /// MXN centavos the supplier should credit.
    pub expected_credit_cents: i64,
    /// `pending` or `credited`.
    pub status: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

/// Relations of `supplier_returns` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
