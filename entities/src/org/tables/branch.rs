//! A store of the business (sucursal).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "branches")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Short unique code, e.g. `MTY-01`.
    #[sea_orm(unique)]
    pub code: String,
    /// Name shown on tickets.
    pub name: String,
    /// IVA rate in basis points: 1600 (16 %) or 800 (8 %, northern and southern border region).
    pub iva_rate_bp: i32,
    /// IANA timezone of the branch.
    pub timezone: String,
    pub address: Option<String>,
    /// Postal code (the CFDI expedition place).
    pub postal_code: Option<String>,
    pub phone: Option<String>,
    /// Inactive branches keep their history but take no new work.
    pub is_active: bool,
    /// Whether cash is taken only through an open drawer session (true unless relaxed).
    pub cash_drawer_required: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "crate::org::tables::warehouse::Entity")]
    Warehouses,
}

impl Related<crate::org::tables::warehouse::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Warehouses.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
