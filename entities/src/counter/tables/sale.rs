//! A completed sale (ticket).

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// The state of a sale.
    pub enum Status {
        /// Sold.
        Completed = "completed",
        /// Some units came back.
        PartiallyReturned = "partially_returned",
        /// Every unit came back through returns.
        Returned = "returned",
        /// Cancelled: everything came back at once.
        Cancelled = "cancelled",
    }
}

/// A row of `sales`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sales")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Folio per branch, e.g. `MTY-01-000123`.
    pub folio: String,
    pub branch_id: Uuid,
    pub customer_id: Option<Uuid>,
    pub cashier_id: Uuid,
    /// `completed`, `partially_returned`, `returned` or `cancelled`.
    pub status: Status,
    pub price_list: String,
    /// USD→MXN rate in force, in millionths.
    pub exchange_rate_micros: i64,
    /// Sum of the lines' bases.
    pub subtotal_cents: i64,
    /// Sum of the lines' discounts.
    pub discount_cents: i64,
    /// Sum of the lines' IVA.
    pub tax_cents: i64,
    /// Sum of the lines' totals.
    pub total_cents: i64,
    /// What the lines cost at the reference retail price.
    pub retail_total_cents: i64,
    /// Sum of the lines' savings.
    pub savings_cents: i64,
    pub paid_cents: i64,
    /// Change given back in MXN cash.
    pub change_cents: i64,
    /// Refunded by returns and cancellation.
    pub refunded_cents: i64,
    /// The drawer session its money went through.
    pub drawer_session_id: Option<Uuid>,
    /// The quote it came from.
    pub quote_id: Option<Uuid>,
    /// The service order it charged at delivery.
    pub service_order_id: Option<Uuid>,
    /// The registered vehicle the sale was for (a fleet unit's parts), set by
    /// `fleets::readings::on_sale` in the checkout's transaction.
    pub vehicle_id: Option<Uuid>,
    /// Its odometer at the sale.
    pub odometer_km: Option<i64>,
    pub note: Option<String>,
    /// When it was cancelled.
    pub cancelled_at: Option<DateTimeUtc>,
    /// When it was sold.
    pub created_at: DateTimeUtc,
}

/// Relations of `sales` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
