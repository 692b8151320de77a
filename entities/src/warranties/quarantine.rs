//! Where failed units go: each branch's quarantine warehouse (`<BRANCH>-GAR`, kind
//! `quarantine`), made on first use. Only `stock` warehouses sell: a unit in quarantine waits
//! for the supplier's answer and is never sold by mistake.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::error::OnUnique;
use crate::org::tables::{branch, warehouse};
use crate::{Error, Result};

/// The branch's quarantine warehouse, made (`<BRANCH>-GAR`) when it has none.
///
/// # Errors
/// [`Error::NotFound`] `branch`; [`Error::Conflict`] `warehouse_code_taken` when a warehouse of
/// another kind already has the code.
pub async fn of_branch(db: &impl ConnectionTrait, branch_id: Uuid) -> Result<warehouse::Model> {
    apart(db, branch_id, warehouse::Kind::Quarantine).await
}

/// The branch's warehouse of a kind that does not sell (quarantine `<BRANCH>-GAR`, cores
/// `<BRANCH>-CASCOS`), made on first use.
///
/// # Errors
/// [`Error::NotFound`] `branch`; [`Error::Conflict`] `warehouse_code_taken` when a warehouse of
/// another kind already has the code.
pub async fn apart(
    db: &impl ConnectionTrait,
    branch_id: Uuid,
    kind: warehouse::Kind,
) -> Result<warehouse::Model> {
    if let Some(w) = warehouse::Entity::find()
        .filter(warehouse::Column::BranchId.eq(branch_id))
        .filter(warehouse::Column::Kind.eq(kind))
        .one(db)
        .await?
    {
        return Ok(w);
    }
    let b = branch::Entity::find_by_id(branch_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "branch" })?;
    let (suffix, name) = match kind {
        warehouse::Kind::Cores => ("CASCOS", "Cascos"),
        warehouse::Kind::Quarantine | warehouse::Kind::Stock => ("GAR", "Garantías"),
    };
    let now = crate::now();
    warehouse::ActiveModel {
        id: Set(Uuid::now_v7()),
        branch_id: Set(branch_id),
        code: Set(format!("{}-{suffix}", b.code)),
        name: Set(format!("{name} {}", b.name)),
        is_active: Set(true),
        kind: Set(kind),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .on_unique(
        "warehouse_code_taken",
        "another warehouse has the code of the branch's quarantine or cores warehouse",
    )
}

/// Refuses to sell from a warehouse that is not a `stock` one (quarantine, cores).
///
/// # Errors
/// [`Error::Conflict`] `warehouse_not_for_sale`.
pub async fn require_stock(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<()> {
    let other = warehouse::Entity::find()
        .filter(warehouse::Column::Id.is_in(ids.iter().copied()))
        .filter(warehouse::Column::Kind.ne(warehouse::Kind::Stock))
        .one(db)
        .await?;
    match other {
        Some(w) => Err(Error::conflict(
            "warehouse_not_for_sale",
            format!(
                "warehouse {} holds {} units: nothing is sold from it",
                w.code, w.kind
            ),
        )),
        None => Ok(()),
    }
}
