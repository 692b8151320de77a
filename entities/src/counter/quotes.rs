//! Quotes (cotizaciones): lines priced now and honoured until `valid_until`, a public read-only
//! link by an unguessable token, conversion into a sale, and sending by WhatsApp.

use base64::Engine;
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::counter::sales::{LineInput, Seller, customer_and_list, price_lines, selling_branch};
use crate::org::audit::Entry;
use crate::rules::money::{Money, Rate};
use crate::{Error, Page, PageRequest, Result};
use crate::{
    counter::tables::quote, counter::tables::quote_line, inventory::movements, pricing::prices,
};

/// Days a quote is valid when the request does not say.
pub const DEFAULT_VALID_DAYS: i64 = 7;
/// Longest validity.
pub const MAX_VALID_DAYS: i64 = 60;

pub use crate::counter::tables::quote::Status;

/// The status a person sees of a quote row: `expired` for an open quote past its validity.
#[must_use]
pub fn effective_status(q: &quote::Model, now: chrono::DateTime<chrono::Utc>) -> Status {
    if q.status == Status::Open && q.valid_until < now {
        Status::Expired
    } else {
        q.status
    }
}

/// A quote with its lines.
#[derive(Debug, Clone)]
pub struct QuoteDoc {
    /// The quote.
    pub quote: quote::Model,
    /// Its lines in order.
    pub lines: Vec<quote_line::Model>,
}

impl QuoteDoc {
    /// The status a person sees: `expired` for an open quote past its validity.
    #[must_use]
    pub fn status(&self, now: chrono::DateTime<chrono::Utc>) -> Status {
        effective_status(&self.quote, now)
    }

    /// The lines as checkout lines; with `fixed`, at the quote's prices.
    #[must_use]
    pub fn inputs(&self, fixed: bool) -> Vec<LineInput> {
        self.lines
            .iter()
            .map(|l| LineInput {
                item_id: l.item_id,
                warehouse_id: l.warehouse_id,
                qty: l.qty,
                discount_bp: discount_bp_of(l),
                fixed_price: fixed.then_some((l.unit_price_cents, l.retail_unit_cents)),
            })
            .collect()
    }
}

/// The discount of a stored line in basis points (stored as an amount; the percentage is what a
/// re-priced line keeps).
fn discount_bp_of(l: &quote_line::Model) -> i32 {
    let gross = l.unit_price_cents.saturating_mul(l.qty);
    if gross <= 0 {
        return 0;
    }
    i32::try_from(l.discount_cents.saturating_mul(10_000) / gross).unwrap_or(0)
}

/// A quote to make.
#[derive(Debug, Clone)]
pub struct NewQuote {
    /// Branch quoting (prices, IVA).
    pub branch_id: Uuid,
    /// Customer.
    pub customer_id: Option<Uuid>,
    /// Another list than the customer's (manager and up).
    pub price_list: Option<String>,
    /// Lines.
    pub lines: Vec<LineInput>,
    /// Days valid (1–60, 7 by default).
    pub valid_days: Option<i64>,
    /// Note.
    pub note: Option<String>,
}

/// A public link's token: 256 random bits, URL-safe base64 (43 characters).
pub(crate) fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The public path of a quote: the tenant's id and the quote's token, so the public page finds
/// the tenant's database without a login; the token (256 random bits) is what cannot be guessed.
#[must_use]
pub fn public_path(tenant_id: Uuid, token: &str) -> String {
    format!("/q/{}{token}", tenant_id.simple())
}

/// Splits a public token into the tenant id and the quote token.
#[must_use]
pub fn split_public(token: &str) -> Option<(Uuid, &str)> {
    if token.len() != 32 + 43 || !token.is_ascii() {
        return None;
    }
    let (t, q) = token.split_at(32);
    Some((Uuid::parse_str(t).ok()?, q))
}

/// Makes a quote at today's prices.
///
/// # Errors
/// As pricing a sale: [`Error::Validation`], [`Error::NotFound`], [`Error::Forbidden`].
pub async fn create(
    db: &impl ConnectionTrait,
    seller: &Seller,
    new: NewQuote,
    default_rate: Rate,
) -> Result<QuoteDoc> {
    seller.require_seller()?;
    let days = new.valid_days.unwrap_or(DEFAULT_VALID_DAYS);
    if !(1..=MAX_VALID_DAYS).contains(&days) {
        return Err(Error::validation(
            "valid_days",
            format!("a quote is valid 1 to {MAX_VALID_DAYS} days"),
        ));
    }
    let note = new
        .note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
        return Err(Error::validation(
            "note",
            "a note is at most 1000 characters",
        ));
    }
    let branch = selling_branch(db, seller, new.branch_id).await?;
    let (customer, list) =
        customer_and_list(db, seller, new.customer_id, new.price_list.as_deref()).await?;
    let rate = prices::current_rate(db, default_rate).await?;
    let (lines, totals) = price_lines(db, &branch, list, rate, &new.lines, seller.role).await?;
    let now = crate::now();
    let id = Uuid::now_v7();
    let n = movements::next_folio(db, "quote").await?;
    let q = quote::ActiveModel {
        id: Set(id),
        folio: Set(format!("COT-{n:06}")),
        token: Set(new_token()),
        branch_id: Set(branch.id),
        customer_id: Set(customer.map(|c| c.id)),
        created_by: Set(Some(seller.user_id)),
        status: Set(Status::Open),
        price_list: Set(list.to_owned()),
        exchange_rate_micros: Set(rate.0),
        valid_until: Set(now + chrono::Duration::days(days)),
        subtotal_cents: Set(totals.subtotal.0),
        discount_cents: Set(totals.discount.0),
        tax_cents: Set(totals.tax.0),
        total_cents: Set(totals.total.0),
        retail_total_cents: Set(totals.retail.0),
        savings_cents: Set(totals.savings.0),
        note: Set(note),
        sale_id: Set(None),
        queued_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    let rows: Vec<quote_line::ActiveModel> = lines
        .iter()
        .map(|l| quote_line::ActiveModel {
            id: sea_orm::NotSet,
            quote_id: Set(id),
            warehouse_id: Set(l.warehouse_id),
            line_no: Set(l.line_no),
            item_id: Set(l.item_id),
            sku: Set(l.sku.clone()),
            name: Set(l.name.clone()),
            qty: Set(l.qty),
            unit_price_cents: Set(l.unit_price.0),
            retail_unit_cents: Set(l.retail_unit_price.0),
            discount_cents: Set(l.amounts.discount.0),
            base_cents: Set(l.amounts.base.0),
            tax_cents: Set(l.amounts.tax.0),
            total_cents: Set(l.amounts.total.0),
            savings_cents: Set(l.amounts.savings.0),
            iva_rate_bp: Set(l.iva_rate_bp),
        })
        .collect();
    quote_line::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Entry::new("quote.created")
        .actor(Some(seller.user_id))
        .target("quote", id)
        .request(None, seller.request_id.clone())
        .details(json!({"folio": q.folio, "total": Money(q.total_cents).to_string()}))
        .record_tenant(db)
        .await?;
    get(db, id).await
}

/// Reads a quote with its lines.
///
/// # Errors
/// [`Error::NotFound`] `quote`.
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<QuoteDoc> {
    let quote = quote::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "quote" })?;
    lines(db, quote).await
}

async fn lines(db: &impl ConnectionTrait, quote: quote::Model) -> Result<QuoteDoc> {
    let lines = quote_line::Entity::find()
        .filter(quote_line::Column::QuoteId.eq(quote.id))
        .order_by_asc(quote_line::Column::LineNo)
        .all(db)
        .await?;
    Ok(QuoteDoc { quote, lines })
}

/// Finds a quote by its public token.
///
/// # Errors
/// [`Error::NotFound`] `quote`.
pub async fn by_token(db: &impl ConnectionTrait, token: &str) -> Result<QuoteDoc> {
    let quote = quote::Entity::find()
        .filter(quote::Column::Token.eq(token))
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "quote" })?;
    lines(db, quote).await
}

/// Lists quotes, newest first, optionally of one customer or status (`expired` included).
///
/// # Errors
/// Database errors.
pub async fn list(
    db: &impl ConnectionTrait,
    customer_id: Option<Uuid>,
    status_filter: Option<Status>,
    scope: Option<&[Uuid]>,
    page: PageRequest,
) -> Result<Page<quote::Model>> {
    let now = crate::now();
    let mut q = quote::Entity::find().order_by_desc(quote::Column::CreatedAt);
    if let Some(c) = customer_id {
        q = q.filter(quote::Column::CustomerId.eq(c));
    }
    match status_filter {
        Some(Status::Expired) => {
            q = q
                .filter(quote::Column::Status.eq(Status::Open))
                .filter(quote::Column::ValidUntil.lt(now));
        }
        Some(Status::Open) => {
            q = q
                .filter(quote::Column::Status.eq(Status::Open))
                .filter(quote::Column::ValidUntil.gte(now));
        }
        Some(s) => q = q.filter(quote::Column::Status.eq(s)),
        None => {}
    }
    if let Some(ids) = scope {
        q = q.filter(quote::Column::BranchId.is_in(ids.iter().copied()));
    }
    page.fetch(db, q).await
}

/// Marks an open quote converted into `sale_id`, in the sale's transaction; a second conversion
/// (even a concurrent one) finds it no longer open.
///
/// # Errors
/// [`Error::Conflict`] `quote_not_open`.
pub async fn mark_converted(db: &impl ConnectionTrait, id: Uuid, sale_id: Uuid) -> Result<()> {
    let r = quote::Entity::update_many()
        .col_expr(quote::Column::Status, Expr::value(Status::Converted))
        .col_expr(quote::Column::SaleId, Expr::value(sale_id))
        .col_expr(quote::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(quote::Column::Id.eq(id))
        .filter(quote::Column::Status.eq(Status::Open))
        .exec(db)
        .await?;
    if r.rows_affected == 0 {
        return Err(Error::conflict(
            "quote_not_open",
            "the quote was already converted or cancelled",
        ));
    }
    Ok(())
}

/// Cancels an open quote.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Conflict`] `quote_not_open`.
pub async fn cancel(db: &impl ConnectionTrait, seller: &Seller, id: Uuid) -> Result<QuoteDoc> {
    seller.require_seller()?;
    let r = quote::Entity::update_many()
        .col_expr(quote::Column::Status, Expr::value(Status::Cancelled))
        .col_expr(quote::Column::UpdatedAt, Expr::value(crate::now()))
        .filter(quote::Column::Id.eq(id))
        .filter(quote::Column::Status.eq(Status::Open))
        .exec(db)
        .await?;
    if r.rows_affected == 0 {
        get(db, id).await?;
        return Err(Error::conflict(
            "quote_not_open",
            "only an open quote can be cancelled",
        ));
    }
    Entry::new("quote.cancelled")
        .actor(Some(seller.user_id))
        .target("quote", id)
        .request(None, seller.request_id.clone())
        .record_tenant(db)
        .await?;
    get(db, id).await
}

/// Records that a quote's message was queued (not that it arrived: that is the message's
/// status).
///
/// # Errors
/// Database errors.
pub async fn mark_queued(db: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    quote::Entity::update_many()
        .col_expr(quote::Column::QueuedAt, Expr::value(crate::now()))
        .filter(quote::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_token_carries_the_tenant_and_256_random_bits() {
        let t = new_token();
        assert_eq!(t.len(), 43);
        assert_ne!(t, new_token());
        let tenant = Uuid::now_v7();
        let path = public_path(tenant, &t);
        let (got_tenant, got_token) = split_public(path.trim_start_matches("/q/")).unwrap();
        assert_eq!(got_tenant, tenant);
        assert_eq!(got_token, t);
        assert!(split_public("short").is_none());
    }
}
