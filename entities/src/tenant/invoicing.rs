//! CFDI invoicing, tenant side. So far: the business's fiscal settings (issuer, series, the
//! Facturapi key, default SAT keys). The key and the webhook secret are write-only: they are
//! stored for the `cfdi` workers and never returned, logged or audited.

use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set, TransactionTrait};
use serde_json::json;
use uuid::Uuid;

use super::fiscal_setting;
use crate::cfdi::{self, TaxpayerKind};
use crate::platform::audit::Entry;
use crate::{Error, Result};

/// The id of the one settings row.
const ROW: i32 = 1;

/// A secret that is set, cleared, or left as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Secret {
    /// Leave the stored value.
    #[default]
    Keep,
    /// Remove it.
    Clear,
    /// Store this.
    Set(String),
}

/// Fiscal settings as written; `None` keeps a default or the stored value.
#[derive(Clone, Default)]
pub struct FiscalInput {
    /// Issuer RFC.
    pub issuer_rfc: String,
    /// Legal name as registered with the SAT.
    pub legal_name: String,
    /// c_RegimenFiscal of the issuer.
    pub tax_regime: String,
    /// Series of invoices (default `A`).
    pub invoice_series: Option<String>,
    /// Series of credit notes (default `NC`).
    pub credit_note_series: Option<String>,
    /// Series of payment complements (default `P`).
    pub payment_series: Option<String>,
    /// Facturapi secret key.
    pub facturapi_key: Secret,
    /// Webhook signing secret.
    pub webhook_secret: Secret,
    /// ClaveProdServ for items without one (default `25174800`, auto-parts accessories).
    pub default_product_key: Option<String>,
    /// ClaveUnidad for items without one (default `H87`, pieza).
    pub default_unit_key: Option<String>,
    /// Periodicity of the global invoice (`day` by default; `None` keeps the stored one).
    pub global_periodicity: Option<String>,
}

impl std::fmt::Debug for FiscalInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FiscalInput")
            .field("issuer_rfc", &self.issuer_rfc)
            .field("legal_name", &self.legal_name)
            .field("tax_regime", &self.tax_regime)
            .field("facturapi_key", &"<write-only>")
            .field("webhook_secret", &"<write-only>")
            .finish_non_exhaustive()
    }
}

/// Whether a Facturapi key is configured, and of which kind (never the key).
#[must_use]
pub fn key_mode(s: &fiscal_setting::Model) -> Option<&'static str> {
    match s.facturapi_key.as_deref() {
        Some(k) if k.starts_with("sk_live_") => Some("live"),
        Some(_) => Some("test"),
        None => None,
    }
}

fn series(field: &str, v: Option<String>, default: &str) -> Result<String> {
    let s = v.map_or_else(|| default.to_owned(), |s| s.trim().to_ascii_uppercase());
    if s.is_empty() || s.len() > 25 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::validation(
            field,
            "a series is 1 to 25 letters or digits",
        ));
    }
    Ok(s)
}

fn secret(
    field: &str,
    s: Secret,
    prefix: &[&str],
    stored: Option<String>,
) -> Result<Option<String>> {
    match s {
        Secret::Keep => Ok(stored),
        Secret::Clear => Ok(None),
        Secret::Set(v) => {
            let v = v.trim().to_owned();
            let prefixed = prefix.is_empty() || prefix.iter().any(|p| v.starts_with(p));
            if v.len() < 16 || v.len() > 200 || !prefixed {
                return Err(Error::validation(
                    field,
                    if prefix.is_empty() {
                        "the secret is 16 to 200 characters".to_owned()
                    } else {
                        format!(
                            "the key starts with {} (see your Facturapi dashboard)",
                            prefix.join(" or ")
                        )
                    },
                ));
            }
            Ok(Some(v))
        }
    }
}

/// The settings, when set.
///
/// # Errors
/// Database errors.
pub async fn fiscal(db: &impl ConnectionTrait) -> Result<Option<fiscal_setting::Model>> {
    Ok(fiscal_setting::Entity::find_by_id(ROW).one(db).await?)
}

/// The fiscal settings, when documents can be issued: they are set and hold a Facturapi key.
///
/// # Errors
/// [`Error::Conflict`] `fiscal_settings_missing`; database errors.
pub async fn issuing_settings(db: &impl ConnectionTrait) -> Result<fiscal_setting::Model> {
    fiscal(db)
        .await?
        .filter(|s| s.facturapi_key.is_some())
        .ok_or_else(|| {
            Error::conflict(
                "fiscal_settings_missing",
                "set the fiscal settings and the Facturapi key first (PUT /pos/api/settings/fiscal)",
            )
        })
}

/// Sets the fiscal settings (owner and admin; the API checks the role), audited without secrets.
///
/// # Errors
/// [`Error::Validation`] naming the field.
pub async fn set_fiscal(
    db: &sea_orm::DatabaseConnection,
    user: Option<Uuid>,
    request_id: Option<String>,
    input: FiscalInput,
) -> Result<fiscal_setting::Model> {
    let rfc = cfdi::check_rfc("issuer_rfc", &input.issuer_rfc)?;
    if rfc.generic {
        return Err(Error::validation(
            "issuer_rfc",
            "a generic RFC cannot issue invoices",
        ));
    }
    let name = input.legal_name.trim().to_uppercase();
    if name.is_empty() || name.chars().count() > 300 {
        return Err(Error::validation(
            "legal_name",
            "the legal name is 1 to 300 characters, as on the Constancia de Situación Fiscal",
        ));
    }
    let regime = cfdi::tax_regime(input.tax_regime.trim())
        .ok_or_else(|| Error::validation("tax_regime", "not a key of SAT's c_RegimenFiscal"))?;
    let fits = match rfc.kind {
        TaxpayerKind::Person => regime.person,
        TaxpayerKind::Company => regime.company,
    };
    if !fits {
        return Err(Error::validation(
            "tax_regime",
            format!(
                "regime {} does not apply to this kind of taxpayer",
                regime.key
            ),
        ));
    }
    let product = input
        .default_product_key
        .unwrap_or_else(|| "25174800".into());
    let unit = input.default_unit_key.unwrap_or_else(|| "H87".into());
    cfdi::validate_keys(0, &product, &unit).map_err(|e| {
        let field = if e.field().ends_with("unit_key") {
            "default_unit_key"
        } else {
            "default_product_key"
        };
        Error::validation(field, e.to_string())
    })?;
    let txn = db.begin().await?;
    let stored = fiscal(&txn).await?;
    let (old_key, old_secret) = stored
        .as_ref()
        .map(|s| (s.facturapi_key.clone(), s.webhook_secret.clone()))
        .unwrap_or_default();
    let key = secret(
        "facturapi_key",
        input.facturapi_key,
        &["sk_test_", "sk_live_"],
        old_key,
    )?;
    let hook = secret("webhook_secret", input.webhook_secret, &[], old_secret)?;
    let periodicity = match input.global_periodicity {
        Some(p) => super::global_invoicing::parse_periodicity(&p)?,
        None => stored
            .as_ref()
            .and_then(|s| super::global_invoicing::parse_periodicity(&s.global_periodicity).ok())
            .unwrap_or(cfdi::Periodicity::Day),
    };
    let am = fiscal_setting::ActiveModel {
        id: Set(ROW),
        issuer_rfc: Set(rfc.value),
        legal_name: Set(name),
        tax_regime: Set(regime.key.to_owned()),
        invoice_series: Set(series("invoice_series", input.invoice_series, "A")?),
        credit_note_series: Set(series(
            "credit_note_series",
            input.credit_note_series,
            "NC",
        )?),
        payment_series: Set(series("payment_series", input.payment_series, "P")?),
        facturapi_key: Set(key),
        webhook_secret: Set(hook),
        default_product_key: Set(product),
        default_unit_key: Set(unit),
        global_periodicity: Set(super::global_invoicing::periodicity_name(periodicity).to_owned()),
        updated_by: Set(user),
        updated_at: Set(crate::now()),
    };
    let saved = if stored.is_some() {
        am.update(&txn).await?
    } else {
        am.insert(&txn).await?
    };
    Entry::new("fiscal.updated")
        .actor(user)
        .target("fiscal_settings", ROW)
        .request(None, request_id)
        .details(json!({
            "issuer_rfc": saved.issuer_rfc,
            "tax_regime": saved.tax_regime,
            "series": [saved.invoice_series, saved.credit_note_series, saved.payment_series],
            "facturapi_key": key_mode(&saved).unwrap_or("none"),
            "webhook_secret": saved.webhook_secret.is_some(),
            "global_periodicity": saved.global_periodicity,
        }))
        .record_tenant(&txn)
        .await?;
    txn.commit().await?;
    Ok(saved)
}

/// Invoice statuses.
pub mod status {
    /// Being stamped (the `cfdi.stamp` job owns it).
    pub const PENDING: &str = "pending";
    /// Stamped: it has a UUID.
    pub const VALID: &str = "valid";
    /// Facturapi or the SAT refused it; `failure_reason` says why.
    pub const FAILED: &str = "failed";
}

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

fn payment_form_of(payments: &[super::payment::Model]) -> (&'static str, &'static str) {
    if payments.iter().any(|p| p.method == "credit") {
        // Paid later: PPD, and the form is "to be defined" (SAT rule CFDI40105).
        return (crate::cfdi::PAYMENT_FORM_TO_BE_DEFINED, "PPD");
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
/// Each line's SAT keys are resolved by [`super::category_sat_keys::resolve`], reading the
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
) -> Result<(super::invoice::Model, bool)> {
    use sea_orm::{ColumnTrait, QueryFilter};

    use super::{customer, invoice, item, payment, sales};
    let settings = issuing_settings(db).await?;
    let doc = sales::get_sale(db, sale_id).await?;
    if let Some(existing) = invoice::Entity::find()
        .filter(invoice::Column::ActiveKey.eq(format!("{sale_id}:I")))
        .one(db)
        .await?
    {
        return Ok((existing, false));
    }
    if doc.sale.status != sales::status::COMPLETED {
        return Err(Error::conflict(
            "sale_not_invoiceable",
            format!(
                "a {} sale is not invoiced; a return is a credit note",
                doc.sale.status
            ),
        ));
    }
    let zip = super::cfdi_documents::issue_zip(db, doc.sale.branch_id).await?;
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
    let resolved = super::category_sat_keys::resolve(db, catalog, &items, &settings).await?;
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
                crate::money::Money(doc.sale.total_cents)
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
) -> std::result::Result<super::invoice::Model, sea_orm::DbErr> {
    let now = crate::now();
    super::invoice::ActiveModel {
        id: Set(new.id),
        kind: Set(new.kind.into()),
        sale_id: Set(new.sale_id),
        active_key: Set(new.active_key),
        customer_id: Set(new.customer_id),
        status: Set(status::PENDING.into()),
        cancellation_status: Set("none".into()),
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

    use super::invoice;
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
) -> Result<super::invoice::Model> {
    use super::invoice;
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
                am.status = Set(status::VALID.into());
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
            am.status = Set(status::FAILED.into());
            am.failure_code = Set(code);
            am.failure_reason = Set(Some(reason));
            // The sale may be invoiced again, with a new key (a new attempt).
            am.active_key = Set(None);
            // A failed global invoice no longer holds its sales.
            super::global_invoicing::release(db, id).await?;
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
/// `invoice.cancellation_status_updated`…) once: the event id is recorded in the same
/// transaction, so a replay changes nothing.
///
/// # Errors
/// Database errors.
pub async fn apply_webhook(
    db: &sea_orm::DatabaseConnection,
    event_id: &str,
    kind: &str,
    object: &serde_json::Value,
) -> Result<WebhookOutcome> {
    use sea_orm::sea_query::OnConflict;
    use sea_orm::{ColumnTrait, QueryFilter};

    use super::{invoice, webhook_event};
    let txn = db.begin().await?;
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
    .exec_without_returning(&txn)
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
        (None, None) => {
            txn.commit().await?;
            return Ok(WebhookOutcome::Ignored);
        }
    };
    let Some(inv) = q.one(&txn).await? else {
        txn.commit().await?;
        return Ok(WebhookOutcome::Ignored);
    };
    let outcome = match (kind, text("status"), text("cancellation_status")) {
        ("invoice.cancellation_status_updated", _, Some(c)) => {
            record_cancellation(&txn, inv.id, c).await?;
            WebhookOutcome::Applied
        }
        (_, Some("valid"), _) if inv.status == status::PENDING => {
            record(
                &txn,
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
    txn.commit().await?;
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
) -> Result<super::invoice::Model> {
    use super::invoice;
    let m = cfdi::validate_cancellation(motive, substitution)?;
    // Locked: a credit note or payment asked for meanwhile waits, then sees the cancellation.
    let inv = super::cfdi_documents::lock_invoice(db, id).await?;
    if inv.status != status::VALID {
        return Err(Error::conflict(
            "invoice_not_valid",
            format!(
                "only a stamped invoice can be cancelled; this one is {}",
                inv.status
            ),
        ));
    }
    if !matches!(inv.cancellation_status.as_str(), "none" | "rejected") {
        return Err(Error::conflict(
            "cancellation_in_progress",
            format!("the cancellation is already {}", inv.cancellation_status),
        ));
    }
    let related = super::cfdi_documents::standing_related(db, id).await?;
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
    am.cancellation_status = Set("requested".into());
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

/// Records the cancellation status Facturapi reports; an accepted one frees the sale for a new
/// invoice.
///
/// # Errors
/// Database errors; [`Error::NotFound`].
pub async fn record_cancellation(
    db: &impl ConnectionTrait,
    id: Uuid,
    cancellation_status: &str,
) -> Result<super::invoice::Model> {
    use super::invoice;
    let inv = invoice::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "invoice" })?;
    let mut am: invoice::ActiveModel = inv.into();
    am.cancellation_status = Set(cancellation_status.chars().take(16).collect());
    if cancellation_status == "accepted" {
        am.active_key = Set(None);
        // A cancelled global invoice no longer holds its sales: a replacement may take them.
        super::global_invoicing::release(db, id).await?;
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
) -> Result<super::invoice::Model> {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, QueryFilter};

    use super::invoice;
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
    if inv.status != status::FAILED {
        return Err(not_failed(&inv.status));
    }
    let generation = inv.generation + 1;
    let key = attempt_key(id, generation);
    let mut request = inv.request.clone();
    request["idempotency_key"] = json!(key);
    let updated = invoice::Entity::update_many()
        .col_expr(invoice::Column::Status, Expr::value(status::PENDING))
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
        .filter(invoice::Column::Status.eq(status::FAILED))
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
