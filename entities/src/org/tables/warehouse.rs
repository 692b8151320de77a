//! A stock location (bodega) that belongs to a branch.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// What a warehouse holds: only `stock` warehouses sell.
    pub enum Kind {
        /// Stock for sale.
        Stock = "stock",
        /// Failed units received under warranty, kept apart until the supplier's answer.
        Quarantine = "quarantine",
        /// Returned cores.
        Cores = "cores",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "warehouses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub branch_id: Uuid,
    /// Short unique code, e.g. `MTY-01-A`.
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    /// Inactive warehouses keep their history but take no new stock.
    pub is_active: bool,
    /// `stock`, `quarantine` or `cores`.
    pub kind: Kind,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The branch it belongs to.
    #[sea_orm(
        belongs_to = "crate::org::tables::branch::Entity",
        from = "Column::BranchId",
        to = "crate::org::tables::branch::Column::Id"
    )]
    Branch,
}

impl Related<crate::org::tables::branch::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Branch.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
