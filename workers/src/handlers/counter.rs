//! Handlers of the jobs a sale causes at the counter: the ticket to the customer.

use entities::counter::tables::sale;
use entities::customers::tables::customer;
use entities::notifications::messages::{self, NewNotification};
use entities::rules::money::Money;
use jobs::counter::SaleCompleted;
use jobs::notifications::SendNotification;
use sea_orm::EntityTrait;
use serde_json::json;

use crate::runtime::{JobCtx, JobError};

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
    let txn = entities::db::begin_write(&ctx.db).await?;
    if !ctx.mark_done(&txn).await? {
        return Ok(());
    }
    let n = messages::create(
        &txn,
        NewNotification {
            channel: "whatsapp",
            recipient: &phone,
            template: "sale_ticket",
            ref_type: "sale",
            ref_id: s.id.to_string(),
            payload: json!({
                "folio": s.folio,
                "total": Money(s.total_cents).to_string(),
                "savings": Money(s.savings_cents).to_string(),
                "total_cents": s.total_cents,
                "savings_cents": s.savings_cents,
            }),
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
