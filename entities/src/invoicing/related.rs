//! CFDIs that relate to a stamped invoice: the credit note (type E) of a return, and the payment
//! complement (type P) of each payment a PPD invoice receives.
//!
//! Both follow the invoice's way of stamping: an `invoices` row holds the exact Facturapi body
//! and the key of its attempt, the caller enqueues `cfdi.stamp` in the same transaction, and the
//! worker sends the body as stored. Both take the credited or paid invoice's row lock first
//! (a no-op update: PostgreSQL locks the row, SQLite's write transaction is already exclusive),
//! so two requests on one invoice run one after the other: credit notes can never add up beyond
//! the invoice, installments are numbered without gaps, and a balance never goes below zero.
//!
//! Rules chosen where SAT and Facturapi leave room (docs/counter.md, "Credit notes and payment
//! complements"): a credit note of a PPD invoice uses form `15` (condonación: it lowers what is
//! owed, as the PAC MySuite's filling guide shows) unless the request names the form the money
//! went back by; only such a credit lowers the balance the payment complements report.

use rust_decimal::Decimal;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::invoicing::documents::{
    self, CancellationStatus, ItemProduct, Status, attempt_key, item_json,
};
use crate::invoicing::fiscal;
use crate::org::audit::Entry;
use crate::rules::cfdi::{self, LineTax, TicketLine};
use crate::rules::money::{Money, round_cents};
use crate::{Error, Result};
use crate::{
    counter::sales, counter::tables::sale_return, counter::tables::sale_return_line,
    invoicing::tables::credit_note, invoicing::tables::invoice, invoicing::tables::invoice_payment,
    org::tables::branch,
};

/// c_TipoRelacion `01`: nota de crédito de los documentos relacionados.
pub const RELATION_CREDIT_NOTE: &str = "01";
/// c_UsoCFDI `G02`: devoluciones, descuentos o bonificaciones.
pub const USE_RETURNS: &str = "G02";
/// c_UsoCFDI `CP01`: pagos (the use of every payment complement).
pub const USE_PAYMENTS: &str = "CP01";
/// c_FormaPago `15` (condonación): a credit note that lowers what a PPD invoice still owes.
pub const FORM_CONDONATION: &str = "15";
/// How far ahead of the server's clock a `paid_at` may be (a till's clock runs a little fast).
const CLOCK_SKEW: chrono::Duration = chrono::Duration::minutes(2);

/// The share of `value` that `part` of `whole` carries, rounded half away from zero to the
/// centavo by [`round_cents`]: the prorated tax base of a payment (`amount / total × base`).
/// Each installment rounds on its own, so the bases of all installments add up to the invoice's
/// base within half a centavo per installment.
#[must_use]
pub fn prorate(part: i64, whole: i64, value: i64) -> i64 {
    if whole == 0 {
        return 0;
    }
    round_cents(Decimal::from(part) * Decimal::from(value) / Decimal::from(whole))
        .try_into()
        .unwrap_or(0)
}

/// Reads an amount stored in a request body (a JSON string or number).
fn amount_of(v: Option<&Value>) -> Option<Decimal> {
    match v? {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.to_string().parse().ok(),
        _ => None,
    }
}

fn text<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// What a credited or paid invoice still owes, from its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvoiceBalance {
    /// The invoice's total.
    pub total: Money,
    /// Sum of the payments recorded against it.
    pub paid: Money,
    /// Sum of its standing credit notes (pending or valid, not cancelled).
    pub credited: Money,
    /// The part of `credited` that lowers what is owed (form 15 on a PPD invoice).
    pub credited_to_balance: Money,
    /// What is owed: `total − paid − credited_to_balance` for a PPD invoice; zero for a PUE one
    /// (paid when issued).
    pub balance: Money,
}

/// The standing credit notes of an invoice (pending or valid, not cancelled), oldest first.
///
/// # Errors
/// Database errors.
pub async fn credit_notes_of(
    db: &impl ConnectionTrait,
    invoice_id: Uuid,
) -> Result<Vec<(credit_note::Model, invoice::Model)>> {
    let links = credit_note::Entity::find()
        .filter(credit_note::Column::InvoiceId.eq(invoice_id))
        .order_by_asc(credit_note::Column::CreatedAt)
        .all(db)
        .await?;
    if links.is_empty() {
        return Ok(Vec::new());
    }
    let rows = invoice::Entity::find()
        .filter(invoice::Column::Id.is_in(links.iter().map(|l| l.id)))
        .all(db)
        .await?;
    Ok(links
        .into_iter()
        .filter_map(|l| {
            let row = rows.iter().find(|r| r.id == l.id)?.clone();
            Some((l, row))
        })
        .collect())
}

/// The payments of an invoice with their complements, by installment.
///
/// # Errors
/// Database errors.
pub async fn payments_of(
    db: &impl ConnectionTrait,
    invoice_id: Uuid,
) -> Result<Vec<(invoice_payment::Model, Option<invoice::Model>)>> {
    let pays = invoice_payment::Entity::find()
        .filter(invoice_payment::Column::InvoiceId.eq(invoice_id))
        .order_by_asc(invoice_payment::Column::Installment)
        .all(db)
        .await?;
    if pays.is_empty() {
        return Ok(Vec::new());
    }
    let rows = invoice::Entity::find()
        .filter(invoice::Column::Id.is_in(pays.iter().map(|p| p.complement_id)))
        .all(db)
        .await?;
    Ok(pays
        .into_iter()
        .map(|p| {
            let row = rows.iter().find(|r| r.id == p.complement_id).cloned();
            (p, row)
        })
        .collect())
}

/// The credit notes and payment complements of an invoice that still stand (being stamped or
/// stamped, not cancelled): while one does, SAT refuses to cancel the invoice they relate to.
///
/// # Errors
/// Database errors.
pub async fn standing_related(
    db: &impl ConnectionTrait,
    invoice_id: Uuid,
) -> Result<Vec<invoice::Model>> {
    let notes = credit_notes_of(db, invoice_id)
        .await?
        .into_iter()
        .map(|(_, n)| n);
    let complements = payments_of(db, invoice_id)
        .await?
        .into_iter()
        .filter_map(|(_, c)| c);
    Ok(notes
        .chain(complements)
        .filter(|d| d.active_key.is_some())
        .collect())
}

/// What an invoice still owes.
///
/// # Errors
/// Database errors.
pub async fn balance_of(db: &impl ConnectionTrait, inv: &invoice::Model) -> Result<InvoiceBalance> {
    let paid: i64 = invoice_payment::Entity::find()
        .filter(invoice_payment::Column::InvoiceId.eq(inv.id))
        .all(db)
        .await?
        .iter()
        .map(|p| p.amount_cents)
        .sum();
    let ppd = inv.payment_method == "PPD";
    let (mut credited, mut to_balance) = (0i64, 0i64);
    for (_, note) in credit_notes_of(db, inv.id).await? {
        if note.active_key.is_none() {
            continue;
        }
        credited += note.total_cents;
        if ppd && note.payment_form == FORM_CONDONATION {
            to_balance += note.total_cents;
        }
    }
    let balance = if ppd {
        inv.total_cents - paid - to_balance
    } else {
        0
    };
    Ok(InvoiceBalance {
        total: Money(inv.total_cents),
        paid: Money(paid),
        credited: Money(credited),
        credited_to_balance: Money(to_balance),
        balance: Money(balance),
    })
}

/// Takes the invoice's row lock for the rest of the transaction and reads it again.
pub(crate) async fn lock_invoice(db: &impl ConnectionTrait, id: Uuid) -> Result<invoice::Model> {
    invoice::Entity::update_many()
        .col_expr(
            invoice::Column::UpdatedAt,
            Expr::col(invoice::Column::UpdatedAt),
        )
        .filter(invoice::Column::Id.eq(id))
        .exec(db)
        .await?;
    invoice::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "invoice" })
}

/// A stamped invoice that is not cancelled, or why not.
fn require_standing(inv: &invoice::Model) -> Result<()> {
    match inv.cancellation_status {
        CancellationStatus::None | CancellationStatus::Rejected => {}
        CancellationStatus::Accepted => {
            return Err(Error::conflict(
                "invoice_cancelled",
                "the invoice was cancelled before the SAT",
            ));
        }
        other => {
            return Err(Error::conflict(
                "cancellation_in_progress",
                format!("the invoice's cancellation is {other}"),
            ));
        }
    }
    if inv.status != Status::Valid || inv.uuid.is_none() {
        return Err(Error::conflict(
            "invoice_not_valid",
            format!(
                "the invoice is {}; only a stamped invoice takes related CFDIs",
                inv.status
            ),
        ));
    }
    Ok(())
}

/// The receiver of a related CFDI: the invoice's, as its stored request states it, checked
/// again for `cfdi_use` (and the branch's zip as the place of issue).
fn receiver_of(inv: &invoice::Model, cfdi_use: &str, issue_zip: &str) -> Result<Value> {
    let c = &inv.request["customer"];
    let r = cfdi::validate_receiver(
        &cfdi::ReceiverInput {
            tax_id: text(c, &["tax_id"]),
            legal_name: text(c, &["legal_name"]),
            tax_system: text(c, &["tax_system"]),
            zip: text(c, &["address", "zip"]),
            cfdi_use,
        },
        issue_zip,
    )?;
    let email = c.get("email").cloned().unwrap_or(Value::Null);
    Ok(json!({
        "legal_name": r.legal_name,
        "tax_id": r.rfc.value,
        "tax_system": r.tax_system,
        "email": email,
        "address": {"zip": r.zip},
    }))
}

/// The postal code of a branch: the place of issue (LugarExpedicion) of its CFDIs.
///
/// # Errors
/// [`Error::NotFound`] `branch`; [`Error::Validation`] on `branch.postal_code` when unset.
pub(crate) async fn issue_zip(db: &impl ConnectionTrait, branch_id: Uuid) -> Result<String> {
    branch::Entity::find_by_id(branch_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "branch" })?
        .postal_code
        .ok_or_else(|| {
            Error::validation(
                "branch.postal_code",
                "the branch needs its postal code: it is the CFDI's place of issue",
            )
        })
}

/// A new `invoices` row of a related CFDI, pending its `cfdi.stamp`.
struct NewRow {
    id: Uuid,
    kind: &'static str,
    sale_id: Option<Uuid>,
    active_key: String,
    series: String,
    cfdi_use: &'static str,
    payment_form: String,
    payment_method: &'static str,
    total_cents: i64,
    tax_cents: i64,
    request: Value,
    lines: Option<Value>,
}

async fn insert_row(
    db: &impl ConnectionTrait,
    user: Option<Uuid>,
    of: &invoice::Model,
    row: NewRow,
    busy: &'static str,
) -> Result<invoice::Model> {
    documents::insert_pending(
        db,
        user,
        documents::PendingInvoice {
            id: row.id,
            kind: row.kind,
            sale_id: row.sale_id,
            active_key: Some(row.active_key),
            customer_id: of.customer_id,
            series: row.series,
            receiver_rfc: of.receiver_rfc.clone(),
            receiver_name: of.receiver_name.clone(),
            cfdi_use: row.cfdi_use.into(),
            payment_form: row.payment_form,
            payment_method: row.payment_method.into(),
            total_cents: row.total_cents,
            tax_cents: row.tax_cents,
            request: row.request,
            lines: row.lines,
        },
    )
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Error::conflict(
            busy,
            "another request is issuing this document; read it again in a moment",
        ),
        _ => Error::Db(e),
    })
}

// ------------------------------------------------------------------------------------------
// Credit notes (type E)
// ------------------------------------------------------------------------------------------

/// A credit note asked for at the counter.
#[derive(Debug, Clone, Default)]
pub struct CreditNoteAsk {
    /// c_FormaPago of the refund: by default the invoice's, or `15` (condonación) for a PPD
    /// invoice. Never `99` (a credit note is PUE).
    pub payment_form: Option<String>,
}

/// The standing credit note of a return, if there is one.
///
/// # Errors
/// Database errors.
pub async fn credit_note_of_return(
    db: &impl ConnectionTrait,
    return_id: Uuid,
) -> Result<Option<invoice::Model>> {
    Ok(invoice::Entity::find()
        .filter(invoice::Column::ActiveKey.eq(format!("{return_id}:E")))
        .one(db)
        .await?)
}

/// The sale's standing type I invoice, or the 409 that says why there is none.
async fn invoice_of_sale(db: &impl ConnectionTrait, sale_id: Uuid) -> Result<invoice::Model> {
    let all = invoice::Entity::find()
        .filter(invoice::Column::SaleId.eq(sale_id))
        .filter(invoice::Column::Kind.eq("I"))
        .order_by_desc(invoice::Column::CreatedAt)
        .all(db)
        .await?;
    let standing = all
        .iter()
        .find(|i| i.active_key.as_deref() == Some(&format!("{sale_id}:I")));
    match (standing, all.first()) {
        (Some(i), _) => Ok(i.clone()),
        (None, None) => Err(Error::conflict(
            "sale_not_invoiced",
            "the sale has no invoice: its return needs no credit note",
        )),
        (None, Some(last)) if last.cancellation_status == CancellationStatus::Accepted => {
            Err(Error::conflict(
                "invoice_cancelled",
                "the sale's invoice was cancelled before the SAT",
            ))
        }
        (None, Some(last)) => Err(Error::conflict(
            "invoice_not_valid",
            format!(
                "the sale's invoice is {}: {}",
                last.status,
                last.failure_reason.as_deref().unwrap_or("not stamped")
            ),
        )),
    }
}

/// One concept of a credit note, with the invoice line it comes from.
struct Concept {
    line: usize,
    amounts: cfdi::ConceptAmounts,
}

/// The concepts of a return: each returned line at its refund, IVA taken out as on the ticket
/// ([`cfdi::cfdi_amounts`]), so the credit note's total is the refund to the centavo. The
/// discount of a line is its pro-rated share, derived from the refund itself
/// (`units × unit price − refund`), so no second rounding can move it.
fn return_concepts(
    doc: &sales::SaleDoc,
    lines: &[sale_return_line::Model],
) -> Result<(Vec<Concept>, cfdi::CfdiAmounts)> {
    let mut picked = Vec::with_capacity(lines.len());
    let mut ticket = Vec::with_capacity(lines.len());
    for rl in lines {
        let (idx, l) = doc
            .lines
            .iter()
            .enumerate()
            .find(|(_, l)| l.id == rl.sale_line_id)
            .ok_or(Error::NotFound {
                entity: "sale line",
            })?;
        if rl.refund_cents == 0 {
            // Nothing was given back for it (a line discounted to nothing): nothing to credit.
            continue;
        }
        picked.push(idx);
        ticket.push(TicketLine {
            qty: rl.qty,
            unit_price_cents: l.unit_price_cents,
            discount_cents: l.unit_price_cents * rl.qty - rl.refund_cents,
            tax: LineTax::Iva {
                rate_bp: l.iva_rate_bp,
            },
        });
    }
    if ticket.is_empty() {
        return Err(Error::conflict(
            "nothing_to_credit",
            "the return refunded nothing",
        ));
    }
    let amounts = cfdi::cfdi_amounts(&ticket)?;
    let concepts = picked
        .into_iter()
        .zip(&amounts.concepts)
        .map(|(line, a)| Concept { line, amounts: *a })
        .collect();
    Ok((concepts, amounts))
}

/// Records the credit note (type E) of a return of an invoiced sale and the exact request its
/// stamping will send; the caller enqueues `cfdi.stamp` in the same transaction. A return that
/// already has a standing credit note answers it (`false`).
///
/// The note relates to the invoice's UUID with relationship `01`, uses `G02`, goes to the
/// invoice's receiver, and carries each returned line at the unit value the invoice used
/// whenever that value gives the same amount for the units returned.
///
/// # Errors
/// [`Error::NotFound`] `sale` / `return`; [`Error::Conflict`] `sale_not_invoiced`,
/// `invoice_not_valid`, `invoice_cancelled`, `cancellation_in_progress`,
/// `credit_exceeds_invoice`, `credit_exceeds_balance`, `nothing_to_credit`,
/// `fiscal_settings_missing`; [`Error::Validation`] on `payment_form`, `branch.postal_code` or
/// the receiver's fields.
pub async fn request_credit_note(
    db: &impl ConnectionTrait,
    user: Option<Uuid>,
    sale_id: Uuid,
    return_id: Uuid,
    ask: CreditNoteAsk,
) -> Result<(invoice::Model, bool)> {
    let doc = sales::get_sale(db, sale_id).await?;
    let ret = sale_return::Entity::find_by_id(return_id)
        .one(db)
        .await?
        .filter(|r| r.sale_id == sale_id)
        .ok_or(Error::NotFound { entity: "return" })?;
    if let Some(existing) = credit_note_of_return(db, return_id).await? {
        return Ok((existing, false));
    }
    if let Some(f) = &ask.payment_form {
        cfdi::validate_payment(f, "PUE")?;
        if f == cfdi::PAYMENT_FORM_TO_BE_DEFINED {
            return Err(Error::validation(
                "payment_form",
                "a credit note is PUE: name how the money went back (99 is for PPD invoices)",
            ));
        }
    }
    let found = invoice_of_sale(db, sale_id).await?;
    let inv = lock_invoice(db, found.id).await?;
    // A concurrent request for the same return may have committed while this one waited.
    if let Some(existing) = credit_note_of_return(db, return_id).await? {
        return Ok((existing, false));
    }
    require_standing(&inv)?;
    let settings = fiscal::issuing_settings(db).await?;
    let zip = issue_zip(db, doc.sale.branch_id).await?;
    let customer = receiver_of(&inv, USE_RETURNS, &zip)?;
    let form = ask.payment_form.unwrap_or_else(|| {
        if inv.payment_method == "PPD" {
            FORM_CONDONATION.to_owned()
        } else {
            inv.payment_form.clone()
        }
    });
    let lines = sale_return_line::Entity::find()
        .filter(sale_return_line::Column::ReturnId.eq(ret.id))
        .order_by_asc(sale_return_line::Column::Id)
        .all(db)
        .await?;
    let (concepts, amounts) = return_concepts(&doc, &lines)?;
    if amounts.total.0 != ret.refund_cents {
        return Err(Error::Internal(format!(
            "return {return_id}: the credit note's total {} differs from the refund {}",
            amounts.total,
            Money(ret.refund_cents)
        )));
    }
    let bal = balance_of(db, &inv).await?;
    if bal.credited.0 + amounts.total.0 > inv.total_cents {
        return Err(Error::conflict(
            "credit_exceeds_invoice",
            format!(
                "the invoice's total is {} and {} is already credited: {} more would exceed it",
                bal.total, bal.credited, amounts.total
            ),
        ));
    }
    if inv.payment_method == "PPD" && form == FORM_CONDONATION && amounts.total > bal.balance {
        return Err(Error::conflict(
            "credit_exceeds_balance",
            format!(
                "the invoice owes {} and the credit is {}: the customer has paid, so send the \
                 payment_form the refund is given by",
                bal.balance, amounts.total
            ),
        ));
    }
    let stored_items = inv.request["items"].as_array().cloned().unwrap_or_default();
    let same_shape = stored_items.len() == doc.lines.len();
    let items: Vec<Value> = concepts
        .iter()
        .map(|c| {
            let l = &doc.lines[c.line];
            let a = &c.amounts;
            let stored = same_shape.then(|| &stored_items[c.line]);
            let product = |k: &str| stored.map(|s| text(s, &["product", k]).to_owned());
            // The invoice's price when, for these units, it charges the refund exactly.
            let price = stored
                .filter(|s| s.pointer("/product/tax_included") == Some(&Value::Bool(true)))
                .and_then(|s| {
                    Some(cfdi::IncludedPrice {
                        quantity: a.quantity,
                        price: amount_of(s.pointer("/product/price"))?,
                    })
                })
                .filter(|p| p.line_total_cents() == a.ticket_total.0)
                .unwrap_or_else(|| cfdi::included_price(a.quantity, a.ticket_total.0));
            let description = product("description")
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| l.name.clone());
            let product_key = product("product_key")
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| settings.default_product_key.clone());
            let unit_key = product("unit_key")
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| settings.default_unit_key.clone());
            let p = ItemProduct {
                description: &description,
                product_key: &product_key,
                unit_key: &unit_key,
                sku: &l.sku,
            };
            item_json(&p, a, price)
        })
        .collect();
    let uuid = inv.uuid.clone().unwrap_or_default();
    let id = Uuid::now_v7();
    let request = json!({
        "type": "E",
        "customer": customer,
        "items": items,
        "payment_form": form,
        "payment_method": "PUE",
        "use": USE_RETURNS,
        "related_documents": [{"relationship": RELATION_CREDIT_NOTE, "documents": [uuid]}],
        "series": settings.credit_note_series,
        "external_id": id.to_string(),
        "idempotency_key": attempt_key(id, 0),
    });
    let lines = documents::lines_json(
        concepts.iter().map(|c| {
            let l = &doc.lines[c.line];
            (l.name.as_str(), l.sku.as_str())
        }),
        &amounts,
    );
    let row = insert_row(
        db,
        user,
        &inv,
        NewRow {
            id,
            kind: "E",
            sale_id: Some(sale_id),
            active_key: format!("{return_id}:E"),
            series: settings.credit_note_series.clone(),
            cfdi_use: USE_RETURNS,
            payment_form: form,
            payment_method: "PUE",
            total_cents: amounts.total.0,
            tax_cents: amounts.total_taxes.0,
            request,
            lines: Some(lines),
        },
        "credit_note_in_progress",
    )
    .await?;
    credit_note::ActiveModel {
        id: Set(id),
        invoice_id: Set(inv.id),
        sale_id: Set(sale_id),
        return_id: Set(return_id),
        created_at: Set(row.created_at),
    }
    .insert(db)
    .await?;
    Entry::new("credit_note.requested")
        .actor(user)
        .target("invoice", id)
        .details(json!({
            "invoice_id": inv.id,
            "return_id": return_id,
            "total": Money(row.total_cents).to_string(),
            "payment_form": row.payment_form,
        }))
        .record_tenant(db)
        .await?;
    Ok((row, true))
}

// ------------------------------------------------------------------------------------------
// Payments and their complements (type P)
// ------------------------------------------------------------------------------------------

/// A payment received against a PPD invoice.
#[derive(Debug, Clone)]
pub struct PaymentAsk {
    /// Amount received, MXN.
    pub amount: Money,
    /// c_FormaPago by which it came (never `99`).
    pub payment_form: String,
    /// When it was received (now by default; never in the future).
    pub paid_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Bank or card reference.
    pub reference: Option<String>,
}

/// A payment recorded and its complement.
#[derive(Debug, Clone)]
pub struct RecordedPayment {
    /// The payment.
    pub payment: invoice_payment::Model,
    /// Its payment complement (kind P), pending its stamping.
    pub complement: invoice::Model,
}

fn check_payment(ask: &PaymentAsk) -> Result<(chrono::DateTime<chrono::Utc>, Option<String>)> {
    if ask.amount.0 <= 0 {
        return Err(Error::validation("amount", "a payment is more than zero"));
    }
    let form = ask.payment_form.trim();
    if form == cfdi::PAYMENT_FORM_TO_BE_DEFINED {
        return Err(Error::validation(
            "payment_form",
            "99 (por definir) is the PPD invoice's form; a payment names how it was paid",
        ));
    }
    if !cfdi::PAYMENT_FORMS.iter().any(|(k, _)| *k == form) {
        return Err(Error::validation(
            "payment_form",
            format!("{form:?} is not a SAT payment form (c_FormaPago), e.g. 01 cash, 03 transfer"),
        ));
    }
    let now = crate::now();
    let paid_at = ask.paid_at.unwrap_or(now);
    if paid_at > now + CLOCK_SKEW {
        return Err(Error::validation(
            "paid_at",
            "a payment cannot be dated in the future",
        ));
    }
    let reference = ask
        .reference
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned);
    if reference.as_ref().is_some_and(|r| r.chars().count() > 100) {
        return Err(Error::validation(
            "reference",
            "a reference is at most 100 characters",
        ));
    }
    Ok((paid_at, reference))
}

/// The IVA bases of an invoice per rate, from the lines its stored request states: an
/// IVA-included line's base is its total less the IVA in it, worked out as the ticket does
/// (`cfdi::concept_amounts`); a line without IVA (requests written before prices went
/// IVA-included) is price × quantity − discount. Exempt lines carry no rate and are left out:
/// the complement's tax list has no factor to state `Exento` with.
fn bases_by_rate(inv: &invoice::Model) -> Vec<(Decimal, i64)> {
    let mut out: Vec<(Decimal, i64)> = Vec::new();
    for item in inv.request["items"].as_array().into_iter().flatten() {
        let product = item.get("product").cloned().unwrap_or(Value::Null);
        let qty = amount_of(item.get("quantity")).unwrap_or_default();
        let price = amount_of(product.get("price")).unwrap_or_default();
        let discount = amount_of(item.get("discount")).unwrap_or_default();
        let amount = round_cents(qty * price * Decimal::ONE_HUNDRED)
            - round_cents(discount * Decimal::ONE_HUNDRED);
        let amount: i64 = amount.try_into().unwrap_or(0);
        let included = product.get("tax_included").and_then(Value::as_bool) != Some(false);
        let taxes = product
            .get("taxes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for t in &taxes {
            if t.get("type").and_then(Value::as_str) != Some("IVA") {
                continue;
            }
            let Some(rate) = amount_of(t.get("rate")) else {
                continue;
            };
            let base = if included {
                let tax = round_cents(Decimal::from(amount) * rate / (Decimal::ONE + rate));
                amount - i64::try_from(tax).unwrap_or(0)
            } else {
                amount
            };
            match out.iter_mut().find(|(r, _)| *r == rate) {
                Some((_, b)) => *b += base,
                None => out.push((rate, base)),
            }
        }
    }
    out
}

/// Records a payment received against a stamped PPD invoice and the payment complement (type
/// P) that reports it: installment, balance before and after, the tax bases prorated to the
/// payment. The caller enqueues `cfdi.stamp` for the complement in the same transaction.
///
/// # Errors
/// [`Error::NotFound`] `invoice`; [`Error::Validation`] on `amount` (not above zero, or above
/// the balance), `payment_form` (99 or not in c_FormaPago), `paid_at` (in the future),
/// `reference`; [`Error::Conflict`] `invoice_not_ppd`, `invoice_not_valid`,
/// `invoice_cancelled`, `cancellation_in_progress`, `fiscal_settings_missing`,
/// `payment_in_progress`.
pub async fn record_payment(
    db: &impl ConnectionTrait,
    user: Option<Uuid>,
    invoice_id: Uuid,
    ask: PaymentAsk,
) -> Result<RecordedPayment> {
    let (paid_at, reference) = check_payment(&ask)?;
    let inv = lock_invoice(db, invoice_id).await?;
    if inv.kind != "I" || inv.payment_method != "PPD" {
        return Err(Error::conflict(
            "invoice_not_ppd",
            "payment complements are for PPD invoices (sales on credit); this one was paid when issued",
        ));
    }
    require_standing(&inv)?;
    let settings = fiscal::issuing_settings(db).await?;
    let sale = match inv.sale_id {
        Some(s) => Some(sales::get_sale(db, s).await?.sale),
        None => None,
    };
    let zip = match &sale {
        Some(s) => issue_zip(db, s.branch_id).await?,
        None => text(&inv.request, &["customer", "address", "zip"]).to_owned(),
    };
    let customer = receiver_of(&inv, USE_PAYMENTS, &zip)?;
    let bal = balance_of(db, &inv).await?;
    if ask.amount > bal.balance {
        return Err(Error::conflict(
            "payment_exceeds_balance",
            format!("amount: the invoice owes {}", bal.balance),
        ));
    }
    let installment = invoice_payment::Entity::find()
        .filter(invoice_payment::Column::InvoiceId.eq(inv.id))
        .order_by_desc(invoice_payment::Column::Installment)
        .one(db)
        .await?
        .map_or(1, |p| p.installment + 1);
    let taxes: Vec<Value> = bases_by_rate(&inv)
        .into_iter()
        .map(|(rate, base)| {
            json!({
                "base": Money(prorate(ask.amount.0, inv.total_cents, base)).to_decimal(),
                "type": "IVA",
                "rate": rate,
            })
        })
        .collect();
    let form = ask.payment_form.trim().to_owned();
    let id = Uuid::now_v7();
    let payment_id = Uuid::now_v7();
    let request = json!({
        "type": "P",
        "customer": customer,
        "use": USE_PAYMENTS,
        "complements": [{
            "type": "pago",
            "data": [{
                "payment_form": form,
                "date": paid_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "currency": "MXN",
                "exchange": 1,
                "related_documents": [{
                    "uuid": inv.uuid.clone().unwrap_or_default(),
                    "amount": ask.amount.to_decimal(),
                    "installment": installment,
                    "last_balance": bal.balance.to_decimal(),
                    "taxes": taxes,
                }],
            }],
        }],
        "series": settings.payment_series,
        "external_id": id.to_string(),
        "idempotency_key": attempt_key(id, 0),
    });
    let complement = insert_row(
        db,
        user,
        &inv,
        NewRow {
            id,
            kind: "P",
            sale_id: inv.sale_id,
            active_key: format!("{payment_id}:P"),
            series: settings.payment_series.clone(),
            cfdi_use: USE_PAYMENTS,
            payment_form: form.clone(),
            // A payment complement has no MetodoPago, and its CFDI total is zero: the amount
            // paid is in the complement (and on the payment row).
            payment_method: "",
            total_cents: 0,
            tax_cents: 0,
            request,
            lines: None,
        },
        "payment_in_progress",
    )
    .await?;
    let payment = invoice_payment::ActiveModel {
        id: Set(payment_id),
        invoice_id: Set(inv.id),
        installment: Set(installment),
        last_balance_cents: Set(bal.balance.0),
        amount_cents: Set(ask.amount.0),
        balance_cents: Set(bal.balance.0 - ask.amount.0),
        payment_form: Set(form),
        paid_at: Set(paid_at),
        reference: Set(reference),
        complement_id: Set(id),
        created_by: Set(user),
        created_at: Set(complement.created_at),
    }
    .insert(db)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Error::conflict(
            "payment_in_progress",
            "another payment of this invoice is being recorded; read its payments and retry",
        ),
        _ => Error::Db(e),
    })?;
    Entry::new("invoice.payment_recorded")
        .actor(user)
        .target("invoice", inv.id)
        .details(json!({
            "payment_id": payment_id,
            "complement_id": id,
            "installment": installment,
            "amount": ask.amount.to_string(),
            "balance": Money(payment.balance_cents).to_string(),
        }))
        .record_tenant(db)
        .await?;
    Ok(RecordedPayment {
        payment,
        complement,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prorated_bases_of_every_installment_add_up_to_the_base_within_a_centavo_each() {
        // A deterministic spread of invoices and installment plans.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |m: i64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            i64::try_from(seed % u64::try_from(m).unwrap_or(1)).unwrap_or(0)
        };
        for _ in 0..5_000 {
            let total = 1 + next(5_000_000);
            let base = total * 100 / 116;
            let n = 1 + next(12);
            let mut left = total;
            let mut sum = 0i64;
            let mut k = 0i64;
            while left > 0 {
                k += 1;
                let amount = if k == n { left } else { 1 + next(left) };
                left -= amount;
                let b = prorate(amount, total, base);
                assert!((0..=base).contains(&b));
                sum += b;
            }
            assert!(
                (sum - base).abs() <= k,
                "{k} installments of {total} over base {base}: bases add to {sum}"
            );
        }
    }

    #[test]
    fn a_whole_payment_carries_the_whole_base() {
        assert_eq!(prorate(11_600, 11_600, 10_000), 10_000);
        assert_eq!(prorate(5_800, 11_600, 10_000), 5_000);
        assert_eq!(prorate(1, 3, 1), 0);
        assert_eq!(prorate(5, 0, 100), 0);
    }
}
