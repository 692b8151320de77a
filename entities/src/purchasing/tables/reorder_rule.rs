//! When to reorder an item at a warehouse, and how much.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// Who sets a rule's min and max.
    pub enum Mode {
        /// Pinned by hand: the nightly job never changes it.
        Manual = "manual",
        /// Proposed by the nightly velocity job.
        Computed = "computed",
    }
}

/// A row of `reorder_rules`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reorder_rules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub warehouse_id: Uuid,
    pub item_id: Uuid,
    /// Below this forecast, reorder.
    pub min_qty: i64,
    /// Order up to this.
    pub max_qty: i64,
    /// Round the order up to a multiple of this.
    pub multiple: i64,
    pub lead_days: i32,
    pub preferred_supplier_id: Option<Uuid>,
    pub mode: Mode,
    /// No alert until after this day.
    pub snoozed_until: Option<Date>,
    /// Units a day found by the last velocity run, thousandths.
    pub velocity_milli: Option<i64>,
    pub computed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of `reorder_rules` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
