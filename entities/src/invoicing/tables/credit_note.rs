//! A credit note (CFDI type E) issued for a return: which invoice it credits and which return it
//! covers. The CFDI itself is the `invoices` row with the same id.

use sea_orm::entity::prelude::*;

/// A row of `credit_notes`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credit_notes")]
pub struct Model {
    /// The credit note's `invoices` row (kind `E`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The type I invoice credited.
    pub invoice_id: Uuid,
    pub sale_id: Uuid,
    /// The return it covers.
    pub return_id: Uuid,
    pub created_at: DateTimeUtc,
}

/// Relations of `credit_notes` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
