//! Core charges (cascos): a part with a core charge (alternators, starters, calipers, batteries)
//! adds a deposit line after it at checkout ([`crate::counter::sales::with_cores`]); the old
//! unit brought back refunds the deposit as a return of that line (in money within the owner's
//! window, as store credit after it; a unit not fit for credit refunds nothing) and goes into
//! the branch's cores warehouse; cores go back to suppliers in batches that the supplier
//! credits. The core ledger keeps every deposit, return, rejection, batch and credit per
//! customer and per supplier.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::counter::sales::{self, RefundAsk, RefundMethod, ReturnDoc, Seller};
use crate::counter::tables::{sale, sale_line};
use crate::inventory::movements::{self, Movement, Reference, reason};
use crate::org::tables::{branch, warehouse};
use crate::workshop::tables::core_batch;
use crate::workshop::tables::core_entry::{self, Kind};
use crate::{Error, Result};

/// The state of the old unit brought back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Usable as a core: its deposit is refunded.
    Good,
    /// Cracked, burnt or not the part sold: no refund.
    Damaged,
}

/// An old unit brought back against a sale's deposit line.
#[derive(Debug, Clone)]
pub struct CoreReturn {
    /// The sale that charged the deposit.
    pub sale_id: Uuid,
    /// Its deposit line.
    pub line_no: i32,
    /// Units brought back.
    pub qty: i64,
    /// Their state.
    pub condition: Condition,
    /// How a refund in money is paid (after the window it is store credit whatever is asked).
    pub refund: RefundAsk,
    /// A note.
    pub note: Option<String>,
}

/// What taking cores back did.
#[derive(Debug, Clone)]
pub struct TakenBack {
    /// The ledger row.
    pub entry: core_entry::Model,
    /// The refund (a return of the deposit line), when the units were good.
    pub refund: Option<ReturnDoc>,
    /// Whether the window had passed (the refund went to store credit).
    pub late: bool,
}

/// The branch's cores warehouse (`<BRANCH>-CASCOS`, kind `cores`: nothing sells from it),
/// made on first use.
///
/// # Errors
/// Database errors; [`Error::Conflict`] `warehouse_code_taken`.
pub async fn cores_warehouse(
    txn: &impl ConnectionTrait,
    branch: &branch::Model,
) -> Result<warehouse::Model> {
    crate::warranties::quarantine::apart(txn, branch.id, warehouse::Kind::Cores).await
}

async fn rejected(txn: &impl ConnectionTrait, sale_id: Uuid, item_id: Uuid) -> Result<i64> {
    Ok(core_entry::Entity::find()
        .filter(core_entry::Column::SaleId.eq(sale_id))
        .filter(core_entry::Column::ItemId.eq(item_id))
        .filter(core_entry::Column::Kind.eq(Kind::Rejected))
        .all(txn)
        .await?
        .iter()
        .map(|e| e.qty)
        .sum())
}

/// Cores still owed on a deposit line: sold, less refunded, less rejected.
async fn owed(txn: &impl ConnectionTrait, sale_id: Uuid, l: &sale_line::Model) -> Result<i64> {
    Ok(l.qty - l.returned_qty - rejected(txn, sale_id, l.item_id).await?)
}

/// Takes old units back against a sale's deposit line: only what is still owed on it (409
/// `no_core_deposit` otherwise, so a refund always has its matching deposit); good units are
/// refunded (a return of the deposit line: the way asked within the window, store credit after
/// it) and go into the branch's cores warehouse through the ledger; damaged ones are recorded
/// and refund nothing.
///
/// # Errors
/// [`Error::Validation`] naming the field; [`Error::NotFound`] `sale`; [`Error::Conflict`]
/// `no_core_deposit`; the refund's conflicts (`drawer_not_open`…).
pub async fn take_back(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    r: CoreReturn,
    window_days: i32,
) -> Result<TakenBack> {
    seller.require_seller()?;
    let doc = sales::get_sale(txn, r.sale_id).await?;
    if !seller.can_see(doc.sale.branch_id) {
        return Err(Error::NotFound { entity: "sale" });
    }
    let line = doc
        .lines
        .iter()
        .find(|l| l.line_no == r.line_no && l.kind == sale_line::Kind::Core)
        .ok_or_else(|| Error::validation("line_no", "not a core deposit line of the sale"))?;
    crate::rules::quantity::units("qty", r.qty)?;
    let left = owed(txn, doc.sale.id, line).await?;
    if r.qty > left {
        return Err(Error::conflict(
            "no_core_deposit",
            format!("{left} core(s) of {} are owed on this sale", line.sku),
        ));
    }
    let note = crate::rules::text::optional("note", r.note, 500)?;
    let late = crate::now() > doc.sale.created_at + chrono::Duration::days(i64::from(window_days));
    let (kind, refund) = match r.condition {
        Condition::Damaged => (Kind::Rejected, None),
        Condition::Good => {
            let ask = if late {
                RefundAsk {
                    method: Some(RefundMethod::StoreCredit),
                    ..r.refund
                }
            } else {
                r.refund
            };
            let ret = sales::give_back(
                txn,
                seller,
                doc.sale.id,
                &[(line.line_no, r.qty)],
                "casco devuelto",
                sales::ReturnMode::Core,
                ask,
            )
            .await?;
            let branch = branch::Entity::find_by_id(doc.sale.branch_id)
                .one(txn)
                .await?
                .ok_or(Error::NotFound { entity: "branch" })?;
            let wh = cores_warehouse(txn, &branch).await?;
            movements::apply(
                txn,
                &[Movement {
                    item_id: line.item_id,
                    warehouse_id: wh.id,
                    delta: r.qty,
                }],
                &Reference {
                    reason: reason::CORE_RETURN,
                    ref_type: "sale_return",
                    ref_id: &ret.ret.id.to_string(),
                    note: Some(&doc.sale.folio),
                    actor: Some(seller.user_id),
                },
            )
            .await?;
            (Kind::Returned, Some(ret))
        }
    };
    let entry = core_entry::ActiveModel {
        id: sea_orm::NotSet,
        item_id: Set(line.item_id),
        customer_id: Set(doc.sale.customer_id),
        supplier_id: Set(None),
        sale_id: Set(Some(doc.sale.id)),
        batch_id: Set(None),
        kind: Set(kind),
        qty: Set(r.qty),
        amount_cents: Set(refund.as_ref().map_or(0, |x| x.ret.refund_cents)),
        actor_id: Set(Some(seller.user_id)),
        note: Set(note),
        created_at: Set(crate::now()),
    }
    .insert(txn)
    .await?;
    seller
        .entry("core.taken_back", "sale", doc.sale.id)
        .details(
            json!({"line_no": line.line_no, "qty": r.qty, "condition": r.condition, "late": late}),
        )
        .record_tenant(txn)
        .await?;
    Ok(TakenBack {
        entry,
        refund,
        late,
    })
}

/// A deposit line still owed by a customer.
#[derive(Debug, Clone)]
pub struct Owed {
    /// The sale.
    pub sale: sale::Model,
    /// Its deposit line.
    pub line: sale_line::Model,
    /// Cores still owed.
    pub qty: i64,
}

/// A customer's core ledger: what they still owe (per deposit line) and every row.
///
/// # Errors
/// Database errors.
pub async fn of_customer(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
) -> Result<(Vec<Owed>, Vec<core_entry::Model>)> {
    let entries = core_entry::Entity::find()
        .filter(core_entry::Column::CustomerId.eq(customer_id))
        .order_by_asc(core_entry::Column::Id)
        .all(db)
        .await?;
    let mut sale_ids: Vec<Uuid> = entries.iter().filter_map(|e| e.sale_id).collect();
    sale_ids.sort_unstable();
    sale_ids.dedup();
    let sales = sale::Entity::find()
        .filter(sale::Column::Id.is_in(sale_ids.iter().copied()))
        .order_by_asc(sale::Column::CreatedAt)
        .all(db)
        .await?;
    let lines = sale_line::Entity::find()
        .filter(sale_line::Column::SaleId.is_in(sale_ids))
        .filter(sale_line::Column::Kind.eq(sale_line::Kind::Core))
        .all(db)
        .await?;
    let mut owed = Vec::new();
    for s in sales {
        for l in lines.iter().filter(|l| l.sale_id == s.id) {
            let rejected: i64 = entries
                .iter()
                .filter(|e| {
                    e.sale_id == Some(s.id) && e.item_id == l.item_id && e.kind == Kind::Rejected
                })
                .map(|e| e.qty)
                .sum();
            let qty = l.qty - l.returned_qty - rejected;
            if qty > 0 {
                owed.push(Owed {
                    sale: s.clone(),
                    line: l.clone(),
                    qty,
                });
            }
        }
    }
    Ok((owed, entries))
}

/// A line of a batch to a supplier.
#[derive(Debug, Clone, Copy)]
pub struct BatchLine {
    /// The item.
    pub item_id: Uuid,
    /// Cores sent.
    pub qty: i64,
    /// What the supplier credits a unit; the item's core charge when none.
    pub unit_cents: Option<i64>,
}

/// Sends cores from a cores warehouse back to a supplier: they leave through the ledger
/// (`core_to_supplier`, never below zero), the credit expected is recorded per line.
///
/// # Errors
/// [`Error::Validation`] naming the field; [`Error::NotFound`] `supplier`, `warehouse`;
/// [`Error::Conflict`] `not_a_cores_warehouse`, `insufficient_stock`.
pub async fn send_batch(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    supplier_id: Uuid,
    warehouse_id: Uuid,
    lines: &[BatchLine],
    note: Option<String>,
) -> Result<core_batch::Model> {
    use crate::inventory::tables::item;
    use crate::purchasing::tables::supplier;
    supplier::Entity::find_by_id(supplier_id)
        .one(txn)
        .await?
        .filter(|s| s.deleted_at.is_none())
        .ok_or(Error::NotFound { entity: "supplier" })?;
    let w = warehouse::Entity::find_by_id(warehouse_id)
        .one(txn)
        .await?
        .ok_or(Error::NotFound {
            entity: "warehouse",
        })?;
    if w.kind != warehouse::Kind::Cores {
        return Err(Error::conflict(
            "not_a_cores_warehouse",
            format!("{} is not a cores warehouse", w.code),
        ));
    }
    if lines.is_empty() || lines.len() > 200 {
        return Err(Error::validation("lines", "1 to 200 lines"));
    }
    let note = crate::rules::text::optional("note", note, 500)?;
    let items = item::Entity::find()
        .filter(item::Column::Id.is_in(lines.iter().map(|l| l.item_id)))
        .all(txn)
        .await?;
    let id = Uuid::now_v7();
    let now = crate::now();
    let mut expected = 0i64;
    let mut rows = Vec::with_capacity(lines.len());
    let mut shown = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        crate::rules::quantity::units(format!("lines[{i}].qty"), l.qty)?;
        let it = items.iter().find(|it| it.id == l.item_id).ok_or_else(|| {
            Error::missing(
                format!("lines[{i}].item_id"),
                "item_not_found",
                "no such item",
            )
        })?;
        let unit = l.unit_cents.unwrap_or(it.core_charge_cents);
        if !(0..=10_000_000).contains(&unit) {
            return Err(Error::validation(
                format!("lines[{i}].amount"),
                "0 to 100000.00 a unit",
            ));
        }
        let amount = unit * l.qty;
        expected += amount;
        shown.push(
            json!({"item_id": l.item_id, "sku": it.sku, "qty": l.qty, "amount_cents": amount}),
        );
        rows.push(core_entry::ActiveModel {
            id: sea_orm::NotSet,
            item_id: Set(l.item_id),
            customer_id: Set(None),
            supplier_id: Set(Some(supplier_id)),
            sale_id: Set(None),
            batch_id: Set(Some(id)),
            kind: Set(Kind::ToSupplier),
            qty: Set(l.qty),
            amount_cents: Set(amount),
            actor_id: Set(Some(seller.user_id)),
            note: Set(note.clone()),
            created_at: Set(now),
        });
    }
    let moves: Vec<Movement> = lines
        .iter()
        .map(|l| Movement {
            item_id: l.item_id,
            warehouse_id,
            delta: -l.qty,
        })
        .collect();
    movements::apply(
        txn,
        &moves,
        &Reference {
            reason: reason::CORE_TO_SUPPLIER,
            ref_type: "core_batch",
            ref_id: &id.to_string(),
            note: note.as_deref(),
            actor: Some(seller.user_id),
        },
    )
    .await?;
    core_entry::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    let n = movements::next_folio(txn, "core_batch").await?;
    let b = core_batch::ActiveModel {
        id: Set(id),
        folio: Set(format!("CB-{n:06}")),
        supplier_id: Set(supplier_id),
        warehouse_id: Set(warehouse_id),
        status: Set(core_batch::Status::Sent),
        units: Set(lines.iter().map(|l| l.qty).sum()),
        expected_cents: Set(expected),
        credited_cents: Set(0),
        lines: Set(serde_json::Value::Array(shown).to_string()),
        created_by: Set(seller.user_id),
        created_at: Set(now),
        credited_at: Set(None),
    }
    .insert(txn)
    .await?;
    seller
        .entry("core_batch.sent", "core_batch", id)
        .details(json!({"folio": b.folio, "expected_cents": expected}))
        .record_tenant(txn)
        .await?;
    Ok(b)
}

/// Records the supplier's credit for a batch sent.
///
/// # Errors
/// [`Error::NotFound`] `core_batch`; [`Error::Conflict`] `batch_credited`;
/// [`Error::Validation`] on `amount`.
pub async fn credit_batch(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    id: Uuid,
    amount_cents: i64,
) -> Result<core_batch::Model> {
    let b = core_batch::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(Error::NotFound {
            entity: "core_batch",
        })?;
    if b.status != core_batch::Status::Sent {
        return Err(Error::conflict(
            "batch_credited",
            format!("{} was credited already", b.folio),
        ));
    }
    if !(0..=crate::rules::money::MAX_CENTS).contains(&amount_cents) {
        return Err(Error::validation("amount", "a credit is 0 or more"));
    }
    core_entry::ActiveModel {
        id: sea_orm::NotSet,
        item_id: Set(Uuid::nil()),
        customer_id: Set(None),
        supplier_id: Set(Some(b.supplier_id)),
        sale_id: Set(None),
        batch_id: Set(Some(b.id)),
        kind: Set(Kind::SupplierCredit),
        qty: Set(0),
        amount_cents: Set(amount_cents),
        actor_id: Set(Some(seller.user_id)),
        note: Set(None),
        created_at: Set(crate::now()),
    }
    .insert(txn)
    .await?;
    let mut am: core_batch::ActiveModel = b.into();
    am.status = Set(core_batch::Status::Credited);
    am.credited_cents = Set(amount_cents);
    am.credited_at = Set(Some(crate::now()));
    let b = am.update(txn).await?;
    seller
        .entry("core_batch.credited", "core_batch", id)
        .details(json!({"amount_cents": amount_cents}))
        .record_tenant(txn)
        .await?;
    Ok(b)
}

/// A supplier's core batches, newest first, and their ledger rows.
///
/// # Errors
/// Database errors.
pub async fn of_supplier(
    db: &impl ConnectionTrait,
    supplier_id: Uuid,
) -> Result<(Vec<core_batch::Model>, Vec<core_entry::Model>)> {
    Ok((
        core_batch::Entity::find()
            .filter(core_batch::Column::SupplierId.eq(supplier_id))
            .order_by_desc(core_batch::Column::CreatedAt)
            .all(db)
            .await?,
        core_entry::Entity::find()
            .filter(core_entry::Column::SupplierId.eq(supplier_id))
            .order_by_asc(core_entry::Column::Id)
            .all(db)
            .await?,
    ))
}
