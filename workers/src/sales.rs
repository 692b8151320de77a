//! Handlers of the jobs a sale causes: the ticket to the customer, low-stock alerts and the
//! delivery of notifications.

use entities::tenant::notifications::{self, NewNotification, status};
use entities::tenant::{customer, notification, sale};
use jobs::sales::{LowStock, SaleCompleted, SendNotification};
use sea_orm::{ConnectionTrait, EntityTrait, Statement, TransactionTrait, Value};
use serde_json::json;

use crate::runtime::{JobCtx, JobError};

/// Why a WhatsApp message is parked: the channel comes with a later issue.
pub const WHATSAPP_NOT_CONFIGURED: &str =
    "the WhatsApp channel is not configured: the message is kept (parked) and nothing was sent";
/// Why an e-mail is parked.
pub const EMAIL_NOT_CONFIGURED: &str =
    "e-mail (SMTP) is not configured: the message is kept (parked) and nothing was sent";

/// `sales.sale_completed`: when the customer has a WhatsApp number, queues the ticket for them.
///
/// # Errors
/// Transient database errors.
pub async fn sale_completed(job: SaleCompleted, ctx: JobCtx) -> Result<(), JobError> {
    let Some(s) = sale::Entity::find_by_id(job.sale_id).one(&ctx.db).await? else {
        return Err(JobError::permanent("the sale does not exist"));
    };
    let Some(cid) = s.customer_id else {
        return Ok(());
    };
    let Some(c) = customer::Entity::find_by_id(cid).one(&ctx.db).await? else {
        return Ok(());
    };
    let Some(phone) = c.whatsapp_phone.clone() else {
        return Ok(());
    };
    let txn = ctx.db.begin().await?;
    if !ctx.mark_done(&txn).await? {
        return Ok(());
    }
    let n = notifications::create(
        &txn,
        NewNotification {
            channel: "whatsapp",
            recipient: &phone,
            template: "ticket",
            ref_type: "sale",
            ref_id: s.id.to_string(),
            payload: json!({"folio": s.folio, "total_cents": s.total_cents, "savings_cents": s.savings_cents}),
        },
    )
    .await?;
    jobs::outbox::enqueue(
        &txn,
        &SendNotification {
            tenant_id: job.tenant_id,
            notification_id: n.id,
        },
    )
    .await
    .map_err(|e| JobError::transient(e.to_string()))?;
    txn.commit().await?;
    Ok(())
}

/// `inventory.low_stock`: raises one open alert per balance; a second delivery raises nothing
/// new (unique per source, item and warehouse).
///
/// # Errors
/// Transient database errors.
pub async fn low_stock(job: LowStock, ctx: JobCtx) -> Result<(), JobError> {
    let backend = ctx.db.get_database_backend();
    let now = entities::now();
    for b in &job.balances {
        let p = |n: usize| match backend {
            sea_orm::DatabaseBackend::Postgres => format!("${n}"),
            _ => "?".to_owned(),
        };
        let sql = format!(
            "INSERT INTO stock_alerts (item_id, warehouse_id, qty, min_qty, status, source, created_at) \
             VALUES ({}, {}, {}, {}, 'open', {}, {}) \
             ON CONFLICT (source, item_id, warehouse_id) DO NOTHING",
            p(1),
            p(2),
            p(3),
            p(4),
            p(5),
            p(6)
        );
        ctx.db
            .execute_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [
                    Value::from(b.item_id),
                    Value::from(b.warehouse_id),
                    Value::from(b.qty),
                    Value::from(b.min_qty),
                    Value::from(job.source.clone()),
                    Value::from(now),
                ],
            ))
            .await?;
    }
    Ok(())
}

/// `notify.send`: delivers a notification through its channel. No channel is configured yet, so
/// the message is parked with the reason: visible to operators and the API, never faked as sent.
///
/// # Errors
/// Transient database errors.
pub async fn send(job: SendNotification, ctx: JobCtx) -> Result<(), JobError> {
    let Some(n) = notification::Entity::find_by_id(job.notification_id)
        .one(&ctx.db)
        .await?
    else {
        return Err(JobError::permanent("the notification does not exist"));
    };
    if n.status != status::QUEUED {
        return Ok(());
    }
    let reason = match n.channel.as_str() {
        "whatsapp" => WHATSAPP_NOT_CONFIGURED,
        "email" => EMAIL_NOT_CONFIGURED,
        other => {
            let why = format!("unknown channel {other:?}");
            notifications::set_status(&ctx.db, n, status::FAILED, Some(why.clone())).await?;
            return Err(JobError::permanent(why));
        }
    };
    tracing::info!(tenant = %ctx.tenant.slug, notification = %n.id, channel = %n.channel, "notification parked: {reason}");
    notifications::set_status(&ctx.db, n, status::PARKED, Some(reason.to_owned())).await?;
    Ok(())
}
