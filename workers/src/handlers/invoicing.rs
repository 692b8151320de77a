//! `cfdi.stamp`: stamps an invoice through Facturapi, at most once (reliability.md §3).
//!
//! The attempt's key and exact body were stored with the invoice before any call. Every
//! delivery: an invoice already valid or failed is left alone; one Facturapi already has
//! (pending) is polled; otherwise the call is made with the stored key and body. When the
//! outcome is unknown (timeout, dropped connection, 5xx), Facturapi is asked for the invoice by
//! `external_id` before anything else, and only if it has none is the same call repeated with the
//! same key. A 429 waits for its `Retry-After`. A refusal (validation, SAT) fails the invoice
//! with an operator-readable reason; a new attempt gets a new key.
//!
//! Once the invoice is valid the same job downloads its XML and PDF into the tenant's files
//! (and comes back until it has them), so an invoice stamped through a webhook gets its files
//! on the job's next poll.

pub mod global;

use std::time::Duration;

use entities::invoicing::documents::{CancellationStatus, Status};
use entities::invoicing::fiscal;
use entities::invoicing::invoices::{self, Outcome};
use entities::invoicing::tables::invoice;
use jobs::invoicing::{CancelInvoice, StampInvoice};
use sea_orm::EntityTrait;

use entities::files::FileStore;
use entities::invoicing::tables::invoice_file;
use sea_orm::sea_query::OnConflict;

use crate::clients::facturapi::FacturapiConfig;
use crate::clients::facturapi::{
    FacturapiClient, FacturapiError, Invoice, InvoiceRequest, InvoiceStatus,
};
use crate::runtime::{JobCtx, JobError, RetryPolicy};

/// Retries of a stamping: transient failures back off up to 10 minutes, for about a day.
pub const RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 12,
    base: Duration::from_secs(2),
    max: Duration::from_secs(600),
};

fn outcome_of(inv: &Invoice) -> Outcome {
    Outcome::Known {
        facturapi_id: inv.id.clone(),
        uuid: (inv.status == InvoiceStatus::Valid)
            .then(|| inv.uuid.clone())
            .flatten(),
        series: inv.series.clone(),
        folio_number: inv.folio_number,
    }
}

fn still_pending() -> JobError {
    JobError::Transient {
        reason: "Facturapi is still stamping (pending)".into(),
        retry_after: Some(Duration::from_secs(2)),
    }
}

/// Runs one delivery of `cfdi.stamp`.
///
/// # Errors
/// [`JobError::Transient`] while the outcome can still change; [`JobError::Permanent`] when the
/// invoice failed for good (its reason is on the invoice) or nothing can be done.
pub async fn stamp(
    job: StampInvoice,
    ctx: JobCtx,
    cfg: Option<FacturapiConfig>,
    files: Option<FileStore>,
) -> Result<(), JobError> {
    let inv = invoice::Entity::find_by_id(job.invoice_id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| JobError::permanent("the invoice does not exist"))?;
    if inv.status != Status::Pending && inv.status != Status::Valid {
        return Ok(());
    }
    let Some(cfg) = cfg else {
        return Err(JobError::permanent(
            "Facturapi is not configured on this worker (NEXUS_FACTURAPI_URL is off)",
        ));
    };
    let client = business_client(&ctx, &cfg).await?;
    let stamped = stamp_once(&ctx, &inv, &client).await?;
    keep_files(&ctx, &stamped, &client, files.as_ref()).await
}

/// A Facturapi client with the business's own key.
async fn business_client(ctx: &JobCtx, cfg: &FacturapiConfig) -> Result<FacturapiClient, JobError> {
    let key = fiscal::fiscal(&ctx.db)
        .await?
        .and_then(|s| s.facturapi_key)
        .ok_or_else(|| JobError::permanent("the business has no Facturapi key"))?;
    FacturapiClient::new(&cfg.base_url, &key, cfg.timeout)
        .map_err(|e| JobError::permanent(e.to_string()))
}

/// Brings the invoice to `valid` (or fails it), without ever stamping it twice.
async fn stamp_once(
    ctx: &JobCtx,
    inv: &invoice::Model,
    client: &FacturapiClient,
) -> Result<invoice::Model, JobError> {
    if inv.status == Status::Valid {
        return Ok(inv.clone());
    }
    // Facturapi already has it: poll.
    if let Some(fid) = &inv.facturapi_id {
        let got = client.get_invoice(fid).await.map_err(|e| unknown(&e))?;
        return settle(ctx, inv, &got).await;
    }
    // A call was made before and its outcome never came back: ask first.
    if inv.calls > 0
        && let Some(got) = find(client, inv).await?
    {
        return settle(ctx, inv, &got).await;
    }
    let body: InvoiceRequest = serde_json::from_value(inv.request.clone())
        .map_err(|e| JobError::permanent(format!("stored request does not read back: {e}")))?;
    invoices::note_call(&ctx.db, inv.id).await?;
    match client.create_invoice(&body).await {
        Ok(got) => settle(ctx, inv, &got).await,
        Err(e) if e.outcome_unknown() => {
            // Did it stamp before the answer was lost? Ask by our id before trying again.
            match find(client, inv).await? {
                Some(got) => settle(ctx, inv, &got).await,
                None => Err(unknown(&e)),
            }
        }
        Err(e) if e.is_transient() => Err(e.to_job_error()),
        Err(e) => {
            let (code, reason) = refusal(&e);
            invoices::record(
                &ctx.db,
                inv.id,
                Outcome::Failed {
                    code,
                    reason: reason.clone(),
                },
            )
            .await?;
            Err(JobError::permanent(reason))
        }
    }
}

async fn find(client: &FacturapiClient, inv: &invoice::Model) -> Result<Option<Invoice>, JobError> {
    let found = client
        .find_by_external_id(&inv.id.to_string())
        .await
        .map_err(|e| unknown(&e))?;
    // Facturapi does not enforce external_id's uniqueness: take the one of this attempt's key.
    // Only a first attempt may fall back to any match: a retried document's earlier attempts
    // (failed ones) carry the same external_id.
    Ok(found
        .iter()
        .find(|f| f.idempotency_key.as_deref() == Some(inv.idempotency_key.as_str()))
        .or_else(|| found.first().filter(|_| inv.generation == 0))
        .cloned())
}

async fn settle(
    ctx: &JobCtx,
    inv: &invoice::Model,
    got: &Invoice,
) -> Result<invoice::Model, JobError> {
    match got.status {
        InvoiceStatus::Valid | InvoiceStatus::Pending | InvoiceStatus::Draft => {
            let ours = entities::rules::money::Money(inv.total_cents).to_decimal();
            if let Some(theirs) = got.total
                && theirs != ours
            {
                // Facturapi computes each line's IVA itself: a rounding that differs from the
                // ticket's shows here (docs/counter.md, the open CFDI rounding question).
                tracing::warn!(tenant = %ctx.tenant.slug, invoice = %inv.id, %ours, %theirs, "stamped total differs from the ticket");
            }
            let saved = invoices::record(&ctx.db, inv.id, outcome_of(got)).await?;
            if saved.status == Status::Valid {
                tracing::info!(tenant = %ctx.tenant.slug, invoice = %inv.id, uuid = ?saved.uuid, "invoice stamped");
                Ok(saved)
            } else {
                Err(still_pending())
            }
        }
        other => {
            let reason = format!("Facturapi reports the invoice as {other:?}");
            invoices::record(
                &ctx.db,
                inv.id,
                Outcome::Failed {
                    code: None,
                    reason: reason.clone(),
                },
            )
            .await?;
            Err(JobError::permanent(reason))
        }
    }
}

/// The formats kept of every stamped invoice.
const FORMATS: [&str; 2] = ["xml", "pdf"];

/// Downloads the stamped invoice's XML and PDF into the tenant's files, each once: a format
/// already listed in `invoice_files` is not fetched again. A failed download is retried with the
/// job (the invoice stays valid meanwhile; the download endpoints answer 409 until then).
async fn keep_files(
    ctx: &JobCtx,
    inv: &invoice::Model,
    client: &FacturapiClient,
    files: Option<&FileStore>,
) -> Result<(), JobError> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let Some(store) = files else {
        tracing::warn!(invoice = %inv.id, "no file store on this worker: the XML and PDF are not kept");
        return Ok(());
    };
    let Some(fid) = inv.facturapi_id.as_deref() else {
        return Err(JobError::permanent(
            "a valid invoice without its Facturapi id",
        ));
    };
    let mut have: Vec<String> = invoice_file::Entity::find()
        .filter(invoice_file::Column::InvoiceId.eq(inv.id))
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(|f| f.format)
        .collect();
    let missing: Vec<&str> = FORMATS
        .into_iter()
        .filter(|f| !have.iter().any(|h| h == f))
        .collect();
    for format in missing {
        let got = match format {
            "xml" => client.download_xml(fid).await,
            _ => client.download_pdf(fid).await,
        };
        let bytes = got.map_err(|e| {
            if e.is_transient() || e.outcome_unknown() {
                e.to_job_error()
            } else {
                JobError::permanent(format!("the {format} of invoice {fid}: {e}"))
            }
        })?;
        let key = FileStore::invoice_key(ctx.tenant.id, inv.id, format);
        store
            .put(&key, &bytes)
            .await
            .map_err(|e| JobError::transient(e.to_string()))?;
        let sha = entities::files::sha256_hex(&bytes);
        let last = have.len() + 1 == FORMATS.len();
        // The file that completes the set is recorded with the `invoice_stamped` event, so the
        // customer is told once, with both files there to attach.
        let txn = entities::db::begin_write(&ctx.db).await?;
        invoice_file::Entity::insert(invoice_file::ActiveModel {
            invoice_id: sea_orm::Set(inv.id),
            format: sea_orm::Set(format.to_owned()),
            path: sea_orm::Set(key),
            bytes: sea_orm::Set(i64::try_from(bytes.len()).unwrap_or(i64::MAX)),
            sha256: sea_orm::Set(sha),
            stored_at: sea_orm::Set(entities::now()),
        })
        .on_conflict(
            OnConflict::columns([
                invoice_file::Column::InvoiceId,
                invoice_file::Column::Format,
            ])
            .update_columns([
                invoice_file::Column::Path,
                invoice_file::Column::Bytes,
                invoice_file::Column::Sha256,
                invoice_file::Column::StoredAt,
            ])
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        if last && inv.kind != "global" {
            stamped_event(&txn, ctx, inv).await?;
        }
        txn.commit().await?;
        have.push(format.to_owned());
    }
    Ok(())
}

/// Records `invoice_stamped` for the customer, with the XML and PDF to attach.
async fn stamped_event(
    txn: &impl sea_orm::ConnectionTrait,
    ctx: &JobCtx,
    inv: &invoice::Model,
) -> Result<(), JobError> {
    let file = |format: &str, content_type: &str| {
        serde_json::json!({
            "key": FileStore::invoice_key(ctx.tenant.id, inv.id, format),
            "filename": format!("{}{}.{format}", inv.series.as_deref().unwrap_or(""), inv.folio_number.unwrap_or(0)),
            "content_type": content_type,
        })
    };
    entities::notifications::events::record(
        txn,
        entities::notifications::events::INVOICE_STAMPED,
        "invoice",
        inv.id,
        serde_json::json!({
            "invoice_id": inv.id,
            "customer_id": inv.customer_id,
            "series": inv.series.clone().unwrap_or_default(),
            "folio": inv.folio_number.map(|n| n.to_string()).unwrap_or_default(),
            "total": entities::rules::money::Money(inv.total_cents).to_string(),
            "uuid": inv.uuid.clone().unwrap_or_default(),
            "attachments": [file("pdf", "application/pdf"), file("xml", "application/xml")],
        }),
    )
    .await?;
    Ok(())
}

/// The cancellation status Facturapi reports for an invoice (`accepted` for a cancelled one).
fn cancellation_of(inv: &Invoice) -> Option<CancellationStatus> {
    if inv.status == InvoiceStatus::Canceled {
        return Some(CancellationStatus::Accepted);
    }
    // Both sides spell a status the same (snake case), so the text carries it across.
    inv.cancellation_status
        .and_then(|c| serde_json::to_value(c).ok())
        .and_then(|v| v.as_str()?.parse().ok())
}

/// An error while finding out what became of an invoice: the outcome stays unknown, so whatever
/// the error, the job must come back (a permanent error here would strand the invoice).
fn unknown(e: &FacturapiError) -> JobError {
    JobError::Transient {
        reason: format!("could not learn the invoice's state: {e}"),
        retry_after: e.retry_after(),
    }
}

fn refusal(e: &FacturapiError) -> (Option<String>, String) {
    match e {
        FacturapiError::Rejected(r) => (Some(r.code.clone()), r.reason.clone()),
        other => (other.code().map(str::to_owned), other.to_string()),
    }
}

/// Runs one delivery of `cfdi.cancel`. A retry asks again; when Facturapi refuses, the invoice's
/// state at Facturapi is read first, since a refusal may only mean an earlier call went through.
///
/// # Errors
/// [`JobError::Transient`] while Facturapi may still answer; [`JobError::Permanent`] when the
/// invoice cannot be cancelled (the reason is logged and the status stays as Facturapi said).
pub async fn cancel(
    job: CancelInvoice,
    ctx: JobCtx,
    cfg: Option<FacturapiConfig>,
) -> Result<(), JobError> {
    let inv = invoice::Entity::find_by_id(job.invoice_id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| JobError::permanent("the invoice does not exist"))?;
    if inv.cancellation_status != CancellationStatus::Requested {
        return Ok(());
    }
    let (Some(cfg), Some(fid), Some(motive)) = (
        cfg,
        inv.facturapi_id.clone(),
        inv.cancellation_motive.clone(),
    ) else {
        return Err(JobError::permanent(
            "nothing to cancel with: Facturapi is off, or the invoice has no Facturapi id or motive",
        ));
    };
    let client = business_client(&ctx, &cfg).await?;
    let m = entities::rules::cfdi::CancellationMotive::parse(&motive)
        .ok_or_else(|| JobError::permanent(format!("stored motive {motive:?} is not valid")))?;
    match client
        .cancel_invoice(&fid, m, inv.substitution_uuid.as_deref())
        .await
    {
        Ok(got) => {
            let st = cancellation_of(&got).unwrap_or(CancellationStatus::Pending);
            settle_cancellation(&ctx, inv.id, st).await
        }
        Err(e) => {
            // An earlier call may have gone through (its answer lost, or recording it failed):
            // Facturapi then refuses a second cancellation. What it says of the invoice now
            // decides, not the refusal.
            if let Ok(now) = client.get_invoice(&fid).await
                && let Some(st) = cancellation_of(&now).filter(|s| *s != CancellationStatus::None)
            {
                return settle_cancellation(&ctx, inv.id, st).await;
            }
            if e.is_transient() || e.outcome_unknown() {
                return Err(e.to_job_error());
            }
            let (_, reason) = refusal(&e);
            let alert = crate::handlers::invoicing::global::record_cancellation(
                &ctx,
                inv.id,
                CancellationStatus::Rejected,
                Some(&reason),
            )
            .await?;
            Err(JobError::permanent(alert.unwrap_or(reason)))
        }
    }
}

/// Invoices one poll asks about, oldest change first; the next tick takes the rest.
const POLL_BATCH: u64 = 200;

/// Runs `cfdi.poll_cancellations`: for each invoice whose cancellation is `pending` (waiting for
/// the receiver), reads it at Facturapi and records what Facturapi says now, as the webhook
/// would (an accepted global gets its replacement run; a refused motive 04 alerts). One
/// invoice's failure does not stop the others; the next tick asks again.
///
/// # Errors
/// [`JobError::Permanent`] with the alerts of refused motive-04 cancellations (so operators see
/// them among the failed jobs), or when Facturapi is not configured while invoices wait.
pub async fn poll_cancellations(
    _job: jobs::invoicing::PollCancellations,
    ctx: JobCtx,
    cfg: Option<FacturapiConfig>,
) -> Result<(), JobError> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
    let waiting = invoice::Entity::find()
        .filter(invoice::Column::CancellationStatus.eq(CancellationStatus::Pending))
        .filter(invoice::Column::FacturapiId.is_not_null())
        .order_by_asc(invoice::Column::UpdatedAt)
        .limit(POLL_BATCH)
        .all(&ctx.db)
        .await?;
    if waiting.is_empty() {
        return Ok(());
    }
    let cfg = cfg.ok_or_else(|| {
        JobError::permanent("cancellations wait at Facturapi, but Facturapi is off")
    })?;
    let client = business_client(&ctx, &cfg).await?;
    let mut alerts = Vec::new();
    for inv in waiting {
        let Some(fid) = inv.facturapi_id.as_deref() else {
            continue;
        };
        let now = match client.get_invoice(fid).await {
            Ok(now) => now,
            Err(e) => {
                tracing::warn!(
                    tenant = %ctx.tenant.slug,
                    invoice = %inv.id,
                    "cannot read a pending cancellation at Facturapi: {e}; the next poll asks again"
                );
                continue;
            }
        };
        let Some(st) = cancellation_of(&now) else {
            continue;
        };
        if let Err(JobError::Permanent(alert)) = settle_cancellation(&ctx, inv.id, st).await {
            alerts.push(alert);
        }
    }
    if alerts.is_empty() {
        Ok(())
    } else {
        Err(JobError::permanent(alerts.join("; ")))
    }
}

/// Records the cancellation status Facturapi reports (an accepted global's replacement run is
/// enqueued with it). A rejected motive-04 cancellation of a global ends the job as failed with
/// the alert's text, so operators also see it among the failed jobs.
async fn settle_cancellation(
    ctx: &JobCtx,
    id: uuid::Uuid,
    st: CancellationStatus,
) -> Result<(), JobError> {
    match crate::handlers::invoicing::global::record_cancellation(ctx, id, st, None).await? {
        Some(alert) => Err(JobError::permanent(alert)),
        None => Ok(()),
    }
}
