//! An entry of a customer's account: a charge (a credit sale), a payment on account (abono), a
//! credit from a return of a credit sale, or store credit (saldo a favor) given or spent.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// What an entry does to the balance.
    pub enum Kind {
        /// A credit sale: the balance grows.
        Charge = "charge",
        /// A payment on account: the balance falls, oldest charges paid first.
        Payment = "payment",
        /// Units of a credit sale came back: the balance falls, that sale's charge first.
        ReturnCredit = "return_credit",
        /// A refund paid as store credit (saldo a favor): the balance is untouched, the
        /// customer's store credit grows.
        StoreCredit = "store_credit",
        /// Store credit spent as payment of a sale: the store credit falls.
        CreditUsed = "credit_used",
        /// An advance paid on a special order: the customer's store credit grows by it, spent
        /// when the part is collected (or refunded like any store credit).
        Deposit = "deposit",
    }
}

crate::text_enum! {
    /// How a payment on account was made.
    pub enum PayMethod {
        /// Cash at the counter.
        Cash = "cash",
        /// A bank transfer (SPEI).
        Transfer = "transfer",
        /// A debit or credit card.
        Card = "card",
    }
}

/// A row of `account_entries`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_id: Uuid,
    pub kind: Kind,
    pub sale_id: Option<Uuid>,
    pub return_id: Option<Uuid>,
    /// Above zero, MXN centavos; [`Kind`] says which way it moves the balance.
    pub amount_cents: i64,
    /// Of a charge: what is still unpaid. Zero otherwise.
    pub open_cents: i64,
    /// Of a payment.
    pub method: Option<PayMethod>,
    pub reference: Option<String>,
    pub note: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

/// Relations of `account_entries` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
