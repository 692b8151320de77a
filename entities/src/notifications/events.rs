//! Business events: recorded in the transaction of the change that caused them, so none is lost
//! and none is invented by a rolled-back change; the notifications area turns them into messages.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::Result;
use crate::jobs::tables::outbox;
use crate::notifications::tables::business_event;

/// The job that turns recorded events into messages (`jobs::notifications::DispatchEvents`).
/// Its row is written here, beside the events, because this layer has no job types; the job
/// crate's tests hold the two names equal.
pub const DISPATCH_JOB: &str = "notify.dispatch";
/// The queue it runs on.
pub const DISPATCH_QUEUE: &str = "notify";

/// A sale was completed (recorded only while its rule is on).
pub const NEW_SALE: &str = "new_sale";
/// An item's stock fell below its minimum.
pub const LOW_STOCK: &str = "low_stock";
/// A CFDI was stamped.
pub const INVOICE_STAMPED: &str = "invoice_stamped";

/// A purchase order received units.
pub const PO_RECEIVED: &str = "po_received";
/// A reorder rule's forecast fell below its minimum.
pub const REORDER_ALERT: &str = "reorder_alert";
/// A customer's special order arrived and is held for them.
pub const SPECIAL_ORDER_RECEIVED: &str = "special_order_received";

/// A warranty's last day is the owner's number of days away.
pub const WARRANTY_EXPIRING: &str = "warranty_expiring";

/// A customer moved to another loyalty tier.
pub const LOYALTY_TIER_CHANGED: &str = "loyalty_tier_changed";
/// A fleet unit's maintenance plan became urgent at a new due point (once per vehicle, plan
/// and due point).
pub const MAINTENANCE_DUE: &str = "maintenance_due";
/// A fleet contract (insurance, verificación, tenencia) reached a notice before its end.
pub const CONTRACT_EXPIRING: &str = "contract_expiring";

/// Records an event in the caller's transaction.
///
/// # Errors
/// Database errors.
pub async fn record(
    db: &impl ConnectionTrait,
    kind: &str,
    ref_type: &str,
    ref_id: impl ToString,
    payload: serde_json::Value,
) -> Result<()> {
    record_many(
        db,
        kind,
        ref_type,
        vec![NewEvent {
            ref_id: ref_id.to_string(),
            payload,
        }],
    )
    .await
}

/// An event of a batch: its document and what it carries.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The document's id.
    pub ref_id: String,
    /// What the notification needs.
    pub payload: serde_json::Value,
}

/// Records events of one kind in the caller's transaction, 500 rows a statement, with one
/// outbox row for the job that dispatches them: committed together, so an event is never lost
/// and never told before its change is.
///
/// # Errors
/// Database errors.
pub async fn record_many(
    db: &impl ConnectionTrait,
    kind: &str,
    ref_type: &str,
    events: Vec<NewEvent>,
) -> Result<()> {
    let now = crate::now();
    let rows: Vec<business_event::ActiveModel> = events
        .into_iter()
        .map(|e| business_event::ActiveModel {
            kind: Set(kind.to_owned()),
            ref_type: Set(ref_type.to_owned()),
            ref_id: Set(e.ref_id),
            payload: Set(e.payload),
            handled_at: Set(None),
            created_at: Set(now),
            ..Default::default()
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    for chunk in rows.chunks(500) {
        business_event::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    outbox::Entity::insert(outbox::ActiveModel {
        job_name: Set(DISPATCH_JOB.to_owned()),
        queue: Set(DISPATCH_QUEUE.to_owned()),
        // The dispatch reads every pending event of its tenant; the envelope names the tenant.
        payload: Set(serde_json::json!({})),
        created_at: Set(now),
        available_at: Set(now),
        sent_at: Set(None),
        attempt: Set(0),
        relay_attempts: Set(0),
        last_error: Set(None),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Whether the business wants to be told of `kind`, for events recorded on a hot path (a sale)
/// only when someone listens.
///
/// # Errors
/// Database errors.
pub async fn wanted(db: &impl ConnectionTrait, kind: &str) -> Result<bool> {
    Ok(crate::notifications::rules::rule(db, kind)
        .await?
        .is_some_and(|r| r.enabled))
}

/// The events of a kind, oldest first.
///
/// # Errors
/// Database errors.
pub async fn of_kind(db: &impl ConnectionTrait, kind: &str) -> Result<Vec<business_event::Model>> {
    Ok(business_event::Entity::find()
        .filter(business_event::Column::Kind.eq(kind))
        .order_by_asc(business_event::Column::Id)
        .all(db)
        .await?)
}
