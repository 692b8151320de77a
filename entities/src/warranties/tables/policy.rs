//! A warranty policy of an item or of a brand.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// What a warranty covers.
    pub enum Coverage {
        /// The part only.
        Parts = "parts",
        /// The part and the labour to fit it.
        PartsLabor = "parts_labor",
    }
}

crate::text_enum! {
    /// When a warranty starts.
    pub enum StartsOn {
        /// The day of the sale.
        Sale = "sale",
        /// The day it was installed (a service order).
        Installation = "installation",
    }
}

/// A row of `warranty_policies`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "warranty_policies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub item_id: Option<Uuid>,
    pub brand: Option<String>,
    /// The brand in lower case: what items' brands are matched on.
    pub brand_key: Option<String>,
    /// 1 to 120.
    pub months: i32,
    pub km: Option<i64>,
    pub coverage: Coverage,
    pub starts_on: StartsOn,
    pub supplier_months: Option<i32>,
    pub supplier_km: Option<i64>,
    /// Printed on the receipt.
    pub terms: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of `warranty_policies` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
