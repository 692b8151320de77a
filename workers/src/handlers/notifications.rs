//! Handlers of notification jobs: delivering one outgoing message through its channel.

use entities::notifications::messages::{self, Status};
use entities::notifications::tables::notification;
use jobs::notifications::SendNotification;
use sea_orm::EntityTrait;

use crate::runtime::{JobCtx, JobError};

/// Why a WhatsApp message is parked: the channel comes with a later issue.
pub const WHATSAPP_NOT_CONFIGURED: &str =
    "the WhatsApp channel is not configured: the message is kept (parked) and nothing was sent";
/// Why an e-mail is parked.
pub const EMAIL_NOT_CONFIGURED: &str =
    "e-mail (SMTP) is not configured: the message is kept (parked) and nothing was sent";

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
    if n.status != Status::Queued {
        return Ok(());
    }
    let reason = match n.channel.as_str() {
        "whatsapp" => WHATSAPP_NOT_CONFIGURED,
        "email" => EMAIL_NOT_CONFIGURED,
        other => {
            let why = format!("unknown channel {other:?}");
            messages::set_status(&ctx.db, n, Status::Failed, Some(why.clone())).await?;
            return Err(JobError::permanent(why));
        }
    };
    tracing::info!(tenant = %ctx.tenant.slug, notification = %n.id, channel = %n.channel, "notification parked: {reason}");
    messages::set_status(&ctx.db, n, Status::Parked, Some(reason.to_owned())).await?;
    Ok(())
}
