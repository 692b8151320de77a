//! An item the business stocks and sells (its own SKU), linked to the shared catalog when it is there.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// What an item is.
    pub enum Kind {
        /// A part: stocked, counted, sold from a warehouse.
        Part = "part",
        /// A labour operation of the workshop (e.g. `MO-FRENOS`): priced on the lists like a
        /// part (the hourly rate or the flat price, NOM-174's tariff), never stocked.
        Service = "service",
    }
}

/// A row of `items`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The business's own SKU, unique.
    pub sku: String,
    /// `part` or `service`.
    pub kind: Kind,
    /// The shared catalog's part, when linked.
    pub catalog_part_id: Option<i64>,
    pub name: String,
    pub description: Option<String>,
    pub brand: Option<String>,
    pub part_number: Option<String>,
    /// SAT product/service key (ClaveProdServ) for invoices.
    pub sat_product_key: Option<String>,
    /// SAT unit key (ClaveUnidad).
    pub sat_unit_key: Option<String>,
    /// Last cost in MXN centavos.
    pub cost_cents: i64,
    /// Weighted average cost of what is on hand, MXN centavos: moved by each purchase receipt.
    pub avg_cost_cents: i64,
    /// Reference retail price (list price of the maker) in MXN centavos: the base of the customer's savings.
    pub retail_price_cents: Option<i64>,
    /// Reorder point per warehouse: a balance falling below it raises a low-stock alert.
    pub min_qty: i64,
    /// Most to keep per warehouse.
    pub max_qty: Option<i64>,
    /// The refundable deposit for the old unit (casco) a sale of it adds, IVA included; 0 for
    /// none.
    pub core_charge_cents: i64,
    /// Inactive items keep their history but are not sold.
    pub is_active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of `items` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
