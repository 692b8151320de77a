//! `warranty_expiring` events: once a day, one per warranty whose last day is exactly the
//! owner's number of days away (15 by default), recorded once per warranty whatever the number
//! of runs (the warranty keeps the day it was told).

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use crate::notifications::events::{self, NewEvent};
use crate::org::audit::Entry;
use crate::org::branches::Actor;
use crate::warranties::tables::{setting, warranty};
use crate::{Error, Result};

pub use crate::notifications::events::WARRANTY_EXPIRING;

/// The owner's settings (the defaults until written).
///
/// # Errors
/// Database errors.
pub async fn settings(db: &impl ConnectionTrait) -> Result<setting::Model> {
    Ok(setting::Entity::find_by_id(1)
        .one(db)
        .await?
        .unwrap_or(setting::Model {
            id: 1,
            expiring_notice_days: 15,
            updated_at: chrono::DateTime::UNIX_EPOCH,
        }))
}

/// Sets how many days before its end a warranty's `warranty_expiring` event is recorded (1 to
/// 365), audited.
///
/// # Errors
/// [`Error::Validation`] on `expiring_notice_days`.
pub async fn set_notice_days(
    db: &impl ConnectionTrait,
    actor: &Actor,
    days: i32,
) -> Result<setting::Model> {
    if !(1..=365).contains(&days) {
        return Err(Error::validation(
            "expiring_notice_days",
            "expiring_notice_days is 1 to 365",
        ));
    }
    let exists = setting::Entity::find_by_id(1).one(db).await?.is_some();
    let am = setting::ActiveModel {
        id: Set(1),
        expiring_notice_days: Set(days),
        updated_at: Set(crate::now()),
    };
    let saved = if exists {
        am.update(db).await?
    } else {
        am.insert(db).await?
    };
    Entry::new("warranties.settings_updated")
        .actor(actor.user_id)
        .target("warranty_settings", 1)
        .request(None, actor.request_id.clone())
        .details(json!({"expiring_notice_days": days}))
        .record_tenant(db)
        .await?;
    Ok(saved)
}

/// Records one `warranty_expiring` event per warranty ending exactly the owner's number of days
/// after `today` and not told yet, and marks them told, in the caller's transaction. Answers
/// how many were recorded.
///
/// # Errors
/// Database errors.
pub async fn record_due(txn: &impl ConnectionTrait, today: chrono::NaiveDate) -> Result<usize> {
    let days = settings(txn).await?.expiring_notice_days;
    let on = today + chrono::Duration::days(i64::from(days));
    let due = warranty::Entity::find()
        .filter(warranty::Column::ExpiresOn.eq(on))
        .filter(warranty::Column::ExpiringNotifiedOn.is_null())
        .all(txn)
        .await?;
    if due.is_empty() {
        return Ok(0);
    }
    let ids: Vec<uuid::Uuid> = due.iter().map(|w| w.id).collect();
    events::record_many(
        txn,
        WARRANTY_EXPIRING,
        "warranty",
        due.iter()
            .map(|w| NewEvent {
                ref_id: w.id.to_string(),
                payload: json!({"customer_id": w.customer_id, "item_id": w.item_id, "sale_id": w.sale_id, "vehicle_id": w.vehicle_id, "expires_on": w.expires_on, "days_left": days}),
            })
            .collect(),
    )
    .await?;
    for chunk in ids.chunks(500) {
        warranty::Entity::update_many()
            .col_expr(warranty::Column::ExpiringNotifiedOn, Expr::value(today))
            .filter(warranty::Column::Id.is_in(chunk.iter().copied()))
            .exec(txn)
            .await?;
    }
    Ok(due.len())
}
