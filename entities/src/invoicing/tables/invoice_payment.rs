//! A payment received against a PPD invoice (a parcialidad), with the payment complement (CFDI
//! type P) that reports it to the SAT.

use sea_orm::entity::prelude::*;

/// A row of `invoice_payments`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoice_payments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The PPD invoice paid.
    pub invoice_id: Uuid,
    /// Parcialidad number: 1, 2, 3… without gaps.
    pub installment: i32,
    /// The invoice's balance before this payment (ImpSaldoAnt), centavos.
    pub last_balance_cents: i64,
    pub amount_cents: i64,
    /// The balance after it (ImpSaldoInsoluto), centavos.
    pub balance_cents: i64,
    /// c_FormaPago of the payment (never `99`).
    pub payment_form: String,
    /// When the money was received.
    pub paid_at: DateTimeUtc,
    /// Bank or card reference.
    pub reference: Option<String>,
    /// The payment complement's `invoices` row (kind `P`).
    pub complement_id: Uuid,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

/// Relations of `invoice_payments` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
