//! A row of a customer's points ledger. Points are MXN centavos of value, so a `points` payment
//! is exact; the customer's `loyalty_points_cents` is the sum of the ledger.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// What a row does to the points.
    pub enum Kind {
        /// Earned on money paid: a lot that is spent or expires, oldest first.
        Earn = "earn",
        /// Spent as payment of a sale.
        Redeem = "redeem",
        /// Taken back for units returned.
        Reverse = "reverse",
        /// What was left of a lot at its expiry.
        Expire = "expire",
        /// Put back when a sale paid with points is returned or cancelled.
        Refund = "refund",
    }
}

/// A row of `loyalty_entries`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "loyalty_entries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub customer_id: Uuid,
    pub kind: Kind,
    /// Signed MXN centavos of value: earnings and refunds add, the rest take away.
    pub points_cents: i64,
    /// Of an earning or a refund: what is left of it to spend or expire. Zero otherwise.
    pub remaining_cents: i64,
    /// Of an earning or a refund.
    pub expires_on: Option<Date>,
    pub sale_id: Option<Uuid>,
    /// What the row answers for (`sale:<id>`, `return:<id>`, `allocation:<id>`); unique per
    /// kind, so nothing is earned or taken twice.
    pub ref_key: Option<String>,
    pub actor_id: Option<Uuid>,
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
}

/// Relations of `loyalty_entries` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
