//! Which sales a global invoice covers; `active_sale_id` (unique) is set while it stands.

use sea_orm::entity::prelude::*;

/// A row of `global_invoice_sales`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "global_invoice_sales")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub invoice_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub sale_id: Uuid,
    /// The sale's id while the global stands for it; `None` once the global is cancelled or
    /// failed, or the sale was invoiced to its customer.
    pub active_sale_id: Option<Uuid>,
    /// The sale's amount in the global (net of returns), MXN centavos.
    pub total_cents: i64,
}

/// Relations of `global_invoice_sales` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
