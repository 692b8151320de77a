//! Receiving: units of a purchase order arriving at a warehouse, in one transaction with their
//! stock and ledger rows (`purchase`, the receipt as reference), the items' average cost, the
//! order's received quantities and state, and the special orders they fill; and returns to
//! suppliers (RMA out), whose stock leaves through the ledger with the credit they expect.
//!
//! Two receipts of the same order at once: the order's row is locked first (PostgreSQL; SQLite
//! has one writer), so the second reads the quantities the first received and is refused what
//! is no longer open; the conditional update on the order's version backs that up.

use std::collections::{BTreeMap, HashSet};

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter,
    QueryOrder, Set, Statement,
};
use serde_json::json;
use uuid::Uuid;

use crate::inventory::movements::{self, Movement, Reference, reason};
use crate::inventory::tables::{item, stock};
use crate::notifications::events;
use crate::org::branches::Actor;
use crate::purchasing::orders::{self, OrderDetail, Status, entry, invalid_state};
use crate::purchasing::tables::{
    purchase_order, purchase_order_line, purchase_receipt, purchase_receipt_line, supplier_return,
    supplier_return_line,
};
use crate::rules::money::{Rate, round_cents};
use crate::{Error, Page, PageRequest, Result};

/// Units of one order line arriving.
#[derive(Debug, Clone, Copy)]
pub struct ReceiptLine {
    /// The order line.
    pub line_id: Uuid,
    /// Units, > 0.
    pub qty: i64,
}

/// A receipt to record.
#[derive(Debug, Clone, Default)]
pub struct NewReceipt {
    /// Where the units arrive (the order's warehouse by default).
    pub warehouse_id: Option<Uuid>,
    /// 1 to 500 lines, an order line once.
    pub lines: Vec<ReceiptLine>,
    /// A person's note.
    pub note: Option<String>,
    /// The supplier's CFDI the receipt comes from.
    pub invoice_uuid: Option<String>,
}

/// A receipt with its lines and the order as it stands after it.
#[derive(Debug, Clone)]
pub struct ReceiptDetail {
    /// The receipt.
    pub receipt: purchase_receipt::Model,
    /// What arrived.
    pub lines: Vec<purchase_receipt_line::Model>,
    /// The order after the receipt.
    pub order: OrderDetail,
}

/// The weighted average cost after `qty` units worth `value` in all (MXN centavos) join
/// `on_hand` units at `avg`, rounded half away from zero once; with nothing (or less) on hand the
/// new units alone set it, since a zero or negative stock carries no cost to average with.
#[must_use]
pub fn average_cost(avg: i64, on_hand: i64, qty: i64, value: i64) -> i64 {
    let (held, held_value) = if on_hand <= 0 {
        (0, Decimal::ZERO)
    } else {
        (on_hand, Decimal::from(avg) * Decimal::from(on_hand))
    };
    round_cents((held_value + Decimal::from(value)) / Decimal::from((held + qty).max(1)))
        .to_i64()
        .unwrap_or(avg)
}

/// Units of each item on hand in every warehouse.
async fn on_hand(db: &impl ConnectionTrait, items: &[Uuid]) -> Result<BTreeMap<Uuid, i64>> {
    let mut out: BTreeMap<Uuid, i64> = items.iter().map(|i| (*i, 0)).collect();
    for s in stock::Entity::find()
        .filter(stock::Column::ItemId.is_in(items.iter().copied()))
        .all(db)
        .await?
    {
        *out.entry(s.item_id).or_default() += s.qty;
    }
    Ok(out)
}

/// Locks the items' rows in id order (PostgreSQL) so two receipts of one item average one after
/// the other.
async fn lock_items(db: &impl ConnectionTrait, items: &[Uuid]) -> Result<()> {
    if db.get_database_backend() != DatabaseBackend::Postgres || items.is_empty() {
        return Ok(());
    }
    let marks: Vec<String> = (1..=items.len()).map(|i| format!("${i}")).collect();
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        format!(
            "SELECT id FROM items WHERE id IN ({}) ORDER BY id FOR UPDATE",
            marks.join(", ")
        ),
        items.iter().map(|i| (*i).into()),
    ))
    .await?;
    Ok(())
}

/// Moves each item's average cost for units arriving at `cost` (MXN centavos a unit), and sets
/// its last cost. Call before the units are on hand.
async fn take_in_cost(
    db: &impl ConnectionTrait,
    arriving: &BTreeMap<Uuid, (i64, i64)>,
) -> Result<()> {
    let ids: Vec<Uuid> = arriving.keys().copied().collect();
    lock_items(db, &ids).await?;
    let have = on_hand(db, &ids).await?;
    let rows = item::Entity::find()
        .filter(item::Column::Id.is_in(ids))
        .all(db)
        .await?;
    for it in rows {
        let Some((qty, value)) = arriving.get(&it.id) else {
            continue;
        };
        // Several lines of one item in a receipt at different costs arrive as one lot: the last
        // cost is their weighted unit cost, the average takes their exact value.
        let unit = average_cost(0, 0, *qty, *value);
        let before = have.get(&it.id).copied().unwrap_or(0);
        let avg = average_cost(it.avg_cost_cents, before, *qty, *value);
        let mut am: item::ActiveModel = it.into();
        am.avg_cost_cents = Set(avg);
        am.cost_cents = Set(unit);
        am.updated_at = Set(crate::now());
        am.update(db).await?;
    }
    Ok(())
}

/// Records a receipt against an order.
///
/// # Errors
/// [`Error::NotFound`] `purchase_order`; [`Error::Conflict`] `invalid_purchase_order_state`
/// unless sent, confirmed or partially received, `over_receipt` beyond the open quantity and
/// the tolerance, `warehouse_inactive`; [`Error::Missing`] `purchase_order_line_not_found`,
/// `warehouse_not_found`; [`Error::Validation`] naming the line.
pub async fn receive(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    new: NewReceipt,
) -> Result<ReceiptDetail> {
    if new.lines.is_empty() || new.lines.len() > orders::MAX_LINES {
        return Err(Error::validation(
            "lines",
            format!("a receipt has 1 to {} lines", orders::MAX_LINES),
        ));
    }
    let note = crate::rules::text::optional("note", new.note, 1000)?;
    orders::lock(txn, id).await?;
    let po = orders::load(txn, id).await?;
    if !po.status.receivable() {
        return Err(invalid_state(&po, "received"));
    }
    let warehouse_id = new.warehouse_id.unwrap_or(po.warehouse_id);
    crate::purchasing::usable_warehouse(txn, "warehouse_id", warehouse_id).await?;
    let settings = crate::purchasing::settings::get(txn).await?;
    let lines = orders::lines_of(txn, id).await?;
    let mut seen = HashSet::new();
    for (i, r) in new.lines.iter().enumerate() {
        let Some(line) = lines.iter().find(|l| l.id == r.line_id) else {
            return Err(Error::missing(
                format!("lines[{i}].line_id"),
                "purchase_order_line_not_found",
                format!("line {} is not on purchase order {}", r.line_id, po.folio),
            ));
        };
        if !seen.insert(r.line_id) {
            return Err(Error::validation(
                format!("lines[{i}].line_id"),
                "a line appears once per receipt",
            ));
        }
        crate::rules::quantity::units(format!("lines[{i}].qty"), r.qty)?;
        let allowed = line.qty * (10_000 + i64::from(settings.over_receipt_tolerance_bp)) / 10_000;
        if line.received_qty + r.qty > allowed {
            return Err(Error::conflict(
                "over_receipt",
                format!(
                    "lines[{i}]: {} ordered, {} received already; {} more is beyond the tolerance of {} %",
                    line.qty,
                    line.received_qty,
                    r.qty,
                    Decimal::new(i64::from(settings.over_receipt_tolerance_bp), 2).normalize()
                ),
            ));
        }
    }
    let rate = Rate(po.exchange_rate_micros);
    let number = po.receipts + 1;
    let receipt_id = Uuid::now_v7();
    let now = crate::now();
    let receipt = purchase_receipt::ActiveModel {
        id: Set(receipt_id),
        purchase_order_id: Set(id),
        number: Set(number),
        warehouse_id: Set(warehouse_id),
        invoice_uuid: Set(new.invoice_uuid),
        note: Set(note),
        received_by: Set(actor.user_id),
        created_at: Set(now),
    }
    .insert(txn)
    .await?;
    let mut arriving: BTreeMap<Uuid, (i64, i64)> = BTreeMap::new();
    let mut rows = Vec::with_capacity(new.lines.len());
    for r in &new.lines {
        let Some(line) = lines.iter().find(|l| l.id == r.line_id) else {
            continue;
        };
        let unit_mxn = rate.to_mxn(line.unit_cost_cents);
        let e = arriving.entry(line.item_id).or_default();
        e.0 += r.qty;
        e.1 += unit_mxn * r.qty;
        rows.push(purchase_receipt_line::ActiveModel {
            receipt_id: Set(receipt_id),
            line_id: Set(line.id),
            item_id: Set(line.item_id),
            qty: Set(r.qty),
            unit_cost_mxn_cents: Set(unit_mxn),
            ..Default::default()
        });
        purchase_order_line::ActiveModel {
            id: Set(line.id),
            received_qty: Set(line.received_qty + r.qty),
            ..Default::default()
        }
        .update(txn)
        .await?;
    }
    purchase_receipt_line::Entity::insert_many(rows)
        .exec(txn)
        .await?;
    take_in_cost(txn, &arriving).await?;
    let moves: Vec<Movement> = arriving
        .iter()
        .map(|(item_id, (qty, _))| Movement {
            item_id: *item_id,
            warehouse_id,
            delta: *qty,
        })
        .collect();
    let ref_id = receipt_id.to_string();
    movements::apply(
        txn,
        &moves,
        &Reference {
            reason: reason::PURCHASE,
            ref_type: "purchase_receipt",
            ref_id: &ref_id,
            note: Some(&po.folio),
            actor: actor.user_id,
        },
    )
    .await?;
    let after = orders::lines_of(txn, id).await?;
    let complete = after.iter().all(|l| l.open_qty() == 0);
    let po = orders::advance(
        txn,
        &po,
        purchase_order::ActiveModel {
            status: Set(if complete {
                Status::Received
            } else {
                Status::PartiallyReceived
            }),
            receipts: Set(number),
            ..Default::default()
        },
    )
    .await?;
    let filled = crate::purchasing::special_orders::on_receipt(
        txn,
        &after,
        &new.lines.iter().map(|r| r.line_id).collect::<Vec<_>>(),
        warehouse_id,
    )
    .await?;
    let received: Vec<serde_json::Value> = new
        .lines
        .iter()
        .map(|r| json!({"line_id": r.line_id, "qty": r.qty}))
        .collect();
    entry(actor, "purchase_order.received", id)
        .details(json!({"folio": po.folio, "receipt": number, "receipt_id": receipt_id, "warehouse_id": warehouse_id, "status": po.status, "lines": received, "special_orders": filled}))
        .record_tenant(txn)
        .await?;
    events::record(
        txn,
        events::PO_RECEIVED,
        "purchase_order",
        id,
        json!({"folio": po.folio, "receipt_id": receipt_id, "number": number, "status": po.status, "supplier_id": po.supplier_id}),
    )
    .await?;
    let lines = receipt_lines(txn, receipt_id).await?;
    Ok(ReceiptDetail {
        receipt,
        lines,
        order: OrderDetail {
            order: po,
            lines: after,
        },
    })
}

async fn receipt_lines(
    db: &impl ConnectionTrait,
    receipt_id: Uuid,
) -> Result<Vec<purchase_receipt_line::Model>> {
    Ok(purchase_receipt_line::Entity::find()
        .filter(purchase_receipt_line::Column::ReceiptId.eq(receipt_id))
        .order_by_asc(purchase_receipt_line::Column::Id)
        .all(db)
        .await?)
}

/// The receipts of an order, oldest first, with their lines.
///
/// # Errors
/// [`Error::NotFound`] `purchase_order`.
pub async fn receipts_of(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Vec<(purchase_receipt::Model, Vec<purchase_receipt_line::Model>)>> {
    orders::load(db, id).await?;
    let receipts = purchase_receipt::Entity::find()
        .filter(purchase_receipt::Column::PurchaseOrderId.eq(id))
        .order_by_asc(purchase_receipt::Column::Number)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(receipts.len());
    for r in receipts {
        let lines = receipt_lines(db, r.id).await?;
        out.push((r, lines));
    }
    Ok(out)
}

/// A line of a return to a supplier.
#[derive(Debug, Clone, Copy)]
pub struct ReturnLine {
    /// The item.
    pub item_id: Uuid,
    /// Units, > 0.
    pub qty: i64,
}

/// A return to a supplier.
#[derive(Debug, Clone, Default)]
pub struct NewReturn {
    /// The supplier.
    pub supplier_id: Uuid,
    /// The order the units came on; their cost is the order's, else the item's average.
    pub purchase_order_id: Option<Uuid>,
    /// Where the units leave from.
    pub warehouse_id: Uuid,
    /// Why (1 to 500 characters).
    pub reason: String,
    /// 1 to 500 lines.
    pub lines: Vec<ReturnLine>,
}

/// Returns units to a supplier: they leave the warehouse through the ledger
/// (`supplier_return`), and the credit expected is their cost (the order's when named, else the
/// item's average).
///
/// # Errors
/// [`Error::Validation`] naming the field or line; [`Error::Missing`] `supplier_not_found`,
/// `warehouse_not_found`, `item_not_found`, `purchase_order_not_found`; [`Error::Conflict`]
/// `insufficient_stock`, `over_return` (more than received less returned on the order).
pub async fn return_to_supplier(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    new: NewReturn,
) -> Result<(supplier_return::Model, Vec<supplier_return_line::Model>)> {
    let reason_text = crate::rules::text::required("reason", &new.reason, 500)?;
    if new.lines.is_empty() || new.lines.len() > orders::MAX_LINES {
        return Err(Error::validation(
            "lines",
            format!("a return has 1 to {} lines", orders::MAX_LINES),
        ));
    }
    let supplier =
        crate::purchasing::suppliers::usable_supplier(txn, "supplier_id", new.supplier_id).await?;
    crate::purchasing::usable_warehouse(txn, "warehouse_id", new.warehouse_id).await?;
    let items: Vec<Uuid> = new.lines.iter().map(|l| l.item_id).collect();
    crate::inventory::adjustments::check_items(txn, &items).await?;
    let order = match new.purchase_order_id {
        Some(po_id) => {
            orders::lock(txn, po_id).await?;
            let po = orders::load(txn, po_id).await.map_err(|e| match e {
                Error::NotFound { .. } => Error::missing(
                    "purchase_order_id",
                    "purchase_order_not_found",
                    format!("purchase order {po_id} does not exist"),
                ),
                other => other,
            })?;
            if po.supplier_id != supplier.id {
                return Err(Error::conflict(
                    "purchase_order_of_another_supplier",
                    format!(
                        "purchase_order_id: purchase order {} is to another supplier",
                        po.folio
                    ),
                ));
            }
            Some((po.clone(), orders::lines_of(txn, po_id).await?))
        }
        None => None,
    };
    let avg: BTreeMap<Uuid, i64> = item::Entity::find()
        .filter(item::Column::Id.is_in(items.clone()))
        .all(txn)
        .await?
        .into_iter()
        .map(|i| (i.id, i.avg_cost_cents))
        .collect();
    let id = Uuid::now_v7();
    let mut rows = Vec::new();
    let mut credit = 0_i64;
    for (i, l) in new.lines.iter().enumerate() {
        crate::rules::quantity::units(format!("lines[{i}].qty"), l.qty)?;
        let (line_id, unit) = match &order {
            Some((po, lines)) => {
                let Some(line) = lines.iter().find(|x| x.item_id == l.item_id) else {
                    return Err(Error::missing(
                        format!("lines[{i}].item_id"),
                        "item_not_on_order",
                        format!("the item is not on purchase order {}", po.folio),
                    ));
                };
                if line.returned_qty + l.qty > line.received_qty {
                    return Err(Error::conflict(
                        "over_return",
                        format!(
                            "lines[{i}]: {} received on {}, {} returned already",
                            line.received_qty, po.folio, line.returned_qty
                        ),
                    ));
                }
                purchase_order_line::ActiveModel {
                    id: Set(line.id),
                    returned_qty: Set(line.returned_qty + l.qty),
                    ..Default::default()
                }
                .update(txn)
                .await?;
                (
                    Some(line.id),
                    Rate(po.exchange_rate_micros).to_mxn(line.unit_cost_cents),
                )
            }
            None => (None, avg.get(&l.item_id).copied().unwrap_or(0)),
        };
        credit += unit * l.qty;
        rows.push(supplier_return_line::ActiveModel {
            return_id: Set(id),
            item_id: Set(l.item_id),
            line_id: Set(line_id),
            qty: Set(l.qty),
            unit_cost_cents: Set(unit),
            ..Default::default()
        });
    }
    let n = movements::next_folio(txn, "supplier_return").await?;
    let ret = supplier_return::ActiveModel {
        id: Set(id),
        folio: Set(format!("DP-{n:06}")),
        supplier_id: Set(supplier.id),
        purchase_order_id: Set(new.purchase_order_id),
        warehouse_id: Set(new.warehouse_id),
        reason: Set(reason_text.clone()),
        expected_credit_cents: Set(credit),
        status: Set("pending".into()),
        created_by: Set(actor.user_id),
        created_at: Set(crate::now()),
    }
    .insert(txn)
    .await?;
    supplier_return_line::Entity::insert_many(rows)
        .exec(txn)
        .await?;
    let moves: Vec<Movement> = new
        .lines
        .iter()
        .map(|l| Movement {
            item_id: l.item_id,
            warehouse_id: new.warehouse_id,
            delta: -l.qty,
        })
        .collect();
    let ref_id = id.to_string();
    movements::apply(
        txn,
        &moves,
        &Reference {
            reason: reason::SUPPLIER_RETURN,
            ref_type: "supplier_return",
            ref_id: &ref_id,
            note: Some(&reason_text),
            actor: actor.user_id,
        },
    )
    .await?;
    crate::org::audit::Entry::new("supplier_return.created")
        .actor(actor.user_id)
        .target("supplier_return", id)
        .request(None, actor.request_id.clone())
        .details(json!({"folio": ret.folio, "supplier_id": supplier.id, "expected_credit_cents": credit}))
        .record_tenant(txn)
        .await?;
    let lines = supplier_return_line::Entity::find()
        .filter(supplier_return_line::Column::ReturnId.eq(id))
        .order_by_asc(supplier_return_line::Column::Id)
        .all(txn)
        .await?;
    Ok((ret, lines))
}

/// Returns to suppliers, newest first.
///
/// # Errors
/// Database errors.
pub async fn list_returns(
    db: &impl ConnectionTrait,
    supplier_id: Option<Uuid>,
    page: PageRequest,
) -> Result<Page<supplier_return::Model>> {
    let mut q = supplier_return::Entity::find()
        .order_by_desc(supplier_return::Column::CreatedAt)
        .order_by_desc(supplier_return::Column::Id);
    if let Some(s) = supplier_id {
        q = q.filter(supplier_return::Column::SupplierId.eq(s));
    }
    page.fetch(db, q).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_average_cost_weighs_what_is_on_hand_against_what_arrives() {
        // 10 at 100.00 and 5 at 130.00: (1000 + 650) / 15 = 110.00.
        assert_eq!(average_cost(10_000, 10, 5, 5 * 13_000), 11_000);
        // 3 at 10.00 and 4 at 10.01: 70.04 / 7 = 10.005714… → 10.01.
        assert_eq!(average_cost(1_000, 3, 4, 4 * 1_001), 1_001);
        // 2 at 0.01 and 1 at 0.02: 0.04 / 3 = 0.013… → 0.01.
        assert_eq!(average_cost(1, 2, 1, 2), 1);
        // 1 at 0.01 and 1 at 0.02: 0.015 → 0.02 (half away from zero, not to even).
        assert_eq!(average_cost(1, 1, 1, 2), 2);
        // Nothing on hand (or less): the new cost.
        assert_eq!(average_cost(5_000, 0, 3, 3 * 7_000), 7_000);
        assert_eq!(average_cost(5_000, -2, 3, 3 * 7_000), 7_000);
    }
}
