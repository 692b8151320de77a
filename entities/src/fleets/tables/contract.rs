//! A fleet's contract: insurance, verificación vehicular, tenencia, leasing.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// What a contract is.
    pub enum Kind {
        /// Insurance policy.
        Insurance = "insurance",
        /// Emissions inspection (verificación vehicular).
        Verificacion = "verificacion",
        /// Vehicle tax (tenencia or refrendo).
        Tenencia = "tenencia",
        /// Leasing.
        Leasing = "leasing",
        /// Anything else with an end date.
        Other = "other",
    }
}

/// A row of `fleet_contracts`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fleet_contracts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_id: Uuid,
    /// The unit it is for; none for the whole fleet.
    pub vehicle_id: Option<Uuid>,
    pub kind: Kind,
    pub provider: Option<String>,
    /// Policy or folio number.
    pub reference: Option<String>,
    pub starts_on: Date,
    /// The last day in force.
    pub expires_on: Date,
    /// MXN centavos.
    pub cost_cents: i64,
    pub closed_at: Option<DateTimeUtc>,
    /// The smallest notice (days before the end) already told.
    pub reminded_days: Option<i32>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of `fleet_contracts`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
