//! A movement of money through a drawer session.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// Why money moved.
    pub enum Kind {
        /// The opening float.
        Float = "float",
        /// A payment tendered for a sale.
        Sale = "sale",
        /// Change given back on a sale (MXN cash, below zero).
        Change = "change",
        /// Money paid back for a return or cancellation (below zero).
        Refund = "refund",
        /// A payment on a customer's account (abono).
        AccountPayment = "account_payment",
        /// Cash put in (more change, a deposit back), with a reason.
        CashIn = "cash_in",
        /// Cash taken out (a pickup to the safe, a small expense), with a reason.
        CashOut = "cash_out",
    }
}

crate::text_enum! {
    /// The means the money moved by.
    pub enum Method {
        /// MXN notes and coins.
        Cash = "cash",
        /// US dollar notes.
        UsdCash = "usd_cash",
        /// Card terminal.
        Card = "card",
        /// Bank transfer (SPEI).
        Transfer = "transfer",
    }
}

/// A row of `drawer_movements`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "drawer_movements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub session_id: Uuid,
    pub kind: Kind,
    pub method: Method,
    /// `MXN` or `USD`.
    pub currency: String,
    /// Minor units of `currency`, signed: into the drawer above zero, out of it below.
    pub amount_minor: i64,
    /// The same in MXN centavos at the rate of the moment.
    pub amount_mxn_cents: i64,
    pub sale_id: Option<Uuid>,
    pub return_id: Option<Uuid>,
    /// The customer account entry of a payment on account.
    pub entry_id: Option<Uuid>,
    pub reason: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
}

/// Relations of `drawer_movements` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
