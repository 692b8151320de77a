//! Special orders (pedidos especiales): a customer asks for a part the store does not stock. The
//! counter takes a deposit (store credit on the customer's account), the part goes on the
//! supplier's next purchase order (its open draft, or a new one), and when it arrives the units
//! are held for the customer (`stock.reserved`: no other sale, transfer or return takes them, and
//! reorder counts them as reserved) until collected or cancelled, and a `special_order_received`
//! event is recorded for the notifications area. Received orders not collected after the
//! owner's number of days are listed as overdue.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::customers::tables::account_entry::PayMethod;
use crate::customers::tables::customer;
use crate::notifications::events;
use crate::org::audit::Entry;
use crate::org::branches::Actor;
use crate::purchasing::orders::{self, NewLine, NewOrder};
use crate::purchasing::tables::{purchase_order, purchase_order_line, special_order};
use crate::rules::money::Rate;
use crate::{Error, Page, PageRequest, Result};

pub use crate::purchasing::tables::special_order::Status;

/// A special order to take.
#[derive(Debug, Clone, Default)]
pub struct NewSpecialOrder {
    /// The customer.
    pub customer_id: Uuid,
    /// The item (created beforehand if new to the store).
    pub item_id: Uuid,
    /// Where it is received and held.
    pub warehouse_id: Uuid,
    /// Units, > 0.
    pub qty: i64,
    /// Advance paid, MXN centavos (0 for none).
    pub deposit_cents: i64,
    /// How the deposit was paid (cash by default).
    pub deposit_method: Option<PayMethod>,
    /// The supplier: when given, the part goes on its next order at once.
    pub supplier_id: Option<Uuid>,
    /// A note.
    pub note: Option<String>,
}

/// Filters of the special-order list.
#[derive(Debug, Clone, Default)]
pub struct SpecialOrderFilter {
    /// One state.
    pub status: Option<Status>,
    /// One customer.
    pub customer_id: Option<Uuid>,
    /// Only received ones waiting longer than the owner's number of days.
    pub overdue: bool,
}

fn entry(actor: &Actor, action: &str, id: Uuid) -> Entry {
    Entry::new(action)
        .actor(actor.user_id)
        .target("special_order", id)
        .request(None, actor.request_id.clone())
}

/// A special order by id.
///
/// # Errors
/// [`Error::NotFound`] `special_order`.
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<special_order::Model> {
    special_order::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "special_order",
        })
}

/// Takes a special order, its deposit, and (with a supplier) puts it on the supplier's next
/// order.
///
/// # Errors
/// [`Error::Validation`] naming the field; [`Error::Missing`] `customer_not_found`,
/// `item_not_found`, `warehouse_not_found`, `supplier_not_found`; [`Error::Conflict`]
/// `warehouse_inactive`, `supplier_inactive`.
pub async fn create(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    new: NewSpecialOrder,
    usd_rate: Rate,
) -> Result<special_order::Model> {
    crate::rules::quantity::units("qty", new.qty)?;
    if new.deposit_cents < 0 || new.deposit_cents > crate::rules::money::MAX_CENTS {
        return Err(Error::validation("deposit", "deposit is 0 or more"));
    }
    let note = crate::rules::text::optional("note", new.note, 1000)?;
    if customer::Entity::find_by_id(new.customer_id)
        .one(txn)
        .await?
        .is_none()
    {
        return Err(Error::missing(
            "customer_id",
            "customer_not_found",
            format!("customer {} does not exist", new.customer_id),
        ));
    }
    crate::inventory::adjustments::check_item(txn, "item_id", new.item_id).await?;
    crate::purchasing::usable_warehouse(txn, "warehouse_id", new.warehouse_id).await?;
    if let Some(s) = new.supplier_id {
        crate::purchasing::suppliers::usable_supplier(txn, "supplier_id", s).await?;
    }
    let id = Uuid::now_v7();
    let n = crate::inventory::movements::next_folio(txn, "special_order").await?;
    let folio = format!("PE-{n:06}");
    let deposit_entry = if new.deposit_cents > 0 {
        Some(
            crate::customers::accounts::deposit(
                txn,
                actor,
                new.customer_id,
                new.deposit_cents,
                new.deposit_method.unwrap_or(PayMethod::Cash),
                None,
                &format!("anticipo del pedido especial {folio}"),
            )
            .await?
            .id,
        )
    } else {
        None
    };
    let now = crate::now();
    let so = special_order::ActiveModel {
        id: Set(id),
        folio: Set(folio),
        customer_id: Set(new.customer_id),
        item_id: Set(new.item_id),
        warehouse_id: Set(new.warehouse_id),
        qty: Set(new.qty),
        deposit_cents: Set(new.deposit_cents),
        deposit_entry_id: Set(deposit_entry),
        supplier_id: Set(new.supplier_id),
        status: Set(Status::Open),
        purchase_order_id: Set(None),
        note: Set(note),
        created_by: Set(actor.user_id),
        received_at: Set(None),
        collected_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?;
    entry(actor, "special_order.created", id)
        .details(json!({"folio": so.folio, "customer_id": so.customer_id, "item_id": so.item_id, "qty": so.qty, "deposit_cents": so.deposit_cents}))
        .record_tenant(txn)
        .await?;
    match new.supplier_id {
        Some(s) => place(txn, actor, so, s, usd_rate).await,
        None => Ok(so),
    }
}

/// Puts an open special order on the supplier's next order: its newest draft to that warehouse,
/// or a new draft.
///
/// # Errors
/// [`Error::NotFound`] `special_order`; [`Error::Conflict`] `invalid_special_order_state` unless
/// open; as [`orders::create_order`].
pub async fn order_from(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    supplier_id: Uuid,
    usd_rate: Rate,
) -> Result<special_order::Model> {
    let so = get(txn, id).await?;
    crate::purchasing::suppliers::usable_supplier(txn, "supplier_id", supplier_id).await?;
    place(txn, actor, so, supplier_id, usd_rate).await
}

async fn place(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    so: special_order::Model,
    supplier_id: Uuid,
    usd_rate: Rate,
) -> Result<special_order::Model> {
    if so.status != Status::Open {
        return Err(invalid(&so, "ordered"));
    }
    let line = NewLine {
        item_id: so.item_id,
        qty: so.qty,
        special_order_id: Some(so.id),
        ..Default::default()
    };
    let draft = purchase_order::Entity::find()
        .filter(purchase_order::Column::SupplierId.eq(supplier_id))
        .filter(purchase_order::Column::WarehouseId.eq(so.warehouse_id))
        .filter(purchase_order::Column::Status.eq(orders::Status::Draft))
        .order_by_desc(purchase_order::Column::CreatedAt)
        .one(txn)
        .await?;
    let po_id = match draft {
        Some(po) => {
            orders::add_lines(txn, actor, po.id, vec![line])
                .await?
                .order
                .id
        }
        None => {
            orders::create_order(
                txn,
                actor,
                NewOrder {
                    supplier_id,
                    warehouse_id: so.warehouse_id,
                    lines: vec![line],
                    ..Default::default()
                },
                usd_rate,
                ("manual", None),
            )
            .await?
            .order
            .id
        }
    };
    let mut am: special_order::ActiveModel = so.into();
    am.status = Set(Status::Ordered);
    am.supplier_id = Set(Some(supplier_id));
    am.purchase_order_id = Set(Some(po_id));
    am.updated_at = Set(crate::now());
    let so = am.update(txn).await?;
    entry(actor, "special_order.ordered", so.id)
        .details(json!({"purchase_order_id": po_id}))
        .record_tenant(txn)
        .await?;
    Ok(so)
}

fn invalid(so: &special_order::Model, what: &str) -> Error {
    Error::conflict(
        "invalid_special_order_state",
        format!(
            "special order {} is {}: it cannot be {what}",
            so.folio, so.status
        ),
    )
}

/// Marks the special orders of the received lines as received (held for the customer) once their
/// line has all its units, at the warehouse they arrived in, and records the event that tells
/// the customer. Answers the special orders filled.
///
/// # Errors
/// Database errors.
pub async fn on_receipt(
    txn: &impl ConnectionTrait,
    lines: &[purchase_order_line::Model],
    received: &[Uuid],
    warehouse_id: Uuid,
) -> Result<Vec<Uuid>> {
    let mut filled = Vec::new();
    for l in lines.iter().filter(|l| received.contains(&l.id)) {
        let Some(so_id) = l.special_order_id else {
            continue;
        };
        let so = get(txn, so_id).await?;
        if so.status != Status::Ordered || l.received_qty < so.qty {
            continue;
        }
        let now = crate::now();
        hold(txn, so.item_id, warehouse_id, so.qty).await?;
        let mut am: special_order::ActiveModel = so.clone().into();
        am.status = Set(Status::Received);
        am.warehouse_id = Set(warehouse_id);
        am.received_at = Set(Some(now));
        am.updated_at = Set(now);
        am.update(txn).await?;
        events::record(
            txn,
            events::SPECIAL_ORDER_RECEIVED,
            "special_order",
            so.id,
            json!({"folio": so.folio, "customer_id": so.customer_id, "item_id": so.item_id, "qty": so.qty}),
        )
        .await?;
        filled.push(so.id);
    }
    Ok(filled)
}

/// The customer picked up a received special order (the sale is rung at the counter).
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Conflict`] `invalid_special_order_state` unless received.
pub async fn collect(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<special_order::Model> {
    let so = get(txn, id).await?;
    if so.status != Status::Received {
        return Err(invalid(&so, "collected"));
    }
    // The units are the customer's now: the sale that hands them over may take them.
    hold(txn, so.item_id, so.warehouse_id, -so.qty).await?;
    let now = crate::now();
    let mut am: special_order::ActiveModel = so.into();
    am.status = Set(Status::Collected);
    am.collected_at = Set(Some(now));
    am.updated_at = Set(now);
    let so = am.update(txn).await?;
    entry(actor, "special_order.collected", id)
        .record_tenant(txn)
        .await?;
    Ok(so)
}

/// Cancels a special order not yet collected; its deposit stays as the customer's store credit.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Conflict`] `invalid_special_order_state` once collected or
/// cancelled.
pub async fn cancel(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<special_order::Model> {
    let so = get(txn, id).await?;
    if matches!(so.status, Status::Collected | Status::Cancelled) {
        return Err(invalid(&so, "cancelled"));
    }
    if so.status == Status::Received {
        hold(txn, so.item_id, so.warehouse_id, -so.qty).await?;
    }
    let mut am: special_order::ActiveModel = so.into();
    am.status = Set(Status::Cancelled);
    am.updated_at = Set(crate::now());
    let so = am.update(txn).await?;
    entry(actor, "special_order.cancelled", id)
        .details(json!({"deposit_kept_as_store_credit_cents": so.deposit_cents}))
        .record_tenant(txn)
        .await?;
    Ok(so)
}

/// Special orders, newest first; `overdue` keeps received ones waiting longer than the owner's
/// number of days.
///
/// # Errors
/// Database errors.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: SpecialOrderFilter,
    page: PageRequest,
) -> Result<Page<special_order::Model>> {
    let mut q = special_order::Entity::find()
        .order_by_desc(special_order::Column::CreatedAt)
        .order_by_desc(special_order::Column::Id);
    if let Some(s) = filter.status {
        q = q.filter(special_order::Column::Status.eq(s));
    }
    if let Some(c) = filter.customer_id {
        q = q.filter(special_order::Column::CustomerId.eq(c));
    }
    if filter.overdue {
        let days = crate::purchasing::settings::get(db)
            .await?
            .special_order_days;
        let cutoff = crate::now() - chrono::Duration::days(i64::from(days));
        q = q
            .filter(special_order::Column::Status.eq(Status::Received))
            .filter(special_order::Column::ReceivedAt.lt(cutoff));
    }
    page.fetch(db, q).await
}

/// Holds (`delta > 0`) or releases (`delta < 0`) units of an item at a warehouse for a customer:
/// sales, transfers and returns take only what is not held (`inventory::movements::apply`). A
/// received order's units just came in, so they are held whatever else is held.
async fn hold(
    db: &impl ConnectionTrait,
    item_id: Uuid,
    warehouse_id: Uuid,
    delta: i64,
) -> Result<()> {
    crate::inventory::movements::release(db, item_id, warehouse_id, -delta).await
}

/// Units held for customers (received, not collected) per item at `warehouse_id`.
///
/// # Errors
/// Database errors.
pub async fn reserved(
    db: &impl ConnectionTrait,
    warehouse_id: Option<Uuid>,
) -> Result<std::collections::HashMap<(Uuid, Uuid), i64>> {
    let mut q =
        special_order::Entity::find().filter(special_order::Column::Status.eq(Status::Received));
    if let Some(w) = warehouse_id {
        q = q.filter(special_order::Column::WarehouseId.eq(w));
    }
    let mut out = std::collections::HashMap::new();
    for so in q.all(db).await? {
        *out.entry((so.item_id, so.warehouse_id)).or_default() += so.qty;
    }
    Ok(out)
}
