//! Service orders: reception, the budget's lines (parts and labour), the customer's approval
//! (also through a public link), the parts held in stock at approval and taken at `ready`, and
//! the append-only history. Delivery is in [`crate::workshop::delivery`].
//!
//! Every change runs in the caller's write transaction. Parts are held with
//! [`movements::hold`], one conditional statement per line, so two orders cannot hold the same
//! last unit; at `ready` the hold is let go and the units used leave through
//! [`movements::apply`] in the same transaction, so the ledger stays equal to the balances and
//! no balance goes below zero.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::counter::sales::{self, LineInput, Seller};
use crate::inventory::movements::{self, Movement, Reference, reason};
use crate::inventory::tables::item;
use crate::notifications::events;
use crate::org::tables::branch;
use crate::pricing::prices;
use crate::rules::money::{LineAmounts, Money, Rate, Totals, line_amounts};
use crate::workshop::flow::{self, Action};
use crate::workshop::tables::service_order_line::{Kind, LineStatus};
use crate::workshop::tables::{
    labour_entry, service_order, service_order_event, service_order_line, service_order_photo,
};
use crate::{Error, Page, PageRequest, Result, Role};

pub use crate::workshop::tables::service_order::{Channel, Status};

/// A budget sent for the customer's answer.
pub const AWAITING_APPROVAL: &str = "service_order_awaiting_approval";
/// The vehicle is ready to be picked up.
pub const READY: &str = "service_order_ready";
/// The vehicle was handed over.
pub const DELIVERED: &str = "service_order_delivered";

/// Most lines an order may have.
pub const MAX_LINES: usize = 200;

/// The reception record of a vehicle coming in.
#[derive(Debug, Clone, Default)]
pub struct Reception {
    /// The branch whose workshop takes it.
    pub branch_id: Uuid,
    /// The customer.
    pub customer_id: Uuid,
    /// A registered vehicle of the business.
    pub vehicle_id: Option<Uuid>,
    /// Or its plate (a registered vehicle with that plate is linked).
    pub plate: Option<String>,
    /// Or its VIN.
    pub vin: Option<String>,
    /// Year, make and model when the vehicle is not registered.
    pub vehicle_label: Option<String>,
    /// Odometer at reception, km.
    pub odometer_km: Option<i64>,
    /// Fuel in eighths of a tank, 0–8.
    pub fuel_eighths: Option<i32>,
    /// The accessories checklist: name → present.
    pub accessories: BTreeMap<String, bool>,
    /// What the customer says is wrong.
    pub complaint: String,
    /// When it was promised.
    pub promised_at: Option<DateTime<Utc>>,
    /// The customer accepts used or rebuilt parts.
    pub accepts_used_parts: bool,
    /// The technician in charge (checked by the caller to be a member of the business).
    pub assigned_to: Option<Uuid>,
    /// Notes.
    pub notes: Option<String>,
}

/// Changes to an order that is not finished; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct OrderPatch {
    /// New promised time.
    pub promised_at: Option<Option<DateTime<Utc>>>,
    /// New technician in charge (managers).
    pub assigned_to: Option<Option<Uuid>>,
    /// New notes.
    pub notes: Option<Option<String>>,
}

/// A part for the budget.
#[derive(Debug, Clone)]
pub struct PartInput {
    /// The item.
    pub item_id: Uuid,
    /// Where it is held and taken from.
    pub warehouse_id: Uuid,
    /// Units.
    pub qty: i64,
    /// Discount in basis points, within the role's limit.
    pub discount_bp: i32,
}

/// Labour for the budget.
#[derive(Debug, Clone)]
pub struct LabourInput {
    /// The operation: a service item.
    pub item_id: Uuid,
    /// Hours (two decimals); none for the operation's flat price.
    pub hours: Option<Decimal>,
    /// The hourly rate or flat price instead of the list's (managers).
    pub price: Option<Decimal>,
    /// Who does it.
    pub technician_id: Option<Uuid>,
    /// Discount in basis points, within the role's limit.
    pub discount_bp: i32,
    /// Revision and diagnosis: approved from the start and charged even when the budget is
    /// declined.
    pub is_diagnosis: bool,
}

/// What an action carries besides its name.
#[derive(Debug, Clone, Default)]
pub struct ActInput {
    /// A note for the history (a reason to cancel or decline).
    pub note: Option<String>,
    /// Approval: how it came.
    pub channel: Option<Channel>,
    /// Approval or refusal: who gave it (the customer's name).
    pub by: Option<String>,
    /// `ready`: units used per part line when fewer than held; the rest goes back to stock.
    pub used: Vec<(Uuid, i64)>,
}

/// An order with its lines, history, photos and time.
#[derive(Debug, Clone)]
pub struct OrderDoc {
    /// The order.
    pub order: service_order::Model,
    /// Lines by number.
    pub lines: Vec<service_order_line::Model>,
    /// The history, oldest first.
    pub events: Vec<service_order_event::Model>,
    /// Photos.
    pub photos: Vec<service_order_photo::Model>,
    /// Time logged.
    pub labour: Vec<labour_entry::Model>,
}

impl OrderDoc {
    /// Sums of the lines that stand in the budget (proposed or approved).
    #[must_use]
    pub fn budget(&self) -> Totals {
        sum(self
            .lines
            .iter()
            .filter(|l| matches!(l.status, LineStatus::Proposed | LineStatus::Approved)))
    }

    /// Sums of what is charged at delivery: the approved lines (as used), or only the
    /// diagnosis when the budget was declined.
    #[must_use]
    pub fn charged(&self) -> Totals {
        sum(self.billable())
    }

    /// The lines charged at delivery.
    pub fn billable(&self) -> impl Iterator<Item = &service_order_line::Model> {
        let declined = self.order.status == Status::Declined
            || (self.order.status == Status::Delivered && self.order.approved_version == 0);
        self.lines.iter().filter(move |l| {
            l.status == LineStatus::Approved && l.qty > 0 && (!declined || l.is_diagnosis)
        })
    }
}

fn sum<'a>(lines: impl Iterator<Item = &'a service_order_line::Model>) -> Totals {
    let mut t = Totals::default();
    for l in lines {
        t.add(&amounts_of(l));
    }
    t
}

/// A line's stored amounts.
#[must_use]
pub fn amounts_of(l: &service_order_line::Model) -> LineAmounts {
    LineAmounts {
        gross: Money(l.total_cents + l.discount_cents),
        discount: Money(l.discount_cents),
        base: Money(l.base_cents),
        tax: Money(l.tax_cents),
        total: Money(l.total_cents),
        retail: Money(l.retail_unit_cents * l.qty),
        savings: Money((l.retail_unit_cents * l.qty - l.total_cents).max(0)),
    }
}

/// Filters of the order list.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    /// One state.
    pub status: Option<Status>,
    /// One branch.
    pub branch_id: Option<Uuid>,
    /// One customer.
    pub customer_id: Option<Uuid>,
    /// One vehicle.
    pub vehicle_id: Option<Uuid>,
    /// One technician.
    pub assigned_to: Option<Uuid>,
    /// Only those past their promised time and not ready.
    pub late: bool,
    /// Folio or plate (contains, case-insensitive).
    pub q: Option<String>,
}

/// Whether an order is past its promised time and still not ready for the customer.
#[must_use]
pub fn is_late(o: &service_order::Model, now: DateTime<Utc>) -> bool {
    o.promised_at.is_some_and(|p| p < now)
        && !matches!(
            o.status,
            Status::Ready | Status::Delivered | Status::Cancelled | Status::Declined
        )
}

fn text(field: &str, v: Option<String>, max: usize) -> Result<Option<String>> {
    crate::rules::text::optional(field, v, max)
}

/// Refuses an order outside the user's reach: a branch outside their scope, or for a mechanic
/// an order assigned to somebody else (mechanics see and move their own orders only). Both
/// read as not found, so nothing is told about orders one may not see.
fn reach(seller: &Seller, o: &service_order::Model) -> Result<()> {
    let mechanic_elsewhere = seller.role == Role::Mechanic && o.assigned_to != Some(seller.user_id);
    if !seller.can_see(o.branch_id) || mechanic_elsewhere {
        return Err(Error::NotFound {
            entity: "service_order",
        });
    }
    Ok(())
}

/// The order row alone, when it is in the user's reach ([`reach`]).
pub(crate) async fn find(
    db: &impl ConnectionTrait,
    seller: &Seller,
    id: Uuid,
) -> Result<service_order::Model> {
    let o = service_order::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "service_order",
        })?;
    reach(seller, &o)?;
    Ok(o)
}

/// One history row.
pub(crate) struct Event<'a> {
    pub kind: &'a str,
    pub from: Option<Status>,
    pub to: Option<Status>,
    pub note: Option<String>,
    pub details: Option<serde_json::Value>,
}

pub(crate) async fn log(
    db: &impl ConnectionTrait,
    order_id: Uuid,
    actor: Option<Uuid>,
    actor_name: Option<&str>,
    e: Event<'_>,
) -> Result<()> {
    service_order_event::ActiveModel {
        id: sea_orm::NotSet,
        order_id: Set(order_id),
        kind: Set(e.kind.to_owned()),
        from_status: Set(e.from.map(|s| s.to_string())),
        to_status: Set(e.to.map(|s| s.to_string())),
        actor_id: Set(actor),
        actor_name: Set(actor_name.map(str::to_owned)),
        note: Set(e.note),
        details: Set(e.details.map(|d| d.to_string())),
        created_at: Set(crate::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

fn vehicle_label(v: &crate::vehicles::tables::customer_vehicle::Model) -> Option<String> {
    let parts: Vec<String> = [
        v.year.map(|y| y.to_string()),
        v.make.clone(),
        v.model.clone(),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Checks a vehicle in: the reception record (PROFECO's form: odometer, fuel, accessories, the
/// complaint, the promised date, consent to used parts) and the first history row.
///
/// # Errors
/// [`Error::Validation`] naming the field; [`Error::NotFound`] `branch`, `customer`,
/// `vehicle`; [`Error::Conflict`] `customer_inactive`, `branch_inactive`, `vehicle_of_another_customer`.
#[allow(clippy::too_many_lines)]
pub async fn receive(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    r: Reception,
) -> Result<service_order::Model> {
    use crate::vehicles::registered;
    use crate::vehicles::tables::customer_vehicle;
    let branch = sales::selling_branch(txn, seller, r.branch_id).await?;
    let (customer, list) = sales::customer_and_list(txn, seller, Some(r.customer_id), None).await?;
    let customer = customer.ok_or(Error::NotFound { entity: "customer" })?;
    let complaint = r.complaint.trim().to_owned();
    if complaint.is_empty() || complaint.chars().count() > 2000 {
        return Err(Error::validation(
            "complaint",
            "the customer's complaint is 1 to 2000 characters",
        ));
    }
    if let Some(km) = r.odometer_km
        && !(0..=3_000_000).contains(&km)
    {
        return Err(Error::validation(
            "odometer_km",
            "an odometer reads 0 to 3 000 000 km",
        ));
    }
    if let Some(f) = r.fuel_eighths
        && !(0..=8).contains(&f)
    {
        return Err(Error::validation(
            "fuel_eighths",
            "fuel is 0 to 8 eighths of a tank",
        ));
    }
    if r.accessories.len() > 50
        || r.accessories
            .keys()
            .any(|k| k.trim().is_empty() || k.chars().count() > 60)
    {
        return Err(Error::validation(
            "accessories",
            "at most 50 accessories, each named in 1 to 60 characters",
        ));
    }
    let mut plate = registered::check_plate(r.plate)?;
    let mut vin = registered::check_vin(r.vin)?;
    let mut label = text("vehicle_label", r.vehicle_label, 200)?;
    let mut vehicle = match r.vehicle_id {
        Some(id) => Some(registered::get_vehicle(txn, id).await?),
        None => match (&plate, &vin) {
            (Some(p), _) => {
                customer_vehicle::Entity::find()
                    .filter(customer_vehicle::Column::Plate.eq(p.as_str()))
                    .one(txn)
                    .await?
            }
            (None, Some(v)) => {
                customer_vehicle::Entity::find()
                    .filter(customer_vehicle::Column::Vin.eq(v.as_str()))
                    .one(txn)
                    .await?
            }
            (None, None) => None,
        },
    };
    if let Some(v) = &vehicle
        && v.customer_id.is_some_and(|c| c != customer.id)
    {
        if r.vehicle_id.is_some() {
            return Err(Error::conflict(
                "vehicle_of_another_customer",
                "the vehicle is registered to another customer",
            ));
        }
        // A plate that changed hands: the order keeps what was typed, unlinked.
        vehicle = None;
    }
    if let Some(v) = &vehicle {
        plate = plate.or_else(|| v.plate.clone());
        vin = vin.or_else(|| v.vin.clone());
        label = label.or_else(|| vehicle_label(v));
    }
    if vehicle.is_none() && plate.is_none() && vin.is_none() {
        return Err(Error::validation(
            "vehicle_id",
            "name the vehicle: a registered vehicle, its plate or its VIN",
        ));
    }
    let now = crate::now();
    let n = movements::next_folio(txn, &format!("service_order:{}", branch.code)).await?;
    let o = service_order::ActiveModel {
        id: Set(Uuid::now_v7()),
        folio: Set(format!("OS-{}-{n:06}", branch.code)),
        branch_id: Set(branch.id),
        customer_id: Set(customer.id),
        vehicle_id: Set(vehicle.as_ref().map(|v| v.id)),
        plate: Set(plate),
        vin: Set(vin),
        vehicle_label: Set(label),
        odometer_km: Set(r.odometer_km),
        fuel_eighths: Set(r.fuel_eighths),
        accessories: Set(json!(r.accessories).to_string()),
        complaint: Set(complaint),
        promised_at: Set(r.promised_at),
        accepts_used_parts: Set(r.accepts_used_parts),
        status: Set(Status::Received),
        resume_status: Set(None),
        price_list: Set(list.to_owned()),
        assigned_to: Set(r.assigned_to),
        budget_version: Set(0),
        approved_version: Set(0),
        token: Set(crate::counter::quotes::new_token()),
        approved_at: Set(None),
        approved_by: Set(None),
        approval_channel: Set(None),
        sale_id: Set(None),
        notes: Set(text("notes", r.notes, 2000)?),
        ready_at: Set(None),
        delivered_at: Set(None),
        closed_at: Set(None),
        created_by: Set(seller.user_id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?;
    if let (Some(v), Some(km)) = (o.vehicle_id, o.odometer_km) {
        // The reception's odometer is the vehicle's reading; a lower one is kept flagged
        // rather than turning the car away.
        crate::fleets::readings::from_reception(txn, seller.user_id, v, km, o.id).await?;
    }
    log(
        txn,
        o.id,
        Some(seller.user_id),
        None,
        Event {
            kind: "status",
            from: None,
            to: Some(Status::Received),
            note: None,
            details: Some(json!({"odometer_km": o.odometer_km, "fuel_eighths": o.fuel_eighths})),
        },
    )
    .await?;
    seller
        .entry("service_order.received", "service_order", o.id)
        .details(json!({"folio": o.folio}))
        .record_tenant(txn)
        .await?;
    Ok(o)
}

/// An order with everything that hangs from it.
///
/// # Errors
/// [`Error::NotFound`] `service_order` (also outside the user's reach).
pub async fn get(db: &impl ConnectionTrait, seller: &Seller, id: Uuid) -> Result<OrderDoc> {
    let order = find(db, seller, id).await?;
    doc(db, order).await
}

async fn doc(db: &impl ConnectionTrait, order: service_order::Model) -> Result<OrderDoc> {
    let id = order.id;
    Ok(OrderDoc {
        lines: lines_of(db, id).await?,
        events: service_order_event::Entity::find()
            .filter(service_order_event::Column::OrderId.eq(id))
            .order_by_asc(service_order_event::Column::Id)
            .all(db)
            .await?,
        photos: service_order_photo::Entity::find()
            .filter(service_order_photo::Column::OrderId.eq(id))
            .order_by_asc(service_order_photo::Column::CreatedAt)
            .all(db)
            .await?,
        labour: labour_entry::Entity::find()
            .filter(labour_entry::Column::OrderId.eq(id))
            .order_by_asc(labour_entry::Column::CreatedAt)
            .all(db)
            .await?,
        order,
    })
}

async fn lines_of(db: &impl ConnectionTrait, id: Uuid) -> Result<Vec<service_order_line::Model>> {
    Ok(service_order_line::Entity::find()
        .filter(service_order_line::Column::OrderId.eq(id))
        .order_by_asc(service_order_line::Column::LineNo)
        .all(db)
        .await?)
}

/// The order behind a public link's token, with its lines.
///
/// # Errors
/// [`Error::NotFound`] `service_order`.
pub async fn by_token(db: &impl ConnectionTrait, token: &str) -> Result<OrderDoc> {
    let order = service_order::Entity::find()
        .filter(service_order::Column::Token.eq(token))
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "service_order",
        })?;
    doc(db, order).await
}

/// Orders, newest first; a mechanic sees only theirs.
///
/// # Errors
/// Database errors.
pub async fn list(
    db: &impl ConnectionTrait,
    seller: &Seller,
    f: OrderFilter,
    page: PageRequest,
) -> Result<Page<service_order::Model>> {
    use sea_orm::sea_query::{Expr, ExprTrait, Func};
    let mut q = service_order::Entity::find().order_by_desc(service_order::Column::CreatedAt);
    if let Some(s) = f.status {
        q = q.filter(service_order::Column::Status.eq(s));
    }
    if let Some(b) = f.branch_id {
        q = q.filter(service_order::Column::BranchId.eq(b));
    }
    if let Some(c) = f.customer_id {
        q = q.filter(service_order::Column::CustomerId.eq(c));
    }
    if let Some(v) = f.vehicle_id {
        q = q.filter(service_order::Column::VehicleId.eq(v));
    }
    if seller.role == Role::Mechanic {
        q = q.filter(service_order::Column::AssignedTo.eq(seller.user_id));
    } else if let Some(t) = f.assigned_to {
        q = q.filter(service_order::Column::AssignedTo.eq(t));
    }
    if let Some(ids) = &seller.branch_scope {
        q = q.filter(service_order::Column::BranchId.is_in(ids.iter().copied()));
    }
    if f.late {
        q = q
            .filter(service_order::Column::PromisedAt.lt(crate::now()))
            .filter(service_order::Column::Status.is_not_in([
                Status::Ready,
                Status::Delivered,
                Status::Cancelled,
                Status::Declined,
            ]));
    }
    if let Some(t) =
        f.q.map(|t| t.trim().to_uppercase())
            .filter(|t| !t.is_empty())
    {
        if t.chars().count() > 100 {
            return Err(Error::validation("q", "a search is at most 100 characters"));
        }
        let like = format!("%{}%", t.replace(['%', '_'], ""));
        q = q.filter(
            Expr::expr(Func::upper(Expr::col(service_order::Column::Folio)))
                .like(like.clone())
                .or(Expr::col(service_order::Column::Plate).like(like)),
        );
    }
    page.fetch(db, q).await
}

/// Changes the promised time, the technician in charge (managers) or the notes.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Forbidden`] for a reassignment below manager;
/// [`Error::Conflict`] `invalid_transition` on a finished order.
pub async fn update(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    id: Uuid,
    p: OrderPatch,
) -> Result<service_order::Model> {
    let o = find(txn, seller, id).await?;
    if flow::is_final(o.status) {
        return Err(Error::conflict(
            "invalid_transition",
            format!("a {} service order is not changed", o.status),
        ));
    }
    let mut details = serde_json::Map::new();
    let mut am: service_order::ActiveModel = o.into();
    if let Some(v) = p.promised_at {
        details.insert("promised_at".into(), json!(v));
        am.promised_at = Set(v);
    }
    if let Some(v) = p.assigned_to {
        if !seller.role.is_manager() {
            return Err(Error::Forbidden {
                code: "forbidden",
                message: "only a manager assigns service orders".into(),
            });
        }
        details.insert("assigned_to".into(), json!(v));
        am.assigned_to = Set(v);
    }
    if let Some(v) = p.notes {
        let v = text("notes", v, 2000)?;
        details.insert("notes".into(), json!(v));
        am.notes = Set(v);
    }
    am.updated_at = Set(crate::now());
    let o = am.update(txn).await?;
    log(
        txn,
        o.id,
        Some(seller.user_id),
        None,
        Event {
            kind: "update",
            from: None,
            to: None,
            note: None,
            details: Some(serde_json::Value::Object(details)),
        },
    )
    .await?;
    Ok(o)
}

/// Where a new line goes: the first budget before it is approved, a supplement after; never
/// while the customer is answering, nor once the work is done.
fn line_target(o: &service_order::Model) -> Result<()> {
    match o.status {
        Status::Received | Status::Diagnosing => Ok(()),
        s if flow::is_approved_work(s) => Ok(()),
        Status::AwaitingApproval => Err(Error::conflict(
            "awaiting_answer",
            "the budget is with the customer: add lines once they answer",
        )),
        s => Err(Error::conflict(
            "invalid_transition",
            format!("a {s} service order takes no more lines"),
        )),
    }
}

async fn next_line_no(db: &impl ConnectionTrait, id: Uuid) -> Result<i32> {
    let lines = lines_of(db, id).await?;
    if lines.len() >= MAX_LINES {
        return Err(Error::validation(
            "lines",
            format!("a service order has at most {MAX_LINES} lines"),
        ));
    }
    Ok(lines.iter().map(|l| l.line_no).max().unwrap_or(0) + 1)
}

struct NewLine {
    kind: Kind,
    item: item::Model,
    warehouse_id: Option<Uuid>,
    qty: i64,
    hours: Option<i64>,
    rate: Option<i64>,
    technician_id: Option<Uuid>,
    is_diagnosis: bool,
    unit: i64,
    retail: i64,
    discount_bp: i32,
    amounts: LineAmounts,
    iva_rate_bp: i32,
}

async fn insert_line(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    o: &service_order::Model,
    l: NewLine,
) -> Result<service_order_line::Model> {
    let line_no = next_line_no(txn, o.id).await?;
    let status = if l.is_diagnosis {
        LineStatus::Approved
    } else {
        LineStatus::Proposed
    };
    let row = service_order_line::ActiveModel {
        id: Set(Uuid::now_v7()),
        order_id: Set(o.id),
        line_no: Set(line_no),
        kind: Set(l.kind),
        item_id: Set(l.item.id),
        sku: Set(l.item.sku.clone()),
        name: Set(l.item.name.clone()),
        warehouse_id: Set(l.warehouse_id),
        qty: Set(l.qty),
        hours_hundredths: Set(l.hours),
        rate_cents: Set(l.rate),
        technician_id: Set(l.technician_id),
        is_diagnosis: Set(l.is_diagnosis),
        unit_price_cents: Set(l.unit),
        retail_unit_cents: Set(l.retail),
        discount_bp: Set(l.discount_bp),
        discount_cents: Set(l.amounts.discount.0),
        base_cents: Set(l.amounts.base.0),
        tax_cents: Set(l.amounts.tax.0),
        total_cents: Set(l.amounts.total.0),
        iva_rate_bp: Set(l.iva_rate_bp),
        version: Set(o.budget_version + 1),
        status: Set(status),
        reserved_qty: Set(0),
        used_qty: Set(0),
        returned_qty: Set(0),
        created_at: Set(crate::now()),
    }
    .insert(txn)
    .await?;
    let supplement = o.approved_version > 0;
    log(
        txn,
        o.id,
        Some(seller.user_id),
        None,
        Event {
            kind: if supplement { "supplement" } else { "line" },
            from: None,
            to: None,
            note: None,
            details: Some(json!({
                "line_no": row.line_no, "kind": row.kind, "sku": row.sku, "qty": row.qty,
                "total": Money(row.total_cents).to_string(), "version": row.version,
            })),
        },
    )
    .await?;
    touch(txn, o.id).await?;
    Ok(row)
}

async fn touch(txn: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    service_order::Entity::update_many()
        .col_expr(
            service_order::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(crate::now()),
        )
        .filter(service_order::Column::Id.eq(id))
        .exec(txn)
        .await?;
    Ok(())
}

async fn branch_of(txn: &impl ConnectionTrait, o: &service_order::Model) -> Result<branch::Model> {
    branch::Entity::find_by_id(o.branch_id)
        .one(txn)
        .await?
        .ok_or(Error::NotFound { entity: "branch" })
}

/// Adds a part to the budget (or a supplement), priced from the customer's list at the
/// branch, with a discount within the role's limit. Nothing is held until approval.
///
/// # Errors
/// [`Error::Validation`], [`Error::NotFound`] `item`, `warehouse`; [`Error::Forbidden`]
/// `discount_not_allowed`; [`Error::Conflict`] `awaiting_answer`, `invalid_transition`,
/// `item_inactive`, `labour_not_sold_here`.
pub async fn add_part(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    id: Uuid,
    p: PartInput,
    rate: Rate,
) -> Result<service_order_line::Model> {
    let o = find(txn, seller, id).await?;
    line_target(&o)?;
    let branch = branch_of(txn, &o).await?;
    check_warehouse(txn, p.warehouse_id).await?;
    crate::warranties::quarantine::require_stock(txn, &[p.warehouse_id]).await?;
    let (mut priced, _) = sales::price_lines(
        txn,
        &branch,
        &o.price_list,
        rate,
        &[LineInput {
            item_id: p.item_id,
            warehouse_id: p.warehouse_id,
            qty: p.qty,
            discount_bp: p.discount_bp,
            fixed_price: None,
        }],
        seller.role,
    )
    .await
    .map_err(one_line)?;
    let l = priced.remove(0);
    let item = item::Entity::find_by_id(l.item_id)
        .one(txn)
        .await?
        .ok_or(Error::NotFound { entity: "item" })?;
    insert_line(
        txn,
        seller,
        &o,
        NewLine {
            kind: Kind::Part,
            item,
            warehouse_id: Some(p.warehouse_id),
            qty: p.qty,
            hours: None,
            rate: None,
            technician_id: None,
            is_diagnosis: false,
            unit: l.unit_price.0,
            retail: l.retail_unit_price.0,
            discount_bp: l.discount_bp,
            amounts: l.amounts,
            iva_rate_bp: l.iva_rate_bp,
        },
    )
    .await
}

/// The counter's pricing names a field `lines[0].…` and starts a message `lines[0]: `; a
/// service order's line is added one at a time, so the field is the request's own.
fn one_line(e: Error) -> Error {
    match e {
        Error::Validation { field, message } => Error::Validation {
            field: field
                .strip_prefix("lines[0].")
                .map_or_else(|| field.clone(), str::to_owned),
            message: message.replace("lines[0]: ", ""),
        },
        Error::Conflict { code, message } => Error::Conflict {
            code,
            message: message.replace("lines[0]: ", ""),
        },
        Error::Forbidden { code, message } => Error::Forbidden {
            code,
            message: message.replace("lines[0]: ", ""),
        },
        other => other,
    }
}

async fn check_warehouse(txn: &impl ConnectionTrait, id: Uuid) -> Result<()> {
    use crate::org::tables::warehouse;
    let w = warehouse::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(Error::NotFound {
            entity: "warehouse",
        })?;
    if !w.is_active {
        return Err(Error::conflict(
            "warehouse_inactive",
            format!("warehouse {} is inactive", w.code),
        ));
    }
    Ok(())
}

/// Labour hours as stored: hundredths of an hour, 0.01 to 999.99.
///
/// # Errors
/// [`Error::Validation`] on `hours`.
pub fn hours_hundredths(h: Decimal) -> Result<i64> {
    let x = h * Decimal::ONE_HUNDRED;
    if x.fract() != Decimal::ZERO {
        return Err(Error::validation(
            "hours",
            "hours have at most two decimals",
        ));
    }
    x.to_i64()
        .filter(|v| (1..=99_999).contains(v))
        .ok_or_else(|| Error::validation("hours", "hours are between 0.01 and 999.99"))
}

/// The price of `hours` (hundredths) at `rate` (centavos an hour), rounded to the centavo
/// half away from zero, once.
#[must_use]
pub fn labour_price(hours: i64, rate: i64) -> i64 {
    let cents = i128::from(hours) * i128::from(rate);
    i64::try_from((cents + 50) / 100).unwrap_or(i64::MAX)
}

/// Adds labour to the budget (or a supplement): an operation (a service item) by the hour at
/// its list rate, or at its flat price; a diagnosis line is approved from the start.
///
/// # Errors
/// [`Error::Validation`] naming the field; [`Error::NotFound`] `item`; [`Error::Forbidden`]
/// for a price other than the list's below manager, or a discount past the role's limit;
/// [`Error::Conflict`] `not_a_service`, `awaiting_answer`, `invalid_transition`.
pub async fn add_labour(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    id: Uuid,
    l: LabourInput,
    rate: Rate,
) -> Result<service_order_line::Model> {
    let o = find(txn, seller, id).await?;
    line_target(&o)?;
    if l.is_diagnosis && !matches!(o.status, Status::Received | Status::Diagnosing) {
        return Err(Error::conflict(
            "invalid_transition",
            "the diagnosis is added before the budget is sent",
        ));
    }
    if !(0..=10_000).contains(&l.discount_bp) {
        return Err(Error::validation(
            "discount",
            "a discount is between 0 and 100 %",
        ));
    }
    if l.discount_bp > seller.role.max_discount_bp() {
        return Err(Error::Forbidden {
            code: "discount_not_allowed",
            message: format!(
                "a {} may not give this discount; ask a manager",
                seller.role
            ),
        });
    }
    let branch = branch_of(txn, &o).await?;
    let it = item::Entity::find_by_id(l.item_id)
        .one(txn)
        .await?
        .ok_or(Error::NotFound { entity: "item" })?;
    if it.kind != item::Kind::Service {
        return Err(Error::conflict(
            "not_a_service",
            format!("{} is a part: add it as a part line", it.sku),
        ));
    }
    if !it.is_active {
        return Err(Error::conflict(
            "item_inactive",
            format!("{} is inactive", it.sku),
        ));
    }
    let list_price = match l.price {
        Some(p) => {
            if !seller.role.is_manager() {
                return Err(Error::Forbidden {
                    code: "price_not_allowed",
                    message: "only a manager sets a labour price other than the list's".into(),
                });
            }
            let c = Money::from_decimal("price", p)?.0;
            if c <= 0 {
                return Err(Error::validation("price", "a labour price is above zero"));
            }
            c
        }
        None => {
            let r = prices::resolve(txn, branch.id, &o.price_list, &[it.id], rate).await?;
            r.get(&it.id)
                .map(|r| r.unit_cents)
                .ok_or_else(|| Error::validation("item_id", format!("{} has no price", it.sku)))?
        }
    };
    let hours = l.hours.map(hours_hundredths).transpose()?;
    let unit = match hours {
        Some(h) => labour_price(h, list_price),
        None => list_price,
    };
    let amounts = line_amounts("line", unit, 1, l.discount_bp, branch.iva_rate_bp, unit)?;
    insert_line(
        txn,
        seller,
        &o,
        NewLine {
            kind: Kind::Labour,
            item: it,
            warehouse_id: None,
            qty: 1,
            hours,
            rate: hours.map(|_| list_price),
            technician_id: l.technician_id,
            is_diagnosis: l.is_diagnosis,
            unit,
            retail: unit,
            discount_bp: l.discount_bp,
            amounts,
            iva_rate_bp: branch.iva_rate_bp,
        },
    )
    .await
}

/// Takes a line not yet answered off the budget.
///
/// # Errors
/// [`Error::NotFound`] `service_order_line`; [`Error::Conflict`] `line_approved` for a line the
/// customer already approved or declined.
pub async fn remove_line(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    id: Uuid,
    line_id: Uuid,
) -> Result<service_order_line::Model> {
    let o = find(txn, seller, id).await?;
    line_target(&o)?;
    let l = service_order_line::Entity::find_by_id(line_id)
        .one(txn)
        .await?
        .filter(|l| l.order_id == o.id)
        .ok_or(Error::NotFound {
            entity: "service_order_line",
        })?;
    if l.status != LineStatus::Proposed {
        return Err(Error::conflict(
            "line_approved",
            format!("line {} is {}: it stays on the order", l.line_no, l.status),
        ));
    }
    let mut am: service_order_line::ActiveModel = l.into();
    am.status = Set(LineStatus::Removed);
    let l = am.update(txn).await?;
    log(
        txn,
        o.id,
        Some(seller.user_id),
        None,
        Event {
            kind: "line",
            from: None,
            to: None,
            note: Some(format!("line {} removed", l.line_no)),
            details: Some(json!({"line_no": l.line_no, "removed": true})),
        },
    )
    .await?;
    touch(txn, o.id).await?;
    Ok(l)
}

/// Holds every approved part not held yet. Answers the SKUs still short.
async fn hold_parts(
    txn: &impl ConnectionTrait,
    lines: &[service_order_line::Model],
) -> Result<Vec<String>> {
    let mut short = Vec::new();
    for l in lines {
        let (Kind::Part, LineStatus::Approved, Some(w)) = (l.kind, l.status, l.warehouse_id) else {
            continue;
        };
        let missing = l.qty - l.reserved_qty;
        if missing <= 0 || l.used_qty > 0 {
            continue;
        }
        if movements::hold(txn, l.item_id, w, missing).await? {
            service_order_line::Entity::update_many()
                .col_expr(
                    service_order_line::Column::ReservedQty,
                    sea_orm::sea_query::Expr::value(l.qty),
                )
                .filter(service_order_line::Column::Id.eq(l.id))
                .exec(txn)
                .await?;
        } else {
            short.push(l.sku.clone());
        }
    }
    Ok(short)
}

/// Lets go of every unit held for the order.
async fn release_parts(
    txn: &impl ConnectionTrait,
    lines: &[service_order_line::Model],
) -> Result<i64> {
    let mut released = 0;
    for l in lines {
        if let (Some(w), true) = (l.warehouse_id, l.reserved_qty > 0) {
            movements::release(txn, l.item_id, w, l.reserved_qty).await?;
            released += l.reserved_qty;
            service_order_line::Entity::update_many()
                .col_expr(
                    service_order_line::Column::ReservedQty,
                    sea_orm::sea_query::Expr::value(0i64),
                )
                .filter(service_order_line::Column::Id.eq(l.id))
                .exec(txn)
                .await?;
        }
    }
    Ok(released)
}

fn pending_supplement(lines: &[service_order_line::Model]) -> Result<()> {
    if let Some(l) = lines.iter().find(|l| l.status == LineStatus::Proposed) {
        return Err(Error::conflict(
            "supplement_pending",
            format!(
                "line {} ({}) is not approved yet: send it to the customer, or take it off",
                l.line_no, l.sku
            ),
        ));
    }
    Ok(())
}

async fn set_lines_status(
    txn: &impl ConnectionTrait,
    order_id: Uuid,
    from: LineStatus,
    to: LineStatus,
) -> Result<()> {
    service_order_line::Entity::update_many()
        .col_expr(
            service_order_line::Column::Status,
            sea_orm::sea_query::Expr::value(to.to_string()),
        )
        .filter(service_order_line::Column::OrderId.eq(order_id))
        .filter(service_order_line::Column::Status.eq(from))
        .exec(txn)
        .await?;
    Ok(())
}

/// Who answers for the customer: a user at the counter, or the customer through the link.
pub enum Answerer<'a> {
    /// A user.
    Staff(&'a Seller),
    /// The customer on the public link, with the name they typed.
    Customer(String),
}

/// Does `action` (anything but delivery, see [`crate::workshop::delivery`]) to an order:
/// checks the move against [`flow`], does what the move means for the stock and the lines, and
/// writes the history and, for `awaiting_approval` and `ready`, the customer's notification.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Conflict`] `invalid_transition`, `nothing_to_approve`,
/// `supplement_pending`, `parts_missing`; [`Error::Validation`] naming the field.
#[allow(clippy::too_many_lines)]
pub async fn act(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    id: Uuid,
    action: Action,
    input: ActInput,
) -> Result<OrderDoc> {
    let o = find(txn, seller, id).await?;
    transition(txn, Answerer::Staff(seller), o, action, input).await
}

/// The public link's answer: the customer approves or declines the budget waiting for them.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Conflict`] `invalid_transition` when nothing waits for an
/// answer; [`Error::Validation`] on `name`.
pub async fn answer_by_link(
    txn: &impl ConnectionTrait,
    token: &str,
    approve: bool,
    name: String,
    note: Option<String>,
) -> Result<OrderDoc> {
    let o = by_token(txn, token).await?.order;
    let name = name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(Error::validation(
            "name",
            "type your name (1 to 200 characters)",
        ));
    }
    let action = if approve {
        Action::Approve
    } else {
        Action::Decline
    };
    transition(
        txn,
        Answerer::Customer(name),
        o,
        action,
        ActInput {
            note,
            channel: Some(Channel::Link),
            ..ActInput::default()
        },
    )
    .await
}

#[allow(clippy::too_many_lines)]
async fn transition(
    txn: &impl ConnectionTrait,
    who: Answerer<'_>,
    o: service_order::Model,
    action: Action,
    input: ActInput,
) -> Result<OrderDoc> {
    if action == Action::Deliver {
        return Err(Error::conflict(
            "invalid_transition",
            "delivery charges the order: use its deliver endpoint",
        ));
    }
    let (actor_id, actor_name) = match &who {
        Answerer::Staff(s) => (Some(s.user_id), None),
        Answerer::Customer(n) => (None, Some(n.clone())),
    };
    let from = o.status;
    let mut to = flow::check(from, action)?;
    let note = text("note", input.note, 1000)?;
    let lines = lines_of(txn, o.id).await?;
    let now = crate::now();
    let mut am: service_order::ActiveModel = o.clone().into();
    let mut details = json!({});
    match action {
        Action::Submit => {
            if !lines.iter().any(|l| l.status == LineStatus::Proposed) {
                return Err(Error::conflict(
                    "nothing_to_approve",
                    "add the budget's lines first: nothing waits for the customer's approval",
                ));
            }
            if flow::is_approved_work(from) {
                am.resume_status = Set(Some(from));
            }
            am.budget_version = Set(o.budget_version + 1);
            let budget = sum(lines.iter().filter(|l| l.status == LineStatus::Proposed));
            details = json!({"version": o.budget_version + 1, "total": budget.total.to_string()});
        }
        Action::Approve => {
            let by = match &who {
                Answerer::Customer(n) => n.clone(),
                Answerer::Staff(_) => text("by", input.by, 200)?
                    .ok_or_else(|| Error::validation("by", "name who approved (the customer)"))?,
            };
            let channel = input
                .channel
                .ok_or_else(|| Error::validation("channel", "say how the approval came"))?;
            set_lines_status(txn, o.id, LineStatus::Proposed, LineStatus::Approved).await?;
            let lines = lines_of(txn, o.id).await?;
            let short = hold_parts(txn, &lines).await?;
            to = if short.is_empty() {
                Status::InRepair
            } else {
                Status::WaitingParts
            };
            am.approved_version = Set(o.budget_version);
            am.approved_at = Set(Some(now));
            am.approved_by = Set(Some(by.clone()));
            am.approval_channel = Set(Some(channel));
            am.resume_status = Set(None);
            details = json!({
                "version": o.budget_version, "by": by, "channel": channel, "short": short,
                "supplement": o.approved_version > 0,
            });
        }
        Action::Decline => {
            set_lines_status(txn, o.id, LineStatus::Proposed, LineStatus::Declined).await?;
            if o.approved_version > 0 {
                // A declined supplement: the work approved before goes on.
                to = o.resume_status.unwrap_or(Status::InRepair);
                am.resume_status = Set(None);
            } else {
                am.closed_at = Set(Some(now));
            }
            details = json!({"version": o.budget_version, "supplement": o.approved_version > 0});
        }
        Action::Repair => {
            pending_supplement(&lines)?;
            let short = hold_parts(txn, &lines).await?;
            if !short.is_empty() {
                return Err(Error::conflict(
                    "parts_missing",
                    format!("not in stock to hold yet: {}", short.join(", ")),
                ));
            }
        }
        Action::Check | Action::Rework => pending_supplement(&lines)?,
        Action::Ready => {
            pending_supplement(&lines)?;
            details = consume(txn, actor_id, &o, &lines, &input.used).await?;
            am.ready_at = Set(Some(now));
        }
        Action::Cancel => {
            let released = release_parts(txn, &lines).await?;
            am.closed_at = Set(Some(now));
            details = json!({"released_units": released});
        }
        Action::Diagnose | Action::Deliver => {}
    }
    am.status = Set(to);
    am.updated_at = Set(now);
    let o = am.update(txn).await?;
    log(
        txn,
        o.id,
        actor_id,
        actor_name.as_deref(),
        Event {
            kind: match action {
                Action::Approve | Action::Decline => "approval",
                _ => "status",
            },
            from: Some(from),
            to: Some(to),
            note,
            details: Some(details),
        },
    )
    .await?;
    match to {
        Status::AwaitingApproval => notify(txn, AWAITING_APPROVAL, &o).await?,
        Status::Ready => notify(txn, READY, &o).await?,
        _ => {}
    }
    if let Answerer::Staff(s) = who {
        s.entry(
            &format!("service_order.{}", action.as_str()),
            "service_order",
            o.id,
        )
        .details(json!({"from": from, "to": to}))
        .record_tenant(txn)
        .await?;
    }
    doc(txn, o).await
}

/// Records a notification for the customer (sent by the notifications area).
pub(crate) async fn notify(
    txn: &impl ConnectionTrait,
    kind: &str,
    o: &service_order::Model,
) -> Result<()> {
    events::record(
        txn,
        kind,
        "service_order",
        o.id,
        json!({
            "folio": o.folio, "customer_id": o.customer_id, "branch_id": o.branch_id,
            "plate": o.plate, "vehicle": o.vehicle_label, "token": o.token,
        }),
    )
    .await
}

/// Takes the parts used out of the stock at `ready`: the hold is let go and the units used
/// leave through the ledger (reason `service`), in this transaction; what was held and not
/// used goes back to the free stock and is written on the line and in the history. A line
/// used in part is charged for what was used.
async fn consume(
    txn: &impl ConnectionTrait,
    actor: Option<Uuid>,
    o: &service_order::Model,
    lines: &[service_order_line::Model],
    used: &[(Uuid, i64)],
) -> Result<serde_json::Value> {
    let asked: HashMap<Uuid, (usize, i64)> = used
        .iter()
        .enumerate()
        .map(|(i, (id, q))| (*id, (i, *q)))
        .collect();
    for (i, (id, _)) in used.iter().enumerate() {
        if !lines
            .iter()
            .any(|l| l.id == *id && l.kind == Kind::Part && l.status == LineStatus::Approved)
        {
            return Err(Error::validation(
                format!("used[{i}].line_id"),
                "not an approved part line of this order",
            ));
        }
    }
    let mut moves = Vec::new();
    let mut returned = Vec::new();
    for l in lines {
        let (Kind::Part, LineStatus::Approved, Some(w)) = (l.kind, l.status, l.warehouse_id) else {
            continue;
        };
        let n = match asked.get(&l.id) {
            Some((i, q)) if *q < 0 || *q > l.reserved_qty => {
                return Err(Error::validation(
                    format!("used[{i}].qty"),
                    format!("between 0 and the {} units held", l.reserved_qty),
                ));
            }
            Some((_, q)) => *q,
            None => l.reserved_qty,
        };
        movements::release(txn, l.item_id, w, l.reserved_qty).await?;
        if n > 0 {
            moves.push(Movement {
                item_id: l.item_id,
                warehouse_id: w,
                delta: -n,
            });
        }
        let back = l.reserved_qty - n;
        if back > 0 {
            returned.push(json!({"line_no": l.line_no, "sku": l.sku, "qty": back}));
        }
        let mut am: service_order_line::ActiveModel = l.clone().into();
        am.reserved_qty = Set(0);
        am.used_qty = Set(n);
        am.returned_qty = Set(back);
        if n != l.qty {
            let a = if n == 0 {
                LineAmounts::default()
            } else {
                line_amounts(
                    "line",
                    l.unit_price_cents,
                    n,
                    l.discount_bp,
                    l.iva_rate_bp,
                    l.retail_unit_cents,
                )?
            };
            am.qty = Set(n);
            am.discount_cents = Set(a.discount.0);
            am.base_cents = Set(a.base.0);
            am.tax_cents = Set(a.tax.0);
            am.total_cents = Set(a.total.0);
        }
        am.update(txn).await?;
    }
    if !moves.is_empty() {
        movements::apply(
            txn,
            &moves,
            &Reference {
                reason: reason::SERVICE,
                ref_type: "service_order",
                ref_id: &o.id.to_string(),
                note: Some(&o.folio),
                actor,
            },
        )
        .await?;
    }
    Ok(json!({"used_units": moves.iter().map(|m| -m.delta).sum::<i64>(), "returned": returned}))
}

/// The warranty granted on each line of a delivered order's sale, as printed on its receipt
/// (LFPC art. 62): the SKU and the terms in Spanish. Empty before delivery.
///
/// # Errors
/// Database errors.
pub async fn warranty_terms(
    db: &impl ConnectionTrait,
    d: &OrderDoc,
) -> Result<Vec<(String, String)>> {
    use crate::counter::tables::sale_line;
    use crate::warranties::tables::warranty;
    let Some(sale_id) = d.order.sale_id else {
        return Ok(Vec::new());
    };
    let lines = sale_line::Entity::find()
        .filter(sale_line::Column::SaleId.eq(sale_id))
        .all(db)
        .await?;
    let rows = warranty::Entity::find()
        .filter(warranty::Column::SaleId.eq(sale_id))
        .order_by_asc(warranty::Column::SaleLineNo)
        .all(db)
        .await?;
    Ok(rows
        .iter()
        .map(|w| {
            let sku = lines
                .iter()
                .find(|l| l.line_no == w.sale_line_no)
                .map_or_else(String::new, |l| l.sku.clone());
            let km =
                w.km.map(|k| format!(" o {k} km, lo que ocurra primero"))
                    .unwrap_or_default();
            let terms = w
                .terms
                .as_deref()
                .map(|t| format!(". {t}"))
                .unwrap_or_default();
            (
                sku,
                format!(
                    "{} meses{km}, hasta el {}{terms}",
                    w.months,
                    w.expires_on.format("%d/%m/%Y")
                ),
            )
        })
        .collect())
}
