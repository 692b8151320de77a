//! The business's fiscal settings for CFDI (one row, id 1).

use sea_orm::entity::prelude::*;

/// A row of `fiscal_settings`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fiscal_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub issuer_rfc: String,
    /// Legal name as registered with the SAT.
    pub legal_name: String,
    pub tax_regime: String,
    /// Series of invoices (type I).
    pub invoice_series: String,
    /// Series of credit notes (type E).
    pub credit_note_series: String,
    /// Series of payment complements (type P).
    pub payment_series: String,
    /// Facturapi secret key (`sk_test_…`/`sk_live_…`): write-only.
    pub facturapi_key: Option<String>,
    /// Secret of Facturapi's webhook signatures: write-only.
    pub webhook_secret: Option<String>,
    /// ClaveProdServ when an item has none.
    pub default_product_key: String,
    /// ClaveUnidad when an item has none.
    pub default_unit_key: String,
    /// How often the global invoice is issued: `day`, `week`, `fortnight`, `month` or
    /// `two_months`.
    pub global_periodicity: String,
    pub updated_by: Option<Uuid>,
    pub updated_at: DateTimeUtc,
}

/// Relations of `fiscal_settings` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
