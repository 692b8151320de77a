//! A batch of returned cores sent back to a supplier.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// Where a core batch stands.
    pub enum Status {
        /// Left the cores warehouse for the supplier.
        Sent = "sent",
        /// The supplier credited it.
        Credited = "credited",
    }
}

/// A row of `core_batches`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "core_batches")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `CB-000012`.
    pub folio: String,
    pub supplier_id: Uuid,
    /// The cores warehouse the units left.
    pub warehouse_id: Uuid,
    pub status: Status,
    pub units: i64,
    /// What the supplier is expected to credit, MXN centavos.
    pub expected_cents: i64,
    pub credited_cents: i64,
    /// JSON array of {item_id, qty, amount}.
    pub lines: String,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub credited_at: Option<DateTimeUtc>,
}

/// Relations of `core_batches` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
