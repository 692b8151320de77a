//! The nominative invoice (type I) of a sale: the request with every local check, the stamping
//! outcome, Facturapi's webhooks, cancellation and retry.

use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use serde_json::json;
use uuid::Uuid;

use crate::invoicing::documents::{
    CancellationStatus, ItemProduct, PendingInvoice, Status, attempt_key, insert_pending,
    item_json, lines_json,
};
use crate::invoicing::fiscal::issuing_settings;
use crate::org::audit::Entry;
use crate::rules::cfdi;
use crate::{Error, Result};
/// A nominative invoice of a sale, as asked at the counter.
#[derive(Debug, Clone, Default)]
pub struct InvoiceSale {
    /// c_UsoCFDI (`G03` by default: gastos en general).
    pub cfdi_use: Option<String>,
    /// c_FormaPago; by default from the sale's largest payment.
    pub payment_form: Option<String>,
    /// E-mail Facturapi sends the invoice to (the customer's by default).
    pub email: Option<String>,
}

fn payment_form_of(
    payments: &[crate::counter::tables::payment::Model],
) -> (&'static str, &'static str) {
    if payments.iter().any(|p| p.method == "credit") {
        // Paid later: PPD, and the form is "to be defined" (SAT rule CFDI40105).
        return (crate::rules::cfdi::PAYMENT_FORM_TO_BE_DEFINED, "PPD");
    }
    let main = payments.iter().max_by_key(|p| p.amount_mxn_cents);
    let form = match main.map(|p| p.method.as_str()) {
        Some("card") => "04",
        Some("transfer") => "03",
        _ => "01",
    };
    (form, "PUE")
}

/// Records a nominative invoice (type I) of a sale and the exact request its stamping will send,
/// after every local check; the caller enqueues `cfdi.stamp` in the same transaction. A sale
/// that already has a standing invoice answers that invoice (`false`) instead of a second one.
/// Each line's SAT keys are resolved by [`crate::invoicing::sat_keys::resolve`], reading the
/// shared catalog's parts from `catalog` (the platform database).
///
/// # Errors
/// [`Error::Conflict`] `fiscal_settings_missing`, `sale_not_invoiceable`; [`Error::NotFound`]
/// `sale`; [`Error::Validation`] naming the field at fault (`customer.rfc`, `use`,
/// `lines[2].sat_product_key`, `branch.postal_code`…).
pub async fn request_invoice(
    db: &impl ConnectionTrait,
    catalog: &impl ConnectionTrait,
    user: Option<Uuid>,
    sale_id: Uuid,
    ask: InvoiceSale,
) -> Result<(crate::invoicing::tables::invoice::Model, bool)> {
    use sea_orm::{ColumnTrait, QueryFilter};

    use crate::{
        counter::sales, counter::tables::payment, customers::tables::customer,
        inventory::tables::item, invoicing::tables::invoice,
    };
    let settings = issuing_settings(db).await?;
    let doc = sales::get_sale(db, sale_id).await?;
    if let Some(existing) = invoice::Entity::find()
        .filter(invoice::Column::ActiveKey.eq(format!("{sale_id}:I")))
        .one(db)
        .await?
    {
        return Ok((existing, false));
    }
    if doc.sale.status != sales::Status::Completed {
        return Err(Error::conflict(
            "sale_not_invoiceable",
            format!(
                "a {} sale is not invoiced; a return is a credit note",
                doc.sale.status
            ),
        ));
    }
    let zip = crate::invoicing::related::issue_zip(db, doc.sale.branch_id).await?;
    let c = match doc.sale.customer_id {
        Some(id) => customer::Entity::find_by_id(id).one(db).await?,
        None => None,
    }
    .ok_or_else(|| {
        Error::validation(
            "customer",
            "the sale has no customer; sales to the general public go in the global invoice",
        )
    })?;
    let need = |field: &str, v: &Option<String>| {
        v.clone().ok_or_else(|| {
            Error::validation(
                format!("customer.{field}"),
                format!("the customer's {field} is needed for an invoice"),
            )
        })
    };
    let (rfc, regime, czip) = (
        need("rfc", &c.rfc)?,
        need("tax_regime", &c.tax_regime)?,
        need("zip", &c.zip)?,
    );
    let cfdi_use = ask.cfdi_use.unwrap_or_else(|| "G03".into());
    let receiver = cfdi::validate_receiver(
        &cfdi::ReceiverInput {
            tax_id: &rfc,
            legal_name: &c.name,
            tax_system: &regime,
            zip: &czip,
            cfdi_use: &cfdi_use,
        },
        &zip,
    )?;
    let payments = payment::Entity::find()
        .filter(payment::Column::SaleId.eq(sale_id))
        .all(db)
        .await?;
    let (default_form, method) = payment_form_of(&payments);
    let form = ask.payment_form.unwrap_or_else(|| default_form.to_owned());
    cfdi::validate_payment(&form, method)?;
    let items = item::Entity::find()
        .filter(item::Column::Id.is_in(doc.lines.iter().map(|l| l.item_id)))
        .all(db)
        .await?;
    let resolved = crate::invoicing::sat_keys::resolve(db, catalog, &items, &settings).await?;
    let mut ticket = Vec::with_capacity(doc.lines.len());
    let mut keys = Vec::with_capacity(doc.lines.len());
    for (i, l) in doc.lines.iter().enumerate() {
        let (product, unit) = match resolved.get(&l.item_id) {
            Some(k) => (k.product_key.clone(), k.unit_key.clone()),
            None => (
                settings.default_product_key.clone(),
                settings.default_unit_key.clone(),
            ),
        };
        cfdi::validate_keys(i, &product, &unit)?;
        keys.push((product, unit));
        ticket.push(cfdi::TicketLine {
            qty: l.qty,
            unit_price_cents: l.unit_price_cents,
            discount_cents: l.discount_cents,
            tax: cfdi::LineTax::Iva {
                rate_bp: l.iva_rate_bp,
            },
        });
    }
    let amounts = cfdi::cfdi_amounts(&ticket)?;
    if amounts.total.0 != doc.sale.total_cents {
        return Err(Error::validation(
            "lines",
            format!(
                "the CFDI total {} would differ from the ticket's {}",
                amounts.total,
                crate::rules::money::Money(doc.sale.total_cents)
            ),
        ));
    }
    let id = Uuid::now_v7();
    let key = attempt_key(id, 0);
    let lines: Vec<serde_json::Value> = doc
        .lines
        .iter()
        .zip(&amounts.concepts)
        .zip(&keys)
        .map(|((l, a), (product, unit))| {
            let p = ItemProduct {
                description: &l.name,
                product_key: product,
                unit_key: unit,
                sku: &l.sku,
            };
            item_json(&p, a, cfdi::included_price(a.quantity, a.ticket_total.0))
        })
        .collect();
    let email = ask.email.or(c.email.clone());
    let request = json!({
        "type": "I",
        "customer": {
            "legal_name": receiver.legal_name,
            "tax_id": receiver.rfc.value,
            "tax_system": receiver.tax_system,
            "email": email,
            "address": {"zip": receiver.zip},
        },
        "items": lines,
        "payment_form": form,
        "payment_method": method,
        "use": receiver.cfdi_use,
        "series": settings.invoice_series,
        "external_id": id.to_string(),
        "idempotency_key": key,
    });
    let row = insert_pending(
        db,
        user,
        PendingInvoice {
            id,
            kind: "I",
            sale_id: Some(sale_id),
            active_key: Some(format!("{sale_id}:I")),
            customer_id: Some(c.id),
            series: settings.invoice_series.clone(),
            receiver_rfc: receiver.rfc.value.clone(),
            receiver_name: receiver.legal_name.clone(),
            cfdi_use: receiver.cfdi_use.clone(),
            payment_form: form,
            payment_method: method.to_owned(),
            total_cents: amounts.total.0,
            tax_cents: amounts.total_taxes.0,
            request,
            lines: Some(lines_json(
                doc.lines.iter().map(|l| (l.name.as_str(), l.sku.as_str())),
                &amounts,
            )),
        },
    )
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Error::conflict(
            "invoice_in_progress",
            "another request is invoicing this sale; read the sale's invoice",
        ),
        _ => Error::Db(e),
    })?;
    Entry::new("invoice.requested")
        .actor(user)
        .target("invoice", id)
        .details(
            json!({"sale_id": sale_id, "receiver": row.receiver_rfc, "total": row.total_cents}),
        )
        .record_tenant(db)
        .await?;
    Ok((row, true))
}

/// What a stamping attempt learned, written by the `cfdi.stamp` job.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Facturapi has the invoice (pending or stamped).
    Known {
        /// Facturapi's id.
        facturapi_id: String,
        /// The UUID when stamped.
        uuid: Option<String>,
        /// Series and folio Facturapi gave it.
        series: Option<String>,
        /// Folio.
        folio_number: Option<i64>,
    },
    /// Refused for good: the next attempt needs a new key.
    Failed {
        /// Facturapi's code.
        code: Option<String>,
        /// For an operator.
        reason: String,
    },
}

/// Records a call about to be made (before it is made: a crash mid-call is then visible).
///
/// # Errors
/// Database errors.
pub async fn note_call(db: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    use sea_orm::{ColumnTrait, QueryFilter};

    use crate::invoicing::tables::invoice;
    invoice::Entity::update_many()
        .col_expr(
            invoice::Column::Calls,
            Expr::col(invoice::Column::Calls).add(1),
        )
        .col_expr(invoice::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(invoice::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Writes what an attempt learned.
///
/// # Errors
/// Database errors; [`Error::NotFound`].
pub async fn record(
    db: &impl ConnectionTrait,
    id: Uuid,
    outcome: Outcome,
) -> Result<crate::invoicing::tables::invoice::Model> {
    use crate::invoicing::tables::invoice;
    let inv = invoice::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "invoice" })?;
    let mut am: invoice::ActiveModel = inv.into();
    let now = crate::now();
    match outcome {
        Outcome::Known {
            facturapi_id,
            uuid,
            series,
            folio_number,
        } => {
            am.facturapi_id = Set(Some(facturapi_id));
            if let Some(u) = uuid {
                am.uuid = Set(Some(u));
                am.status = Set(Status::Valid);
                am.stamped_at = Set(Some(now));
            }
            if series.is_some() {
                am.series = Set(series);
            }
            if folio_number.is_some() {
                am.folio_number = Set(folio_number);
            }
        }
        Outcome::Failed { code, reason } => {
            am.status = Set(Status::Failed);
            am.failure_code = Set(code);
            am.failure_reason = Set(Some(reason));
            // The sale may be invoiced again, with a new key (a new attempt).
            am.active_key = Set(None);
            // A failed global invoice no longer holds its sales.
            crate::invoicing::documents::release(db, id).await?;
        }
    }
    am.updated_at = Set(now);
    Ok(am.update(db).await?)
}

/// What a webhook event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookOutcome {
    /// The event changed an invoice.
    Applied,
    /// Seen before: dropped.
    Duplicate,
    /// About no invoice of ours, or of a kind we do not act on: acknowledged.
    Ignored,
}

/// Applies a verified Facturapi event (`invoice.status_updated`,
/// `invoice.cancellation_status_updated`…) once, in the caller's write transaction: the event id
/// is recorded with its effect, and the caller adds the event's follow-up jobs before it commits,
/// so a replay changes nothing and a failed follow-up rolls the event back for Facturapi's retry.
/// A cancellation status that does not move the stored one forward is `Ignored`.
///
/// # Errors
/// Database errors.
pub async fn apply_webhook(
    txn: &impl ConnectionTrait,
    event_id: &str,
    kind: &str,
    object: &serde_json::Value,
) -> Result<WebhookOutcome> {
    use sea_orm::sea_query::OnConflict;
    use sea_orm::{ColumnTrait, QueryFilter};

    use crate::{invoicing::tables::invoice, invoicing::tables::webhook_event};
    let inserted = webhook_event::Entity::insert(webhook_event::ActiveModel {
        provider: Set("facturapi".into()),
        event_id: Set(event_id.chars().take(100).collect()),
        kind: Set(kind.chars().take(64).collect()),
        received_at: Set(crate::now()),
    })
    .on_conflict(
        OnConflict::columns([
            webhook_event::Column::Provider,
            webhook_event::Column::EventId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    if inserted == 0 {
        return Ok(WebhookOutcome::Duplicate);
    }
    let text = |k: &str| object.get(k).and_then(serde_json::Value::as_str);
    let ours = text("external_id").and_then(|e| Uuid::parse_str(e).ok());
    let mut q = invoice::Entity::find();
    q = match (ours, text("id")) {
        (Some(id), _) => q.filter(invoice::Column::Id.eq(id)),
        (None, Some(fid)) => q.filter(invoice::Column::FacturapiId.eq(fid)),
        (None, None) => return Ok(WebhookOutcome::Ignored),
    };
    let Some(inv) = q.one(txn).await? else {
        return Ok(WebhookOutcome::Ignored);
    };
    let outcome = match (kind, text("status"), text("cancellation_status")) {
        ("invoice.cancellation_status_updated", _, Some(c)) => {
            // A status this version does not know is not stored: the next event or poll that
            // says one it knows moves the invoice on.
            let Ok(c) = c.parse() else {
                return Ok(WebhookOutcome::Ignored);
            };
            let moved =
                crate::invoicing::documents::cancellation_moves_forward(inv.cancellation_status, c);
            record_cancellation(txn, inv.id, c).await?;
            if moved {
                WebhookOutcome::Applied
            } else {
                WebhookOutcome::Ignored
            }
        }
        (_, Some("valid"), _) if inv.status == Status::Pending => {
            record(
                txn,
                inv.id,
                Outcome::Known {
                    facturapi_id: text("id").unwrap_or_default().to_owned(),
                    uuid: text("uuid").map(str::to_owned),
                    series: text("series").map(str::to_owned),
                    folio_number: object
                        .get("folio_number")
                        .and_then(serde_json::Value::as_i64),
                },
            )
            .await?;
            WebhookOutcome::Applied
        }
        _ => WebhookOutcome::Ignored,
    };
    Ok(outcome)
}

/// Asks for an invoice's cancellation (the caller enqueues `cfdi.cancel` in the same
/// transaction). Only a stamped invoice that is not being or already cancelled qualifies.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Conflict`] `invoice_not_valid` / `cancellation_in_progress` /
/// `has_related_documents` (a credit note or payment complement of it still stands);
/// [`Error::Validation`] on `motive` or `substitution` (motive 01 needs the substitute's UUID).
pub async fn request_cancellation(
    db: &impl ConnectionTrait,
    user: Option<Uuid>,
    id: Uuid,
    motive: &str,
    substitution: Option<&str>,
) -> Result<crate::invoicing::tables::invoice::Model> {
    use crate::invoicing::tables::invoice;
    let m = cfdi::validate_cancellation(motive, substitution)?;
    // Locked: a credit note or payment asked for meanwhile waits, then sees the cancellation.
    let inv = crate::invoicing::related::lock_invoice(db, id).await?;
    if inv.status != Status::Valid {
        return Err(Error::conflict(
            "invoice_not_valid",
            format!(
                "only a stamped invoice can be cancelled; this one is {}",
                inv.status
            ),
        ));
    }
    if !matches!(
        inv.cancellation_status,
        CancellationStatus::None | CancellationStatus::Rejected
    ) {
        return Err(Error::conflict(
            "cancellation_in_progress",
            format!("the cancellation is already {}", inv.cancellation_status),
        ));
    }
    let related = crate::invoicing::related::standing_related(db, id).await?;
    if !related.is_empty() {
        let kinds = |k: &str| related.iter().filter(|d| d.kind == k).count();
        return Err(Error::conflict(
            "has_related_documents",
            format!(
                "SAT refuses to cancel an invoice while CFDIs related to it stand: cancel its {} \
                 credit note(s) and {} payment complement(s) first",
                kinds("E"),
                kinds("P")
            ),
        ));
    }
    let sub = substitution.map(|s| s.trim().to_ascii_uppercase());
    if let Some(s) = &sub
        && Uuid::parse_str(s).is_err()
    {
        return Err(Error::validation(
            "substitution",
            "the substitute's fiscal UUID",
        ));
    }
    let mut am: invoice::ActiveModel = inv.into();
    am.cancellation_status = Set(CancellationStatus::Requested);
    am.cancellation_motive = Set(Some(m.key().to_owned()));
    am.substitution_uuid = Set(sub);
    am.updated_at = Set(crate::now());
    let saved = am.update(db).await?;
    Entry::new("invoice.cancellation_requested")
        .actor(user)
        .target("invoice", id)
        .details(json!({"motive": m.key(), "substitution": saved.substitution_uuid}))
        .record_tenant(db)
        .await?;
    Ok(saved)
}

/// Records the cancellation status Facturapi reports when it moves the stored one forward
/// ([`crate::invoicing::documents::cancellation_moves_forward`]; a late or repeated report
/// changes nothing); an accepted one frees the sale for a new invoice.
///
/// # Errors
/// Database errors; [`Error::NotFound`].
pub async fn record_cancellation(
    db: &impl ConnectionTrait,
    id: Uuid,
    cancellation_status: CancellationStatus,
) -> Result<crate::invoicing::tables::invoice::Model> {
    use crate::invoicing::tables::invoice;
    let inv = invoice::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "invoice" })?;
    if !crate::invoicing::documents::cancellation_moves_forward(
        inv.cancellation_status,
        cancellation_status,
    ) {
        return Ok(inv);
    }
    let mut am: invoice::ActiveModel = inv.into();
    am.cancellation_status = Set(cancellation_status);
    if cancellation_status == CancellationStatus::Accepted {
        am.active_key = Set(None);
        // A cancelled global invoice no longer holds its sales: a replacement may take them.
        crate::invoicing::documents::release(db, id).await?;
    }
    am.updated_at = Set(crate::now());
    Ok(am.update(db).await?)
}

/// Asks a `failed` document again on its own row, as a new attempt: generation + 1, a new
/// idempotency key in the stored body, the call count and failure cleared, status `pending`, and
/// `active_key` (what the document stands for, e.g. `<payment>:P`) taken again. Used for payment
/// complements, whose payment is already recorded and must not be recorded twice; the caller
/// enqueues `cfdi.stamp` in the same transaction. Only one of two concurrent retries wins.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Conflict`] `invoice_not_failed`, or `invoice_in_progress` when
/// what it stands for has a standing document again.
pub async fn retry_in_place(
    db: &impl ConnectionTrait,
    user: Option<Uuid>,
    id: Uuid,
    active_key: Option<String>,
) -> Result<crate::invoicing::tables::invoice::Model> {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, QueryFilter};

    use crate::invoicing::tables::invoice;
    let inv = invoice::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "invoice" })?;
    let not_failed = |status: &str| {
        Error::conflict(
            "invoice_not_failed",
            format!("only a failed invoice is retried; this one is {status}"),
        )
    };
    if inv.status != Status::Failed {
        return Err(not_failed(inv.status.as_str()));
    }
    let generation = inv.generation + 1;
    let key = attempt_key(id, generation);
    let mut request = inv.request.clone();
    request["idempotency_key"] = json!(key);
    let updated = invoice::Entity::update_many()
        .col_expr(invoice::Column::Status, Expr::value(Status::Pending))
        .col_expr(invoice::Column::Generation, Expr::value(generation))
        .col_expr(invoice::Column::IdempotencyKey, Expr::value(key.clone()))
        .col_expr(invoice::Column::Request, Expr::value(request))
        .col_expr(invoice::Column::Calls, Expr::value(0))
        .col_expr(
            invoice::Column::FailureReason,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            invoice::Column::FailureCode,
            Expr::value(Option::<String>::None),
        )
        .col_expr(invoice::Column::ActiveKey, Expr::value(active_key))
        .col_expr(invoice::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(invoice::Column::Id.eq(id))
        .filter(invoice::Column::Status.eq(Status::Failed))
        .exec(db)
        .await
        .map_err(|e| match e.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Error::conflict(
                "invoice_in_progress",
                "what this document stands for has a standing document again",
            ),
            _ => Error::Db(e),
        })?;
    if updated.rows_affected == 0 {
        return Err(not_failed("being retried already"));
    }
    Entry::new("invoice.retried")
        .actor(user)
        .target("invoice", id)
        .details(json!({"generation": generation, "previous_failure": inv.failure_reason}))
        .record_tenant(db)
        .await?;
    invoice::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "invoice" })
}
