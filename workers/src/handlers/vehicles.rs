//! `vehicles.enrich_vin`: fills the shared VIN decode cache from NHTSA vPIC.
//!
//! The effect is the cache row, written in the platform database, so it is made idempotent
//! rather than marked: a delivery that finds the row `done` does nothing. A transient failure
//! keeps the row `pending` and retries on the client's policy; the last try that fails, or a
//! permanent failure, or an answer with nothing useful, leaves it `unavailable` with the reason.

use entities::rules::vin::Vin;
use entities::vehicles::vin_decodes::{self, Status};
use jobs::vehicles::EnrichVin;

use crate::clients::vpic::VpicClient;
use crate::runtime::{JobCtx, JobError};

/// Why a decode is unavailable when no vPIC client is configured in the worker.
pub const NOT_CONFIGURED: &str =
    "VIN enrichment is not configured on the worker (NEXUS_VPIC_URL is off)";

/// Runs one delivery of `vehicles.enrich_vin`.
///
/// # Errors
/// [`JobError::Transient`] while vPIC may still answer; [`JobError::Permanent`] when it will
/// not (the cache says `unavailable` first).
pub async fn enrich_vin(
    job: EnrichVin,
    ctx: JobCtx,
    vpic: Option<VpicClient>,
) -> Result<(), JobError> {
    let vin = Vin::parse(&job.vin).map_err(|e| JobError::permanent(format!("not a VIN: {e}")))?;
    let vin = vin.as_str();
    if let Some(row) = vin_decodes::find(&ctx.platform, vin).await?
        && row.status == Status::Done
    {
        return Ok(());
    }
    let Some(client) = vpic else {
        vin_decodes::finish(
            &ctx.platform,
            vin,
            job.model_year,
            None,
            Some(NOT_CONFIGURED),
        )
        .await?;
        return Err(JobError::permanent(NOT_CONFIGURED));
    };
    match client.decode(vin, job.model_year).await {
        Ok(data) if data.is_useful() => {
            vin_decodes::finish(&ctx.platform, vin, job.model_year, Some(&data), None).await?;
            Ok(())
        }
        Ok(data) => {
            // vPIC reflects US 565 submissions: Mexico-only models may not be there at all.
            let reason = format!(
                "vPIC has no make or model for this VIN (error codes {:?}{})",
                data.error_codes,
                data.error_text
                    .as_deref()
                    .map(|t| format!(": {t}"))
                    .unwrap_or_default()
            );
            vin_decodes::finish(
                &ctx.platform,
                vin,
                job.model_year,
                Some(&data),
                Some(&reason),
            )
            .await?;
            Ok(())
        }
        Err(e) if e.is_transient() && ctx.attempt + 1 < client.retry_policy().max_attempts => {
            vin_decodes::record_failure(&ctx.platform, vin, &e.to_string()).await?;
            Err(e.to_job_error())
        }
        Err(e) => {
            let reason = if e.is_transient() {
                format!(
                    "vPIC kept failing ({} tries): {e}",
                    ctx.attempt.saturating_add(1)
                )
            } else {
                e.to_string()
            };
            vin_decodes::finish(&ctx.platform, vin, job.model_year, None, Some(&reason)).await?;
            // Dead with the reason, so operators see a provider that keeps failing.
            Err(JobError::permanent(reason))
        }
    }
}
