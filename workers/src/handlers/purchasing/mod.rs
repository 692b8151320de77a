//! Handlers of buying's jobs: a sent purchase order rendered as a PDF, kept in the tenant's files
//! and e-mailed to its supplier; the nightly velocity and reorder run.

pub mod pdf;

use entities::files::FileStore;
use entities::notifications::messages::{self, NewNotification};
use entities::purchasing::tables::supplier;
use entities::purchasing::{orders, reorder, velocity};
use entities::rules::money::Money;
use jobs::notifications::SendNotification;
use jobs::purchasing::{NightlyReorder, SendPurchaseOrder};
use sea_orm::EntityTrait;
use serde_json::json;

use crate::runtime::{JobCtx, JobError};

/// The key of a purchase order's PDF: one per version, so a re-sent edited order keeps both.
#[must_use]
pub fn pdf_key(tenant: uuid::Uuid, order: uuid::Uuid, version: i32) -> String {
    format!(
        "{}/purchase-orders/{}-v{version}.pdf",
        tenant.simple(),
        order.simple()
    )
}

/// `purchasing.send_order`: renders the order, stores the PDF, and (when the supplier has an
/// e-mail address) queues the e-mail with the PDF's key through `notify.send`, which parks it
/// with the reason while e-mail is not configured. The PDF is written before the mark, under a
/// key of the order's version, so a retry rewrites the same file.
///
/// # Errors
/// Transient database or file-store errors.
pub async fn send_order(
    job: SendPurchaseOrder,
    ctx: JobCtx,
    files: Option<FileStore>,
) -> Result<(), JobError> {
    let Some(files) = files else {
        return Err(JobError::permanent(
            "no file store is configured: the order's PDF cannot be kept",
        ));
    };
    let d = match orders::get_order(&ctx.db, job.purchase_order_id).await {
        Ok(d) => d,
        Err(entities::Error::NotFound { .. }) => {
            return Err(JobError::permanent("the purchase order does not exist"));
        }
        Err(e) => return Err(e.into()),
    };
    let Some(s) = supplier::Entity::find_by_id(d.order.supplier_id)
        .one(&ctx.db)
        .await?
    else {
        return Err(JobError::permanent("the supplier does not exist"));
    };
    let business = entities::invoicing::fiscal::fiscal(&ctx.db).await?;
    let labels = entities::inventory::items::labels(&ctx.db, &d.items()).await?;
    let doc = pdf::PoDocument {
        business_name: business
            .as_ref()
            .map_or_else(|| ctx.tenant.name.clone(), |b| b.legal_name.clone()),
        business_rfc: business.map(|b| b.issuer_rfc),
        supplier_name: s.name.clone(),
        supplier_rfc: s.rfc.clone(),
        number: d.order.folio.clone(),
        issued_on: entities::invoicing::global::local_date(
            d.order.sent_at.unwrap_or(d.order.created_at),
        )
        .to_string(),
        currency: d.order.currency.clone(),
        lines: d
            .lines
            .iter()
            .map(|l| {
                let (sku, name) = labels.get(&l.item_id).cloned().unwrap_or_default();
                pdf::PoDocumentLine {
                    sku,
                    supplier_sku: l.supplier_sku.clone(),
                    name,
                    quantity: l.qty,
                    unit_cost_cents: l.unit_cost_cents,
                    amount_cents: l.subtotal_cents,
                }
            })
            .collect(),
        subtotal_cents: d.order.subtotal_cents,
        iva_cents: d.order.tax_cents,
        total_cents: d.order.total_cents,
        notes: d.order.notes.clone(),
    };
    let bytes = pdf::render(&doc);
    let key = pdf_key(ctx.tenant.id, d.order.id, d.order.version);
    files
        .put(&key, &bytes)
        .await
        .map_err(|e| JobError::transient(format!("storing the PDF: {e}")))?;
    let txn = entities::db::begin_write(&ctx.db).await?;
    if !ctx.mark_done(&txn).await? {
        return Ok(());
    }
    match s.email.as_deref() {
        Some(email) => {
            let n = messages::create(
                &txn,
                NewNotification {
                    channel: "email",
                    recipient: email,
                    template: "purchase_order_sent",
                    ref_type: "purchase_order",
                    ref_id: d.order.id.to_string(),
                    payload: json!({
                        "folio": d.order.folio,
                        "supplier": s.name,
                        "total": Money(d.order.total_cents).to_string(),
                        "total_cents": d.order.total_cents,
                        "currency": d.order.currency,
                        "attachments": [{"key": key, "filename": format!("{}.pdf", d.order.folio), "content_type": "application/pdf"}],
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
        }
        None => {
            tracing::info!(tenant = %ctx.tenant.slug, order = %d.order.folio, "the supplier has no e-mail address: the PDF is kept, nothing is e-mailed");
        }
    }
    txn.commit().await?;
    Ok(())
}

/// `purchasing.nightly_reorder`: the velocity of every rule, the computed rules' new levels,
/// then the reorder alerts, in one transaction (a failed run changes nothing and is retried).
///
/// # Errors
/// Transient database errors.
pub async fn nightly_reorder(job: NightlyReorder, ctx: JobCtx) -> Result<(), JobError> {
    let started = std::time::Instant::now();
    let txn = entities::db::begin_write(&ctx.db).await?;
    let v = velocity::run(&txn, entities::now()).await?;
    let a = reorder::generate_alerts(&txn, None).await?;
    txn.commit().await?;
    tracing::info!(
        tenant = %ctx.tenant.slug,
        tick = %job.tick,
        pairs_with_sales = v.pairs_with_sales,
        computed_rules = v.computed_rules,
        changed = v.changed,
        pinned = v.pinned,
        alerts_raised = a.raised,
        alerts_cleared = a.cleared,
        ms = started.elapsed().as_millis(),
        "nightly reorder done"
    );
    Ok(())
}
