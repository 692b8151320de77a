//! `notify.send`: one message through its channel, sent at most once.
//!
//! The message is claimed (`sending`, committed) before the provider is called. A run that finds
//! it already `sending` knows an earlier run died between the claim and recording the outcome:
//! the provider may have taken it, so it is recorded failed ("interrupted") and not sent again.
//! An error the provider classes transient puts it back in line and the job retries; on the
//! last attempt it is failed with the reason.

use std::time::Instant;

use entities::notifications::messages::{self, Claim, Outcome};
use entities::notifications::tables::notification;
use entities::notifications::templates::{self, Rendered};
use jobs::notifications::SendNotification;
use serde_json::Value;

use crate::clients::channel::{Attachment, Channel, Outgoing, SendError, WaTemplate};
use crate::handlers::notifications::NotifyMetrics;
use crate::runtime::{JobCtx, JobError, RetryPolicy};
use crate::services::Services;

/// Why a WhatsApp message is parked.
pub const WHATSAPP_NOT_CONFIGURED: &str = "the WhatsApp channel is not configured (the business's \
     line in PUT /pos/api/whatsapp/settings, and the platform's NEXUS_WHATSAPP_API_URL or \
     WHATSAPP_BRIDGE_URL): the message is kept (parked) and nothing was sent";
/// Why an e-mail is parked.
pub const EMAIL_NOT_CONFIGURED: &str =
    "e-mail (SMTP) is not configured: the message is kept (parked) and nothing was sent";
/// Why a push message is parked.
pub const PUSH_NOT_CONFIGURED: &str =
    "push (Web Push) is not configured: the message is kept (parked) and nothing was sent";

/// Why a message claimed by a run that died is not sent again.
pub const INTERRUPTED: &str = "interrupted mid-send: the provider may have taken it, so it is \
     not sent again (a message is never sent twice); resend it by hand if it did not arrive";

/// The send job's retries: a provider that is down for minutes is waited out.
pub const RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 6,
    base: std::time::Duration::from_secs(5),
    max: std::time::Duration::from_secs(600),
};

/// `notify.send`: delivers a notification through its channel.
///
/// # Errors
/// Transient database errors; a provider's transient error (retried).
pub async fn send(job: SendNotification, ctx: JobCtx, services: Services) -> Result<(), JobError> {
    let metrics = services.notify_metrics.clone();
    let count = |channel: &str, outcome: &str| {
        if let Some(m) = &metrics {
            m.outcome(channel, outcome);
        }
    };
    let n = match messages::claim(&ctx.db, job.notification_id).await {
        Ok(Claim::Send(n)) => *n,
        Ok(Claim::Done) => return Ok(()),
        Ok(Claim::Interrupted(n)) => {
            count(&n.channel, "interrupted");
            tracing::warn!(tenant = %ctx.tenant.slug, notification = %n.id, "{INTERRUPTED}");
            messages::finish(&ctx.db, *n, None, Outcome::Failed(INTERRUPTED.into())).await?;
            return Ok(());
        }
        Err(entities::Error::NotFound { .. }) => {
            return Err(JobError::permanent("the notification does not exist"));
        }
        Err(e) => return Err(e.into()),
    };
    let channel = n.channel.clone();
    let rendered = match render(&ctx, &n).await {
        Ok(r) => r,
        Err(why) => {
            count(&channel, "failed");
            messages::finish(&ctx.db, n, None, Outcome::Failed(why)).await?;
            return Ok(());
        }
    };
    let started = Instant::now();
    let result = match channel.as_str() {
        "email" => match &services.smtp {
            Some(smtp) => {
                let msg = match outgoing(&ctx, &services, &n, &rendered).await {
                    Ok(m) => m,
                    Err(e) => {
                        // The attachment could not be read: the store may be back later.
                        messages::finish(&ctx.db, n, Some(&rendered), Outcome::Again(e.clone()))
                            .await?;
                        return Err(JobError::transient(e));
                    }
                };
                Some(smtp.send(&msg).await)
            }
            None => None,
        },
        "whatsapp" => match whatsapp_line(&ctx, &services).await? {
            Some(line) => {
                let msg = whatsapp_outgoing(&ctx, &n, &rendered).await?;
                Some(match &line {
                    Line::Cloud(l) => l.send(&msg).await,
                    Line::Bridge(l) => l.send(&msg).await,
                })
            }
            None => None,
        },
        "push" => None,
        other => {
            let why = format!("unknown channel {other:?}");
            count(&channel, "failed");
            messages::finish(&ctx.db, n, Some(&rendered), Outcome::Failed(why.clone())).await?;
            return Err(JobError::permanent(why));
        }
    };
    record(&ctx, n, rendered, result, started, metrics.as_ref()).await
}

/// Records what the provider said, and what the job does next.
async fn record(
    ctx: &JobCtx,
    n: notification::Model,
    rendered: Rendered,
    result: Option<Result<crate::clients::channel::Receipt, SendError>>,
    started: Instant,
    metrics: Option<&NotifyMetrics>,
) -> Result<(), JobError> {
    let channel = n.channel.clone();
    let count = |outcome: &str| {
        if let Some(m) = metrics {
            m.outcome(&channel, outcome);
        }
    };
    match result {
        None => {
            let why = match channel.as_str() {
                "email" => EMAIL_NOT_CONFIGURED,
                "push" => PUSH_NOT_CONFIGURED,
                _ => WHATSAPP_NOT_CONFIGURED,
            };
            count("parked");
            tracing::info!(tenant = %ctx.tenant.slug, notification = %n.id, channel = %channel, "notification parked: {why}");
            messages::finish(&ctx.db, n, Some(&rendered), Outcome::Parked(why.into())).await?;
            Ok(())
        }
        Some(Ok(receipt)) => {
            if let Some(m) = metrics {
                m.took(&channel, started.elapsed().as_secs_f64());
            }
            count("sent");
            let outcome = Outcome::Sent {
                provider_id: receipt.provider_id,
                cost_category: receipt.cost_category,
            };
            messages::finish(&ctx.db, n, Some(&rendered), outcome).await?;
            Ok(())
        }
        Some(Err(SendError::Permanent(why))) => {
            count("failed");
            messages::finish(&ctx.db, n, Some(&rendered), Outcome::Failed(why)).await?;
            Ok(())
        }
        Some(Err(SendError::Transient {
            reason,
            retry_after,
        })) => {
            if ctx.attempt + 1 >= RETRY.max_attempts {
                count("failed");
                let why = format!("gave up after {} attempts: {reason}", ctx.attempt + 1);
                messages::finish(&ctx.db, n, Some(&rendered), Outcome::Failed(why)).await?;
                return Ok(());
            }
            count("retrying");
            messages::finish(&ctx.db, n, Some(&rendered), Outcome::Again(reason.clone())).await?;
            Err(JobError::Transient {
                reason,
                retry_after,
            })
        }
    }
}

/// What the message says: as rendered at dispatch, or rendered now from the business's
/// template for messages sent by hand.
async fn render(ctx: &JobCtx, n: &notification::Model) -> Result<Rendered, String> {
    let template = templates::resolve(&ctx.db, &n.template, &n.channel, &n.locale)
        .await
        .map_err(|e| format!("reading the template: {e}"))?;
    if let Some(body) = &n.body {
        // Dispatched messages keep their text; WhatsApp's approved-template parameters are
        // rendered again from the same context.
        let wa = match (&template, n.channel.as_str()) {
            (Some(t), "whatsapp") => templates::render(t, &n.payload).ok(),
            _ => None,
        };
        return Ok(Rendered {
            subject: n.subject.clone(),
            body: body.clone(),
            html: n.html.clone(),
            wa_template: wa.as_ref().and_then(|r| r.wa_template.clone()),
            wa_language: wa.as_ref().and_then(|r| r.wa_language.clone()),
            wa_params: wa.map(|r| r.wa_params).unwrap_or_default(),
        });
    }
    let Some(t) = template else {
        return Err(format!("no template for {:?}", n.template));
    };
    let mut ctx_value = n.payload.clone();
    if let Value::Object(o) = &mut ctx_value {
        o.entry("business")
            .or_insert_with(|| serde_json::json!({"name": ctx.tenant.name}));
    }
    templates::render(&t, &ctx_value).map_err(|e| format!("the template did not render: {e}"))
}

/// The e-mail as the channel takes it, with the business's sender name and attachments.
async fn outgoing(
    ctx: &JobCtx,
    services: &Services,
    n: &notification::Model,
    r: &Rendered,
) -> Result<Outgoing, String> {
    let settings = entities::notifications::rules::settings(&ctx.db)
        .await
        .map_err(|e| format!("reading the settings: {e}"))?;
    let mut attachments = Vec::new();
    if let Some(list) = n.payload.get("attachments").and_then(Value::as_array) {
        let Some(files) = &services.files else {
            return Err("the message has attachments and no file store is configured".into());
        };
        for a in list {
            let (Some(key), Some(filename)) = (
                a.get("key").and_then(Value::as_str),
                a.get("filename").and_then(Value::as_str),
            ) else {
                continue;
            };
            let bytes = files
                .get(key)
                .await
                .map_err(|e| format!("reading attachment {filename}: {e}"))?
                .ok_or_else(|| format!("attachment {filename} is not in the file store"))?;
            attachments.push(Attachment {
                filename: filename.to_owned(),
                content_type: a
                    .get("content_type")
                    .and_then(Value::as_str)
                    .unwrap_or("application/octet-stream")
                    .to_owned(),
                bytes,
            });
        }
    }
    Ok(Outgoing {
        id: n.id.to_string(),
        to: n.recipient.clone(),
        subject: r.subject.clone(),
        text: r.body.clone(),
        html: r.html.clone(),
        from_name: Some(
            settings
                .email_from_name
                .unwrap_or_else(|| ctx.tenant.name.clone()),
        ),
        reply_to: settings.email_reply_to,
        attachments,
        wa_template: None,
        session_open: false,
    })
}

/// The business's WhatsApp line, when it has one this process can use.
enum Line {
    Cloud(crate::clients::whatsapp::CloudLine),
    Bridge(crate::clients::whatsapp::BridgeLine),
}

async fn whatsapp_line(ctx: &JobCtx, services: &Services) -> Result<Option<Line>, JobError> {
    let Some(s) = entities::notifications::whatsapp::settings(&ctx.db).await? else {
        return Ok(None);
    };
    Ok(match s.transport.as_str() {
        "cloud" => match (&services.whatsapp, s.phone_number_id, s.access_token) {
            (Some(api), Some(id), Some(token)) => Some(Line::Cloud(api.line(id, token))),
            _ => None,
        },
        _ => services
            .whatsapp_bridge
            .as_ref()
            .map(|b| Line::Bridge(b.line(&ctx.tenant.slug))),
    })
}

/// The WhatsApp message: free text while the customer's window is open, the approved template
/// otherwise.
async fn whatsapp_outgoing(
    ctx: &JobCtx,
    n: &notification::Model,
    r: &Rendered,
) -> Result<Outgoing, JobError> {
    let session_open =
        entities::notifications::whatsapp::window_open(&ctx.db, &n.recipient, entities::now())
            .await?;
    Ok(Outgoing {
        id: n.id.to_string(),
        to: n.recipient.clone(),
        subject: r.subject.clone(),
        text: r.body.clone(),
        html: None,
        from_name: None,
        reply_to: None,
        attachments: Vec::new(),
        wa_template: r.wa_template.clone().map(|name| WaTemplate {
            name,
            language: r.wa_language.clone().unwrap_or_else(|| "es_MX".into()),
            params: r.wa_params.clone(),
        }),
        session_open,
    })
}
