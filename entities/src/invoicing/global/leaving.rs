//! A sale leaving its global for a nominative invoice (motive 04), and what follows when that cancellation is refused.

use super::*;

/// The global invoice a sale stands in, if any.
///
/// # Errors
/// Database errors.
pub async fn standing_global_of(
    db: &impl ConnectionTrait,
    sale_id: Uuid,
) -> Result<Option<invoice::Model>> {
    let Some(m) = global_invoice_sale::Entity::find()
        .filter(global_invoice_sale::Column::ActiveSaleId.eq(sale_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(invoice::Entity::find_by_id(m.invoice_id).one(db).await?)
}

/// Takes a sale out of its standing global invoice because it is being invoiced to its
/// customer (call it in the transaction that records the nominative invoice). The global is
/// then asked to be cancelled with motive `04` (returned: the caller enqueues `cfdi.cancel`),
/// unless its cancellation is already under way; its other sales get a replacement once the
/// cancellation is accepted.
///
/// # Errors
/// [`Error::Conflict`] `global_invoice_stamping` while the global is still being stamped (it
/// cannot be cancelled yet: ask again in a minute); database errors.
pub async fn detach_for_nominative(
    db: &impl ConnectionTrait,
    user: Option<Uuid>,
    sale_id: Uuid,
) -> Result<Option<invoice::Model>> {
    let Some(g) = standing_global_of(db, sale_id).await? else {
        return Ok(None);
    };
    if g.status == documents::Status::Pending {
        return Err(Error::conflict(
            "global_invoice_stamping",
            "the sale is in a global invoice still being stamped; ask again in a minute",
        ));
    }
    global_invoice_sale::Entity::update_many()
        .col_expr(
            global_invoice_sale::Column::ActiveSaleId,
            Expr::value(Option::<Uuid>::None),
        )
        .filter(global_invoice_sale::Column::ActiveSaleId.eq(sale_id))
        .exec(db)
        .await?;
    Entry::new("invoice.global_left")
        .actor(user)
        .target("invoice", g.id)
        .details(json!({"sale_id": sale_id, "reason": "nominative invoice requested"}))
        .record_tenant(db)
        .await?;
    if g.status == documents::Status::Valid
        && matches!(
            g.cancellation_status,
            CancellationStatus::None | CancellationStatus::Rejected
        )
    {
        let c = invoices::request_cancellation(db, user, g.id, "04", None).await?;
        return Ok(Some(c));
    }
    Ok(None)
}

/// A global invoice whose motive-04 cancellation the SAT (or Facturapi) refused: the sales that
/// left it for a nominative invoice now stand in both, which an operator must put right (cancel
/// the global again once the cause is fixed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedCancellation {
    /// The global invoice.
    pub invoice_id: Uuid,
    /// Its series and folio (`A12`, as its files are named), once stamped.
    pub folio: Option<String>,
    /// Its fiscal UUID.
    pub uuid: Option<String>,
    /// The sales that left it for a nominative invoice: id and folio.
    pub sales: Vec<(Uuid, String)>,
    /// What Facturapi said, when it refused the request itself.
    pub why: Option<String>,
}

impl RefusedCancellation {
    /// The alert's text, naming the global, the sales and what to do.
    #[must_use]
    pub fn reason(&self) -> String {
        let folio = self.folio.as_deref().unwrap_or("without folio");
        let uuid = self.uuid.as_deref().unwrap_or("unknown");
        let sales = self
            .sales
            .iter()
            .map(|(id, folio)| format!("{folio} ({id})"))
            .collect::<Vec<_>>()
            .join(", ");
        let (noun, verb) = if self.sales.len() == 1 {
            ("sale", "is")
        } else {
            ("sales", "are")
        };
        let mut text = format!(
            "the SAT refused cancelling the global invoice {folio} (UUID {uuid}, invoice {id}) \
             with motive 04; the {noun} {sales} {verb} now in both the global and a nominative \
             invoice: cancel the global again with motive 04 (POST /pos/api/invoices/{id}/cancel) \
             once the cause is fixed",
            id = self.invoice_id,
        );
        if let Some(why) = &self.why {
            text.push_str(&format!(". Facturapi said: {why}"));
        }
        text
    }
}

/// What operators must be told when `inv`, as just recorded, is a global invoice whose
/// motive-04 cancellation was rejected; `None` for any other invoice or status. The sales named
/// are those that left the global (no longer standing in it): its cancellation was asked for
/// them.
///
/// # Errors
/// Database errors.
pub async fn refused_motive_04(
    db: &impl ConnectionTrait,
    inv: &invoice::Model,
    why: Option<&str>,
) -> Result<Option<RefusedCancellation>> {
    if inv.cancellation_status != CancellationStatus::Rejected
        || inv.cancellation_motive.as_deref() != Some("04")
        || global_of(db, inv.id).await?.is_none()
    {
        return Ok(None);
    }
    let left: Vec<Uuid> = global_invoice_sale::Entity::find()
        .filter(global_invoice_sale::Column::InvoiceId.eq(inv.id))
        .filter(global_invoice_sale::Column::ActiveSaleId.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.sale_id)
        .collect();
    let mut sales = Vec::new();
    for ids in left.chunks(CHUNK) {
        sales.extend(
            sale::Entity::find()
                .filter(sale::Column::Id.is_in(ids.iter().copied()))
                .order_by_asc(sale::Column::Folio)
                .all(db)
                .await?
                .into_iter()
                .map(|s| (s.id, s.folio)),
        );
    }
    let folio = inv.folio_number.map(|n| match &inv.series {
        Some(series) => format!("{series}{n}"),
        None => n.to_string(),
    });
    Ok(Some(RefusedCancellation {
        invoice_id: inv.id,
        folio,
        uuid: inv.uuid.clone(),
        sales,
        why: why.map(str::to_owned),
    }))
}

/// Raises the operators' alert of a refused motive-04 cancellation: one e-mail notification
/// (template `global_cancellation_rejected`, about the invoice) per recipient, and an audit
/// entry. Call it in the transaction that records the rejection; the caller enqueues each
/// notification's `notify.send`.
///
/// # Errors
/// Database errors.
pub async fn alert_refused_cancellation(
    db: &impl ConnectionTrait,
    refused: &RefusedCancellation,
    recipients: &[String],
) -> Result<Vec<notification::Model>> {
    let reason = refused.reason();
    let payload = json!({
        "reason": reason,
        "invoice_id": refused.invoice_id,
        "folio": refused.folio,
        "uuid": refused.uuid,
        "sales": refused.sales.iter().map(|(id, folio)| json!({"id": id, "folio": folio})).collect::<Vec<_>>(),
        "facturapi": refused.why,
    });
    let mut out = Vec::new();
    for to in recipients {
        out.push(
            messages::create(
                db,
                NewNotification {
                    channel: "email",
                    recipient: to,
                    template: "global_cancellation_rejected",
                    ref_type: "invoice",
                    ref_id: refused.invoice_id.to_string(),
                    payload: payload.clone(),
                },
            )
            .await?,
        );
    }
    Entry::new("invoice.global_cancellation_rejected")
        .target("invoice", refused.invoice_id)
        .details(payload)
        .record_tenant(db)
        .await?;
    Ok(out)
}

/// The global invoice row of an invoice, if it is one.
///
/// # Errors
/// Database errors.
pub async fn global_of(
    db: &impl ConnectionTrait,
    invoice_id: Uuid,
) -> Result<Option<global_invoice::Model>> {
    Ok(global_invoice::Entity::find_by_id(invoice_id)
        .one(db)
        .await?)
}

/// The sales a global invoice covers (standing or not), with their amounts.
///
/// # Errors
/// Database errors.
pub async fn sales_of(
    db: &impl ConnectionTrait,
    invoice_id: Uuid,
) -> Result<Vec<global_invoice_sale::Model>> {
    Ok(global_invoice_sale::Entity::find()
        .filter(global_invoice_sale::Column::InvoiceId.eq(invoice_id))
        .all(db)
        .await?)
}
