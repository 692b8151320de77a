//! Receiving from the supplier's CFDI: the XML uploaded to a purchase order is parsed
//! (streaming, size-limited, no DTD), checked (addressed to this business, issued by the
//! order's supplier, a UUID this business never received), matched to the order's lines by the
//! supplier's SKU or description with the quantity and price differences shown, kept in the
//! tenant's files, and, once accepted, turned into a receipt.

use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::OnUnique;
use crate::org::branches::Actor;
use crate::purchasing::orders::{self, invalid_state};
use crate::purchasing::receiving::{self, NewReceipt, ReceiptDetail, ReceiptLine};
use crate::purchasing::tables::supplier_invoice;
use crate::rules::supplier_cfdi::{self, ConceptMatch, PoLineRef, SupplierInvoice};
use crate::{Error, Result};

/// The key of a supplier's CFDI in the tenant's files.
#[must_use]
pub fn file_key(tenant: Uuid, uuid: &str) -> String {
    format!(
        "{}/supplier-cfdi/{}.xml",
        tenant.simple(),
        uuid.to_ascii_lowercase()
    )
}

/// A checked upload, ready to be stored.
#[derive(Debug, Clone)]
pub struct Checked {
    /// What the XML says.
    pub invoice: SupplierInvoice,
    /// Its concepts matched to the order's lines.
    pub matches: Vec<ConceptMatch>,
}

/// Parses and checks a supplier's CFDI against an order (nothing is written).
///
/// # Errors
/// [`Error::NotFound`] `purchase_order`; [`Error::Conflict`] `invalid_purchase_order_state`
/// unless the order can receive, `cfdi_uuid_reused`; [`Error::Validation`] on `xml` for what the
/// parser refuses, another currency than the order's, a receiver that is not this business, an
/// issuer that is not the supplier.
pub async fn check(db: &impl ConnectionTrait, po_id: Uuid, xml: &[u8]) -> Result<Checked> {
    let po = orders::load(db, po_id).await?;
    if !po.status.receivable() {
        return Err(invalid_state(&po, "received"));
    }
    let invoice = supplier_cfdi::parse(xml)?;
    if !invoice.currency.eq_ignore_ascii_case(&po.currency) {
        // Its prices could not be compared with the order's: a person receives it by hand.
        return Err(Error::validation(
            "xml",
            format!(
                "the CFDI is in {}, purchase order {} in {}: receive it by hand",
                invoice.currency, po.folio, po.currency
            ),
        ));
    }
    let business = crate::invoicing::fiscal::fiscal(db).await?.ok_or_else(|| {
        Error::conflict(
            "fiscal_settings_missing",
            "set the business's fiscal data (RFC) before receiving from a CFDI",
        )
    })?;
    if !invoice
        .receiver_rfc
        .eq_ignore_ascii_case(&business.issuer_rfc)
    {
        return Err(Error::validation(
            "xml",
            format!(
                "the CFDI is addressed to RFC {}, not to this business ({})",
                invoice.receiver_rfc, business.issuer_rfc
            ),
        ));
    }
    let supplier = crate::purchasing::suppliers::get_supplier(db, po.supplier_id).await?;
    match &supplier.rfc {
        Some(rfc) if rfc.eq_ignore_ascii_case(&invoice.issuer_rfc) => {}
        Some(rfc) => {
            return Err(Error::validation(
                "xml",
                format!(
                    "the CFDI was issued by RFC {}, not by the order's supplier {} ({rfc})",
                    invoice.issuer_rfc, supplier.name
                ),
            ));
        }
        None => {
            return Err(Error::validation(
                "xml",
                format!(
                    "supplier {} has no RFC to check the CFDI's issuer ({}) against: set it first",
                    supplier.name, invoice.issuer_rfc
                ),
            ));
        }
    }
    if let Some(prev) = supplier_invoice::Entity::find_by_id(invoice.uuid.clone())
        .one(db)
        .await?
    {
        return Err(Error::conflict(
            "cfdi_uuid_reused",
            format!(
                "CFDI {} was uploaded already (to purchase order {})",
                invoice.uuid, prev.purchase_order_id
            ),
        ));
    }
    let lines = orders::lines_of(db, po_id).await?;
    let labels =
        crate::inventory::items::labels(db, &lines.iter().map(|l| l.item_id).collect::<Vec<_>>())
            .await?;
    let refs: Vec<PoLineRef> = lines
        .iter()
        .map(|l| {
            let (sku, name) = labels.get(&l.item_id).cloned().unwrap_or_default();
            PoLineRef {
                line_id: l.id,
                supplier_sku: l.supplier_sku.clone(),
                item_sku: sku,
                name,
                open_qty: l.open_qty(),
                unit_cost_cents: l.unit_cost_cents,
            }
        })
        .collect();
    let matches = supplier_cfdi::match_lines(&invoice, &refs);
    Ok(Checked { invoice, matches })
}

/// Records a checked upload (the XML is already in the files under `key`).
///
/// # Errors
/// [`Error::Conflict`] `cfdi_uuid_reused` when another upload of the same UUID won the race.
pub async fn record(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    po_id: Uuid,
    c: &Checked,
    key: String,
) -> Result<supplier_invoice::Model> {
    let po = orders::load(txn, po_id).await?;
    let row = supplier_invoice::ActiveModel {
        uuid: Set(c.invoice.uuid.clone()),
        purchase_order_id: Set(po_id),
        supplier_id: Set(po.supplier_id),
        issuer_rfc: Set(c.invoice.issuer_rfc.clone()),
        series: Set(c.invoice.series.clone()),
        folio: Set(c.invoice.folio.clone()),
        currency: Set(c.invoice.currency.clone()),
        subtotal_cents: Set(c.invoice.subtotal_cents),
        total_cents: Set(c.invoice.total_cents),
        file_key: Set(key),
        matches: Set(serde_json::to_value(&c.matches).map_err(|e| Error::Internal(e.to_string()))?),
        status: Set("pending".into()),
        receipt_id: Set(None),
        uploaded_by: Set(actor.user_id),
        created_at: Set(crate::now()),
    }
    .insert(txn)
    .await
    .on_unique(
        "cfdi_uuid_reused",
        &format!("CFDI {} was uploaded already", c.invoice.uuid),
    )?;
    orders::entry(actor, "purchase_order.cfdi_uploaded", po_id)
        .details(serde_json::json!({"uuid": row.uuid, "total_cents": row.total_cents, "matched": c.matches.iter().filter(|m| m.line_id.is_some()).count(), "concepts": c.matches.len()}))
        .record_tenant(txn)
        .await?;
    Ok(row)
}

/// A person's decision on one concept: receive `qty` units of it into `line_id`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Accepted {
    /// The order line.
    pub line_id: Uuid,
    /// Units.
    pub qty: i64,
}

/// Turns an uploaded CFDI into a receipt: the accepted lines, or every matched concept at its
/// invoiced quantity when none are given.
///
/// # Errors
/// [`Error::NotFound`] `supplier_invoice`; [`Error::Conflict`] `cfdi_received` when it was
/// turned into a receipt already, `cfdi_nothing_matched`; as [`receiving::receive`].
pub async fn receive(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    po_id: Uuid,
    uuid: &str,
    accepted: Option<Vec<Accepted>>,
    warehouse_id: Option<Uuid>,
) -> Result<ReceiptDetail> {
    orders::lock(txn, po_id).await?;
    let inv = supplier_invoice::Entity::find_by_id(uuid.to_ascii_uppercase())
        .one(txn)
        .await?
        .filter(|i| i.purchase_order_id == po_id)
        .ok_or(Error::NotFound {
            entity: "supplier_invoice",
        })?;
    if inv.status != "pending" {
        return Err(Error::conflict(
            "cfdi_received",
            format!("CFDI {} was received already", inv.uuid),
        ));
    }
    let lines: Vec<ReceiptLine> = match accepted {
        Some(a) => a
            .into_iter()
            .map(|a| ReceiptLine {
                line_id: a.line_id,
                qty: a.qty,
            })
            .collect(),
        None => {
            let matches: Vec<ConceptMatch> = serde_json::from_value(inv.matches.clone())
                .map_err(|e| Error::Internal(e.to_string()))?;
            let mut out: Vec<ReceiptLine> = Vec::new();
            for m in matches {
                let Some(line_id) = m.line_id else { continue };
                if m.quantity <= 0 {
                    continue;
                }
                match out.iter_mut().find(|l| l.line_id == line_id) {
                    Some(l) => l.qty += m.quantity,
                    None => out.push(ReceiptLine {
                        line_id,
                        qty: m.quantity,
                    }),
                }
            }
            out
        }
    };
    if lines.is_empty() {
        return Err(Error::conflict(
            "cfdi_nothing_matched",
            "no concept of the CFDI matches a line of the order: accept lines by hand",
        ));
    }
    let detail = receiving::receive(
        txn,
        actor,
        po_id,
        NewReceipt {
            warehouse_id,
            lines,
            note: Some(format!("CFDI {}", inv.uuid)),
            invoice_uuid: Some(inv.uuid.clone()),
        },
    )
    .await?;
    let mut am: supplier_invoice::ActiveModel = inv.into();
    am.status = Set("received".into());
    am.receipt_id = Set(Some(detail.receipt.id));
    am.update(txn).await?;
    Ok(detail)
}
