//! Who may see an invoicing document: one rule for every `/pos/api/invoices/*` endpoint. A user
//! limited to some branches sees the documents of those branches only; any other is "not found",
//! as if it did not exist.

use entities::invoicing::documents;
use entities::invoicing::tables::invoice;
use sea_orm::EntityTrait;
use uuid::Uuid;

use crate::auth::TenantCtx;
use crate::error::{ApiError, ApiResult};

/// The document at `id` when the caller may see it; 404 otherwise.
///
/// # Errors
/// [`ApiError::NotFound`] `invoice`; database errors.
pub async fn visible_invoice(ctx: &TenantCtx, id: Uuid) -> ApiResult<invoice::Model> {
    let inv = invoice::Entity::find_by_id(id)
        .one(&ctx.db)
        .await?
        .ok_or(ApiError::NotFound("invoice"))?;
    if ctx.principal.branch_scope.is_some() {
        let branch = documents::branch_of(&ctx.db, &inv).await?;
        if !branch.is_some_and(|b| ctx.principal.can_see_branch(b)) {
            return Err(ApiError::NotFound("invoice"));
        }
    }
    Ok(inv)
}
