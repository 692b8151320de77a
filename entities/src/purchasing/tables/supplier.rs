//! A supplier the business buys from.

use sea_orm::entity::prelude::*;

/// A row of `suppliers`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "suppliers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// Validated RFC, upper case.
    pub rfc: Option<String>,
    pub contact_name: Option<String>,
    /// Where purchase orders are e-mailed.
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Days of credit the supplier gives.
    pub payment_terms_days: i32,
    /// `MXN` or `USD`: the currency of its orders.
    pub currency: String,
    /// Days from order to delivery, by default.
    pub lead_days: i32,
    pub notes: Option<String>,
    /// Name, RFC and contact folded for search.
    pub search_text: String,
    pub is_active: bool,
    /// Soft delete: hidden from lists, kept for the orders that name it.
    pub deleted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of `suppliers` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
