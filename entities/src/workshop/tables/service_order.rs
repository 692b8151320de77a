//! A service order (orden de servicio): a customer's vehicle in the workshop, from reception to
//! delivery.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// Where a service order stands. The states are fixed here; the kanban only relabels them.
    pub enum Status {
        /// Checked in: reception record taken.
        Received = "received",
        /// A technician is finding what is wrong.
        Diagnosing = "diagnosing",
        /// The budget (or a supplement) waits for the customer's yes or no.
        AwaitingApproval = "awaiting_approval",
        /// Approved, but some part is not in stock to hold yet.
        WaitingParts = "waiting_parts",
        /// Being repaired: every approved part is held.
        InRepair = "in_repair",
        /// Repaired; being checked.
        QualityCheck = "quality_check",
        /// Ready for the customer: the parts used have left the stock.
        Ready = "ready",
        /// Charged and handed over.
        Delivered = "delivered",
        /// The customer said no to the budget: only the diagnosis is charged.
        Declined = "declined",
        /// Called off: nothing is charged and every held part goes back.
        Cancelled = "cancelled",
    }
}

crate::text_enum! {
    /// How a customer's approval reached the workshop.
    pub enum Channel {
        /// At the counter, in person.
        InPerson = "in_person",
        /// By phone.
        Phone = "phone",
        /// By WhatsApp.
        Whatsapp = "whatsapp",
        /// A signature on the printed budget.
        Signature = "signature",
        /// The public link, by the customer themself.
        Link = "link",
    }
}

/// A row of `service_orders`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `OS-MTY-01-000123`.
    pub folio: String,
    pub branch_id: Uuid,
    pub customer_id: Uuid,
    /// The registered vehicle, when there is one.
    pub vehicle_id: Option<Uuid>,
    /// Normalised plate and VIN as received.
    pub plate: Option<String>,
    pub vin: Option<String>,
    /// Year, make and model as shown on cards.
    pub vehicle_label: Option<String>,
    pub odometer_km: Option<i64>,
    /// Fuel at reception, in eighths of a tank (0–8).
    pub fuel_eighths: Option<i32>,
    /// The accessories checklist, a JSON object of name → present.
    pub accessories: String,
    /// What the customer says is wrong (el síntoma).
    pub complaint: String,
    pub promised_at: Option<DateTimeUtc>,
    /// PROFECO's consent box: the customer accepts used or rebuilt parts.
    pub accepts_used_parts: bool,
    pub status: Status,
    /// The state an order in `awaiting_approval` for a supplement goes back to when answered.
    pub resume_status: Option<Status>,
    /// The customer's price list at reception.
    pub price_list: String,
    /// The technician in charge.
    pub assigned_to: Option<Uuid>,
    /// The budget version last sent for approval; 0 before the first.
    pub budget_version: i32,
    /// The last version approved; 0 before the first approval.
    pub approved_version: i32,
    /// The public link's token (256 random bits).
    pub token: String,
    pub approved_at: Option<DateTimeUtc>,
    /// The name of who approved (the customer, or who took their word).
    pub approved_by: Option<String>,
    pub approval_channel: Option<Channel>,
    /// The sale that charged it at delivery.
    pub sale_id: Option<Uuid>,
    pub notes: Option<String>,
    pub ready_at: Option<DateTimeUtc>,
    pub delivered_at: Option<DateTimeUtc>,
    /// When it was cancelled or declined.
    pub closed_at: Option<DateTimeUtc>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of `service_orders` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
