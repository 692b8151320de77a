//! Purchase orders: `draft → sent → confirmed → partially_received → received → closed`, plus
//! `cancelled` (never after a receipt). An order at or above the owner's threshold needs an
//! approval before it is sent; any change of its lines after approval asks for it again.
//! Lines carry a unit cost before IVA in the order's currency, the exchange rate fixed at
//! creation; totals are sums of lines rounded once each. Every change is audited; a change after
//! the order was sent says so, with what it was before.
//!
//! Concurrency: every step is a conditional update on the order's `version`, so two people
//! pressing two buttons on the same order cannot both act on what they read.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::inventory::tables::item;
use crate::org::audit::Entry;
use crate::org::branches::Actor;
use crate::purchasing::tables::{purchase_order, purchase_order_line, setting, special_order};
use crate::rules::money::{Currency, MAX_CENTS, Rate, purchase_line};
use crate::{Error, Page, PageRequest, Result};

pub use crate::purchasing::tables::purchase_order::Status;

/// Most lines an order has.
pub const MAX_LINES: usize = 500;

/// A line of a new order (or a line added to one).
#[derive(Debug, Clone, Default)]
pub struct NewLine {
    /// The item.
    pub item_id: Uuid,
    /// Units, > 0.
    pub qty: i64,
    /// Unit cost before IVA in the order's currency; the supplier's best price for the quantity
    /// (or, in MXN, the item's last cost) when not given.
    pub unit_cost_cents: Option<i64>,
    /// The supplier's code (from its price list when not given).
    pub supplier_sku: Option<String>,
    /// When this line is expected.
    pub expected_on: Option<NaiveDate>,
    /// The customer's special order it buys for.
    pub special_order_id: Option<Uuid>,
}

/// An order to create.
#[derive(Debug, Clone, Default)]
pub struct NewOrder {
    /// The supplier.
    pub supplier_id: Uuid,
    /// Where it is received by default.
    pub warehouse_id: Uuid,
    /// `MXN` or `USD`; the supplier's by default.
    pub currency: Option<String>,
    /// When it is expected (today + the supplier's lead days by default).
    pub expected_on: Option<NaiveDate>,
    /// Notes printed on the order.
    pub notes: Option<String>,
    /// 0 to [`MAX_LINES`] lines (a draft may start empty).
    pub lines: Vec<NewLine>,
}

/// Changes to a line: `None` keeps a value.
#[derive(Debug, Clone, Default)]
pub struct LinePatch {
    /// New quantity (not below what was received).
    pub qty: Option<i64>,
    /// New unit cost (not once units were received).
    pub unit_cost_cents: Option<i64>,
    /// New expected day.
    pub expected_on: Option<Option<NaiveDate>>,
}

/// Changes to an order's head.
#[derive(Debug, Clone, Default)]
pub struct OrderPatch {
    /// New expected day.
    pub expected_on: Option<Option<NaiveDate>>,
    /// New notes.
    pub notes: Option<Option<String>>,
    /// New default warehouse.
    pub warehouse_id: Option<Uuid>,
}

/// An order with its lines.
#[derive(Debug, Clone)]
pub struct OrderDetail {
    /// The order.
    pub order: purchase_order::Model,
    /// Its lines, in position order.
    pub lines: Vec<purchase_order_line::Model>,
}

impl OrderDetail {
    /// The items of the order.
    #[must_use]
    pub fn items(&self) -> Vec<Uuid> {
        self.lines.iter().map(|l| l.item_id).collect()
    }
}

/// Filters of the order list.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    /// One state.
    pub status: Option<String>,
    /// One supplier.
    pub supplier_id: Option<Uuid>,
    /// Orders with a line of this item.
    pub item_id: Option<Uuid>,
}

pub(crate) fn entry(actor: &Actor, action: &str, id: Uuid) -> Entry {
    Entry::new(action)
        .actor(actor.user_id)
        .target("purchase_order", id)
        .request(None, actor.request_id.clone())
}

pub(crate) fn invalid_state(po: &purchase_order::Model, what: &str) -> Error {
    Error::conflict(
        "invalid_purchase_order_state",
        format!(
            "purchase order {} is {}: it cannot be {what}",
            po.folio, po.status
        ),
    )
}

/// An order by id.
///
/// # Errors
/// [`Error::NotFound`] `purchase_order`.
pub async fn load(db: &impl ConnectionTrait, id: Uuid) -> Result<purchase_order::Model> {
    purchase_order::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "purchase_order",
        })
}

/// The lines of an order, in position order.
///
/// # Errors
/// Database errors.
pub async fn lines_of(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Vec<purchase_order_line::Model>> {
    Ok(purchase_order_line::Entity::find()
        .filter(purchase_order_line::Column::PurchaseOrderId.eq(id))
        .order_by_asc(purchase_order_line::Column::Position)
        .all(db)
        .await?)
}

/// One order with its lines.
///
/// # Errors
/// [`Error::NotFound`] `purchase_order`.
pub async fn get_order(db: &impl ConnectionTrait, id: Uuid) -> Result<OrderDetail> {
    let order = load(db, id).await?;
    let lines = lines_of(db, id).await?;
    Ok(OrderDetail { order, lines })
}

/// Orders, newest first.
///
/// # Errors
/// [`Error::Validation`] for an unknown status.
pub async fn list_orders(
    db: &impl ConnectionTrait,
    page: PageRequest,
    filter: OrderFilter,
) -> Result<Page<purchase_order::Model>> {
    let mut q = purchase_order::Entity::find()
        .order_by_desc(purchase_order::Column::CreatedAt)
        .order_by_desc(purchase_order::Column::Id);
    if let Some(s) = filter.status {
        let s: Status = s.parse().map_err(|_| {
            let all: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
            Error::validation(
                "status",
                format!("status must be one of {}", all.join(", ")),
            )
        })?;
        q = q.filter(purchase_order::Column::Status.eq(s));
    }
    if let Some(s) = filter.supplier_id {
        q = q.filter(purchase_order::Column::SupplierId.eq(s));
    }
    if let Some(i) = filter.item_id {
        let ids: Vec<Uuid> = purchase_order_line::Entity::find()
            .filter(purchase_order_line::Column::ItemId.eq(i))
            .all(db)
            .await?
            .into_iter()
            .map(|l| l.purchase_order_id)
            .collect();
        q = q.filter(purchase_order::Column::Id.is_in(ids));
    }
    page.fetch(db, q).await
}

/// The IVA rate of the branch a warehouse belongs to.
async fn iva_of(db: &impl ConnectionTrait, warehouse_id: Uuid) -> Result<i32> {
    let (_, branch) = crate::purchasing::usable_warehouse(db, "warehouse_id", warehouse_id).await?;
    Ok(branch.iva_rate_bp)
}

/// Resolves a line's unit cost and supplier SKU from what the request says, the supplier's
/// price list, or the item's last cost.
async fn price_line(
    db: &impl ConnectionTrait,
    field: &str,
    order: &purchase_order::Model,
    l: &NewLine,
    item: &item::Model,
) -> Result<(i64, Option<String>)> {
    let offer = crate::purchasing::prices::offers(
        db,
        l.item_id,
        Some(order.supplier_id),
        l.qty,
        crate::today(),
        Rate(order.exchange_rate_micros),
    )
    .await?
    .into_iter()
    .next()
    .filter(|o| o.price.currency == order.currency);
    let sku = l
        .supplier_sku
        .clone()
        .or_else(|| offer.as_ref().and_then(|o| o.price.supplier_sku.clone()));
    let sku = crate::rules::text::optional(&format!("{field}.supplier_sku"), sku, 64)?;
    let cost = match (l.unit_cost_cents, &offer) {
        (Some(c), _) => c,
        (None, Some(o)) => o.price.price_cents,
        (None, None) if order.currency == crate::rules::money::MXN => item.cost_cents,
        (None, None) => {
            // Well formed: what is missing is a price in the supplier's list.
            return Err(Error::conflict(
                "unit_cost_unknown",
                format!(
                    "{field}.unit_cost: the supplier has no price in the order's currency for this item: give unit_cost"
                ),
            ));
        }
    };
    if !(0..=MAX_CENTS).contains(&cost) {
        return Err(Error::validation(
            format!("{field}.unit_cost"),
            "unit_cost is 0 or more",
        ));
    }
    Ok((cost, sku))
}

async fn items_of(
    db: &impl ConnectionTrait,
    lines: &[NewLine],
    field: &str,
) -> Result<HashMap<Uuid, item::Model>> {
    let found: HashMap<Uuid, item::Model> = item::Entity::find()
        .filter(item::Column::Id.is_in(lines.iter().map(|l| l.item_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    for (i, l) in lines.iter().enumerate() {
        if !found.contains_key(&l.item_id) {
            return Err(Error::missing(
                format!("{field}[{i}].item_id"),
                "item_not_found",
                format!("item {} does not exist", l.item_id),
            ));
        }
    }
    Ok(found)
}

/// Writes lines to an order after `position`, computing their amounts.
async fn insert_lines(
    db: &impl ConnectionTrait,
    order: &purchase_order::Model,
    lines: &[NewLine],
    first_position: i32,
    field: &str,
) -> Result<Vec<purchase_order_line::Model>> {
    let items = items_of(db, lines, field).await?;
    let iva = iva_of(db, order.warehouse_id).await?;
    let mut rows = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        let f = format!("{field}[{i}]");
        crate::rules::quantity::units(format!("{f}.qty"), l.qty)?;
        let Some(item) = items.get(&l.item_id) else {
            continue;
        };
        let (cost, sku) = price_line(db, &f, order, l, item).await?;
        let amounts = purchase_line(&f, cost, l.qty, iva)?;
        rows.push(purchase_order_line::ActiveModel {
            id: Set(Uuid::now_v7()),
            purchase_order_id: Set(order.id),
            position: Set(first_position + i32::try_from(i).unwrap_or(i32::MAX)),
            item_id: Set(l.item_id),
            supplier_sku: Set(sku),
            qty: Set(l.qty),
            received_qty: Set(0),
            returned_qty: Set(0),
            unit_cost_cents: Set(cost),
            iva_rate_bp: Set(iva),
            subtotal_cents: Set(amounts.subtotal.0),
            tax_cents: Set(amounts.tax.0),
            total_cents: Set(amounts.total.0),
            expected_on: Set(l.expected_on),
            special_order_id: Set(l.special_order_id),
        });
    }
    let ids: Vec<Uuid> = rows
        .iter()
        .filter_map(|r| match &r.id {
            sea_orm::ActiveValue::Set(id) => Some(*id),
            _ => None,
        })
        .collect();
    if !rows.is_empty() {
        purchase_order_line::Entity::insert_many(rows)
            .exec(db)
            .await?;
    }
    Ok(purchase_order_line::Entity::find()
        .filter(purchase_order_line::Column::Id.is_in(ids))
        .order_by_asc(purchase_order_line::Column::Position)
        .all(db)
        .await?)
}

/// Whether a total in the order's currency reaches the owner's approval threshold.
fn over_threshold(settings: &setting::Model, total: i64, rate: Rate) -> bool {
    settings
        .approval_threshold_cents
        .is_some_and(|t| rate.to_mxn(total) >= t)
}

/// Sums the lines into the order's totals, re-derives whether it needs approval (a change of
/// amount after approval asks for it again) and bumps the version, only if nobody changed the
/// order since it was read.
async fn retotal(
    db: &impl ConnectionTrait,
    po: &purchase_order::Model,
    mut am: purchase_order::ActiveModel,
) -> Result<purchase_order::Model> {
    let lines = lines_of(db, po.id).await?;
    let (sub, tax, total) = lines.iter().fold((0, 0, 0), |(s, t, g), l| {
        (s + l.subtotal_cents, t + l.tax_cents, g + l.total_cents)
    });
    let settings = crate::purchasing::settings::get(db).await?;
    let needs = over_threshold(&settings, total, Rate(po.exchange_rate_micros));
    am.subtotal_cents = Set(sub);
    am.tax_cents = Set(tax);
    am.total_cents = Set(total);
    am.needs_approval = Set(needs);
    if total != po.total_cents || !needs {
        am.approved_by = Set(None);
        am.approved_at = Set(None);
    }
    advance(db, po, am).await
}

/// Applies `am` to the order only if it is still at the version it was read at; bumps the
/// version and the change time.
pub(crate) async fn advance(
    db: &impl ConnectionTrait,
    po: &purchase_order::Model,
    mut am: purchase_order::ActiveModel,
) -> Result<purchase_order::Model> {
    am.version = Set(po.version + 1);
    am.updated_at = Set(crate::now());
    let res = purchase_order::Entity::update_many()
        .set(am)
        .filter(purchase_order::Column::Id.eq(po.id))
        .filter(purchase_order::Column::Version.eq(po.version))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Err(Error::conflict(
            "purchase_order_changed",
            format!(
                "purchase order {} changed while this request ran: read it again",
                po.folio
            ),
        ));
    }
    load(db, po.id).await
}

/// Locks an order's row until the transaction ends (PostgreSQL; SQLite's write transaction is
/// already the only writer), so a receipt reads lines nobody else is receiving into.
pub(crate) async fn lock(db: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        db.execute_raw(sea_orm::Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT id FROM purchase_orders WHERE id = $1 FOR UPDATE",
            [id.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Creates a draft order, folio `OC-000001`; for USD the rate in force is fixed on it.
///
/// # Errors
/// [`Error::Validation`] naming the field or line; [`Error::Missing`] `supplier_not_found`,
/// `item_not_found`, `warehouse_not_found`; [`Error::Conflict`] `supplier_inactive`,
/// `warehouse_inactive`.
pub async fn create_order(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    new: NewOrder,
    usd_rate: Rate,
    origin: (&str, Option<String>),
) -> Result<OrderDetail> {
    if new.lines.len() > MAX_LINES {
        return Err(Error::validation(
            "lines",
            format!("an order has at most {MAX_LINES} lines"),
        ));
    }
    let supplier =
        crate::purchasing::suppliers::usable_supplier(txn, "supplier_id", new.supplier_id).await?;
    crate::purchasing::usable_warehouse(txn, "warehouse_id", new.warehouse_id).await?;
    let currency = Currency::parse(
        "currency",
        new.currency.as_deref().unwrap_or(&supplier.currency),
    )?;
    let notes = crate::rules::text::optional("notes", new.notes, 2000)?;
    let rate = match currency {
        Currency::Mxn => Rate::ONE,
        Currency::Usd => usd_rate,
    };
    let now = crate::now();
    let expected = new.expected_on.unwrap_or_else(|| {
        crate::today() + chrono::Days::new(u64::try_from(supplier.lead_days).unwrap_or(0))
    });
    let n = crate::inventory::movements::next_folio(txn, "purchase_order").await?;
    let id = Uuid::now_v7();
    let po = purchase_order::ActiveModel {
        id: Set(id),
        folio: Set(format!("OC-{n:06}")),
        supplier_id: Set(supplier.id),
        warehouse_id: Set(new.warehouse_id),
        status: Set(Status::Draft),
        currency: Set(currency.code().to_owned()),
        exchange_rate_micros: Set(rate.0),
        subtotal_cents: Set(0),
        tax_cents: Set(0),
        total_cents: Set(0),
        needs_approval: Set(false),
        approved_by: Set(None),
        approved_at: Set(None),
        expected_on: Set(Some(expected)),
        notes: Set(notes),
        origin: Set(origin.0.to_owned()),
        origin_key: Set(origin.1),
        receipts: Set(0),
        version: Set(0),
        created_by: Set(actor.user_id),
        sent_at: Set(None),
        confirmed_at: Set(None),
        closed_at: Set(None),
        cancelled_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?;
    insert_lines(txn, &po, &new.lines, 1, "lines").await?;
    let po = retotal(txn, &po, Default::default()).await?;
    let lines = lines_of(txn, id).await?;
    entry(actor, "purchase_order.created", id)
        .details(json!({
            "folio": po.folio, "supplier_id": po.supplier_id, "origin": po.origin,
            "lines": lines.iter().map(|l| json!({"item_id": l.item_id, "qty": l.qty, "unit_cost_cents": l.unit_cost_cents})).collect::<Vec<_>>(),
            "total_cents": po.total_cents,
        }))
        .record_tenant(txn)
        .await?;
    Ok(OrderDetail { order: po, lines })
}

/// Whether lines and head may still change, and whether the change is after sending.
fn editable(po: &purchase_order::Model) -> Result<bool> {
    match po.status {
        Status::Draft => Ok(false),
        Status::Sent | Status::Confirmed | Status::PartiallyReceived => Ok(true),
        _ => Err(invalid_state(po, "edited")),
    }
}

fn line_json(l: &purchase_order_line::Model) -> Value {
    json!({"line_id": l.id, "item_id": l.item_id, "qty": l.qty, "unit_cost_cents": l.unit_cost_cents, "expected_on": l.expected_on})
}

/// Adds lines to an order (draft, or open after sending: audited as such).
///
/// # Errors
/// As [`create_order`]'s lines; [`Error::NotFound`] `purchase_order`; [`Error::Conflict`]
/// `invalid_purchase_order_state`.
pub async fn add_lines(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    lines: Vec<NewLine>,
) -> Result<OrderDetail> {
    let po = load(txn, id).await?;
    let after_sent = editable(&po)?;
    let existing = lines_of(txn, id).await?;
    if lines.is_empty() || existing.len() + lines.len() > MAX_LINES {
        return Err(Error::validation(
            "lines",
            format!("give 1 or more lines; an order has at most {MAX_LINES}"),
        ));
    }
    let next = existing.iter().map(|l| l.position).max().unwrap_or(0) + 1;
    let added = insert_lines(txn, &po, &lines, next, "lines").await?;
    let po = retotal(txn, &po, Default::default()).await?;
    entry(actor, "purchase_order.lines_added", id)
        .details(json!({"after_sent": after_sent, "lines": added.iter().map(line_json).collect::<Vec<_>>()}))
        .record_tenant(txn)
        .await?;
    Ok(OrderDetail {
        order: po,
        lines: lines_of(txn, id).await?,
    })
}

async fn line_of(
    db: &impl ConnectionTrait,
    id: Uuid,
    line_id: Uuid,
) -> Result<purchase_order_line::Model> {
    purchase_order_line::Entity::find_by_id(line_id)
        .filter(purchase_order_line::Column::PurchaseOrderId.eq(id))
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "purchase_order_line",
        })
}

/// Changes a line's quantity, cost or expected day; after sending, audited with the line as it
/// was. A quantity below what was received, or a new cost for units already received, is refused.
///
/// # Errors
/// [`Error::NotFound`] `purchase_order` or `purchase_order_line`; [`Error::Conflict`]
/// `invalid_purchase_order_state`, `line_received`; [`Error::Validation`] naming the field.
pub async fn update_line(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    line_id: Uuid,
    patch: LinePatch,
) -> Result<OrderDetail> {
    let po = load(txn, id).await?;
    let after_sent = editable(&po)?;
    let line = line_of(txn, id, line_id).await?;
    let qty = patch.qty.unwrap_or(line.qty);
    crate::rules::quantity::units("qty", qty)?;
    if qty < line.received_qty {
        return Err(Error::conflict(
            "line_received",
            format!(
                "{} units were received already: qty cannot be {qty}",
                line.received_qty
            ),
        ));
    }
    let cost = patch.unit_cost_cents.unwrap_or(line.unit_cost_cents);
    if cost != line.unit_cost_cents && line.received_qty > 0 {
        return Err(Error::conflict(
            "line_received",
            "units of this line were received at its cost: the cost cannot change now",
        ));
    }
    if !(0..=MAX_CENTS).contains(&cost) {
        return Err(Error::validation("unit_cost", "unit_cost is 0 or more"));
    }
    let amounts = purchase_line("line", cost, qty, line.iva_rate_bp)?;
    let mut am: purchase_order_line::ActiveModel = line.clone().into();
    am.qty = Set(qty);
    am.unit_cost_cents = Set(cost);
    am.subtotal_cents = Set(amounts.subtotal.0);
    am.tax_cents = Set(amounts.tax.0);
    am.total_cents = Set(amounts.total.0);
    if let Some(e) = patch.expected_on {
        am.expected_on = Set(e);
    }
    let updated = am.update(txn).await?;
    let mut po_am: purchase_order::ActiveModel = Default::default();
    // A line reduced to what arrived may complete the order.
    if po.status == Status::PartiallyReceived
        && lines_of(txn, id).await?.iter().all(|l| l.open_qty() == 0)
    {
        po_am.status = Set(Status::Received);
    }
    let po = retotal(txn, &po, po_am).await?;
    entry(actor, "purchase_order.line_updated", id)
        .details(json!({"after_sent": after_sent, "before": line_json(&line), "after": line_json(&updated)}))
        .record_tenant(txn)
        .await?;
    Ok(OrderDetail {
        order: po,
        lines: lines_of(txn, id).await?,
    })
}

/// Removes a line nothing was received on.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Conflict`] `invalid_purchase_order_state`, `line_received`.
pub async fn remove_line(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    line_id: Uuid,
) -> Result<OrderDetail> {
    let po = load(txn, id).await?;
    let after_sent = editable(&po)?;
    let line = line_of(txn, id, line_id).await?;
    if line.received_qty > 0 {
        return Err(Error::conflict(
            "line_received",
            "units of this line were received: it cannot be removed",
        ));
    }
    purchase_order_line::Entity::delete_by_id(line_id)
        .exec(txn)
        .await?;
    let po = retotal(txn, &po, Default::default()).await?;
    entry(actor, "purchase_order.line_removed", id)
        .details(json!({"after_sent": after_sent, "before": line_json(&line)}))
        .record_tenant(txn)
        .await?;
    Ok(OrderDetail {
        order: po,
        lines: lines_of(txn, id).await?,
    })
}

/// Changes an order's expected day, notes or default warehouse.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Conflict`] `invalid_purchase_order_state`;
/// [`Error::Validation`]; [`Error::Missing`] `warehouse_not_found`.
pub async fn update_order(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    patch: OrderPatch,
) -> Result<OrderDetail> {
    let po = load(txn, id).await?;
    let after_sent = editable(&po)?;
    let mut am: purchase_order::ActiveModel = Default::default();
    let mut changed = serde_json::Map::new();
    if let Some(e) = patch.expected_on {
        changed.insert(
            "expected_on".into(),
            json!({"before": po.expected_on, "after": e}),
        );
        am.expected_on = Set(e);
    }
    if let Some(n) = patch.notes {
        let n = crate::rules::text::optional("notes", n, 2000)?;
        changed.insert("notes".into(), json!({"before": po.notes, "after": n}));
        am.notes = Set(n);
    }
    if let Some(w) = patch.warehouse_id {
        crate::purchasing::usable_warehouse(txn, "warehouse_id", w).await?;
        changed.insert(
            "warehouse_id".into(),
            json!({"before": po.warehouse_id, "after": w}),
        );
        am.warehouse_id = Set(w);
    }
    if changed.is_empty() {
        return get_order(txn, id).await;
    }
    let po = advance(txn, &po, am).await?;
    changed.insert("after_sent".into(), json!(after_sent));
    entry(actor, "purchase_order.updated", id)
        .details(Value::Object(changed))
        .record_tenant(txn)
        .await?;
    Ok(OrderDetail {
        order: po,
        lines: lines_of(txn, id).await?,
    })
}

/// Approves a draft that needs it (the access rule keeps this to owners and admins).
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Conflict`] `invalid_purchase_order_state` unless a draft,
/// `approval_not_needed`.
pub async fn approve(txn: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> Result<OrderDetail> {
    let po = load(txn, id).await?;
    if po.status != Status::Draft {
        return Err(invalid_state(&po, "approved"));
    }
    if !po.needs_approval {
        return Err(Error::conflict(
            "approval_not_needed",
            format!(
                "purchase order {} is below the approval threshold",
                po.folio
            ),
        ));
    }
    let po = advance(
        txn,
        &po,
        purchase_order::ActiveModel {
            approved_by: Set(actor.user_id),
            approved_at: Set(Some(crate::now())),
            ..Default::default()
        },
    )
    .await?;
    entry(actor, "purchase_order.approved", id)
        .details(json!({"folio": po.folio, "total_cents": po.total_cents}))
        .record_tenant(txn)
        .await?;
    get_order(txn, id).await
}

/// Marks a draft as sent. The caller queues the e-mail in the same transaction.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Conflict`] `invalid_purchase_order_state` unless a draft,
/// `approval_required`, `purchase_order_empty`.
pub async fn send(txn: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> Result<OrderDetail> {
    let po = load(txn, id).await?;
    if po.status != Status::Draft {
        return Err(invalid_state(&po, "sent"));
    }
    if po.needs_approval && po.approved_at.is_none() {
        return Err(Error::conflict(
            "approval_required",
            format!(
                "purchase order {} is at or above the approval threshold: an owner approves it first",
                po.folio
            ),
        ));
    }
    if lines_of(txn, id).await?.is_empty() {
        return Err(Error::conflict(
            "purchase_order_empty",
            format!("purchase order {} has no lines", po.folio),
        ));
    }
    step(txn, actor, po, Status::Sent, "sent").await
}

/// The supplier accepted a sent order.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Conflict`] `invalid_purchase_order_state` unless sent.
pub async fn confirm(txn: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> Result<OrderDetail> {
    let po = load(txn, id).await?;
    if po.status != Status::Sent {
        return Err(invalid_state(&po, "confirmed"));
    }
    step(txn, actor, po, Status::Confirmed, "confirmed").await
}

/// Cancels an order nothing was received on.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Conflict`] `invalid_purchase_order_state` once anything was
/// received or the order is done.
pub async fn cancel(txn: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> Result<OrderDetail> {
    let po = load(txn, id).await?;
    if !matches!(po.status, Status::Draft | Status::Sent | Status::Confirmed) || po.receipts > 0 {
        return Err(invalid_state(&po, "cancelled"));
    }
    let d = step(txn, actor, po, Status::Cancelled, "cancelled").await?;
    unlink_special_orders(txn, id).await?;
    Ok(d)
}

/// Closes an order: a fully received one is done; a partially received one is closed short and
/// its back order no longer counts as on order.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Conflict`] `invalid_purchase_order_state` unless received or
/// partially received.
pub async fn close(txn: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> Result<OrderDetail> {
    let po = load(txn, id).await?;
    if !matches!(po.status, Status::Received | Status::PartiallyReceived) {
        return Err(invalid_state(&po, "closed"));
    }
    let short: Vec<Value> = lines_of(txn, id)
        .await?
        .iter()
        .filter(|l| l.open_qty() > 0)
        .map(|l| json!({"line_id": l.id, "item_id": l.item_id, "not_received": l.open_qty()}))
        .collect();
    let d = step(txn, actor, po, Status::Closed, "closed").await?;
    if !short.is_empty() {
        entry(actor, "purchase_order.closed_short", id)
            .details(json!({"short": short}))
            .record_tenant(txn)
            .await?;
    }
    Ok(d)
}

/// Sends the special orders of a cancelled purchase order back to `open`, to be ordered again
/// (written here on the table: the special-order rules call the order rules, not the reverse).
///
/// # Errors
/// Database errors.
async fn unlink_special_orders(txn: &impl ConnectionTrait, po_id: Uuid) -> Result<()> {
    special_order::Entity::update_many()
        .col_expr(
            special_order::Column::Status,
            sea_orm::sea_query::Expr::value(special_order::Status::Open.as_str()),
        )
        .col_expr(
            special_order::Column::PurchaseOrderId,
            sea_orm::sea_query::Expr::value(Option::<Uuid>::None),
        )
        .filter(special_order::Column::PurchaseOrderId.eq(po_id))
        .filter(special_order::Column::Status.eq(special_order::Status::Ordered))
        .exec(txn)
        .await?;
    Ok(())
}

async fn step(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    po: purchase_order::Model,
    to: Status,
    what: &str,
) -> Result<OrderDetail> {
    let now = crate::now();
    let mut am = purchase_order::ActiveModel {
        status: Set(to),
        ..Default::default()
    };
    match to {
        Status::Sent => am.sent_at = Set(Some(now)),
        Status::Confirmed => am.confirmed_at = Set(Some(now)),
        Status::Closed => am.closed_at = Set(Some(now)),
        Status::Cancelled => am.cancelled_at = Set(Some(now)),
        _ => {}
    }
    let from = po.status;
    let po = advance(txn, &po, am).await?;
    entry(actor, &format!("purchase_order.{what}"), po.id)
        .details(json!({"folio": po.folio, "from": from, "to": to}))
        .record_tenant(txn)
        .await?;
    get_order(txn, po.id).await
}
