//! Handlers of inventory jobs: low-stock alerts and bulk imports of items.

use entities::inventory::imports::{self, Checked};
use jobs::inventory::{ImportItems, LowStock};
use sea_orm::{ConnectionTrait, Statement, Value};
use uuid::Uuid;

use crate::runtime::{JobCtx, JobError, RetryPolicy};

/// `inventory.low_stock`: raises one open alert per balance; a second delivery raises nothing
/// new (unique per source, item and warehouse).
///
/// # Errors
/// Transient database errors.
pub async fn low_stock(job: LowStock, ctx: JobCtx) -> Result<(), JobError> {
    let backend = ctx.db.get_database_backend();
    let now = entities::now();
    // Each alert raised and its `low_stock` event commit together: a retry raises neither again.
    let txn = entities::db::begin_write(&ctx.db).await?;
    let mut raised = Vec::new();
    for b in &job.balances {
        let p = |n: usize| match backend {
            sea_orm::DatabaseBackend::Postgres => format!("${n}"),
            _ => format!("?{n}"),
        };
        // Only while the balance is still under the minimum: stock that came back between the
        // sale and this job raises no alert that nothing would ever resolve.
        let sql = format!(
            "INSERT INTO stock_alerts (item_id, warehouse_id, qty, min_qty, status, source, created_at) \
             SELECT {}, {}, {}, {}, 'open', {}, {} \
             WHERE NOT EXISTS (SELECT 1 FROM stock s WHERE s.item_id = {} AND s.warehouse_id = {} \
                               AND s.qty >= {}) \
             ON CONFLICT (source, item_id, warehouse_id) DO NOTHING",
            p(1),
            p(2),
            p(3),
            p(4),
            p(5),
            p(6),
            p(1),
            p(2),
            p(4)
        );
        let r = txn
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
        if r.rows_affected() == 1 {
            raised.push(entities::notifications::events::NewEvent {
                ref_id: format!("{}:{}", b.item_id, b.warehouse_id),
                payload: serde_json::json!({
                    "item_id": b.item_id, "warehouse_id": b.warehouse_id,
                    "qty": b.qty, "min_qty": b.min_qty,
                }),
            });
        }
    }
    entities::notifications::events::record_many(
        &txn,
        entities::notifications::events::LOW_STOCK,
        "stock",
        raised,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Retries of an import after a database error: each try checks every row again.
pub const IMPORT_RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 5,
    base: std::time::Duration::from_secs(5),
    max: std::time::Duration::from_secs(300),
};

/// `inventory.import_items`: checks every row of the import (its progress visible as it goes),
/// then, in one transaction with the processed mark, either applies every row and ends `done`,
/// or ends `failed` with the errors of the bad rows having written nothing. A second delivery
/// finds the mark (or the import ended) and does nothing.
///
/// # Errors
/// [`JobError::Permanent`] for an import that does not exist, or a database error on the last
/// try (the import then says `failed` with the reason); [`JobError::Transient`] for a database
/// error while tries remain (the import stays `running` with the error noted).
pub async fn import_items(job: ImportItems, ctx: JobCtx) -> Result<(), JobError> {
    let id = job.import_id;
    let imp = match imports::start(&ctx.db, id).await {
        Ok(Some(imp)) => imp,
        Ok(None) => return Ok(()),
        Err(entities::Error::NotFound { .. }) => {
            return Err(JobError::permanent("the import does not exist"));
        }
        Err(e) => return settle(&ctx, id, e).await,
    };
    let checked = match imports::check(&ctx.db, &ctx.platform, &imp).await {
        Ok(c) => c,
        Err(e) => return settle(&ctx, id, e).await,
    };
    let txn = entities::db::begin_write(&ctx.db).await?;
    if !ctx.mark_done(&txn).await? {
        return Ok(());
    }
    let outcome = match checked {
        Checked::Invalid(errors) => imports::fail(&txn, id, &errors, None).await.map(|()| None),
        Checked::Valid(plan) => imports::apply(&txn, &imp, plan).await.map(Some),
    };
    match outcome {
        Ok(applied) => {
            txn.commit().await?;
            match applied {
                Some(a) => tracing::info!(
                    tenant = %ctx.tenant.slug,
                    import = %id,
                    created = a.created,
                    updated = a.updated,
                    units = a.units,
                    "items imported"
                ),
                None => {
                    tracing::info!(tenant = %ctx.tenant.slug, import = %id, "import refused: bad rows")
                }
            }
            Ok(())
        }
        Err(e) => {
            txn.rollback().await?;
            settle(&ctx, id, e).await
        }
    }
}

/// After an import could not be checked or applied. A refusal (an item created with one of its
/// SKUs since the check, its warehouse deactivated) is the import's outcome: it ends `failed`
/// with the reason, with the processed mark. A database error is tried again, and ends the
/// import `failed` on the last try.
async fn settle(ctx: &JobCtx, id: Uuid, e: entities::Error) -> Result<(), JobError> {
    use entities::Error as E;
    let reason = e.to_string();
    match e {
        E::Validation { .. }
        | E::Missing { .. }
        | E::Conflict { .. }
        | E::NotFound { .. }
        | E::Forbidden { .. } => {
            let txn = entities::db::begin_write(&ctx.db).await?;
            if !ctx.mark_done(&txn).await? {
                return Ok(());
            }
            imports::fail(&txn, id, &[], Some(&reason)).await?;
            txn.commit().await?;
            tracing::info!(tenant = %ctx.tenant.slug, import = %id, "import refused: {reason}");
            Ok(())
        }
        E::Db(_) | E::Internal(_) => {
            let last = ctx.attempt + 1 >= IMPORT_RETRY.max_attempts;
            let noted = if last {
                imports::fail(&ctx.db, id, &[], Some(&reason)).await
            } else {
                imports::note_error(&ctx.db, id, &reason).await
            };
            if let Err(e) = noted {
                tracing::warn!(import = %id, "import state not recorded: {e}");
            }
            if last {
                Err(JobError::permanent(reason))
            } else {
                Err(JobError::transient(reason))
            }
        }
    }
}
