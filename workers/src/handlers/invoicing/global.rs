//! `cfdi.global_invoice`: builds the global invoices a tenant owes (sales to the general
//! public, `entities::invoicing::global`), each in its own transaction with its
//! `cfdi.stamp` job, so a crash between two periods loses nothing and a second run finds
//! nothing left to do.

use chrono::{DateTime, Utc};
use entities::invoicing::documents::CancellationStatus;
use entities::invoicing::global::{self, Scope};
use entities::invoicing::tables::invoice;
use jobs::invoicing::{GlobalInvoice, StampInvoice};
use sea_orm::{DatabaseConnection, EntityTrait};
use uuid::Uuid;

use crate::runtime::{JobCtx, JobError};

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Global invoices recorded (each with its `cfdi.stamp` job).
    pub invoices: Vec<Uuid>,
    /// Periods left for another run that took their sales first.
    pub raced: usize,
    /// Periods that could not be invoiced, with why (a branch without its postal code…).
    pub skipped: Vec<(Uuid, String)>,
}

fn outbox(e: jobs::outbox::OutboxError) -> JobError {
    JobError::transient(format!("outbox: {e}"))
}

fn follow_up(e: jobs::follow_up::FollowUpError) -> JobError {
    JobError::transient(format!("after the cancellation: {e}"))
}

/// Builds every global invoice due at `now` within `scope`, one branch period per transaction.
/// A business without fiscal settings or Facturapi key owes nothing yet.
///
/// # Errors
/// [`JobError::Transient`] on database errors (what was committed stays; the next run goes
/// on from there).
pub async fn run(
    db: &DatabaseConnection,
    tenant_id: Uuid,
    scope: &Scope,
    user: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<RunReport, JobError> {
    let mut report = RunReport::default();
    let Some(periodicity) = global::periodicity(db).await? else {
        tracing::info!(%tenant_id, "no fiscal settings or Facturapi key: no global invoice");
        return Ok(report);
    };
    for target in global::due(db, periodicity, scope, now).await? {
        let txn = entities::db::begin_write(db).await?;
        match global::build(&txn, user, &target).await {
            Ok(invoices) => {
                for inv in &invoices {
                    jobs::outbox::enqueue(
                        &txn,
                        &StampInvoice {
                            tenant_id,
                            invoice_id: inv.id,
                        },
                    )
                    .await
                    .map_err(outbox)?;
                }
                txn.commit().await?;
                for inv in &invoices {
                    tracing::info!(
                        %tenant_id,
                        invoice = %inv.id,
                        branch = %target.branch_id,
                        first = %target.period.first,
                        last = %target.period.last,
                        total = inv.total_cents,
                        replaces = ?target.replaces,
                        "global invoice recorded"
                    );
                }
                report.invoices.extend(invoices.iter().map(|i| i.id));
            }
            Err(entities::Error::Conflict {
                code: "global_invoice_in_progress",
                ..
            }) => {
                txn.rollback().await?;
                report.raced += 1;
            }
            Err(e @ (entities::Error::Validation { .. } | entities::Error::NotFound { .. })) => {
                txn.rollback().await?;
                tracing::warn!(%tenant_id, branch = %target.branch_id, first = %target.period.first, "global invoice not built: {e}");
                report.skipped.push((target.branch_id, e.to_string()));
            }
            Err(e) => {
                txn.rollback().await?;
                return Err(e.into());
            }
        }
    }
    Ok(report)
}

/// Runs one delivery of `cfdi.global_invoice`.
///
/// # Errors
/// As [`run`].
pub async fn global_invoice(job: GlobalInvoice, ctx: JobCtx) -> Result<(), JobError> {
    let scope = Scope {
        branch_id: job.branch_id,
        from: job.from,
        to: job.to,
    };
    let r = run(
        &ctx.db,
        job.tenant_id,
        &scope,
        job.requested_by,
        entities::now(),
    )
    .await?;
    tracing::info!(
        tenant = %ctx.tenant.slug,
        invoices = r.invoices.len(),
        raced = r.raced,
        skipped = r.skipped.len(),
        "global invoice run done"
    );
    Ok(())
}

/// Records a cancellation status in one transaction: for an accepted global, its replacement
/// run is enqueued; for a global whose motive-04 cancellation is rejected, the operators' alert
/// is raised (once, on the change to `rejected`) and its text returned. `why` is Facturapi's
/// refusal, when it refused the request itself.
///
/// # Errors
/// Database and outbox errors.
pub async fn record_cancellation(
    ctx: &JobCtx,
    invoice_id: Uuid,
    status: CancellationStatus,
    why: Option<&str>,
) -> Result<Option<String>, JobError> {
    let tenant_id = ctx.tenant.id;
    // Read outside the tenant transaction: the platform is another database.
    let recipients = if status == CancellationStatus::Rejected {
        entities::org::accounts::admin_emails(&ctx.platform, tenant_id).await?
    } else {
        Vec::new()
    };
    let txn = entities::db::begin_write(&ctx.db).await?;
    let before = invoice::Entity::find_by_id(invoice_id)
        .one(&txn)
        .await?
        .map(|i| i.cancellation_status);
    let inv = entities::invoicing::invoices::record_cancellation(&txn, invoice_id, status).await?;
    if inv.cancellation_status == CancellationStatus::Accepted {
        jobs::follow_up::queue_replacement(&txn, tenant_id, inv.id)
            .await
            .map_err(follow_up)?;
    }
    let mut alert = None;
    if before != Some(CancellationStatus::Rejected)
        && let Some(refused) = global::refused_motive_04(&txn, &inv, why).await?
    {
        let reason =
            jobs::follow_up::alert_refused_motive_04(&txn, tenant_id, &refused, &recipients)
                .await
                .map_err(follow_up)?;
        alert = Some(reason);
    }
    txn.commit().await?;
    Ok(alert)
}
