//! A free tag on a customer ("taller", "mayorista", "paga tarde").

use sea_orm::entity::prelude::*;

/// A row of `customer_tags`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_tags")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: Uuid,
    /// As first written.
    pub tag: String,
    /// Folded (lower case, no accents, single spaces): what tags are matched and counted by.
    #[sea_orm(primary_key, auto_increment = false)]
    pub tag_key: String,
    pub created_at: DateTimeUtc,
}

/// Relations of `customer_tags` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
