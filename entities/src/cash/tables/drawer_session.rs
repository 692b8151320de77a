//! A drawer session: one register of a branch, from its opening float to its closing count.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// Whether the session still takes money.
    pub enum Status {
        /// Taking sales and movements.
        Open = "open",
        /// Counted and closed; it never changes again.
        Closed = "closed",
    }
}

/// A row of `drawer_sessions`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "drawer_sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub branch_id: Uuid,
    /// The register (terminal) of the branch, e.g. `caja-1`.
    pub register: String,
    /// `branch:register` while open, none once closed: a unique index keeps one open session a
    /// register.
    pub open_key: Option<String>,
    pub status: Status,
    pub opened_by: Uuid,
    pub opened_at: DateTimeUtc,
    pub closed_by: Option<Uuid>,
    pub closed_at: Option<DateTimeUtc>,
    /// At close, JSON: what the movements add up to per method and currency.
    pub expected: Option<String>,
    /// At close, JSON: what was counted per method and currency.
    pub counted: Option<String>,
    /// At close, JSON: the denominations counted.
    pub denominations: Option<String>,
    /// MXN cash counted minus expected, at close (negative: short).
    pub cash_difference_cents: Option<i64>,
    pub note: Option<String>,
}

/// Relations of `drawer_sessions` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
