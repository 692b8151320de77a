//! What every CFDI document (invoice, credit note, payment complement, global) shares: its
//! statuses, the idempotency key of an attempt, the pending row that holds the exact request its
//! stamping sends, the Facturapi item of a concept, and freeing a global's sales when it ends.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;

use crate::Result;
use crate::counter::tables::sale;
use crate::invoicing::tables::{global_invoice, global_invoice_sale, invoice};
use crate::rules::cfdi;

pub use crate::invoicing::tables::invoice::{CancellationStatus, Status};

/// The idempotency key of an attempt: the same for every retry of one attempt, new only after a
/// known failure (reliability.md §3).
#[must_use]
pub fn attempt_key(invoice: Uuid, generation: i32) -> String {
    format!("inv-{invoice}-g{generation}")
}

/// What a Facturapi item names of its product; the amounts come from its concept.
pub(crate) struct ItemProduct<'a> {
    /// The concept's description.
    pub description: &'a str,
    /// ClaveProdServ.
    pub product_key: &'a str,
    /// ClaveUnidad.
    pub unit_key: &'a str,
    /// Our SKU, printed on the CFDI.
    pub sku: &'a str,
}

/// A Facturapi item for one concept, at the IVA-included price that charges the ticket line's
/// total exactly ([`cfdi::included_price`]): invoices and credit notes send their lines this
/// way so that the stamped total is what the customer paid or got back, to the centavo.
pub(crate) fn item_json(
    product: &ItemProduct<'_>,
    concept: &cfdi::ConceptAmounts,
    price: cfdi::IncludedPrice,
) -> serde_json::Value {
    json!({
        "quantity": price.quantity,
        "product": {
            "description": product.description,
            "product_key": product.product_key,
            "unit_key": product.unit_key,
            "price": price.price,
            "tax_included": true,
            "taxes": [{"type": "IVA", "rate": concept.tax.rate}],
            "sku": product.sku,
        }
    })
}

/// A new document (invoice, credit note, payment complement, global invoice) waiting for its
/// first stamping attempt: everything but the bookkeeping every new row starts with.
#[derive(Debug, Clone)]
pub struct PendingInvoice {
    /// Its id, also Facturapi's `external_id`.
    pub id: Uuid,
    /// `I`, `E` or `P`.
    pub kind: &'static str,
    /// The sale it documents, when one.
    pub sale_id: Option<Uuid>,
    /// What it stands for while it stands (unique), e.g. `<sale>:I`.
    pub active_key: Option<String>,
    /// The customer, when nominative.
    pub customer_id: Option<Uuid>,
    /// Series.
    pub series: String,
    /// Receiver RFC.
    pub receiver_rfc: String,
    /// Receiver legal name.
    pub receiver_name: String,
    /// c_UsoCFDI.
    pub cfdi_use: String,
    /// c_FormaPago.
    pub payment_form: String,
    /// PUE or PPD (empty for type P).
    pub payment_method: String,
    /// Total in centavos.
    pub total_cents: i64,
    /// Taxes in centavos.
    pub tax_cents: i64,
    /// The exact Facturapi body, with `idempotency_key` = [`attempt_key`]`(id, 0)`.
    pub request: serde_json::Value,
    /// The concepts' breakdown ([`lines_json`]); `None` for a payment complement.
    pub lines: Option<serde_json::Value>,
}

/// The breakdown of a CFDI's concepts as stored with it: per line its description and SKU, the
/// quantity, the unit value, amount and discount without IVA, the IVA transfer (base, factor,
/// rate, amount) and what the ticket charged for it. `names` pairs each concept, in order, with
/// its (description, SKU).
#[must_use]
pub fn lines_json<'a>(
    names: impl IntoIterator<Item = (&'a str, &'a str)>,
    amounts: &cfdi::CfdiAmounts,
) -> serde_json::Value {
    names
        .into_iter()
        .zip(&amounts.concepts)
        .map(|((description, sku), c)| {
            json!({
                "description": description,
                "sku": sku,
                "quantity": c.quantity,
                "unit_value": c.unit_value,
                "amount": c.amount,
                "discount": c.discount,
                "tax": c.tax,
                "total": c.ticket_total,
            })
        })
        .collect()
}

/// Inserts a [`PendingInvoice`] as attempt 0 (`pending`, no call made); the caller enqueues
/// `cfdi.stamp` in the same transaction and maps a unique violation of `active_key` to its own
/// conflict.
///
/// # Errors
/// Database errors.
pub async fn insert_pending(
    db: &impl ConnectionTrait,
    user: Option<Uuid>,
    new: PendingInvoice,
) -> std::result::Result<crate::invoicing::tables::invoice::Model, sea_orm::DbErr> {
    let now = crate::now();
    crate::invoicing::tables::invoice::ActiveModel {
        id: Set(new.id),
        kind: Set(new.kind.into()),
        sale_id: Set(new.sale_id),
        active_key: Set(new.active_key),
        customer_id: Set(new.customer_id),
        status: Set(Status::Pending),
        cancellation_status: Set(CancellationStatus::None),
        cancellation_motive: Set(None),
        substitution_uuid: Set(None),
        facturapi_id: Set(None),
        uuid: Set(None),
        series: Set(Some(new.series)),
        folio_number: Set(None),
        receiver_rfc: Set(new.receiver_rfc),
        receiver_name: Set(new.receiver_name),
        cfdi_use: Set(new.cfdi_use),
        payment_form: Set(new.payment_form),
        payment_method: Set(new.payment_method),
        total_cents: Set(new.total_cents),
        tax_cents: Set(new.tax_cents),
        request: Set(new.request),
        lines: Set(new.lines),
        generation: Set(0),
        idempotency_key: Set(attempt_key(new.id, 0)),
        calls: Set(0),
        failure_reason: Set(None),
        failure_code: Set(None),
        stamped_at: Set(None),
        created_by: Set(user),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
}

/// Frees every sale of a global invoice that ended (cancellation accepted, or stamping failed):
/// they may go in another one. Nothing for any other invoice.
///
/// # Errors
/// Database errors.
pub async fn release(db: &impl ConnectionTrait, invoice_id: Uuid) -> Result<()> {
    global_invoice_sale::Entity::update_many()
        .col_expr(
            global_invoice_sale::Column::ActiveSaleId,
            Expr::value(Option::<Uuid>::None),
        )
        .filter(global_invoice_sale::Column::InvoiceId.eq(invoice_id))
        .filter(global_invoice_sale::Column::ActiveSaleId.is_not_null())
        .exec(db)
        .await?;
    Ok(())
}

/// The branch a CFDI document belongs to: its sale's (invoices, credit notes and complements of
/// a sale), else its global invoice's; `None` when neither is known. The one rule for who may
/// see a document: a user limited to some branches sees a document of those branches only.
///
/// # Errors
/// Database errors.
pub async fn branch_of(
    db: &impl ConnectionTrait,
    inv: &invoice::Model,
) -> Result<Option<uuid::Uuid>> {
    if let Some(sale_id) = inv.sale_id
        && let Some(s) = sale::Entity::find_by_id(sale_id).one(db).await?
    {
        return Ok(Some(s.branch_id));
    }
    Ok(global_invoice::Entity::find()
        .filter(global_invoice::Column::InvoiceId.eq(inv.id))
        .one(db)
        .await?
        .map(|g| g.branch_id))
}

/// Whether a reported cancellation status may replace the stored one. Statuses only move
/// forward (`none` → `requested` → `pending` → `rejected`/`expired` → `accepted`), and an
/// accepted cancellation is final: Facturapi's events and answers can arrive late or out of
/// order, and a late `pending` must not undo an `accepted`. A rejected cancellation is asked
/// again through a new request, not through a report.
#[must_use]
pub fn cancellation_moves_forward(
    current: CancellationStatus,
    reported: CancellationStatus,
) -> bool {
    fn rank(s: CancellationStatus) -> u8 {
        match s {
            // `verifying` comes before Facturapi's `pending` but is never stored: it tells
            // nothing `requested` does not.
            CancellationStatus::None | CancellationStatus::Verifying => 0,
            CancellationStatus::Requested => 1,
            CancellationStatus::Pending => 2,
            CancellationStatus::Rejected | CancellationStatus::Expired => 3,
            CancellationStatus::Accepted => 4,
        }
    }
    current != CancellationStatus::Accepted && rank(reported) > rank(current)
}

#[cfg(test)]
mod tests {
    use super::CancellationStatus::*;
    use super::cancellation_moves_forward;

    #[test]
    fn cancellation_statuses_only_move_forward_and_accepted_is_final() {
        assert!(cancellation_moves_forward(Requested, Pending));
        assert!(cancellation_moves_forward(Pending, Accepted));
        assert!(cancellation_moves_forward(Requested, Rejected));
        assert!(cancellation_moves_forward(Rejected, Accepted));
        assert!(!cancellation_moves_forward(Accepted, Pending));
        assert!(!cancellation_moves_forward(Accepted, Rejected));
        assert!(!cancellation_moves_forward(Rejected, Pending));
        assert!(!cancellation_moves_forward(Pending, Pending));
    }
}
