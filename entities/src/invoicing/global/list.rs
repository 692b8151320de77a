//! Listing invoices of every kind, with filters, for `GET /pos/api/invoices`.

use super::*;

/// Filters of the invoice list.
#[derive(Debug, Clone, Default)]
pub struct InvoiceFilter {
    /// `I`, `E`, `P`, or `global` (type I to the general public).
    pub kind: Option<String>,
    /// `pending`, `valid` or `failed`.
    pub status: Option<String>,
    /// Created at or after.
    pub from: Option<DateTime<Utc>>,
    /// Created before.
    pub to: Option<DateTime<Utc>>,
    /// Only documents of these branches (the caller's scope; [`documents::branch_of`]).
    pub branch_ids: Option<Vec<Uuid>>,
}

/// Lists invoices, newest first.
///
/// # Errors
/// [`Error::Validation`] on `kind` or `status`; database errors.
pub async fn list_invoices(
    db: &impl ConnectionTrait,
    f: &InvoiceFilter,
    page: PageRequest,
) -> Result<Page<invoice::Model>> {
    let mut q = invoice::Entity::find()
        .order_by_desc(invoice::Column::CreatedAt)
        .order_by_desc(invoice::Column::Id);
    match f.kind.as_deref() {
        None => {}
        Some("global") => {
            let globals = Query::select()
                .column(global_invoice::Column::InvoiceId)
                .from(global_invoice::Entity)
                .to_owned();
            q = q.filter(invoice::Column::Id.in_subquery(globals));
        }
        Some(k @ ("I" | "E" | "P")) => q = q.filter(invoice::Column::Kind.eq(k)),
        Some(_) => {
            return Err(Error::validation("kind", "one of I, E, P, global"));
        }
    }
    match f.status.as_deref() {
        None => {}
        Some(s @ ("pending" | "valid" | "failed")) => {
            q = q.filter(invoice::Column::Status.eq(s));
        }
        Some(_) => {
            return Err(Error::validation("status", "one of pending, valid, failed"));
        }
    }
    // A range that ends before it starts lists nothing, as its two filters say.
    if let Some(a) = f.from {
        q = q.filter(invoice::Column::CreatedAt.gte(a));
    }
    if let Some(b) = f.to {
        q = q.filter(invoice::Column::CreatedAt.lt(b));
    }
    if let Some(branches) = &f.branch_ids {
        let of_sales = Query::select()
            .column(sale::Column::Id)
            .from(sale::Entity)
            .and_where(sale::Column::BranchId.is_in(branches.iter().copied()))
            .to_owned();
        let globals = Query::select()
            .column(global_invoice::Column::InvoiceId)
            .from(global_invoice::Entity)
            .and_where(global_invoice::Column::BranchId.is_in(branches.iter().copied()))
            .to_owned();
        q = q.filter(
            sea_orm::Condition::any()
                .add(invoice::Column::SaleId.in_subquery(of_sales))
                .add(invoice::Column::Id.in_subquery(globals)),
        );
    }
    let total = q.clone().count(db).await?;
    let items = q
        .offset((page.page - 1) * page.per_page)
        .limit(page.per_page)
        .all(db)
        .await?;
    Ok(Page {
        items,
        page: page.page,
        per_page: page.per_page,
        total,
    })
}
