//! The warranty of each sold or installed line: a copy of the policy that applied on that day
//! (an item's own policy, else its brand's), so that later changes of the policy never change
//! what the customer was promised. [`snapshot`] is called by the counter's checkout and by the
//! workshop's service orders; [`register`] gives one by hand for a line sold before.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, Func, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement, Value,
};
use serde_json::json;
use uuid::Uuid;

use crate::counter::tables::{sale, sale_line};
use crate::error::OnUnique;
use crate::inventory::tables::item;
use crate::org::seller::Seller;
use crate::rules::warranty::{self as rule, Eligibility};
use crate::warranties::tables::policy::{self, Coverage, StartsOn};
use crate::warranties::tables::warranty;
use crate::{Error, Page, PageRequest, Result};

/// A line sold or installed, whose warranty (if its item has a policy) is to be recorded.
#[derive(Debug, Clone)]
pub struct Installed {
    /// The sale.
    pub sale_id: Uuid,
    /// The line's number in the sale.
    pub sale_line_no: i32,
    /// The item.
    pub item_id: Uuid,
    /// Units.
    pub qty: i64,
    /// Unit price, IVA included, MXN centavos.
    pub unit_price_cents: i64,
    /// The customer.
    pub customer_id: Option<Uuid>,
    /// The vehicle it went into.
    pub vehicle_id: Option<Uuid>,
    /// The odometer when installed, km.
    pub odometer_km: Option<i64>,
    /// The workshop's service order.
    pub service_order_id: Option<Uuid>,
    /// The day the warranty starts (the sale's or the installation's).
    pub on: NaiveDate,
}

/// The terms copied onto a warranty.
#[derive(Debug, Clone)]
struct Copied {
    policy_id: Option<Uuid>,
    months: i32,
    km: Option<i64>,
    coverage: Coverage,
    starts_on: StartsOn,
    supplier_months: Option<i32>,
    supplier_km: Option<i64>,
    terms: Option<String>,
}

impl From<&policy::Model> for Copied {
    fn from(p: &policy::Model) -> Self {
        Self {
            policy_id: Some(p.id),
            months: p.months,
            km: p.km,
            coverage: p.coverage,
            starts_on: p.starts_on,
            supplier_months: p.supplier_months,
            supplier_km: p.supplier_km,
            terms: p.terms.clone(),
        }
    }
}

/// The policy of each item: its own, else its brand's. One read of the policies (the items'
/// brands through a subquery), and a read of the items' brands only when a brand policy came
/// back; nothing more when the tenant has none.
async fn policies_of(
    db: &impl ConnectionTrait,
    items: &[Uuid],
) -> Result<HashMap<Uuid, policy::Model>> {
    let brands = Query::select()
        .expr(Func::lower(Expr::col(item::Column::Brand)))
        .from(sea_orm::sea_query::Alias::new("items"))
        .and_where(item::Column::Id.is_in(items.iter().copied()))
        .and_where(item::Column::Brand.is_not_null())
        .to_owned();
    let found = policy::Entity::find()
        .filter(
            Condition::any()
                .add(policy::Column::ItemId.is_in(items.iter().copied()))
                .add(policy::Column::BrandKey.in_subquery(brands)),
        )
        .all(db)
        .await?;
    let mut out: HashMap<Uuid, policy::Model> = HashMap::new();
    let mut by_brand: HashMap<String, policy::Model> = HashMap::new();
    for p in found {
        match (p.item_id, p.brand_key.clone()) {
            (Some(i), _) => {
                out.insert(i, p);
            }
            (None, Some(b)) => {
                by_brand.insert(b, p);
            }
            (None, None) => {}
        }
    }
    if !by_brand.is_empty() {
        let rows: Vec<(Uuid, Option<String>)> = item::Entity::find()
            .select_only()
            .column(item::Column::Id)
            .column(item::Column::Brand)
            .filter(item::Column::Id.is_in(items.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        for (id, brand) in rows {
            if out.contains_key(&id) {
                continue;
            }
            if let Some(p) = brand.and_then(|b| by_brand.get(&b.to_lowercase())) {
                out.insert(id, p.clone());
            }
        }
    }
    Ok(out)
}

/// The supplier of each item's last receipt, when it was ever received.
async fn last_suppliers(db: &impl ConnectionTrait, items: &[Uuid]) -> Result<HashMap<Uuid, Uuid>> {
    let backend = db.get_database_backend();
    let ph: Vec<String> = (1..=items.len())
        .map(|n| crate::inventory::movements::ph(backend, n))
        .collect();
    let sql = format!(
        "SELECT rl.item_id, po.supplier_id FROM purchase_receipt_lines rl \
         JOIN purchase_receipts r ON r.id = rl.receipt_id \
         JOIN purchase_orders po ON po.id = r.purchase_order_id \
         WHERE rl.item_id IN ({}) ORDER BY r.created_at DESC, rl.id DESC",
        ph.join(", ")
    );
    let values: Vec<Value> = items.iter().map(|i| Value::from(*i)).collect();
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    let mut out = HashMap::new();
    for r in rows {
        let item: Uuid = r.try_get_by_index(0)?;
        let supplier: Uuid = r.try_get_by_index(1)?;
        out.entry(item).or_insert(supplier);
    }
    Ok(out)
}

/// The part lines of a counter sale as [`Installed`] lines (a core deposit has no warranty): the sale's customer, no vehicle, no
/// odometer, starting `on`.
#[must_use]
pub fn sold(s: &sale::Model, lines: &[sale_line::Model], on: NaiveDate) -> Vec<Installed> {
    lines
        .iter()
        .filter(|l| l.kind == sale_line::Kind::Part)
        .map(|l| Installed {
            sale_id: s.id,
            sale_line_no: l.line_no,
            item_id: l.item_id,
            qty: l.qty,
            unit_price_cents: l.unit_price_cents,
            customer_id: s.customer_id,
            vehicle_id: None,
            odometer_km: None,
            service_order_id: None,
            on,
        })
        .collect()
}

fn row(
    id: Uuid,
    l: &Installed,
    c: Copied,
    supplier_id: Option<Uuid>,
    by: Option<Uuid>,
    at: chrono::DateTime<chrono::Utc>,
) -> warranty::ActiveModel {
    warranty::ActiveModel {
        id: Set(id),
        sale_id: Set(l.sale_id),
        sale_line_no: Set(l.sale_line_no),
        item_id: Set(l.item_id),
        qty: Set(l.qty),
        unit_price_cents: Set(l.unit_price_cents),
        customer_id: Set(l.customer_id),
        vehicle_id: Set(l.vehicle_id),
        odometer_at_install: Set(l.odometer_km),
        service_order_id: Set(l.service_order_id),
        policy_id: Set(c.policy_id),
        months: Set(c.months),
        km: Set(c.km),
        coverage: Set(c.coverage),
        starts_on: Set(c.starts_on),
        supplier_months: Set(c.supplier_months),
        supplier_km: Set(c.supplier_km),
        terms: Set(c.terms),
        supplier_id: Set(supplier_id),
        starts_at: Set(l.on),
        expires_on: Set(rule::last_day(l.on, c.months)),
        expiring_notified_on: Set(None),
        created_by: Set(by),
        created_at: Set(at),
    }
}

fn check_lines(lines: &[Installed]) -> Result<()> {
    for (i, l) in lines.iter().enumerate() {
        crate::rules::quantity::units(format!("lines[{i}].qty"), l.qty)?;
        if l.odometer_km
            .is_some_and(|o| !(0..=10_000_000).contains(&o))
        {
            return Err(Error::validation(
                format!("lines[{i}].odometer"),
                "the odometer is 0 to 10,000,000 km",
            ));
        }
    }
    Ok(())
}

/// Records, in the caller's transaction, the warranty of each line whose item has a policy (its
/// own, else its brand's): one read of the policies, one of the suppliers' last receipts when a
/// line has one, and one insert, whatever the number of lines; nothing when no item has a
/// policy. Answers the warranties' ids, in the order of the lines that got one.
///
/// # Errors
/// [`Error::Validation`] for a line's units or odometer; [`Error::Conflict`]
/// `warranty_exists` when a line already has its warranty.
pub async fn snapshot(txn: &impl ConnectionTrait, lines: &[Installed]) -> Result<Vec<Uuid>> {
    snapshot_by(txn, lines, None).await
}

async fn snapshot_by(
    txn: &impl ConnectionTrait,
    lines: &[Installed],
    by: Option<Uuid>,
) -> Result<Vec<Uuid>> {
    if lines.is_empty() {
        return Ok(Vec::new());
    }
    check_lines(lines)?;
    let mut items: Vec<Uuid> = lines.iter().map(|l| l.item_id).collect();
    items.sort_unstable();
    items.dedup();
    let policies = policies_of(txn, &items).await?;
    if policies.is_empty() {
        return Ok(Vec::new());
    }
    let covered: Vec<Uuid> = items
        .iter()
        .copied()
        .filter(|i| policies.contains_key(i))
        .collect();
    let suppliers = last_suppliers(txn, &covered).await?;
    let mut ids = Vec::new();
    let now = crate::now();
    let rows: Vec<warranty::ActiveModel> = lines
        .iter()
        .filter_map(|l| {
            policies.get(&l.item_id).map(|p| {
                let id = Uuid::now_v7();
                ids.push(id);
                row(
                    id,
                    l,
                    Copied::from(p),
                    suppliers.get(&l.item_id).copied(),
                    by,
                    now,
                )
            })
        })
        .collect();
    warranty::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await
        .on_unique("warranty_exists", "this line already has its warranty")?;
    Ok(ids)
}

/// A warranty given by hand for a line sold before (a sale from before the policies, a line
/// installed elsewhere): its vehicle and odometer, and the policy's months and km overridden
/// by a manager.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    /// The sale.
    pub sale_id: Uuid,
    /// The line's number in the sale.
    pub line_no: i32,
    /// The vehicle it went into.
    pub vehicle_id: Option<Uuid>,
    /// The odometer when installed.
    pub odometer_km: Option<i64>,
    /// Months instead of the policy's (managers).
    pub months: Option<i32>,
    /// Km instead of the policy's (managers).
    pub km: Option<i64>,
}

/// Registers the warranty of a sale's line by hand. It starts on the sale's day (or today when
/// the policy starts at installation).
///
/// # Errors
/// [`Error::NotFound`] `sale`; [`Error::Validation`] naming the field; [`Error::Forbidden`] for
/// an override below manager; [`Error::Conflict`] `no_warranty_policy` when the item has no
/// policy and no months are given, `warranty_exists`.
pub async fn register(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    reg: Registration,
) -> Result<warranty::Model> {
    let s = sale::Entity::find_by_id(reg.sale_id)
        .one(txn)
        .await?
        .filter(|s| seller.can_see(s.branch_id))
        .ok_or_else(|| Error::missing("sale_id", "sale_not_found", "no such sale"))?;
    let line = sale_line::Entity::find()
        .filter(sale_line::Column::SaleId.eq(s.id))
        .filter(sale_line::Column::LineNo.eq(reg.line_no))
        .one(txn)
        .await?
        .ok_or_else(|| Error::validation("line_no", "no such line in the sale"))?;
    if (reg.months.is_some() || reg.km.is_some()) && !seller.role.is_manager() {
        return Err(Error::Forbidden {
            code: "forbidden",
            message: format!(
                "changing a warranty's months or km needs a manager; you are {}",
                seller.role
            ),
        });
    }
    if reg
        .months
        .is_some_and(|m| !(1..=super::policies::MAX_MONTHS).contains(&m))
    {
        return Err(Error::validation("months", "months is 1 to 120"));
    }
    if reg
        .km
        .is_some_and(|k| !(1..=super::policies::MAX_KM).contains(&k))
    {
        return Err(Error::validation("km", "km is 1 to 1000000"));
    }
    if reg
        .odometer_km
        .is_some_and(|o| !(0..=10_000_000).contains(&o))
    {
        return Err(Error::validation(
            "odometer",
            "the odometer is 0 to 10,000,000 km",
        ));
    }
    if let Some(v) = reg.vehicle_id
        && crate::vehicles::tables::customer_vehicle::Entity::find_by_id(v)
            .one(txn)
            .await?
            .is_none()
    {
        return Err(Error::missing(
            "vehicle_id",
            "vehicle_not_found",
            format!("vehicle {v} does not exist"),
        ));
    }
    let policies = policies_of(txn, &[line.item_id]).await?;
    let mut copied = match (policies.get(&line.item_id), reg.months) {
        (Some(p), _) => Copied::from(p),
        (None, Some(m)) => Copied {
            policy_id: None,
            months: m,
            km: None,
            coverage: Coverage::Parts,
            starts_on: StartsOn::Sale,
            supplier_months: None,
            supplier_km: None,
            terms: None,
        },
        (None, None) => {
            return Err(Error::conflict(
                "no_warranty_policy",
                "the item has no warranty policy: a manager may give the months",
            ));
        }
    };
    if let Some(m) = reg.months {
        copied.months = m;
    }
    if reg.km.is_some() {
        copied.km = reg.km;
    }
    let on = match copied.starts_on {
        StartsOn::Sale => crate::invoicing::global::local_date(s.created_at),
        StartsOn::Installation => crate::today(),
    };
    let installed = Installed {
        sale_id: s.id,
        sale_line_no: line.line_no,
        item_id: line.item_id,
        qty: line.qty,
        unit_price_cents: line.unit_price_cents,
        customer_id: s.customer_id,
        vehicle_id: reg.vehicle_id,
        odometer_km: reg.odometer_km,
        service_order_id: None,
        on,
    };
    let supplier = last_suppliers(txn, &[line.item_id])
        .await?
        .get(&line.item_id)
        .copied();
    let w = row(
        Uuid::now_v7(),
        &installed,
        copied,
        supplier,
        Some(seller.user_id),
        crate::now(),
    )
    .insert(txn)
    .await
    .on_unique("warranty_exists", "this line already has its warranty")?;
    seller
        .entry("warranty.registered", "warranty", w.id)
        .details(json!({"sale_id": w.sale_id, "line_no": w.sale_line_no, "months": w.months, "km": w.km}))
        .record_tenant(txn)
        .await?;
    Ok(w)
}

/// A warranty by id.
///
/// # Errors
/// [`Error::NotFound`] `warranty`.
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<warranty::Model> {
    warranty::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "warranty" })
}

/// The warranties of a sale, by line.
///
/// # Errors
/// Database errors.
pub async fn of_sale(db: &impl ConnectionTrait, sale_id: Uuid) -> Result<Vec<warranty::Model>> {
    Ok(warranty::Entity::find()
        .filter(warranty::Column::SaleId.eq(sale_id))
        .order_by_asc(warranty::Column::SaleLineNo)
        .all(db)
        .await?)
}

/// Whether a warranty covers on `today` by its date (the distance needs a reading: a claim
/// gives it).
#[must_use]
pub fn by_date(w: &warranty::Model, today: NaiveDate) -> Eligibility {
    let expired = today > w.expires_on;
    Eligibility {
        eligible: !expired,
        failed: if expired {
            vec![rule::Failed::Expired]
        } else {
            Vec::new()
        },
        expires_on: w.expires_on,
        km_driven: None,
    }
}

/// Whether a warranty covers on `today` at `odometer_now`.
///
/// # Errors
/// [`Error::Validation`] on `odometer` (see [`rule::check`]).
pub fn eligibility(
    w: &warranty::Model,
    today: NaiveDate,
    odometer_now: Option<i64>,
) -> Result<Eligibility> {
    rule::check(
        w.expires_on,
        w.km,
        w.odometer_at_install,
        today,
        odometer_now,
    )
}

/// `active` (not past its last day) or `expired`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Its last day is today or later.
    Active,
    /// Its last day has passed.
    Expired,
}

/// Filters of the warranty list.
#[derive(Debug, Clone, Default)]
pub struct WarrantyFilter {
    /// One customer's.
    pub customer_id: Option<Uuid>,
    /// One item's.
    pub item_id: Option<Uuid>,
    /// One sale's.
    pub sale_id: Option<Uuid>,
    /// Active or expired today.
    pub standing: Option<Standing>,
    /// Ending within this many days from today (0 to 3650).
    pub expiring_within_days: Option<i64>,
}

/// Warranties, newest first (a sale's by line).
///
/// # Errors
/// [`Error::Validation`] on `expiring_within_days`.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: WarrantyFilter,
    page: PageRequest,
) -> Result<Page<warranty::Model>> {
    let today = crate::today();
    // A sale's lines get their warranties at one instant: its lines in order within it.
    let mut q = warranty::Entity::find()
        .order_by_desc(warranty::Column::CreatedAt)
        .order_by_desc(warranty::Column::SaleId)
        .order_by_asc(warranty::Column::SaleLineNo);
    if let Some(c) = filter.customer_id {
        q = q.filter(warranty::Column::CustomerId.eq(c));
    }
    if let Some(i) = filter.item_id {
        q = q.filter(warranty::Column::ItemId.eq(i));
    }
    if let Some(s) = filter.sale_id {
        q = q.filter(warranty::Column::SaleId.eq(s));
    }
    match filter.standing {
        Some(Standing::Active) => q = q.filter(warranty::Column::ExpiresOn.gte(today)),
        Some(Standing::Expired) => q = q.filter(warranty::Column::ExpiresOn.lt(today)),
        None => {}
    }
    if let Some(n) = filter.expiring_within_days {
        if !(0..=3650).contains(&n) {
            return Err(Error::validation(
                "expiring_within_days",
                "expiring_within_days is 0 to 3650",
            ));
        }
        q = q
            .filter(warranty::Column::ExpiresOn.gte(today))
            .filter(warranty::Column::ExpiresOn.lte(today + chrono::Duration::days(n)));
    }
    page.fetch(db, q).await
}
