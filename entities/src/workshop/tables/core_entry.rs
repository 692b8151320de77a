//! The core ledger: deposits taken, old units returned, refunds, and cores sent to suppliers
//! and credited, per customer and per supplier.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// What a core-ledger row records.
    pub enum Kind {
        /// A sale charged the deposit of `qty` cores (customer side).
        Deposit = "deposit",
        /// The customer brought back `qty` usable old units; `amount` was refunded.
        Returned = "returned",
        /// The customer brought back units not fit for credit (cracked, wrong part): no refund.
        Rejected = "rejected",
        /// `qty` cores left for the supplier in a batch, `amount` expected (supplier side).
        ToSupplier = "to_supplier",
        /// The supplier credited `amount` for a batch.
        SupplierCredit = "supplier_credit",
    }
}

/// A row of `core_ledger`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "core_ledger")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub item_id: Uuid,
    pub customer_id: Option<Uuid>,
    pub supplier_id: Option<Uuid>,
    pub sale_id: Option<Uuid>,
    pub batch_id: Option<Uuid>,
    pub kind: Kind,
    pub qty: i64,
    /// MXN centavos, IVA included.
    pub amount_cents: i64,
    pub actor_id: Option<Uuid>,
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
}

/// Relations of `core_ledger` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
