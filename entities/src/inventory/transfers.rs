//! Transfers between warehouses: requested → shipped → partially received → received, or
//! cancelled before anything arrives. Each step is one transaction with its stock movements,
//! ledger rows and audit entry.
//!
//! Branch scope: a user limited to some branches (`scope`) sees and requests transfers that
//! leave from or arrive at one of them, ships only from them, receives only into them; anything
//! else is "not found", as if it did not exist.

use std::collections::{HashMap, HashSet};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::inventory::adjustments::{MAX_LINES, check_items};
use crate::inventory::movements::{self, Movement, Reference, next_folio, reason};
use crate::org::audit::Entry;
use crate::org::branches::Actor;
use crate::{Error, Page, PageRequest, Result};
use crate::{
    inventory::tables::transfer, inventory::tables::transfer_line, org::tables::warehouse,
};

pub use crate::inventory::tables::transfer::Status;

/// A line of a new transfer.
#[derive(Debug, Clone, Copy)]
pub struct TransferLine {
    /// The item.
    pub item_id: Uuid,
    /// Units, > 0.
    pub qty: i64,
}

/// A transfer to request.
#[derive(Debug, Clone)]
pub struct NewTransfer {
    /// Origin warehouse.
    pub from_warehouse_id: Uuid,
    /// Destination warehouse.
    pub to_warehouse_id: Uuid,
    /// The items asked for.
    pub lines: Vec<TransferLine>,
    /// A person's note.
    pub note: Option<String>,
}

/// A transfer with its lines.
#[derive(Debug, Clone)]
pub struct TransferDetail {
    /// The transfer.
    pub transfer: transfer::Model,
    /// Its lines, in the order they were asked for.
    pub lines: Vec<transfer_line::Model>,
}

impl TransferDetail {
    /// The items of the transfer (to invalidate their cached views).
    #[must_use]
    pub fn items(&self) -> Vec<Uuid> {
        self.lines.iter().map(|l| l.item_id).collect()
    }
}

/// Filters of the transfer list.
#[derive(Debug, Clone, Default)]
pub struct TransferFilter {
    /// One state.
    pub status: Option<String>,
    /// Leaving from or arriving at this warehouse.
    pub warehouse_id: Option<Uuid>,
}

fn entry(actor: &Actor, action: &str, id: Uuid) -> Entry {
    Entry::new(action)
        .actor(actor.user_id)
        .target("transfer", id)
        .request(None, actor.request_id.clone())
}

fn in_scope(scope: Option<&[Uuid]>, branch: Uuid) -> bool {
    scope.is_none_or(|s| s.contains(&branch))
}

fn invalid_state(t: &transfer::Model, what: &str) -> Error {
    Error::conflict(
        "invalid_transfer_state",
        format!("transfer {} is {}: it cannot be {what}", t.folio, t.status),
    )
}

/// The warehouses' ids to their branches.
async fn warehouse_branches(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, warehouse::Model>> {
    Ok(warehouse::Entity::find()
        .filter(warehouse::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|w| (w.id, w))
        .collect())
}

/// Requests a transfer (no stock moves yet); folio `TR-000001`, one series per tenant.
///
/// # Errors
/// [`Error::Validation`] naming the field or line (same warehouse, no lines, a quantity not
/// above zero, an unknown item, an inactive warehouse); [`Error::NotFound`]
/// `warehouse` (unknown, or outside `scope`: the user must see the origin or the destination).
pub async fn request_transfer(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    scope: Option<&[Uuid]>,
    mut new: NewTransfer,
) -> Result<TransferDetail> {
    if new.from_warehouse_id == new.to_warehouse_id {
        return Err(Error::validation(
            "to_warehouse_id",
            "a transfer goes to another warehouse",
        ));
    }
    if new.lines.is_empty() || new.lines.len() > MAX_LINES {
        return Err(Error::validation(
            "lines",
            format!("a transfer has 1 to {MAX_LINES} lines"),
        ));
    }
    for (i, l) in new.lines.iter().enumerate() {
        crate::rules::quantity::units(format!("lines[{i}].qty"), l.qty)?;
    }
    // An item named on two lines is one line of their sum: a transfer moves each item once.
    let mut merged: Vec<TransferLine> = Vec::with_capacity(new.lines.len());
    for l in &new.lines {
        match merged.iter_mut().find(|m| m.item_id == l.item_id) {
            Some(m) => {
                m.qty = crate::rules::quantity::units("lines", m.qty.saturating_add(l.qty))?;
            }
            None => merged.push(*l),
        }
    }
    new.lines = merged;
    let note = new
        .note
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
        return Err(Error::validation(
            "note",
            "note must be at most 1000 characters",
        ));
    }
    let whs = warehouse_branches(txn, &[new.from_warehouse_id, new.to_warehouse_id]).await?;
    let (Some(from), Some(to)) = (
        whs.get(&new.from_warehouse_id),
        whs.get(&new.to_warehouse_id),
    ) else {
        return Err(Error::NotFound {
            entity: "warehouse",
        });
    };
    if !in_scope(scope, from.branch_id) && !in_scope(scope, to.branch_id) {
        return Err(Error::NotFound {
            entity: "warehouse",
        });
    }
    for (field, w) in [("from_warehouse_id", from), ("to_warehouse_id", to)] {
        if !w.is_active {
            // Inactive, not missing: the client named it right and it cannot be used now.
            return Err(Error::conflict(
                "warehouse_inactive",
                format!("{field}: warehouse {} is inactive", w.code),
            ));
        }
    }
    let items: Vec<Uuid> = new.lines.iter().map(|l| l.item_id).collect();
    check_items(txn, &items).await?;
    let now = crate::now();
    let id = Uuid::now_v7();
    let n = next_folio(txn, "transfer").await?;
    let t = transfer::ActiveModel {
        id: Set(id),
        folio: Set(format!("TR-{n:06}")),
        from_warehouse_id: Set(new.from_warehouse_id),
        to_warehouse_id: Set(new.to_warehouse_id),
        status: Set(Status::Requested),
        note: Set(note),
        requested_by: Set(actor.user_id),
        shipped_by: Set(None),
        received_by: Set(None),
        shipped_at: Set(None),
        received_at: Set(None),
        cancelled_at: Set(None),
        receipts: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?;
    transfer_line::Entity::insert_many(new.lines.iter().map(|l| transfer_line::ActiveModel {
        transfer_id: Set(id),
        item_id: Set(l.item_id),
        qty_requested: Set(l.qty),
        qty_shipped: Set(0),
        qty_received: Set(0),
        ..Default::default()
    }))
    .exec(txn)
    .await?;
    entry(actor, "transfer.requested", id)
        .details(json!({
            "folio": t.folio,
            "from_warehouse_id": t.from_warehouse_id,
            "to_warehouse_id": t.to_warehouse_id,
            "lines": new.lines.iter().map(|l| json!({"item_id": l.item_id, "qty": l.qty})).collect::<Vec<_>>(),
        }))
        .record_tenant(txn)
        .await?;
    let lines = lines_of(txn, id).await?;
    Ok(TransferDetail { transfer: t, lines })
}

async fn lines_of(db: &impl ConnectionTrait, id: Uuid) -> Result<Vec<transfer_line::Model>> {
    Ok(transfer_line::Entity::find()
        .filter(transfer_line::Column::TransferId.eq(id))
        .order_by_asc(transfer_line::Column::Id)
        .all(db)
        .await?)
}

/// A transfer, if `scope` lets the user see it (origin or destination in scope).
async fn load(
    db: &impl ConnectionTrait,
    id: Uuid,
    scope: Option<&[Uuid]>,
) -> Result<(transfer::Model, warehouse::Model, warehouse::Model)> {
    let not_found = Error::NotFound { entity: "transfer" };
    let t = transfer::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "transfer" })?;
    let whs = warehouse_branches(db, &[t.from_warehouse_id, t.to_warehouse_id]).await?;
    let (Some(from), Some(to)) = (
        whs.get(&t.from_warehouse_id).cloned(),
        whs.get(&t.to_warehouse_id).cloned(),
    ) else {
        return Err(not_found);
    };
    if !in_scope(scope, from.branch_id) && !in_scope(scope, to.branch_id) {
        return Err(not_found);
    }
    Ok((t, from, to))
}

/// Moves a transfer from the state it was read in to the state `am` sets, only if nobody moved
/// it first: the conditional update is what serialises two managers pressing the same button.
/// The receipt count is part of the condition because a partial receipt leaves the status as it
/// was; a second receipt read before the first committed would otherwise pass.
async fn advance(
    db: &impl ConnectionTrait,
    t: &transfer::Model,
    am: transfer::ActiveModel,
    what: &str,
) -> Result<transfer::Model> {
    let res = transfer::Entity::update_many()
        .set(am)
        .filter(transfer::Column::Id.eq(t.id))
        .filter(transfer::Column::Status.eq(t.status.as_str()))
        .filter(transfer::Column::Receipts.eq(t.receipts))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Err(invalid_state(t, what));
    }
    transfer::Entity::find_by_id(t.id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "transfer" })
}

/// One transfer with its lines.
///
/// # Errors
/// [`Error::NotFound`] `transfer` (unknown or outside `scope`).
pub async fn get_transfer(
    db: &impl ConnectionTrait,
    id: Uuid,
    scope: Option<&[Uuid]>,
) -> Result<TransferDetail> {
    let (transfer, _, _) = load(db, id, scope).await?;
    let lines = lines_of(db, id).await?;
    Ok(TransferDetail { transfer, lines })
}

/// Transfers, newest first.
///
/// # Errors
/// [`Error::Validation`] for an unknown status.
pub async fn list_transfers(
    db: &impl ConnectionTrait,
    page: PageRequest,
    filter: TransferFilter,
    scope: Option<&[Uuid]>,
) -> Result<Page<transfer::Model>> {
    let mut q = transfer::Entity::find()
        .order_by_desc(transfer::Column::CreatedAt)
        .order_by_desc(transfer::Column::Id);
    if let Some(s) = filter.status {
        let s: Status = s.parse().map_err(|_| {
            let all: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
            Error::validation(
                "status",
                format!("status must be one of {}", all.join(", ")),
            )
        })?;
        q = q.filter(transfer::Column::Status.eq(s));
    }
    if let Some(w) = filter.warehouse_id {
        q = q.filter(
            Condition::any()
                .add(transfer::Column::FromWarehouseId.eq(w))
                .add(transfer::Column::ToWarehouseId.eq(w)),
        );
    }
    if let Some(b) = scope {
        let ids: Vec<Uuid> = warehouse::Entity::find()
            .filter(warehouse::Column::BranchId.is_in(b.iter().copied()))
            .all(db)
            .await?
            .into_iter()
            .map(|w| w.id)
            .collect();
        q = q.filter(
            Condition::any()
                .add(transfer::Column::FromWarehouseId.is_in(ids.clone()))
                .add(transfer::Column::ToWarehouseId.is_in(ids)),
        );
    }
    page.fetch(db, q).await
}

/// Ships a requested transfer: each line's `qty_shipped` (by item in `quantities`, else all
/// that was requested) leaves the origin (`transfer_out`, ref_id the transfer id).
///
/// # Errors
/// [`Error::NotFound`] `transfer` (unknown, or origin outside `scope`); [`Error::Conflict`]
/// `invalid_transfer_state`, `insufficient_stock`; [`Error::Validation`] naming the line for a
/// quantity above what was requested, below zero, or an item not in the transfer, or when
/// nothing would ship.
pub async fn ship_transfer(
    db: &DatabaseConnection,
    actor: &Actor,
    scope: Option<&[Uuid]>,
    id: Uuid,
    quantities: &[TransferLine],
) -> Result<TransferDetail> {
    let txn = crate::db::begin_write(db).await?;
    let (t, from, _) = load(&txn, id, scope).await?;
    if !in_scope(scope, from.branch_id) {
        return Err(Error::NotFound { entity: "transfer" });
    }
    if t.status != Status::Requested {
        return Err(invalid_state(&t, "shipped"));
    }
    let lines = lines_of(&txn, id).await?;
    let mut shipped: HashMap<Uuid, i64> =
        lines.iter().map(|l| (l.item_id, l.qty_requested)).collect();
    for (i, q) in quantities.iter().enumerate() {
        let Some(line) = lines.iter().find(|l| l.item_id == q.item_id) else {
            return Err(Error::validation(
                format!("lines[{i}].item_id"),
                format!("item {} is not in this transfer", q.item_id),
            ));
        };
        if q.qty < 0 || q.qty > line.qty_requested {
            return Err(Error::validation(
                format!("lines[{i}].qty_shipped"),
                format!("qty_shipped must be 0 to {}", line.qty_requested),
            ));
        }
        shipped.insert(q.item_id, q.qty);
    }
    if shipped.values().all(|q| *q == 0) {
        return Err(Error::validation("lines", "nothing would be shipped"));
    }
    let now = crate::now();
    let t = advance(
        &txn,
        &t,
        transfer::ActiveModel {
            status: Set(Status::Shipped),
            shipped_by: Set(actor.user_id),
            shipped_at: Set(Some(now)),
            updated_at: Set(now),
            ..Default::default()
        },
        "shipped",
    )
    .await?;
    let moves: Vec<Movement> = lines
        .iter()
        .filter_map(|l| {
            let q = shipped.get(&l.item_id).copied().unwrap_or(0);
            (q > 0).then_some(Movement {
                item_id: l.item_id,
                warehouse_id: t.from_warehouse_id,
                delta: -q,
            })
        })
        .collect();
    let ref_id = id.to_string();
    movements::apply(
        &txn,
        &moves,
        &Reference {
            reason: reason::TRANSFER_OUT,
            ref_type: "transfer",
            ref_id: &ref_id,
            note: Some(&t.folio),
            actor: actor.user_id,
        },
    )
    .await?;
    for l in &lines {
        let q = shipped.get(&l.item_id).copied().unwrap_or(0);
        transfer_line::ActiveModel {
            id: Set(l.id),
            qty_shipped: Set(q),
            ..Default::default()
        }
        .update(&txn)
        .await?;
    }
    entry(actor, "transfer.shipped", id)
        .details(json!({
            "folio": t.folio,
            "lines": lines.iter().map(|l| json!({"item_id": l.item_id, "qty_shipped": shipped.get(&l.item_id)})).collect::<Vec<_>>(),
        }))
        .record_tenant(&txn)
        .await?;
    let lines = lines_of(&txn, id).await?;
    txn.commit().await?;
    Ok(TransferDetail { transfer: t, lines })
}

/// Receives some or all of a shipped transfer at the destination (`transfer_in`, ref_id
/// `{transfer id}:r{n}`, n the receipt number); `received` once every shipped unit arrived,
/// else `partially_received`.
///
/// # Errors
/// [`Error::NotFound`] `transfer` (unknown, or destination outside `scope`);
/// [`Error::Conflict`] `invalid_transfer_state`; [`Error::Validation`] naming the line for an
/// item not in the transfer, a quantity not above zero, an item twice, or more than what is
/// still in transit (nothing is changed).
pub async fn receive_transfer(
    db: &DatabaseConnection,
    actor: &Actor,
    scope: Option<&[Uuid]>,
    id: Uuid,
    received: &[TransferLine],
) -> Result<TransferDetail> {
    if received.is_empty() || received.len() > MAX_LINES {
        return Err(Error::validation(
            "lines",
            format!("a receipt has 1 to {MAX_LINES} lines"),
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let (t, _, to) = load(&txn, id, scope).await?;
    if !in_scope(scope, to.branch_id) {
        return Err(Error::NotFound { entity: "transfer" });
    }
    if t.status != Status::Shipped && t.status != Status::PartiallyReceived {
        return Err(invalid_state(&t, "received"));
    }
    let lines = lines_of(&txn, id).await?;
    let mut seen = HashSet::new();
    for (i, r) in received.iter().enumerate() {
        let Some(line) = lines.iter().find(|l| l.item_id == r.item_id) else {
            return Err(Error::validation(
                format!("lines[{i}].item_id"),
                format!("item {} is not in this transfer", r.item_id),
            ));
        };
        if !seen.insert(r.item_id) {
            return Err(Error::validation(
                format!("lines[{i}].item_id"),
                "an item appears once per receipt",
            ));
        }
        let open = line.qty_shipped - line.qty_received;
        if r.qty <= 0 || r.qty > open {
            return Err(Error::validation(
                format!("lines[{i}].qty"),
                format!(
                    "qty must be 1 to {open}: {} shipped, {} received already",
                    line.qty_shipped, line.qty_received
                ),
            ));
        }
    }
    let n = t.receipts + 1;
    let complete = lines.iter().all(|l| {
        let now_in = received
            .iter()
            .find(|r| r.item_id == l.item_id)
            .map_or(0, |r| r.qty);
        l.qty_received + now_in == l.qty_shipped
    });
    let now = crate::now();
    let t = advance(
        &txn,
        &t,
        transfer::ActiveModel {
            status: Set(if complete {
                Status::Received
            } else {
                Status::PartiallyReceived
            }),
            received_by: Set(actor.user_id),
            received_at: Set(Some(now)),
            receipts: Set(n),
            updated_at: Set(now),
            ..Default::default()
        },
        "received",
    )
    .await?;
    let moves: Vec<Movement> = received
        .iter()
        .map(|r| Movement {
            item_id: r.item_id,
            warehouse_id: t.to_warehouse_id,
            delta: r.qty,
        })
        .collect();
    let ref_id = format!("{id}:r{n}");
    movements::apply(
        &txn,
        &moves,
        &Reference {
            reason: reason::TRANSFER_IN,
            ref_type: "transfer",
            ref_id: &ref_id,
            note: Some(&t.folio),
            actor: actor.user_id,
        },
    )
    .await?;
    for r in received {
        if let Some(l) = lines.iter().find(|l| l.item_id == r.item_id) {
            transfer_line::ActiveModel {
                id: Set(l.id),
                qty_received: Set(l.qty_received + r.qty),
                ..Default::default()
            }
            .update(&txn)
            .await?;
        }
    }
    entry(actor, "transfer.received", id)
        .details(json!({
            "folio": t.folio,
            "receipt": n,
            "status": t.status,
            "lines": received.iter().map(|r| json!({"item_id": r.item_id, "qty": r.qty})).collect::<Vec<_>>(),
        }))
        .record_tenant(&txn)
        .await?;
    let lines = lines_of(&txn, id).await?;
    txn.commit().await?;
    Ok(TransferDetail { transfer: t, lines })
}

/// Cancels a requested or shipped transfer; a shipped one returns its stock to the origin
/// (`transfer_cancel`, ref_id the transfer id). Once anything arrived it cannot be cancelled.
///
/// # Errors
/// [`Error::NotFound`] `transfer` (unknown or outside `scope`); [`Error::Conflict`]
/// `invalid_transfer_state`.
pub async fn cancel_transfer(
    db: &DatabaseConnection,
    actor: &Actor,
    scope: Option<&[Uuid]>,
    id: Uuid,
) -> Result<TransferDetail> {
    let txn = crate::db::begin_write(db).await?;
    let (t, _, _) = load(&txn, id, scope).await?;
    if t.status != Status::Requested && t.status != Status::Shipped {
        return Err(invalid_state(&t, "cancelled"));
    }
    let was_shipped = t.status == Status::Shipped;
    let lines = lines_of(&txn, id).await?;
    let now = crate::now();
    let t = advance(
        &txn,
        &t,
        transfer::ActiveModel {
            status: Set(Status::Cancelled),
            cancelled_at: Set(Some(now)),
            updated_at: Set(now),
            ..Default::default()
        },
        "cancelled",
    )
    .await?;
    if was_shipped {
        let moves: Vec<Movement> = lines
            .iter()
            .filter(|l| l.qty_shipped > 0)
            .map(|l| Movement {
                item_id: l.item_id,
                warehouse_id: t.from_warehouse_id,
                delta: l.qty_shipped,
            })
            .collect();
        let ref_id = id.to_string();
        movements::apply(
            &txn,
            &moves,
            &Reference {
                reason: reason::TRANSFER_CANCEL,
                ref_type: "transfer",
                ref_id: &ref_id,
                note: Some(&t.folio),
                actor: actor.user_id,
            },
        )
        .await?;
    }
    entry(actor, "transfer.cancelled", id)
        .details(json!({"folio": t.folio, "stock_returned": was_shipped}))
        .record_tenant(&txn)
        .await?;
    txn.commit().await?;
    Ok(TransferDetail { transfer: t, lines })
}

/// What becomes of the units a transfer closed short did not deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShortDisposition {
    /// They are back at the origin (they never left, or came back).
    Return,
    /// They are lost: written off at the origin.
    WriteOff,
}

/// Closes a partially received transfer short: the units shipped but never received leave
/// transit, either back to the origin (`transfer_short_return`) or written off there (a
/// `transfer_short_return` and a `transfer_write_off` row, so the ledger shows both), with the
/// reason in the audit trail. Nothing stays in transit.
///
/// # Errors
/// [`Error::NotFound`] `transfer` (unknown or outside `scope`); [`Error::Conflict`]
/// `invalid_transfer_state` unless partially received; [`Error::Validation`] on `reason`.
pub async fn close_short(
    db: &DatabaseConnection,
    actor: &Actor,
    scope: Option<&[Uuid]>,
    id: Uuid,
    disposition: ShortDisposition,
    reason_text: &str,
) -> Result<TransferDetail> {
    let reason_text = reason_text.trim();
    if reason_text.is_empty() || reason_text.chars().count() > 500 {
        return Err(Error::validation(
            "reason",
            "a reason of 1 to 500 characters is needed",
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let (t, _, _) = load(&txn, id, scope).await?;
    if t.status != Status::PartiallyReceived {
        return Err(invalid_state(&t, "closed short"));
    }
    let lines = lines_of(&txn, id).await?;
    let now = crate::now();
    let t = advance(
        &txn,
        &t,
        transfer::ActiveModel {
            status: Set(Status::Closed),
            updated_at: Set(now),
            ..Default::default()
        },
        "closed short",
    )
    .await?;
    let missing: Vec<Movement> = lines
        .iter()
        .filter(|l| l.qty_shipped > l.qty_received)
        .map(|l| Movement {
            item_id: l.item_id,
            warehouse_id: t.from_warehouse_id,
            delta: l.qty_shipped - l.qty_received,
        })
        .collect();
    let ref_id = id.to_string();
    let reference = |reason| Reference {
        reason,
        ref_type: "transfer",
        ref_id: &ref_id,
        note: Some(reason_text),
        actor: actor.user_id,
    };
    movements::apply(&txn, &missing, &reference(reason::TRANSFER_SHORT_RETURN)).await?;
    if disposition == ShortDisposition::WriteOff {
        let out: Vec<Movement> = missing
            .iter()
            .map(|m| Movement {
                delta: -m.delta,
                ..m.clone()
            })
            .collect();
        movements::apply(&txn, &out, &reference(reason::TRANSFER_WRITE_OFF)).await?;
    }
    entry(actor, "transfer.closed_short", id)
        .details(json!({
            "folio": t.folio,
            "disposition": disposition,
            "reason": reason_text,
            "missing": missing.iter().map(|m| json!({"item_id": m.item_id, "qty": m.delta})).collect::<Vec<_>>(),
        }))
        .record_tenant(&txn)
        .await?;
    txn.commit().await?;
    Ok(TransferDetail { transfer: t, lines })
}
