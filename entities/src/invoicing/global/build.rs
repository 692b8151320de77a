//! Building the global invoices of a period: rows only (invoice, its sales, its pending request); the caller queues the stamping in the same transaction.

use super::*;

pub(super) const CHUNK: usize = 500;

pub(super) async fn net_sales(
    db: &impl ConnectionTrait,
    sold: &[sale::Model],
) -> Result<Vec<NetSale>> {
    let mut lines: Vec<sale_line::Model> = Vec::new();
    for ids in sold.chunks(CHUNK) {
        lines.extend(
            sale_line::Entity::find()
                .filter(sale_line::Column::SaleId.is_in(ids.iter().map(|s| s.id)))
                .all(db)
                .await?,
        );
    }
    let mut refunds: HashMap<i64, i64> = HashMap::new();
    let returned: Vec<i64> = lines
        .iter()
        .filter(|l| l.returned_qty > 0)
        .map(|l| l.id)
        .collect();
    for ids in returned.chunks(CHUNK) {
        for r in sale_return_line::Entity::find()
            .filter(sale_return_line::Column::SaleLineId.is_in(ids.iter().copied()))
            .all(db)
            .await?
        {
            *refunds.entry(r.sale_line_id).or_default() += r.refund_cents;
        }
    }
    let mut by_sale: HashMap<Uuid, Vec<(LineTax, i64)>> = HashMap::new();
    for l in &lines {
        let net = l.total_cents - refunds.get(&l.id).copied().unwrap_or(0);
        by_sale.entry(l.sale_id).or_default().push((
            LineTax::Iva {
                rate_bp: l.iva_rate_bp,
            },
            net,
        ));
    }
    Ok(sold
        .iter()
        .map(|s| NetSale {
            sale_id: s.id,
            folio: s.folio.clone(),
            parts: net_parts(by_sale.remove(&s.id).unwrap_or_default()),
        })
        .filter(|n| !n.parts.is_empty())
        .collect())
}

pub(super) async fn payments_of(
    db: &impl ConnectionTrait,
    sold: &[NetSale],
) -> Result<Vec<payment::Model>> {
    let mut out = Vec::new();
    for ids in sold.chunks(CHUNK) {
        out.extend(
            payment::Entity::find()
                .filter(payment::Column::SaleId.is_in(ids.iter().map(|s| s.sale_id)))
                .all(db)
                .await?,
        );
    }
    Ok(out)
}

pub(super) fn unique_violation(e: sea_orm::DbErr) -> Error {
    match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Error::conflict(
            "global_invoice_in_progress",
            "another run is invoicing these sales to the general public",
        ),
        _ => Error::Db(e),
    }
}

/// Records the global invoices of a target: its free sales read again here, inside the
/// caller's write transaction, split at [`MAX_CONCEPTS`]; each invoice with the exact request
/// its stamping will send, its period row and its sales. Nothing when the period has no free
/// sale left (another run took them, or they were all returned). The caller enqueues
/// `cfdi.stamp` for each invoice before committing.
///
/// # Errors
/// [`Error::Conflict`] `fiscal_settings_missing`, or `global_invoice_in_progress` when a
/// concurrent run took some of the sales first (roll back: the other run covers them);
/// [`Error::NotFound`] `branch`; [`Error::Validation`] `branch.postal_code` and any local CFDI
/// check.
pub async fn build(
    db: &impl ConnectionTrait,
    user: Option<Uuid>,
    target: &Target,
) -> Result<Vec<invoice::Model>> {
    build_with(db, user, target, MAX_CONCEPTS).await
}

/// [`build`] with another concept limit per invoice (tests split small periods).
///
/// # Errors
/// As [`build`].
pub async fn build_with(
    db: &impl ConnectionTrait,
    user: Option<Uuid>,
    target: &Target,
    max_concepts: usize,
) -> Result<Vec<invoice::Model>> {
    let settings = fiscal::issuing_settings(db).await?;
    let b = branch::Entity::find_by_id(target.branch_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "branch" })?;
    let zip = b.postal_code.clone().ok_or_else(|| {
        Error::validation(
            "branch.postal_code",
            format!(
                "branch {} needs its postal code: it is the global invoice's place of issue",
                b.code
            ),
        )
    })?;
    let period = target.period;
    let receiver = cfdi::validate_receiver(
        &cfdi::ReceiverInput {
            tax_id: cfdi::RFC_GENERAL_PUBLIC,
            legal_name: cfdi::GENERAL_PUBLIC_NAME,
            tax_system: cfdi::REGIME_NO_OBLIGATIONS,
            zip: &zip,
            cfdi_use: cfdi::USE_NO_TAX_EFFECTS,
        },
        &zip,
    )?;
    cfdi::validate_global(period.periodicity, &period.months(), period.year())?;
    cfdi::validate_keys(0, PRODUCT_KEY, UNIT_KEY)?;

    let sold = free_sales(
        db,
        Some(target.branch_id),
        period.starts_at(),
        period.ends_at(),
    )
    .await?;
    let nets = net_sales(db, &sold).await?;
    let mut out = Vec::new();
    for part in split(nets, max_concepts.clamp(1, MAX_CONCEPTS)) {
        let amounts = amounts(&part)?;
        let payments = payments_of(db, &part).await?;
        let form = payment_form(&payments);
        cfdi::validate_payment(form, "PUE")?;
        let id = Uuid::now_v7();
        let key = documents::attempt_key(id, 0);
        let request = json!({
            "type": "I",
            "customer": {
                "legal_name": receiver.legal_name,
                "tax_id": receiver.rfc.value,
                "tax_system": receiver.tax_system,
                "address": {"zip": receiver.zip},
            },
            "items": items_json(&part),
            "payment_form": form,
            "payment_method": "PUE",
            "use": receiver.cfdi_use,
            "global": {
                "periodicity": periodicity_name(period.periodicity),
                "months": period.months(),
                "year": period.year(),
            },
            "series": settings.invoice_series,
            "external_id": id.to_string(),
            "idempotency_key": key,
        });
        let now = crate::now();
        let row = documents::insert_pending(
            db,
            user,
            documents::PendingInvoice {
                id,
                kind: "I",
                sale_id: None,
                active_key: None,
                customer_id: None,
                series: settings.invoice_series.clone(),
                receiver_rfc: receiver.rfc.value.clone(),
                receiver_name: receiver.legal_name.clone(),
                cfdi_use: receiver.cfdi_use.clone(),
                payment_form: form.to_owned(),
                payment_method: "PUE".into(),
                total_cents: amounts.total.0,
                tax_cents: amounts.total_taxes.0,
                request,
                lines: Some(documents::lines_json(
                    part.iter()
                        .flat_map(|s| s.parts.iter().map(|_| (DESCRIPTION, s.folio.as_str()))),
                    &amounts,
                )),
            },
        )
        .await?;
        global_invoice::ActiveModel {
            invoice_id: Set(id),
            branch_id: Set(target.branch_id),
            periodicity: Set(periodicity_name(period.periodicity).to_owned()),
            period_from: Set(period.starts_at()),
            period_to: Set(period.ends_at()),
            months: Set(period.months()),
            year: Set(period.year()),
            replaces: Set(target.replaces),
            sales: Set(i32::try_from(part.len()).unwrap_or(i32::MAX)),
            created_at: Set(now),
        }
        .insert(db)
        .await?;
        for chunk in part.chunks(CHUNK) {
            global_invoice_sale::Entity::insert_many(chunk.iter().map(|s| {
                global_invoice_sale::ActiveModel {
                    invoice_id: Set(id),
                    sale_id: Set(s.sale_id),
                    active_sale_id: Set(Some(s.sale_id)),
                    total_cents: Set(s.total()),
                }
            }))
            .exec_without_returning(db)
            .await
            .map_err(unique_violation)?;
        }
        Entry::new("invoice.global_requested")
            .actor(user)
            .target("invoice", id)
            .details(json!({
                "branch_id": target.branch_id,
                "periodicity": periodicity_name(period.periodicity),
                "first": period.first,
                "last": period.last,
                "sales": part.len(),
                "total": row.total_cents,
                "replaces": target.replaces,
            }))
            .record_tenant(db)
            .await?;
        out.push(row);
    }
    Ok(out)
}
