//! A claim to a supplier for a part that failed under its warranty.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// The state of a supplier claim.
    pub enum Status {
        /// Being written.
        Draft = "draft",
        /// Sent to the supplier.
        Sent = "sent",
        /// The supplier accepted it.
        Accepted = "accepted",
        /// The supplier refused it.
        Rejected = "rejected",
        /// The supplier credited the money.
        Credited = "credited",
        /// The supplier sent a new unit.
        Replaced = "replaced",
    }
}

/// A row of `supplier_claims`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "supplier_claims")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `RP-000042`.
    pub folio: String,
    pub warranty_claim_id: Uuid,
    pub supplier_id: Uuid,
    pub item_id: Uuid,
    pub qty: i64,
    pub status: Status,
    /// MXN centavos.
    pub expected_credit_cents: i64,
    /// MXN centavos.
    pub credited_cents: i64,
    pub note: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of `supplier_claims` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
