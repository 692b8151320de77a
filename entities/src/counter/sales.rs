//! Sales: pricing lines, checkout, returns and cancellations, and reading sales back.
//!
//! [`checkout`] runs inside the caller's write transaction (see [`crate::db::begin_write`]) so
//! the caller can add its outbox rows and the idempotency answer to the same commit. It issues a
//! constant number of statements whatever the number of lines: prices in two reads, stock in one
//! conditional update (see [`crate::inventory::movements`]), lines and payments in one insert each.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::cash::drawers::{self, Tender};
use crate::cash::tables::drawer_movement;
use crate::customers::{accounts, loyalty, referrals};
use crate::inventory::movements::{self, Movement, Reference, reason};
use crate::pricing::prices::{self, DEFAULT_LIST};
use crate::rules::money::{Currency, LineAmounts, MAX_CENTS, Money, Rate, Totals, line_amounts};
use crate::{Error, Page, PageRequest, Result, Role};
use crate::{
    counter::tables::cart, counter::tables::payment, counter::tables::sale,
    counter::tables::sale_line, counter::tables::sale_return, counter::tables::sale_return_line,
    customers::tables::customer, org::tables::branch,
};

/// Most lines a sale, cart or quote may have.
pub const MAX_LINES: usize = 200;

pub use crate::counter::tables::sale::Status;

pub use crate::org::seller::Seller;

/// A line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineInput {
    /// The item.
    pub item_id: Uuid,
    /// The warehouse it is taken from (any warehouse of the tenant).
    pub warehouse_id: Uuid,
    /// Units, at least 1.
    pub qty: i64,
    /// Discount in basis points of the line (0–10 000), within the seller's role limit.
    pub discount_bp: i32,
    /// A price fixed by a quote still valid: (unit, retail unit) in centavos.
    pub fixed_price: Option<(i64, i64)>,
}

/// A line with its price and rounded amounts.
#[derive(Debug, Clone, Serialize)]
pub struct PricedLine {
    /// Position from 1.
    pub line_no: i32,
    /// Item.
    pub item_id: Uuid,
    /// SKU.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Warehouse.
    pub warehouse_id: Uuid,
    /// Units.
    pub qty: i64,
    /// Unit price, IVA included, MXN.
    pub unit_price: Money,
    /// Reference retail unit price, MXN.
    pub retail_unit_price: Money,
    /// The price as set when it is in USD (minor units).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usd_unit_price: Option<Money>,
    /// Discount in basis points.
    pub discount_bp: i32,
    /// IVA rate in basis points.
    pub iva_rate_bp: i32,
    /// Rounded amounts.
    #[serde(flatten)]
    pub amounts: LineAmounts,
    /// The item's reorder point.
    #[serde(skip)]
    pub min_qty: i64,
    /// A part, a labour operation or a core deposit.
    #[serde(skip)]
    pub kind: sale_line::Kind,
    /// The item's core charge a unit (IVA included), added as a deposit line at checkout.
    #[serde(skip)]
    pub core_cents: i64,
}

/// The lines of a sale with a core deposit after each part that has a core charge (casco):
/// the same warehouse and units, the charge as unit price, no discount, the branch's IVA; the
/// deposit is refunded when the old unit comes back ([`crate::workshop::cores`]). Lines are
/// numbered again from 1 and the totals are the sums of the rounded lines.
///
/// # Errors
/// [`Error::Validation`] when the total gets too large.
pub fn with_cores(lines: Vec<PricedLine>) -> Result<(Vec<PricedLine>, Totals)> {
    let mut out = Vec::with_capacity(lines.len());
    for l in lines {
        let core = (l.kind == sale_line::Kind::Part && l.core_cents > 0).then(|| PricedLine {
            line_no: 0,
            sku: format!("{}-CASCO", l.sku),
            name: format!("Depósito de casco: {}", l.name),
            unit_price: Money(l.core_cents),
            retail_unit_price: Money(l.core_cents),
            usd_unit_price: None,
            discount_bp: 0,
            amounts: LineAmounts::default(),
            min_qty: 0,
            kind: sale_line::Kind::Core,
            core_cents: 0,
            ..l.clone()
        });
        out.push(l);
        out.extend(core);
    }
    let mut totals = Totals::default();
    for (i, l) in out.iter_mut().enumerate() {
        l.line_no = i32::try_from(i + 1).unwrap_or(i32::MAX);
        if l.kind == sale_line::Kind::Core {
            l.amounts = line_amounts(
                &format!("lines[{i}]"),
                l.unit_price.0,
                l.qty,
                0,
                l.iva_rate_bp,
                l.unit_price.0,
            )?;
        }
        totals.add(&l.amounts);
    }
    if totals.total.0 > MAX_CENTS {
        return Err(Error::validation(
            "lines",
            "the document total is too large",
        ));
    }
    Ok((out, totals))
}

/// Prices lines for a branch and list at a rate, checking discounts against the seller's role.
///
/// # Errors
/// [`Error::Validation`] naming the line; [`Error::NotFound`] `item` for an unknown item;
/// [`Error::Conflict`] `item_inactive`; [`Error::Forbidden`] `discount_not_allowed`.
pub async fn price_lines(
    db: &impl ConnectionTrait,
    branch: &branch::Model,
    list: &str,
    rate: Rate,
    lines: &[LineInput],
    role: Role,
) -> Result<(Vec<PricedLine>, Totals)> {
    if lines.is_empty() {
        return Err(Error::validation("lines", "at least one line is needed"));
    }
    if lines.len() > MAX_LINES {
        return Err(Error::validation(
            "lines",
            format!("at most {MAX_LINES} lines"),
        ));
    }
    let limit = role.max_discount_bp();
    for (i, l) in lines.iter().enumerate() {
        crate::rules::quantity::units(format!("lines[{i}].qty"), l.qty)?;
        if !(0..=10_000).contains(&l.discount_bp) {
            return Err(Error::validation(
                format!("lines[{i}].discount"),
                "a discount is between 0 and 100 %",
            ));
        }
        if l.discount_bp > limit {
            return Err(Error::Forbidden {
                code: "discount_not_allowed",
                message: format!(
                    "lines[{i}]: a {} may give at most {} % off; ask a manager",
                    role,
                    Money(i64::from(limit)).to_decimal().normalize()
                ),
            });
        }
    }
    let mut ids: Vec<Uuid> = lines.iter().map(|l| l.item_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let resolved = prices::resolve(db, branch.id, list, &ids, rate).await?;
    let mut totals = Totals::default();
    let mut out = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        let Some(r) = resolved.get(&l.item_id) else {
            // Not priced: an inactive item is told apart from one that does not exist.
            let inactive = crate::inventory::tables::item::Entity::find_by_id(l.item_id)
                .one(db)
                .await?
                .is_some_and(|it| !it.is_active);
            return Err(if inactive {
                Error::conflict(
                    "item_inactive",
                    format!("lines[{i}]: the item is inactive; it is not sold"),
                )
            } else {
                Error::NotFound { entity: "item" }
            });
        };
        if r.item.kind == crate::inventory::tables::item::Kind::Service {
            return Err(Error::conflict(
                "labour_not_sold_here",
                format!(
                    "lines[{i}]: {} is a labour operation; it is charged through a service order",
                    r.item.sku
                ),
            ));
        }
        let (unit, retail) = l.fixed_price.unwrap_or((r.unit_cents, r.retail_unit_cents));
        let amounts = line_amounts(
            &format!("lines[{i}]"),
            unit,
            l.qty,
            l.discount_bp,
            branch.iva_rate_bp,
            retail,
        )?;
        totals.add(&amounts);
        if totals.total.0 > MAX_CENTS {
            return Err(Error::validation(
                "lines",
                "the document total is too large",
            ));
        }
        out.push(PricedLine {
            line_no: i32::try_from(i + 1).unwrap_or(i32::MAX),
            item_id: l.item_id,
            sku: r.item.sku.clone(),
            name: r.item.name.clone(),
            warehouse_id: l.warehouse_id,
            qty: l.qty,
            unit_price: Money(unit),
            retail_unit_price: Money(retail),
            usd_unit_price: (r.currency == Currency::Usd && l.fixed_price.is_none())
                .then_some(Money(r.amount_minor)),
            discount_bp: l.discount_bp,
            iva_rate_bp: branch.iva_rate_bp,
            amounts,
            min_qty: r.item.min_qty,
            kind: sale_line::Kind::Part,
            core_cents: r.item.core_charge_cents,
        });
    }
    Ok((out, totals))
}

/// How a payment was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// MXN cash; the only method besides USD cash that gives change.
    Cash,
    /// Debit or credit card (terminal reference).
    Card,
    /// Bank transfer (SPEI reference).
    Transfer,
    /// US dollars in cash, at the rate in force; change is given in MXN.
    UsdCash,
    /// On the customer's credit (paid later), within their credit limit.
    Credit,
    /// The customer's store credit (saldo a favor) from earlier refunds.
    StoreCredit,
    /// The customer's loyalty points (1 point = 1 centavo).
    Points,
}

impl Method {
    /// The stored name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Cash => "cash",
            Self::Card => "card",
            Self::Transfer => "transfer",
            Self::UsdCash => "usd_cash",
            Self::Credit => "credit",
            Self::StoreCredit => "store_credit",
            Self::Points => "points",
        }
    }

    const fn is_cash(self) -> bool {
        matches!(self, Self::Cash | Self::UsdCash)
    }

    /// The means the money goes through a drawer by; none for what goes to the customer's
    /// account or store credit.
    const fn in_drawer(self) -> Option<drawer_movement::Method> {
        match self {
            Self::Cash => Some(drawer_movement::Method::Cash),
            Self::UsdCash => Some(drawer_movement::Method::UsdCash),
            Self::Card => Some(drawer_movement::Method::Card),
            Self::Transfer => Some(drawer_movement::Method::Transfer),
            Self::Credit | Self::StoreCredit | Self::Points => None,
        }
    }
}

/// A payment tendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentInput {
    /// How.
    pub method: Method,
    /// Amount in minor units of the method's currency (USD cents for `usd_cash`).
    pub amount_minor: i64,
    /// Card authorisation or transfer reference.
    pub reference: Option<String>,
}

/// A sale to make.
#[derive(Debug, Clone)]
pub struct NewSale {
    /// The branch selling (IVA rate, prices, folio series).
    pub branch_id: Uuid,
    /// The customer, when known.
    pub customer_id: Option<Uuid>,
    /// A price list other than the customer's (manager and up).
    pub price_list: Option<String>,
    /// Lines.
    pub lines: Vec<LineInput>,
    /// Payments.
    pub payments: Vec<PaymentInput>,
    /// Note.
    pub note: Option<String>,
    /// The quote it converts, when it does.
    pub quote_id: Option<Uuid>,
    /// The rate of a quote still valid (its prices are honoured at its rate).
    pub fixed_rate: Option<Rate>,
    /// The drawer session the money goes through; the seller's own open one in the branch when
    /// none is named.
    pub drawer_session_id: Option<Uuid>,
}

/// A sale with its lines and payments.
#[derive(Debug, Clone)]
pub struct SaleDoc {
    /// The sale.
    pub sale: sale::Model,
    /// Lines by number.
    pub lines: Vec<sale_line::Model>,
    /// Payments.
    pub payments: Vec<payment::Model>,
}

/// What a checkout did, beyond the sale: what the caller puts in the outbox and the cache.
#[derive(Debug, Clone)]
pub struct CheckoutOutcome {
    /// The sale.
    pub doc: SaleDoc,
    /// Balances that fell below their item's minimum.
    pub low_stock: Vec<LowBalance>,
    /// Items whose stock changed.
    pub touched_items: Vec<Uuid>,
}

/// A balance that a sale took below its item's minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LowBalance {
    /// The item.
    pub item_id: Uuid,
    /// The warehouse.
    pub warehouse_id: Uuid,
    /// The balance after the sale.
    pub qty: i64,
    /// The item's minimum.
    pub min_qty: i64,
}

/// The branch, when it exists, is active and in the seller's scope.
///
/// # Errors
/// [`Error::NotFound`] `branch` (also outside the seller's scope); [`Error::Conflict`]
/// `branch_inactive`.
pub async fn selling_branch(
    db: &impl ConnectionTrait,
    seller: &Seller,
    id: Uuid,
) -> Result<branch::Model> {
    let b = branch::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|b| seller.can_see(b.id))
        .ok_or(Error::NotFound { entity: "branch" })?;
    if !b.is_active {
        return Err(Error::conflict(
            "branch_inactive",
            format!(
                "branch {} is inactive; it takes no new sales or quotes",
                b.code
            ),
        ));
    }
    Ok(b)
}

/// The customer and the price list a document uses.
///
/// # Errors
/// [`Error::NotFound`] `customer`; [`Error::Conflict`] `customer_inactive`;
/// [`Error::Forbidden`] for a list other than the customer's
/// below manager; [`Error::Validation`] for an unknown list.
pub async fn customer_and_list(
    db: &impl ConnectionTrait,
    seller: &Seller,
    customer_id: Option<Uuid>,
    asked: Option<&str>,
) -> Result<(Option<customer::Model>, &'static str)> {
    let customer = match customer_id {
        Some(id) => {
            let c = customer::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or(Error::NotFound { entity: "customer" })?;
            if !c.is_active {
                return Err(Error::conflict(
                    "customer_inactive",
                    format!(
                        "{} is an inactive customer; reactivate them to sell to them",
                        c.name
                    ),
                ));
            }
            Some(c)
        }
        None => None,
    };
    let own = match &customer {
        Some(c) => prices::check_list("price_list", &c.price_list)?,
        None => DEFAULT_LIST,
    };
    let list = match asked {
        Some(a) => {
            let l = prices::check_list("price_list", a)?;
            if l != own && !seller.role.is_manager() {
                return Err(Error::Forbidden {
                    code: "price_list_not_allowed",
                    message: format!(
                        "only a manager may sell at another list than the customer's ({own})"
                    ),
                });
            }
            l
        }
        None => own,
    };
    Ok((customer, list))
}

/// A payment ready to store: what was tendered, its currency, minor units and rate.
type Settled = (PaymentInput, Currency, i64, Rate);

/// Checks payments against a total: at least the total, change only from cash, credit within
/// the customer's limit. Returns (paid in MXN, change, rows to store).
fn settle(
    payments: &[PaymentInput],
    total: i64,
    rate: Rate,
    customer: Option<&customer::Model>,
) -> Result<(i64, i64, Vec<Settled>)> {
    if payments.is_empty() {
        return Err(Error::validation(
            "payments",
            "at least one payment is needed",
        ));
    }
    if payments.len() > 10 {
        return Err(Error::validation("payments", "at most 10 payments"));
    }
    let mut paid = 0i64;
    let mut non_cash = 0i64;
    let mut rows = Vec::with_capacity(payments.len());
    for (i, p) in payments.iter().enumerate() {
        if p.amount_minor <= 0 || p.amount_minor > MAX_CENTS {
            return Err(Error::validation(
                format!("payments[{i}].amount"),
                "an amount is above zero",
            ));
        }
        let (currency, r) = if p.method == Method::UsdCash {
            (Currency::Usd, rate)
        } else {
            (Currency::Mxn, Rate::ONE)
        };
        let mxn = r.to_mxn(p.amount_minor);
        // The limit (and the store credit available) is checked against the customer's row when
        // the sale is charged to it (`accounts::charge`, `accounts::spend_store_credit`, under
        // the row lock), not per payment here.
        if matches!(
            p.method,
            Method::Credit | Method::StoreCredit | Method::Points
        ) && customer.is_none()
        {
            return Err(Error::validation(
                format!("payments[{i}].method"),
                format!("{} needs a customer", p.method.as_str()),
            ));
        }
        if !p.method.is_cash() {
            non_cash += mxn;
        }
        paid += mxn;
        rows.push((p.clone(), currency, p.amount_minor, r));
    }
    if paid < total {
        return Err(Error::validation(
            "payments",
            format!(
                "payments of {} do not cover the total of {}",
                Money(paid),
                Money(total)
            ),
        ));
    }
    if non_cash > total {
        return Err(Error::validation(
            "payments",
            "card, transfer, credit, store credit and points payments cannot exceed the total: change is only given on cash",
        ));
    }
    Ok((paid, paid - total, rows))
}

/// Makes a sale in `txn`: prices, stock decrements (never below zero), lines, payments and the
/// audit entry. The caller adds its outbox rows and commits.
///
/// # Errors
/// [`Error::Validation`] naming the field; [`Error::NotFound`] for a branch, customer, item or
/// warehouse not found in this tenant; [`Error::Forbidden`] for a discount or list beyond the
/// role; [`Error::Conflict`] `insufficient_stock`.
pub async fn checkout(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    new: NewSale,
    default_rate: Rate,
) -> Result<CheckoutOutcome> {
    seller.require_seller()?;
    let branch = selling_branch(txn, seller, new.branch_id).await?;
    let (customer, list) =
        customer_and_list(txn, seller, new.customer_id, new.price_list.as_deref()).await?;
    let rate = match new.fixed_rate {
        Some(r) => r,
        None => prices::current_rate(txn, default_rate).await?,
    };
    let (lines, _) = price_lines(txn, &branch, list, rate, &new.lines, seller.role).await?;
    let (lines, totals) = with_cores(lines)?;
    let from: Vec<Uuid> = lines.iter().map(|l| l.warehouse_id).collect();
    crate::warranties::quarantine::require_stock(txn, &from).await?;
    let prepared = prepare(
        txn,
        seller,
        &branch,
        customer.as_ref(),
        rate,
        totals.total.0,
        &new.payments,
        new.drawer_session_id,
        new.note,
    )
    .await?;
    let id = Uuid::now_v7();
    let ref_id = id.to_string();
    let moves: Vec<Movement> = lines
        .iter()
        .filter(|l| l.kind == sale_line::Kind::Part)
        .map(|l| Movement {
            item_id: l.item_id,
            warehouse_id: l.warehouse_id,
            delta: -l.qty,
        })
        .collect();
    let moved = movements::apply(
        txn,
        &moves,
        &Reference {
            reason: reason::SALE,
            ref_type: "sale",
            ref_id: &ref_id,
            note: None,
            actor: Some(seller.user_id),
        },
    )
    .await?;
    let min_of: HashMap<Uuid, i64> = lines.iter().map(|l| (l.item_id, l.min_qty)).collect();
    let low_stock: Vec<LowBalance> = moved
        .iter()
        .filter_map(|m| {
            let min_qty = min_of.get(&m.item_id).copied().unwrap_or(0);
            m.crossed_below(min_qty).then_some(LowBalance {
                item_id: m.item_id,
                warehouse_id: m.warehouse_id,
                qty: m.after,
                min_qty,
            })
        })
        .collect();

    let doc = record(
        txn,
        seller,
        Charge {
            id,
            branch: &branch,
            customer: customer.as_ref(),
            list,
            rate,
            lines: &lines,
            totals: &totals,
            quote_id: new.quote_id,
            service_order_id: None,
        },
        prepared,
    )
    .await?;
    record_deposits(txn, &doc).await?;
    let sold = crate::warranties::coverage::sold(&doc.sale, &doc.lines, crate::today());
    crate::warranties::coverage::snapshot(txn, &sold).await?;
    let mut touched: Vec<Uuid> = moved.iter().map(|m| m.item_id).collect();
    touched.sort_unstable();
    touched.dedup();
    Ok(CheckoutOutcome {
        doc,
        low_stock,
        touched_items: touched,
    })
}

/// The money side of a sale, checked before anything is written: what was paid, the change,
/// the payments to store, the drawer session and the note.
pub(crate) struct Prepared {
    paid: i64,
    change: i64,
    pays: Vec<Settled>,
    session: Option<crate::cash::tables::drawer_session::Model>,
    note: Option<String>,
}

/// Checks the payments against the total and finds the drawer session the money goes through.
///
/// # Errors
/// [`Error::Validation`] on `payments` or `note`; the drawer's conflicts.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn prepare(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    branch: &branch::Model,
    customer: Option<&customer::Model>,
    rate: Rate,
    total: i64,
    payments: &[PaymentInput],
    drawer_session_id: Option<Uuid>,
    note: Option<String>,
) -> Result<Prepared> {
    let (paid, change, pays) = settle(payments, total, rate, customer)?;
    let takes_cash = pays.iter().any(|(p, ..)| p.method.is_cash());
    let in_drawer = pays.iter().any(|(p, ..)| p.method.in_drawer().is_some());
    let session = if in_drawer || drawer_session_id.is_some() {
        drawers::for_money(txn, seller, branch, drawer_session_id, takes_cash).await?
    } else {
        None
    };
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(Error::validation(
            "note",
            "a note is at most 500 characters",
        ));
    }
    Ok(Prepared {
        paid,
        change,
        pays,
        session,
        note,
    })
}

/// What a sale records, priced and with its stock already moved (or never stocked).
pub(crate) struct Charge<'a> {
    pub id: Uuid,
    pub branch: &'a branch::Model,
    pub customer: Option<&'a customer::Model>,
    pub list: &'a str,
    pub rate: Rate,
    pub lines: &'a [PricedLine],
    pub totals: &'a Totals,
    pub quote_id: Option<Uuid>,
    pub service_order_id: Option<Uuid>,
}

/// Writes a sale: its row and folio, its lines and payments, the customer's account (credit,
/// store credit), the drawer's movements and the audit entry. The counter's checkout and the
/// workshop's delivery both end here, so a service order is charged exactly like a ticket.
///
/// # Errors
/// The account's conflicts (`credit_limit_exceeded`, `store_credit_insufficient`); database
/// errors.
pub(crate) async fn record(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    c: Charge<'_>,
    prepared: Prepared,
) -> Result<SaleDoc> {
    let Prepared {
        paid,
        change,
        pays,
        session,
        note,
    } = prepared;
    let (id, branch, customer, lines) = (c.id, c.branch, c.customer, c.lines);
    let totals = c.totals;
    let now = crate::now();
    let n = movements::next_folio(txn, &format!("sale:{}", branch.code)).await?;
    let sale = sale::ActiveModel {
        id: Set(id),
        folio: Set(format!("{}-{n:06}", branch.code)),
        branch_id: Set(branch.id),
        customer_id: Set(customer.map(|c| c.id)),
        cashier_id: Set(seller.user_id),
        status: Set(Status::Completed),
        price_list: Set(c.list.to_owned()),
        exchange_rate_micros: Set(c.rate.0),
        subtotal_cents: Set(totals.subtotal.0),
        discount_cents: Set(totals.discount.0),
        tax_cents: Set(totals.tax.0),
        total_cents: Set(totals.total.0),
        retail_total_cents: Set(totals.retail.0),
        savings_cents: Set(totals.savings.0),
        paid_cents: Set(paid),
        change_cents: Set(change),
        refunded_cents: Set(0),
        drawer_session_id: Set(session.as_ref().map(|s| s.id)),
        quote_id: Set(c.quote_id),
        service_order_id: Set(c.service_order_id),
        vehicle_id: Set(None),
        odometer_km: Set(None),
        note: Set(note),
        cancelled_at: Set(None),
        created_at: Set(now),
    }
    .insert(txn)
    .await?;
    let on_credit: i64 = pays
        .iter()
        .filter(|(p, ..)| p.method == Method::Credit)
        .map(|(_, _, minor, r)| r.to_mxn(*minor))
        .sum();
    if let (true, Some(c)) = (on_credit > 0, customer) {
        accounts::charge(txn, c.id, id, on_credit, seller.user_id).await?;
    }
    let from_store_credit: i64 = pays
        .iter()
        .filter(|(p, ..)| p.method == Method::StoreCredit)
        .map(|(_, _, minor, _)| *minor)
        .sum();
    if let (true, Some(c)) = (from_store_credit > 0, customer) {
        accounts::spend_store_credit(txn, c.id, id, from_store_credit, seller.user_id).await?;
    }
    let from_points: i64 = pays
        .iter()
        .filter(|(p, ..)| p.method == Method::Points)
        .map(|(_, _, minor, _)| *minor)
        .sum();
    if let Some(c) = customer {
        if from_points > 0 {
            loyalty::redeem(txn, c.id, id, from_points, seller.user_id).await?;
        }
        // Points are earned on money paid now; what goes on account earns when it is paid
        // (`accounts::pay`), and points spent earn nothing.
        let paid_now = totals.total.0 - on_credit - from_points;
        loyalty::earn(
            txn,
            c.id,
            id,
            paid_now,
            &format!("sale:{id}"),
            Some(seller.user_id),
        )
        .await?;
        referrals::on_paid_sale(txn, c.id, id, paid_now, seller.user_id).await?;
    }
    if let Some(s) = &session {
        let tendered: Vec<Tender> = pays
            .iter()
            .filter_map(|(p, cur, minor, r)| {
                p.method.in_drawer().map(|method| Tender {
                    method,
                    currency: *cur,
                    amount: *minor,
                    rate: *r,
                })
            })
            .collect();
        drawers::record_sale(txn, s.id, id, seller.user_id, &tendered, change).await?;
    }
    // The rows are built once: inserted, and returned as the answer without reading them back.
    let line_models: Vec<sale_line::Model> = lines
        .iter()
        .map(|l| sale_line::Model {
            id: 0,
            sale_id: id,
            warehouse_id: l.warehouse_id,
            line_no: l.line_no,
            kind: l.kind,
            item_id: l.item_id,
            sku: l.sku.clone(),
            name: l.name.clone(),
            qty: l.qty,
            unit_price_cents: l.unit_price.0,
            retail_unit_cents: l.retail_unit_price.0,
            discount_cents: l.amounts.discount.0,
            base_cents: l.amounts.base.0,
            tax_cents: l.amounts.tax.0,
            total_cents: l.amounts.total.0,
            savings_cents: l.amounts.savings.0,
            iva_rate_bp: l.iva_rate_bp,
            returned_qty: 0,
        })
        .collect();
    let pay_models: Vec<payment::Model> = pays
        .iter()
        .map(|(p, cur, minor, r)| payment::Model {
            id: 0,
            sale_id: id,
            method: p.method.as_str().to_owned(),
            currency: cur.code().to_owned(),
            amount_minor: *minor,
            amount_mxn_cents: r.to_mxn(*minor),
            exchange_rate_micros: r.0,
            reference: p.reference.clone(),
            created_at: now,
        })
        .collect();
    sale_line::Entity::insert_many(line_models.iter().map(|m| {
        let mut am: sale_line::ActiveModel = m.clone().into();
        am.id = sea_orm::NotSet;
        am
    }))
    .exec_without_returning(txn)
    .await?;
    payment::Entity::insert_many(pay_models.iter().map(|m| {
        let mut am: payment::ActiveModel = m.clone().into();
        am.id = sea_orm::NotSet;
        am
    }))
    .exec_without_returning(txn)
    .await?;
    seller
        .entry("sale.created", "sale", id)
        .details(json!({
            "folio": sale.folio,
            "total": Money(sale.total_cents).to_string(),
            "lines": lines.len(),
        }))
        .record_tenant(txn)
        .await?;
    // Only while someone listens: a row and a job per sale is not free on the checkout path.
    if crate::notifications::events::wanted(txn, crate::notifications::events::NEW_SALE).await? {
        crate::notifications::events::record(
            txn,
            crate::notifications::events::NEW_SALE,
            "sale",
            id,
            json!({
                "sale_id": id,
                "folio": sale.folio,
                "total": Money(sale.total_cents).to_string(),
                "branch_id": sale.branch_id,
                "customer_id": sale.customer_id,
            }),
        )
        .await?;
    }

    Ok(SaleDoc {
        lines: line_models,
        payments: pay_models,
        sale,
    })
}

/// Records a sale's core deposits in the core ledger (`workshop::cores` refunds them), in the sale's transaction.
///
/// # Errors
/// Database errors.
async fn record_deposits(txn: &impl ConnectionTrait, doc: &SaleDoc) -> Result<()> {
    use crate::workshop::tables::core_entry;
    let rows: Vec<core_entry::ActiveModel> = doc
        .lines
        .iter()
        .filter(|l| l.kind == sale_line::Kind::Core)
        .map(|l| core_entry::ActiveModel {
            id: sea_orm::NotSet,
            item_id: Set(l.item_id),
            customer_id: Set(doc.sale.customer_id),
            supplier_id: Set(None),
            sale_id: Set(Some(doc.sale.id)),
            batch_id: Set(None),
            kind: Set(core_entry::Kind::Deposit),
            qty: Set(l.qty),
            amount_cents: Set(l.total_cents),
            actor_id: Set(Some(doc.sale.cashier_id)),
            note: Set(None),
            created_at: Set(doc.sale.created_at),
        })
        .collect();
    if !rows.is_empty() {
        core_entry::Entity::insert_many(rows)
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Deletes a cashier's cart after its checkout, in the sale's transaction.
///
/// # Errors
/// Database errors.
pub async fn close_cart(txn: &impl ConnectionTrait, cart_id: Uuid) -> Result<()> {
    cart::Entity::delete_by_id(cart_id).exec(txn).await?;
    Ok(())
}

/// Reads a sale with its lines and payments.
///
/// # Errors
/// [`Error::NotFound`] `sale`.
pub async fn get_sale(db: &impl ConnectionTrait, id: Uuid) -> Result<SaleDoc> {
    let sale = sale::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "sale" })?;
    let lines = sale_line::Entity::find()
        .filter(sale_line::Column::SaleId.eq(id))
        .order_by_asc(sale_line::Column::LineNo)
        .all(db)
        .await?;
    let payments = payment::Entity::find()
        .filter(payment::Column::SaleId.eq(id))
        .order_by_asc(payment::Column::Id)
        .all(db)
        .await?;
    Ok(SaleDoc {
        sale,
        lines,
        payments,
    })
}

/// Filters of the sales list.
#[derive(Debug, Clone, Default)]
pub struct SaleFilter {
    /// One branch.
    pub branch_id: Option<Uuid>,
    /// One customer.
    pub customer_id: Option<Uuid>,
    /// One status.
    pub status: Option<String>,
    /// Sold at or after.
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Sold before.
    pub to: Option<chrono::DateTime<chrono::Utc>>,
    /// The caller's branch scope.
    pub scope: Option<Vec<Uuid>>,
}

/// Lists sales, newest first.
///
/// # Errors
/// Database errors.
pub async fn list_sales(
    db: &impl ConnectionTrait,
    f: &SaleFilter,
    page: PageRequest,
) -> Result<Page<sale::Model>> {
    let mut q = sale::Entity::find().order_by_desc(sale::Column::CreatedAt);
    if let Some(b) = f.branch_id {
        q = q.filter(sale::Column::BranchId.eq(b));
    }
    if let Some(c) = f.customer_id {
        q = q.filter(sale::Column::CustomerId.eq(c));
    }
    if let Some(s) = &f.status {
        q = q.filter(sale::Column::Status.eq(s.as_str()));
    }
    if let Some(from) = f.from {
        q = q.filter(sale::Column::CreatedAt.gte(from));
    }
    if let Some(to) = f.to {
        q = q.filter(sale::Column::CreatedAt.lt(to));
    }
    if let Some(ids) = &f.scope {
        q = q.filter(sale::Column::BranchId.is_in(ids.iter().copied()));
    }
    page.fetch(db, q).await
}

/// How the part of a refund not taken off the customer's account is paid back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundMethod {
    /// Notes and coins from the drawer (MXN, or USD at the sale's rate).
    Cash,
    /// A reversal on the card terminal.
    Card,
    /// A bank transfer back to the customer.
    Transfer,
    /// Store credit (saldo a favor) the customer spends later; needs the sale's customer.
    StoreCredit,
}

impl RefundMethod {
    /// The stored name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Cash => "cash",
            Self::Card => "card",
            Self::Transfer => "transfer",
            Self::StoreCredit => "store_credit",
        }
    }

    /// How a sale's money came in, refunded the same way: the largest payment's method that is
    /// not on account, cash when there is none.
    fn like(payments: &[payment::Model]) -> Self {
        payments
            .iter()
            .filter(|p| p.method != Method::Credit.as_str() && p.method != Method::Points.as_str())
            .max_by_key(|p| p.amount_mxn_cents)
            .map_or(Self::Cash, |p| match p.method.as_str() {
                "card" => Self::Card,
                "transfer" => Self::Transfer,
                "store_credit" => Self::StoreCredit,
                _ => Self::Cash,
            })
    }
}

/// How a refund is paid back; every field has a default.
#[derive(Debug, Clone, Copy, Default)]
pub struct RefundAsk {
    /// How; the way the sale was mostly paid when none.
    pub method: Option<RefundMethod>,
    /// MXN (default), or USD for cash.
    pub currency: Option<Currency>,
    /// The drawer session the money leaves from; the caller's own open one in the sale's branch
    /// when none.
    pub drawer_session_id: Option<Uuid>,
}

/// A refund paid back: how, in what currency, how much, through which drawer session.
pub(crate) struct PaidBack {
    method: Option<RefundMethod>,
    currency: Option<Currency>,
    minor: i64,
    session_id: Option<Uuid>,
}

/// Pays back `rest` MXN of a return the way asked, in its transaction: from a drawer session, as a
/// card or transfer reversal (through the session when there is one), or as store credit.
pub(crate) async fn pay_back(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    doc: &SaleDoc,
    return_id: Uuid,
    rest: i64,
    ask: RefundAsk,
) -> Result<PaidBack> {
    let method = ask
        .method
        .unwrap_or_else(|| RefundMethod::like(&doc.payments));
    let currency = ask.currency.unwrap_or(Currency::Mxn);
    if currency == Currency::Usd && method != RefundMethod::Cash {
        return Err(Error::validation(
            "refund_currency",
            "only cash is paid back in USD",
        ));
    }
    if rest <= 0 {
        return Ok(PaidBack {
            method: None,
            currency: None,
            minor: 0,
            session_id: None,
        });
    }
    let rate = match currency {
        Currency::Usd => Rate(doc.sale.exchange_rate_micros),
        Currency::Mxn => Rate::ONE,
    };
    let minor = match currency {
        Currency::Usd => rate.from_mxn(rest),
        Currency::Mxn => rest,
    };
    let drawer_method = match (method, currency) {
        (RefundMethod::StoreCredit, _) => {
            let customer_id = doc.sale.customer_id.ok_or_else(|| {
                Error::validation(
                    "refund_method",
                    "store credit needs the sale to have a customer",
                )
            })?;
            accounts::give_store_credit(
                txn,
                customer_id,
                doc.sale.id,
                return_id,
                rest,
                seller.user_id,
            )
            .await?;
            return Ok(PaidBack {
                method: Some(method),
                currency: Some(currency),
                minor,
                session_id: None,
            });
        }
        (RefundMethod::Cash, Currency::Mxn) => drawer_movement::Method::Cash,
        (RefundMethod::Cash, Currency::Usd) => drawer_movement::Method::UsdCash,
        (RefundMethod::Card, _) => drawer_movement::Method::Card,
        (RefundMethod::Transfer, _) => drawer_movement::Method::Transfer,
    };
    let branch = branch::Entity::find_by_id(doc.sale.branch_id)
        .one(txn)
        .await?
        .ok_or(Error::NotFound { entity: "branch" })?;
    let session = drawers::for_money(
        txn,
        seller,
        &branch,
        ask.drawer_session_id,
        method == RefundMethod::Cash,
    )
    .await?;
    if let Some(s) = &session {
        drawers::record_refund(
            txn,
            s.id,
            doc.sale.id,
            return_id,
            seller.user_id,
            Tender {
                method: drawer_method,
                currency,
                amount: minor,
                rate,
            },
        )
        .await?;
    }
    Ok(PaidBack {
        method: Some(method),
        currency: Some(currency),
        minor,
        session_id: session.map(|s| s.id),
    })
}

/// A return or cancellation made.
#[derive(Debug, Clone)]
pub struct ReturnDoc {
    /// The return row.
    pub ret: sale_return::Model,
    /// Its lines.
    pub lines: Vec<sale_return_line::Model>,
    /// The sale after it.
    pub sale: sale::Model,
    /// Items whose stock changed.
    pub touched_items: Vec<Uuid>,
}

/// The share of `amount` for units `done..done + qty` of `of`, rounded so that the shares of
/// every unit add up to `amount` exactly.
fn share(amount: i64, done: i64, qty: i64, of: i64) -> i64 {
    let upto = |u: i64| {
        crate::rules::money::round_cents(
            rust_decimal::Decimal::from(amount) * rust_decimal::Decimal::from(u)
                / rust_decimal::Decimal::from(of),
        )
        .try_into()
        .unwrap_or(0i64)
    };
    upto(done + qty) - upto(done)
}

/// Returns units of a sale (`lines` of (line number, units)), or cancels it (`lines` empty and
/// `cancel`): the stock goes back through the ledger to the warehouse it came from, the refund is
/// each line's share, and the sale's status follows. Manager and up.
///
/// # Errors
/// [`Error::Forbidden`] below manager; [`Error::NotFound`] `sale`; [`Error::Conflict`]
/// `sale_cancelled` / `nothing_to_return`; [`Error::Validation`] for a line returned past what was
/// sold.
pub async fn return_items(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    sale_id: Uuid,
    lines: &[(i32, i64)],
    reason_text: &str,
    cancel: bool,
    refund_ask: RefundAsk,
) -> Result<ReturnDoc> {
    let mode = if cancel {
        ReturnMode::Cancel
    } else {
        ReturnMode::Parts
    };
    give_back(txn, seller, sale_id, lines, reason_text, mode, refund_ask).await
}

/// What a return gives back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReturnMode {
    /// Parts (and the core deposits that follow them): managers.
    Parts,
    /// The whole sale: managers.
    Cancel,
    /// Core deposits only, when the old units come back: the roles that sell.
    Core,
}

/// [`return_items`] with its mode: the body of returns, cancellations and core refunds.
#[allow(clippy::too_many_lines)]
pub(crate) async fn give_back(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    sale_id: Uuid,
    lines: &[(i32, i64)],
    reason_text: &str,
    mode: ReturnMode,
    refund_ask: RefundAsk,
) -> Result<ReturnDoc> {
    let cancel = mode == ReturnMode::Cancel;
    if mode == ReturnMode::Core {
        seller.require_seller()?;
    } else if !seller.role.is_manager() {
        return Err(Error::Forbidden {
            code: "forbidden",
            message: format!(
                "returns and cancellations need a manager; you are {}",
                seller.role
            ),
        });
    }
    let reason_text = reason_text.trim();
    if reason_text.is_empty() || reason_text.chars().count() > 500 {
        return Err(Error::validation(
            "reason",
            "a reason of 1 to 500 characters is needed",
        ));
    }
    // The sale's row lock first (a no-op update: PostgreSQL locks the row, SQLite's write
    // transaction is exclusive already), then the read: two returns of one sale run one after
    // the other, so the second sees what the first returned and cannot return it again.
    lock_sale(txn, sale_id).await?;
    let doc = get_sale(txn, sale_id).await?;
    if !seller.can_see(doc.sale.branch_id) {
        return Err(Error::NotFound { entity: "sale" });
    }
    if doc.sale.status == Status::Cancelled {
        return Err(Error::conflict("sale_cancelled", "the sale is cancelled"));
    }
    if cancel && doc.sale.service_order_id.is_some() {
        return Err(Error::conflict(
            "sale_from_service_order",
            "a service order's sale is not cancelled: its parts were installed; return a part or issue a credit note",
        ));
    }
    let mut wanted: Vec<(&sale_line::Model, i64)> = Vec::new();
    if cancel {
        wanted.extend(
            doc.lines
                .iter()
                .filter(|l| l.qty > l.returned_qty)
                .map(|l| (l, l.qty - l.returned_qty)),
        );
    } else {
        if lines.is_empty() {
            return Err(Error::validation("lines", "name the lines to return"));
        }
        for (i, (no, qty)) in lines.iter().enumerate() {
            let l = doc.lines.iter().find(|l| l.line_no == *no).ok_or_else(|| {
                Error::validation(format!("lines[{i}].line_no"), "no such line in the sale")
            })?;
            if *qty < 1 || *qty > l.qty - l.returned_qty {
                return Err(Error::validation(
                    format!("lines[{i}].qty"),
                    format!(
                        "line {no} has {} units left to return",
                        l.qty - l.returned_qty
                    ),
                ));
            }
            let allowed = match mode {
                ReturnMode::Core => sale_line::Kind::Core,
                ReturnMode::Parts | ReturnMode::Cancel => sale_line::Kind::Part,
            };
            if l.kind != allowed {
                return Err(Error::conflict(
                    "line_not_returnable",
                    format!(
                        "line {no} is {}: a return takes {allowed} lines (a core deposit is refunded when the old unit comes back)",
                        l.kind
                    ),
                ));
            }
            if wanted.iter().any(|(w, _)| w.line_no == *no) {
                return Err(Error::validation(
                    format!("lines[{i}].line_no"),
                    "a line is named once",
                ));
            }
            wanted.push((l, *qty));
        }
        // A part that comes back takes its core deposit with it: no old unit is owed for a
        // part the customer did not keep.
        let cores: Vec<(&sale_line::Model, i64)> = wanted
            .iter()
            .filter(|_| mode == ReturnMode::Parts)
            .filter_map(|(l, q)| {
                let core = doc.lines.iter().find(|c| {
                    c.line_no == l.line_no + 1
                        && c.kind == sale_line::Kind::Core
                        && c.item_id == l.item_id
                })?;
                let n = std::cmp::Ord::min(*q, core.qty - core.returned_qty);
                (n > 0).then_some((core, n))
            })
            .collect();
        wanted.extend(cores);
    }
    if wanted.is_empty() {
        return Err(Error::conflict(
            "nothing_to_return",
            "every unit of this sale has come back already",
        ));
    }
    let id = Uuid::now_v7();
    let ref_id = id.to_string();
    let moves: Vec<Movement> = wanted
        .iter()
        .filter(|(l, _)| l.kind == sale_line::Kind::Part)
        .map(|(l, q)| Movement {
            item_id: l.item_id,
            warehouse_id: l.warehouse_id,
            delta: *q,
        })
        .collect();
    let moved = movements::apply(
        txn,
        &moves,
        &Reference {
            reason: if cancel {
                reason::CANCELLATION
            } else {
                reason::RETURN
            },
            ref_type: "sale_return",
            ref_id: &ref_id,
            note: Some(reason_text),
            actor: Some(seller.user_id),
        },
    )
    .await?;
    let mut refund = 0i64;
    let mut savings = 0i64;
    let mut rows = Vec::with_capacity(wanted.len());
    for (l, q) in &wanted {
        let r = share(l.total_cents, l.returned_qty, *q, l.qty);
        savings += share(l.savings_cents, l.returned_qty, *q, l.qty);
        refund += r;
        rows.push(sale_return_line::Model {
            id: 0,
            return_id: id,
            sale_line_id: l.id,
            qty: *q,
            refund_cents: r,
        });
        // Conditional as well, so no path can return more than was sold even without the lock.
        let updated = sale_line::Entity::update_many()
            .col_expr(
                sale_line::Column::ReturnedQty,
                Expr::col(sale_line::Column::ReturnedQty).add(*q),
            )
            .filter(sale_line::Column::Id.eq(l.id))
            .filter(
                Expr::col(sale_line::Column::ReturnedQty)
                    .add(*q)
                    .lte(Expr::col(sale_line::Column::Qty)),
            )
            .exec(txn)
            .await?;
        if updated.rows_affected != 1 {
            return Err(Error::conflict(
                "already_returned",
                format!(
                    "line {} was returned meanwhile; read the sale again",
                    l.line_no
                ),
            ));
        }
    }
    let now = crate::now();
    // What is still owed on a credit sale is taken off the account first; only the rest is paid
    // back.
    let to_account = accounts::credit_return(txn, sale_id, id, refund, seller.user_id).await?;
    // Then what was paid with points goes back as points; the points the sale earned are taken
    // back in the share refunded.
    let to_points = loyalty::on_return(
        txn,
        &doc.sale,
        id,
        refund,
        refund - to_account,
        seller.user_id,
    )
    .await?;
    let paid = pay_back(
        txn,
        seller,
        &doc,
        id,
        refund - to_account - to_points,
        refund_ask,
    )
    .await?;
    let ret = sale_return::ActiveModel {
        id: Set(id),
        sale_id: Set(sale_id),
        kind: Set(match mode {
            ReturnMode::Cancel => "cancellation",
            ReturnMode::Parts => "return",
            ReturnMode::Core => "core",
        }
        .to_owned()),
        reason: Set(reason_text.to_owned()),
        refund_cents: Set(refund),
        account_credit_cents: Set(to_account),
        refund_method: Set(paid.method.map(|m| m.as_str().to_owned())),
        refund_currency: Set(paid.currency.map(|c| c.code().to_owned())),
        refund_minor: Set(paid.minor),
        drawer_session_id: Set(paid.session_id),
        savings_cents: Set(savings),
        created_by: Set(Some(seller.user_id)),
        created_at: Set(now),
    }
    .insert(txn)
    .await?;
    sale_return_line::Entity::insert_many(rows.iter().map(|r| sale_return_line::ActiveModel {
        id: sea_orm::NotSet,
        return_id: Set(r.return_id),
        sale_line_id: Set(r.sale_line_id),
        qty: Set(r.qty),
        refund_cents: Set(r.refund_cents),
    }))
    .exec_without_returning(txn)
    .await?;
    let left: i64 = doc
        .lines
        .iter()
        .map(|l| {
            let back = wanted
                .iter()
                .find(|(w, _)| w.id == l.id)
                .map_or(0, |(_, q)| *q);
            l.qty - l.returned_qty - back
        })
        .sum();
    let new_status = if cancel {
        Status::Cancelled
    } else if left == 0 {
        Status::Returned
    } else {
        Status::PartiallyReturned
    };
    let mut am: sale::ActiveModel = doc.sale.clone().into();
    am.status = Set(new_status.to_owned());
    am.refunded_cents = Set(doc.sale.refunded_cents + refund);
    if cancel {
        am.cancelled_at = Set(Some(now));
    }
    let sale = am.update(txn).await?;
    seller
        .entry(
            if cancel {
                "sale.cancelled"
            } else {
                "sale.returned"
            },
            "sale",
            sale_id,
        )
        .details(json!({
            "return_id": id,
            "refund": Money(refund).to_string(),
            "to_account": Money(to_account).to_string(),
            "refund_method": paid.method.map(RefundMethod::as_str),
            "refund_currency": paid.currency.map(Currency::code),
            "reason": reason_text,
        }))
        .record_tenant(txn)
        .await?;
    let mut touched: Vec<Uuid> = moved.iter().map(|m| m.item_id).collect();
    touched.sort_unstable();
    touched.dedup();
    Ok(ReturnDoc {
        ret,
        lines: rows,
        sale,
        touched_items: touched,
    })
}

/// Takes the sale's row lock for the rest of the transaction.
///
/// # Errors
/// [`Error::NotFound`] `sale`; database errors.
async fn lock_sale(txn: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    let r = sale::Entity::update_many()
        .col_expr(sale::Column::Status, Expr::col(sale::Column::Status))
        .filter(sale::Column::Id.eq(id))
        .exec(txn)
        .await?;
    if r.rows_affected == 0 {
        return Err(Error::NotFound { entity: "sale" });
    }
    Ok(())
}

/// The returns of a sale, oldest first.
///
/// # Errors
/// Database errors.
pub async fn returns_of(
    db: &impl ConnectionTrait,
    sale_id: Uuid,
) -> Result<Vec<sale_return::Model>> {
    Ok(sale_return::Entity::find()
        .filter(sale_return::Column::SaleId.eq(sale_id))
        .order_by_asc(sale_return::Column::CreatedAt)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_of_a_line_add_up_to_the_line_exactly() {
        for (amount, of) in [(1000, 3), (999, 7), (1, 2), (12_345, 11)] {
            let mut sum = 0;
            for u in 0..of {
                sum += share(amount, u, 1, of);
            }
            assert_eq!(sum, amount, "{amount} over {of}");
            assert_eq!(share(amount, 0, of, of), amount);
        }
    }
}
