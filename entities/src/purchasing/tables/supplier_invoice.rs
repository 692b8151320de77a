//! A supplier's CFDI uploaded against a purchase order, with its proposed match.

use sea_orm::entity::prelude::*;

/// A row of `supplier_invoices`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "supplier_invoices")]
pub struct Model {
    /// The CFDI's UUID (folio fiscal), upper case.
    #[sea_orm(primary_key, auto_increment = false)]
    pub uuid: String,
    pub purchase_order_id: Uuid,
    pub supplier_id: Uuid,
    pub issuer_rfc: String,
    pub series: Option<String>,
    pub folio: Option<String>,
    pub currency: String,
    pub subtotal_cents: i64,
    pub total_cents: i64,
    /// The XML as sent, in the tenant's files.
    pub file_key: String,
    /// The proposed match of its concepts to the order's lines.
    pub matches: Json,
    /// `pending` or `received`.
    pub status: String,
    pub receipt_id: Option<Uuid>,
    pub uploaded_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

/// Relations of `supplier_invoices` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
