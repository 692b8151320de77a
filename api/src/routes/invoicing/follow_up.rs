//! Jobs that several invoicing endpoints queue in their own transaction.

use jobs::invoicing::{CancelInvoice, StampInvoice};
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Enqueues the stamping of `invoice_id` in `txn` (every new CFDI document).
pub async fn enqueue_stamp(
    state: &AppState,
    txn: &impl sea_orm::ConnectionTrait,
    tenant_id: Uuid,
    invoice_id: Uuid,
) -> ApiResult<()> {
    require_stamping(state)?;
    jobs::outbox::enqueue(
        txn,
        &StampInvoice {
            tenant_id,
            invoice_id,
        },
    )
    .await?;
    Ok(())
}

/// Takes a sale that is being invoiced to its customer out of its standing global invoice, in
/// the request's transaction, and queues the global's cancellation with motive 04 when one was
/// asked (`cfdi.cancel`). Its other sales get a replacement once the cancellation is accepted.
///
/// # Errors
/// 409 `global_invoice_stamping` while the global is still being stamped.
pub async fn leave_global(
    txn: &impl sea_orm::ConnectionTrait,
    ctx: &TenantCtx,
    sale_id: Uuid,
) -> ApiResult<()> {
    if let Some(g) = entities::invoicing::global::detach_for_nominative(
        txn,
        Some(ctx.principal.user_id),
        sale_id,
    )
    .await?
    {
        jobs::outbox::enqueue(
            txn,
            &CancelInvoice {
                tenant_id: ctx.principal.tenant.id,
                invoice_id: g.id,
            },
        )
        .await?;
    }
    Ok(())
}

/// 409 `stamping_off` when this deployment cannot stamp (`NEXUS_FACTURAPI_URL=off`): every
/// request that would create or cancel a CFDI asks this before it writes, so no document is left
/// pending with nobody to stamp it.
///
/// # Errors
/// [`ApiError::Conflict`] `stamping_off`.
pub fn require_stamping(state: &AppState) -> ApiResult<()> {
    if state.config.stamping {
        Ok(())
    } else {
        Err(ApiError::Conflict {
            code: "stamping_off",
            message: "CFDI stamping is switched off on this server (NEXUS_FACTURAPI_URL=off); \
                      nothing was recorded"
                .into(),
        })
    }
}
