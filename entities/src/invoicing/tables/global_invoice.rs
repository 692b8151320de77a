//! A global invoice (sales to the general public): its branch and period. The invoice itself
//! (amounts, request, stamping) is the `invoices` row of the same id.

use sea_orm::entity::prelude::*;

/// A row of `global_invoices`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "global_invoices")]
pub struct Model {
    /// The invoice (`invoices.id`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub invoice_id: Uuid,
    /// The branch: its postal code is the place of issue.
    pub branch_id: Uuid,
    /// `day`, `week`, `fortnight`, `month` or `two_months`.
    pub periodicity: String,
    /// Start of the period (a local midnight in Mexico City).
    pub period_from: DateTimeUtc,
    /// End of the period, exclusive.
    pub period_to: DateTimeUtc,
    /// c_Meses of the `global` block.
    pub months: String,
    /// Year of the `global` block.
    pub year: i32,
    /// The cancelled global it replaces, when issued after a motive-04 cancellation.
    pub replaces: Option<Uuid>,
    /// How many sales it covers.
    pub sales: i32,
    pub created_at: DateTimeUtc,
}

/// Relations of `global_invoices` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
