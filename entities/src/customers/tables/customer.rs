//! A customer (the basic CRM record).

use sea_orm::entity::prelude::*;

/// A row of `customers`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Name or business name.
    pub name: String,
    pub rfc: Option<String>,
    /// SAT tax regime key (e.g. `601`).
    pub tax_regime: Option<String>,
    pub zip: Option<String>,
    pub email: Option<String>,
    /// WhatsApp number in E.164.
    pub whatsapp_phone: Option<String>,
    /// Price level: `mostrador`, `taller`, `flotilla` or `mayoreo`.
    pub price_list: String,
    /// Credit limit in MXN centavos.
    pub credit_limit_cents: i64,
    /// What the customer owes on account, MXN centavos: credit sales less payments and return
    /// credits. Changed only with its entry, by a conditional update (see `customers::accounts`).
    pub balance_cents: i64,
    /// Store credit (saldo a favor) from refunds, MXN centavos, spent as a payment method.
    /// Changed only with its entry, by a conditional update (see `customers::accounts`).
    pub store_credit_cents: i64,
    pub notes: Option<String>,
    /// The name and RFC lower-cased without accents, for search (`customers::records`).
    pub search_text: Option<String>,
    /// Inactive customers are not sold to.
    pub is_active: bool,
    /// Loyalty points held, MXN centavos of value; changed only with a ledger row
    /// (`customers::loyalty`), by a conditional update.
    pub loyalty_points_cents: i64,
    /// `bronze`, `silver`, `gold` or `platinum`, from the 12-month spend.
    pub loyalty_tier: String,
    /// The customer's referral code (embajador), made on first ask; unique.
    pub referral_code: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of `customers` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
