//! Warranties: the owner's policies per item or brand, the warranty of each sold or installed
//! line (a snapshot of its policy, [`coverage::snapshot`]), customers' claims through inspection
//! to a replacement, a refund or a repair, claims to suppliers to recover the cost, and the
//! `warranty_expiring` events. Failed units go to the branch's quarantine warehouse
//! ([`quarantine`]), which never sells.

pub mod claims;
pub mod coverage;
pub mod expiring;
pub mod policies;
pub mod quarantine;
pub mod supplier_claims;
pub mod tables;

use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use uuid::Uuid;

use crate::Result;
use crate::warranties::tables::claim_event;

/// Appends one step to a claim's history (`kind` is `customer` or `supplier`).
///
/// # Errors
/// Database errors.
pub(crate) async fn history(
    db: &impl ConnectionTrait,
    kind: &str,
    claim_id: Uuid,
    from: Option<&str>,
    to: &str,
    note: Option<&str>,
    actor: Option<Uuid>,
) -> Result<()> {
    claim_event::ActiveModel {
        id: sea_orm::NotSet,
        claim_kind: Set(kind.to_owned()),
        claim_id: Set(claim_id),
        from_status: Set(from.map(str::to_owned)),
        to_status: Set(to.to_owned()),
        note: Set(note.map(str::to_owned)),
        actor: Set(actor),
        created_at: Set(crate::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The history of a claim, oldest first.
///
/// # Errors
/// Database errors.
pub async fn events_of(
    db: &impl ConnectionTrait,
    claim_id: Uuid,
) -> Result<Vec<claim_event::Model>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    Ok(claim_event::Entity::find()
        .filter(claim_event::Column::ClaimId.eq(claim_id))
        .order_by_asc(claim_event::Column::Id)
        .all(db)
        .await?)
}
