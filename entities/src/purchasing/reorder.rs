//! Reorder: rules per warehouse and item (min, max, multiple, lead days, preferred supplier,
//! pinned by hand or computed by the nightly velocity job, snooze), their alerts, and the
//! suggested purchase orders.
//!
//! The forecast of a rule is `on hand + open purchase-order units + units shipped to the
//! warehouse by transfers − units held for customers' special orders`. Below the minimum, the
//! suggestion orders up to the maximum, rounded up to the rule's multiple and then to the
//! supplier's pack (Odoo's orderpoint: `max(min, max) − forecast`, rounded up). Suggestions are
//! grouped by supplier into draft orders, made once per supplier, warehouse and day.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::inventory::tables::{stock, transfer, transfer_line};
use crate::notifications::events;
use crate::org::audit::Entry;
use crate::org::branches::Actor;
use crate::purchasing::orders::{self, NewLine, NewOrder, OrderDetail};
use crate::purchasing::tables::{purchase_order, purchase_order_line, reorder_alert, reorder_rule};
use crate::rules::money::Rate;
use crate::{Error, Page, PageRequest, Result};

pub use crate::purchasing::tables::reorder_alert::Status as AlertStatus;
pub use crate::purchasing::tables::reorder_rule::Mode;

/// Units to order for a forecast: none at or above the minimum; else up to the maximum (never
/// below the minimum), rounded up to `multiple`, then up to the supplier's `pack`.
#[must_use]
pub fn qty_to_order(forecast: i64, min: i64, max: i64, multiple: i64, pack: i64) -> i64 {
    if forecast >= min {
        return 0;
    }
    let need = max.max(min) - forecast;
    let up = |q: i64, m: i64| {
        let m = m.max(1);
        (q + m - 1) / m * m
    };
    up(up(need, multiple), pack)
}

/// A rule to create.
#[derive(Debug, Clone, Default)]
pub struct NewRule {
    /// The warehouse.
    pub warehouse_id: Uuid,
    /// The item.
    pub item_id: Uuid,
    /// Reorder below this (≥ 0).
    pub min_qty: i64,
    /// Order up to this (≥ min).
    pub max_qty: i64,
    /// Order multiples (≥ 1; 1 by default).
    pub multiple: Option<i64>,
    /// Lead days (0 to 365; the supplier's by default).
    pub lead_days: Option<i32>,
    /// The supplier to order from.
    pub preferred_supplier_id: Option<Uuid>,
    /// `manual` (default) or `computed`.
    pub mode: Option<Mode>,
    /// No alert until after this day.
    pub snoozed_until: Option<NaiveDate>,
}

/// Changes to a rule: `None` keeps a value.
#[derive(Debug, Clone, Default)]
pub struct RulePatch {
    /// New minimum.
    pub min_qty: Option<i64>,
    /// New maximum.
    pub max_qty: Option<i64>,
    /// New multiple.
    pub multiple: Option<i64>,
    /// New lead days.
    pub lead_days: Option<i32>,
    /// New supplier or none.
    pub preferred_supplier_id: Option<Option<Uuid>>,
    /// New mode.
    pub mode: Option<Mode>,
    /// New snooze or none.
    pub snoozed_until: Option<Option<NaiveDate>>,
}

fn check_levels(min: i64, max: i64, multiple: i64, lead: i32) -> Result<()> {
    crate::rules::quantity::level("min_qty", min)?;
    crate::rules::quantity::level("max_qty", max)?;
    if max < min {
        return Err(Error::validation("max_qty", "max_qty is at least min_qty"));
    }
    crate::rules::quantity::units("multiple", multiple)?;
    crate::purchasing::suppliers::check_days("lead_days", lead)?;
    Ok(())
}

fn entry(actor: &Actor, action: &str, id: Uuid) -> Entry {
    Entry::new(action)
        .actor(actor.user_id)
        .target("reorder_rule", id)
        .request(None, actor.request_id.clone())
}

/// Creates a rule (one per warehouse and item).
///
/// # Errors
/// [`Error::Validation`] naming the field; [`Error::Missing`] `item_not_found`,
/// `warehouse_not_found`, `supplier_not_found`; [`Error::Conflict`] `reorder_rule_exists`.
pub async fn create_rule(
    db: &impl ConnectionTrait,
    actor: &Actor,
    new: NewRule,
) -> Result<reorder_rule::Model> {
    crate::purchasing::usable_warehouse(db, "warehouse_id", new.warehouse_id).await?;
    crate::inventory::adjustments::check_item(db, "item_id", new.item_id).await?;
    let mut lead = new.lead_days;
    if let Some(s) = new.preferred_supplier_id {
        let s =
            crate::purchasing::suppliers::usable_supplier(db, "preferred_supplier_id", s).await?;
        lead = lead.or(Some(s.lead_days));
    }
    let multiple = new.multiple.unwrap_or(1);
    let lead = lead.unwrap_or(0);
    check_levels(new.min_qty, new.max_qty, multiple, lead)?;
    if reorder_rule::Entity::find()
        .filter(reorder_rule::Column::WarehouseId.eq(new.warehouse_id))
        .filter(reorder_rule::Column::ItemId.eq(new.item_id))
        .one(db)
        .await?
        .is_some()
    {
        return Err(Error::conflict(
            "reorder_rule_exists",
            "this item has a reorder rule at this warehouse already: change it instead",
        ));
    }
    let now = crate::now();
    let r = reorder_rule::ActiveModel {
        id: Set(Uuid::now_v7()),
        warehouse_id: Set(new.warehouse_id),
        item_id: Set(new.item_id),
        min_qty: Set(new.min_qty),
        max_qty: Set(new.max_qty),
        multiple: Set(multiple),
        lead_days: Set(lead),
        preferred_supplier_id: Set(new.preferred_supplier_id),
        mode: Set(new.mode.unwrap_or(Mode::Manual)),
        snoozed_until: Set(new.snoozed_until),
        velocity_milli: Set(None),
        computed_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    entry(actor, "reorder_rule.created", r.id)
        .details(json!({"item_id": r.item_id, "warehouse_id": r.warehouse_id, "min_qty": r.min_qty, "max_qty": r.max_qty, "mode": r.mode}))
        .record_tenant(db)
        .await?;
    Ok(r)
}

/// A rule by id.
///
/// # Errors
/// [`Error::NotFound`] `reorder_rule`.
pub async fn get_rule(db: &impl ConnectionTrait, id: Uuid) -> Result<reorder_rule::Model> {
    reorder_rule::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "reorder_rule",
        })
}

/// Changes a rule. Setting min or max by hand pins it (`manual`) unless the patch says
/// `computed`.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Validation`] naming the field; [`Error::Missing`]
/// `supplier_not_found`.
pub async fn update_rule(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    patch: RulePatch,
) -> Result<reorder_rule::Model> {
    let r = get_rule(db, id).await?;
    let min = patch.min_qty.unwrap_or(r.min_qty);
    let max = patch.max_qty.unwrap_or(r.max_qty);
    let multiple = patch.multiple.unwrap_or(r.multiple);
    let lead = patch.lead_days.unwrap_or(r.lead_days);
    check_levels(min, max, multiple, lead)?;
    if let Some(Some(s)) = patch.preferred_supplier_id {
        crate::purchasing::suppliers::usable_supplier(db, "preferred_supplier_id", s).await?;
    }
    let by_hand = patch.min_qty.is_some() || patch.max_qty.is_some();
    let mode = patch
        .mode
        .unwrap_or(if by_hand { Mode::Manual } else { r.mode });
    let before = json!({"min_qty": r.min_qty, "max_qty": r.max_qty, "multiple": r.multiple, "lead_days": r.lead_days, "mode": r.mode, "preferred_supplier_id": r.preferred_supplier_id, "snoozed_until": r.snoozed_until});
    let mut am: reorder_rule::ActiveModel = r.into();
    am.min_qty = Set(min);
    am.max_qty = Set(max);
    am.multiple = Set(multiple);
    am.lead_days = Set(lead);
    am.mode = Set(mode);
    if let Some(s) = patch.preferred_supplier_id {
        am.preferred_supplier_id = Set(s);
    }
    if let Some(s) = patch.snoozed_until {
        am.snoozed_until = Set(s);
    }
    am.updated_at = Set(crate::now());
    let r = am.update(db).await?;
    entry(actor, "reorder_rule.updated", id)
        .details(json!({"before": before, "after": {"min_qty": r.min_qty, "max_qty": r.max_qty, "multiple": r.multiple, "lead_days": r.lead_days, "mode": r.mode, "preferred_supplier_id": r.preferred_supplier_id, "snoozed_until": r.snoozed_until}}))
        .record_tenant(db)
        .await?;
    Ok(r)
}

/// Deletes a rule and resolves its live alert.
///
/// # Errors
/// [`Error::NotFound`].
pub async fn delete_rule(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> Result<()> {
    let r = get_rule(db, id).await?;
    resolve_live(db, actor, r.id).await?;
    reorder_rule::Entity::delete_by_id(id).exec(db).await?;
    entry(actor, "reorder_rule.deleted", id)
        .details(json!({"item_id": r.item_id, "warehouse_id": r.warehouse_id}))
        .record_tenant(db)
        .await
}

/// Filters of the rule list.
#[derive(Debug, Clone, Default)]
pub struct RuleFilter {
    /// One warehouse.
    pub warehouse_id: Option<Uuid>,
    /// One item.
    pub item_id: Option<Uuid>,
    /// One mode.
    pub mode: Option<Mode>,
}

/// Rules, newest first.
///
/// # Errors
/// Database errors.
pub async fn list_rules(
    db: &impl ConnectionTrait,
    filter: RuleFilter,
    page: PageRequest,
) -> Result<Page<reorder_rule::Model>> {
    let mut q = reorder_rule::Entity::find()
        .order_by_desc(reorder_rule::Column::CreatedAt)
        .order_by_desc(reorder_rule::Column::Id);
    if let Some(w) = filter.warehouse_id {
        q = q.filter(reorder_rule::Column::WarehouseId.eq(w));
    }
    if let Some(i) = filter.item_id {
        q = q.filter(reorder_rule::Column::ItemId.eq(i));
    }
    if let Some(m) = filter.mode {
        q = q.filter(reorder_rule::Column::Mode.eq(m));
    }
    page.fetch(db, q).await
}

/// What a rule sees now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    /// On hand.
    pub on_hand: i64,
    /// Open purchase-order units to the warehouse.
    pub on_order: i64,
    /// Shipped by transfers to the warehouse, not yet received.
    pub inbound: i64,
    /// Held for customers.
    pub reserved: i64,
}

impl Position {
    /// The forecast: on hand + on order + inbound − reserved.
    #[must_use]
    pub const fn forecast(&self) -> i64 {
        self.on_hand + self.on_order + self.inbound - self.reserved
    }
}

/// The position of every (item, warehouse) that has stock, orders, transfers or reservations,
/// in a few grouped queries (the nightly run over 300,000 rules must not ask per rule).
///
/// # Errors
/// Database errors.
pub async fn positions(
    db: &impl ConnectionTrait,
    warehouse_id: Option<Uuid>,
) -> Result<HashMap<(Uuid, Uuid), Position>> {
    let mut out: HashMap<(Uuid, Uuid), Position> = HashMap::new();
    let mut sq = stock::Entity::find();
    if let Some(w) = warehouse_id {
        sq = sq.filter(stock::Column::WarehouseId.eq(w));
    }
    for s in sq.all(db).await? {
        out.entry((s.item_id, s.warehouse_id)).or_default().on_hand += s.qty;
    }
    let open: Vec<purchase_order::Model> = purchase_order::Entity::find()
        .filter(
            purchase_order::Column::Status
                .is_in(orders::Status::ALL.iter().copied().filter(|s| s.open())),
        )
        .all(db)
        .await?;
    let wh_of: HashMap<Uuid, Uuid> = open
        .iter()
        .filter(|p| warehouse_id.is_none_or(|w| w == p.warehouse_id))
        .map(|p| (p.id, p.warehouse_id))
        .collect();
    if !wh_of.is_empty() {
        for l in purchase_order_line::Entity::find()
            .filter(purchase_order_line::Column::PurchaseOrderId.is_in(wh_of.keys().copied()))
            .all(db)
            .await?
        {
            if let Some(w) = wh_of.get(&l.purchase_order_id) {
                out.entry((l.item_id, *w)).or_default().on_order += l.open_qty();
            }
        }
    }
    let moving: HashMap<Uuid, Uuid> = transfer::Entity::find()
        .filter(transfer::Column::Status.is_in([
            transfer::Status::Shipped,
            transfer::Status::PartiallyReceived,
        ]))
        .all(db)
        .await?
        .into_iter()
        .filter(|t| warehouse_id.is_none_or(|w| w == t.to_warehouse_id))
        .map(|t| (t.id, t.to_warehouse_id))
        .collect();
    if !moving.is_empty() {
        for l in transfer_line::Entity::find()
            .filter(transfer_line::Column::TransferId.is_in(moving.keys().copied()))
            .all(db)
            .await?
        {
            if let Some(w) = moving.get(&l.transfer_id) {
                out.entry((l.item_id, *w)).or_default().inbound += l.qty_shipped - l.qty_received;
            }
        }
    }
    for (k, q) in crate::purchasing::special_orders::reserved(db, warehouse_id).await? {
        out.entry(k).or_default().reserved += q;
    }
    Ok(out)
}

/// What an alert run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct AlertRun {
    /// Rules looked at.
    pub rules: u64,
    /// New alerts.
    pub raised: u64,
    /// Live alerts whose figures were refreshed.
    pub refreshed: u64,
    /// Live alerts resolved because the forecast is back at or above the minimum.
    pub cleared: u64,
    /// Rules skipped while snoozed.
    pub snoozed: u64,
}

/// Evaluates every rule (of one warehouse, or all): raises an alert where the forecast is below
/// the minimum (one live alert per rule, its figures refreshed), resolves the live alert of a
/// rule back at or above it, and records a `reorder_alert` event per new alert.
///
/// # Errors
/// Database errors.
pub async fn generate_alerts(
    db: &impl ConnectionTrait,
    warehouse_id: Option<Uuid>,
) -> Result<AlertRun> {
    let today = crate::today();
    let pos = positions(db, warehouse_id).await?;
    let mut rq = reorder_rule::Entity::find();
    if let Some(w) = warehouse_id {
        rq = rq.filter(reorder_rule::Column::WarehouseId.eq(w));
    }
    let rules = rq.all(db).await?;
    let live: HashMap<Uuid, reorder_alert::Model> = reorder_alert::Entity::find()
        .filter(reorder_alert::Column::LiveRuleId.is_not_null())
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.rule_id, a))
        .collect();
    let packs = preferred_packs(db, &rules, today).await?;
    let mut run = AlertRun::default();
    let now = crate::now();
    let mut raised = Vec::new();
    let mut raised_events = Vec::new();
    for r in rules {
        run.rules += 1;
        let p = pos
            .get(&(r.item_id, r.warehouse_id))
            .copied()
            .unwrap_or_default();
        let f = p.forecast();
        let current = live.get(&r.id);
        if f >= r.min_qty {
            if let Some(a) = current {
                let mut am: reorder_alert::ActiveModel = a.clone().into();
                am.status = Set(AlertStatus::Resolved);
                am.live_rule_id = Set(None);
                am.resolved_at = Set(Some(now));
                am.updated_at = Set(now);
                am.update(db).await?;
                run.cleared += 1;
            }
            continue;
        }
        if r.snoozed_until.is_some_and(|d| today <= d) {
            run.snoozed += 1;
            continue;
        }
        let pack = packs.get(&r.id).copied().unwrap_or(1);
        let qty = qty_to_order(f, r.min_qty, r.max_qty, r.multiple, pack);
        match current {
            Some(a) => {
                let mut am: reorder_alert::ActiveModel = a.clone().into();
                am.on_hand = Set(p.on_hand);
                am.on_order = Set(p.on_order);
                am.inbound = Set(p.inbound);
                am.reserved = Set(p.reserved);
                am.forecast = Set(f);
                am.min_qty = Set(r.min_qty);
                am.max_qty = Set(r.max_qty);
                am.suggested_qty = Set(qty);
                am.supplier_id = Set(r.preferred_supplier_id);
                am.updated_at = Set(now);
                am.update(db).await?;
                run.refreshed += 1;
            }
            None => {
                let id = Uuid::now_v7();
                raised.push(reorder_alert::ActiveModel {
                    id: Set(id),
                    rule_id: Set(r.id),
                    item_id: Set(r.item_id),
                    warehouse_id: Set(r.warehouse_id),
                    on_hand: Set(p.on_hand),
                    on_order: Set(p.on_order),
                    inbound: Set(p.inbound),
                    reserved: Set(p.reserved),
                    forecast: Set(f),
                    min_qty: Set(r.min_qty),
                    max_qty: Set(r.max_qty),
                    suggested_qty: Set(qty),
                    supplier_id: Set(r.preferred_supplier_id),
                    status: Set(AlertStatus::Open),
                    live_rule_id: Set(Some(r.id)),
                    acknowledged_by: Set(None),
                    acknowledged_at: Set(None),
                    resolved_by: Set(None),
                    resolved_at: Set(None),
                    created_at: Set(now),
                    updated_at: Set(now),
                });
                raised_events.push(events::NewEvent {
                    ref_id: id.to_string(),
                    payload: json!({"item_id": r.item_id, "warehouse_id": r.warehouse_id, "forecast": f, "min_qty": r.min_qty, "suggested_qty": qty}),
                });
                run.raised += 1;
            }
        }
    }
    // New alerts and their events go in batches: a first run over a large business raises tens
    // of thousands, which one statement each would spend most of the run sending.
    for chunk in raised.chunks(500) {
        reorder_alert::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await?;
    }
    events::record_many(db, events::REORDER_ALERT, "reorder_alert", raised_events).await?;
    Ok(run)
}

/// The pack of each rule's preferred supplier's price for the item (1 without one).
async fn preferred_packs(
    db: &impl ConnectionTrait,
    rules: &[reorder_rule::Model],
    day: NaiveDate,
) -> Result<HashMap<Uuid, i64>> {
    use crate::purchasing::tables::supplier_price;
    let wanted: Vec<&reorder_rule::Model> = rules
        .iter()
        .filter(|r| r.preferred_supplier_id.is_some())
        .collect();
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let mut prices: HashMap<(Uuid, Uuid), Vec<supplier_price::Model>> = HashMap::new();
    for p in supplier_price::Entity::find()
        .filter(
            supplier_price::Column::SupplierId
                .is_in(wanted.iter().filter_map(|r| r.preferred_supplier_id)),
        )
        .all(db)
        .await?
    {
        prices
            .entry((p.supplier_id, p.item_id))
            .or_default()
            .push(p);
    }
    Ok(wanted
        .iter()
        .filter_map(|r| {
            let s = r.preferred_supplier_id?;
            let list = prices.get(&(s, r.item_id))?;
            let p = crate::purchasing::prices::pick(list, r.max_qty.max(1), day)?;
            Some((r.id, p.pack_multiple))
        })
        .collect())
}

/// Filters of the alert list.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// One state.
    pub status: Option<AlertStatus>,
    /// One warehouse.
    pub warehouse_id: Option<Uuid>,
}

/// Alerts, newest first.
///
/// # Errors
/// Database errors.
pub async fn list_alerts(
    db: &impl ConnectionTrait,
    filter: AlertFilter,
    page: PageRequest,
) -> Result<Page<reorder_alert::Model>> {
    let mut q = reorder_alert::Entity::find()
        .order_by_desc(reorder_alert::Column::CreatedAt)
        .order_by_desc(reorder_alert::Column::Id);
    if let Some(s) = filter.status {
        q = q.filter(reorder_alert::Column::Status.eq(s));
    }
    if let Some(w) = filter.warehouse_id {
        q = q.filter(reorder_alert::Column::WarehouseId.eq(w));
    }
    page.fetch(db, q).await
}

async fn get_alert(db: &impl ConnectionTrait, id: Uuid) -> Result<reorder_alert::Model> {
    reorder_alert::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "reorder_alert",
        })
}

fn alert_state(a: &reorder_alert::Model, what: &str) -> Error {
    Error::conflict(
        "invalid_alert_state",
        format!("the alert is {}: it cannot be {what}", a.status),
    )
}

/// Someone saw an open alert.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Conflict`] `invalid_alert_state` unless open.
pub async fn acknowledge(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<reorder_alert::Model> {
    let a = get_alert(db, id).await?;
    if a.status != AlertStatus::Open {
        return Err(alert_state(&a, "acknowledged"));
    }
    let now = crate::now();
    let mut am: reorder_alert::ActiveModel = a.into();
    am.status = Set(AlertStatus::Acknowledged);
    am.acknowledged_by = Set(actor.user_id);
    am.acknowledged_at = Set(Some(now));
    am.updated_at = Set(now);
    Ok(am.update(db).await?)
}

/// Resolves an alert by hand.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Conflict`] `invalid_alert_state` once resolved.
pub async fn resolve(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<reorder_alert::Model> {
    let a = get_alert(db, id).await?;
    if a.status == AlertStatus::Resolved {
        return Err(alert_state(&a, "resolved"));
    }
    let now = crate::now();
    let mut am: reorder_alert::ActiveModel = a.into();
    am.status = Set(AlertStatus::Resolved);
    am.live_rule_id = Set(None);
    am.resolved_by = Set(actor.user_id);
    am.resolved_at = Set(Some(now));
    am.updated_at = Set(now);
    Ok(am.update(db).await?)
}

async fn resolve_live(db: &impl ConnectionTrait, actor: &Actor, rule_id: Uuid) -> Result<()> {
    let now = crate::now();
    for a in reorder_alert::Entity::find()
        .filter(reorder_alert::Column::LiveRuleId.eq(rule_id))
        .all(db)
        .await?
    {
        let mut am: reorder_alert::ActiveModel = a.into();
        am.status = Set(AlertStatus::Resolved);
        am.live_rule_id = Set(None);
        am.resolved_by = Set(actor.user_id);
        am.resolved_at = Set(Some(now));
        am.updated_at = Set(now);
        am.update(db).await?;
    }
    Ok(())
}

/// A suggested line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SuggestedLine {
    /// The rule.
    pub rule_id: Uuid,
    /// The item.
    pub item_id: Uuid,
    /// The position it was computed from.
    pub forecast: i64,
    /// The rule's minimum.
    pub min_qty: i64,
    /// The rule's maximum.
    pub max_qty: i64,
    /// Units to order.
    pub qty: i64,
    /// Unit cost from the supplier's price for that quantity (in `currency`), when it has one.
    pub unit_cost_cents: Option<i64>,
    /// The price's currency.
    pub currency: Option<String>,
    /// The supplier's code.
    pub supplier_sku: Option<String>,
}

/// The suggestion for one supplier and warehouse.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Suggestion {
    /// The supplier: the rule's preferred one, else the cheapest with a price; none when no
    /// supplier sells the item.
    pub supplier_id: Option<Uuid>,
    /// The warehouse.
    pub warehouse_id: Uuid,
    /// What to order.
    pub lines: Vec<SuggestedLine>,
}

/// What to order now, per supplier and warehouse, from every rule below its minimum (snoozed
/// rules included only when `include_snoozed`).
///
/// # Errors
/// Database errors.
pub async fn suggest(
    db: &impl ConnectionTrait,
    warehouse_id: Option<Uuid>,
    usd_rate: Rate,
) -> Result<Vec<Suggestion>> {
    let today = crate::today();
    let pos = positions(db, warehouse_id).await?;
    let mut rq = reorder_rule::Entity::find().order_by_asc(reorder_rule::Column::Id);
    if let Some(w) = warehouse_id {
        rq = rq.filter(reorder_rule::Column::WarehouseId.eq(w));
    }
    let mut groups: BTreeMap<(Option<Uuid>, Uuid), Vec<SuggestedLine>> = BTreeMap::new();
    for r in rq.all(db).await? {
        if r.snoozed_until.is_some_and(|d| today <= d) {
            continue;
        }
        let f = pos
            .get(&(r.item_id, r.warehouse_id))
            .copied()
            .unwrap_or_default()
            .forecast();
        // Before the supplier's pack is known: what picks the price break.
        let rough = qty_to_order(f, r.min_qty, r.max_qty, r.multiple, 1);
        if rough == 0 {
            continue;
        }
        let offer = crate::purchasing::prices::offers(
            db,
            r.item_id,
            r.preferred_supplier_id,
            rough,
            today,
            usd_rate,
        )
        .await?
        .into_iter()
        .next();
        let supplier = r
            .preferred_supplier_id
            .or_else(|| offer.as_ref().map(|o| o.price.supplier_id));
        let pack = offer.as_ref().map_or(1, |o| o.price.pack_multiple);
        groups
            .entry((supplier, r.warehouse_id))
            .or_default()
            .push(SuggestedLine {
                rule_id: r.id,
                item_id: r.item_id,
                forecast: f,
                min_qty: r.min_qty,
                max_qty: r.max_qty,
                qty: qty_to_order(f, r.min_qty, r.max_qty, r.multiple, pack),
                unit_cost_cents: offer.as_ref().map(|o| o.price.price_cents),
                currency: offer.as_ref().map(|o| o.price.currency.clone()),
                supplier_sku: offer.and_then(|o| o.price.supplier_sku),
            });
    }
    Ok(groups
        .into_iter()
        .map(|((supplier_id, warehouse_id), lines)| Suggestion {
            supplier_id,
            warehouse_id,
            lines,
        })
        .collect())
}

/// Turns the suggestion into draft orders, one per supplier and warehouse, at most once a day:
/// a second run the same day answers the orders of the first (a suggestion without a supplier
/// is left for a person). The rules' live alerts are resolved.
///
/// # Errors
/// As [`orders::create_order`].
pub async fn create_suggested_orders(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    warehouse_id: Option<Uuid>,
    usd_rate: Rate,
) -> Result<Vec<OrderDetail>> {
    let today = crate::today();
    let suggestions = suggest(txn, warehouse_id, usd_rate).await?;
    for s in &suggestions {
        let Some(supplier) = s.supplier_id else {
            continue;
        };
        let key = format!("reorder:{supplier}:{}:{today}", s.warehouse_id);
        if purchase_order::Entity::find()
            .filter(purchase_order::Column::OriginKey.eq(key.clone()))
            .one(txn)
            .await?
            .is_some()
        {
            continue;
        }
        let lines = s
            .lines
            .iter()
            .map(|l| NewLine {
                item_id: l.item_id,
                qty: l.qty,
                supplier_sku: l.supplier_sku.clone(),
                ..Default::default()
            })
            .collect();
        orders::create_order(
            txn,
            actor,
            NewOrder {
                supplier_id: supplier,
                warehouse_id: s.warehouse_id,
                lines,
                notes: Some("Sugerido por reorden".into()),
                ..Default::default()
            },
            usd_rate,
            ("reorder", Some(key)),
        )
        .await?;
        for l in &s.lines {
            resolve_live(txn, actor, l.rule_id).await?;
        }
    }
    // Every order the day's runs made answers the run: a second run finds the first's orders
    // counted as on order and suggests nothing new, and still answers them.
    let mut q = purchase_order::Entity::find()
        .filter(purchase_order::Column::Origin.eq("reorder"))
        .filter(purchase_order::Column::OriginKey.like(format!("reorder:%:{today}")))
        .order_by_asc(purchase_order::Column::CreatedAt);
    if let Some(w) = warehouse_id {
        q = q.filter(purchase_order::Column::WarehouseId.eq(w));
    }
    let mut answer = Vec::new();
    for po in q.all(txn).await? {
        answer.push(orders::get_order(txn, po.id).await?);
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_or_above_the_minimum_nothing_is_ordered() {
        assert_eq!(qty_to_order(5, 5, 20, 1, 1), 0);
        assert_eq!(qty_to_order(9, 5, 20, 1, 1), 0);
    }

    #[test]
    fn below_the_minimum_the_order_fills_up_to_the_maximum() {
        // 2 on hand, min 5, max 20: 18.
        assert_eq!(qty_to_order(2, 5, 20, 1, 1), 18);
        // A negative forecast (more held than on hand) orders that much more.
        assert_eq!(qty_to_order(-3, 5, 20, 1, 1), 23);
        // max below min: up to min (Odoo's max(min, max)).
        assert_eq!(qty_to_order(1, 10, 4, 1, 1), 9);
    }

    #[test]
    fn the_order_rounds_up_to_the_multiple_then_to_the_pack() {
        // 18 → multiple 4 → 20 → pack 6 → 24.
        assert_eq!(qty_to_order(2, 5, 20, 4, 6), 24);
        // 18 → 18 → pack 10 → 20.
        assert_eq!(qty_to_order(2, 5, 20, 1, 10), 20);
        // Already a multiple: unchanged.
        assert_eq!(qty_to_order(0, 5, 12, 6, 4), 12);
    }

    #[test]
    fn the_forecast_adds_orders_and_transfers_and_takes_reservations() {
        let p = Position {
            on_hand: 3,
            on_order: 10,
            inbound: 2,
            reserved: 4,
        };
        assert_eq!(p.forecast(), 11);
    }
}
