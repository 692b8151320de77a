//! Handlers of inventory jobs: low-stock alerts.

use jobs::inventory::LowStock;
use sea_orm::{ConnectionTrait, Statement, Value};

use crate::runtime::{JobCtx, JobError};

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
