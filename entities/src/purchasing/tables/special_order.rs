//! A customer's order of a part the store does not stock: deposit, purchase, receipt, pick-up.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// The state of a special order.
    pub enum Status {
        /// Taken at the counter; not on a purchase order yet.
        Open = "open",
        /// On a purchase order.
        Ordered = "ordered",
        /// Arrived and held for the customer.
        Received = "received",
        /// Picked up.
        Collected = "collected",
        /// Called off.
        Cancelled = "cancelled",
    }
}

/// A row of `special_orders`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "special_orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `PE-000042`.
    pub folio: String,
    pub customer_id: Uuid,
    pub item_id: Uuid,
    /// Where the units are received and held.
    pub warehouse_id: Uuid,
    pub qty: i64,
    /// MXN centavos paid in advance, on the customer's account.
    pub deposit_cents: i64,
    /// The account payment holding the deposit.
    pub deposit_entry_id: Option<Uuid>,
    pub supplier_id: Option<Uuid>,
    pub status: Status,
    pub purchase_order_id: Option<Uuid>,
    pub note: Option<String>,
    pub created_by: Option<Uuid>,
    pub received_at: Option<DateTimeUtc>,
    pub collected_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of `special_orders` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
