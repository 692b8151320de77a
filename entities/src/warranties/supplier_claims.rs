//! Claims to suppliers: from an approved customer claim, while the supplier's warranty (the
//! months and km copied onto the line's warranty) still covers the failure, the store claims
//! the cost back: `draft → sent → accepted | rejected`, then `accepted → credited | replaced`.
//! [`unrecovered`] reports, per supplier, what has not come back.

use std::collections::{BTreeMap, HashMap, HashSet};

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::error::OnUnique;
use crate::org::seller::Seller;
use crate::purchasing::tables::supplier;
use crate::rules::warranty as rule;
use crate::warranties::tables::{claim, supplier_claim, warranty};
use crate::{Error, Page, PageRequest, Result};

pub use crate::warranties::tables::supplier_claim::Status;

/// A supplier claim to open.
#[derive(Debug, Clone, Default)]
pub struct NewSupplierClaim {
    /// The approved customer claim.
    pub warranty_claim_id: Uuid,
    /// The supplier (the one of the item's last receipt by default).
    pub supplier_id: Option<Uuid>,
    /// What the supplier should credit, MXN centavos (the unit cost × units by default).
    pub expected_credit_cents: Option<i64>,
    /// A note.
    pub note: Option<String>,
}

/// A step of a supplier claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// draft → sent.
    Send,
    /// sent → accepted.
    Accept,
    /// sent → rejected.
    Reject,
    /// accepted → credited (with the amount).
    Credit,
    /// accepted → replaced.
    Replace,
}

impl Step {
    const fn verb(self) -> &'static str {
        match self {
            Self::Send => "sent",
            Self::Accept => "accepted",
            Self::Reject => "rejected",
            Self::Credit => "credited",
            Self::Replace => "replaced",
        }
    }
}

/// The state a step leads to from `from`, if it may be taken.
#[must_use]
pub const fn next(from: Status, step: Step) -> Option<Status> {
    match (from, step) {
        (Status::Draft, Step::Send) => Some(Status::Sent),
        (Status::Sent, Step::Accept) => Some(Status::Accepted),
        (Status::Sent, Step::Reject) => Some(Status::Rejected),
        (Status::Accepted, Step::Credit) => Some(Status::Credited),
        (Status::Accepted, Step::Replace) => Some(Status::Replaced),
        _ => None,
    }
}

/// A supplier claim by id.
///
/// # Errors
/// [`Error::NotFound`] `supplier_claim`.
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<supplier_claim::Model> {
    supplier_claim::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "supplier_claim",
        })
}

/// Whether a customer claim was approved (whatever came after).
fn approved(c: &claim::Model) -> bool {
    matches!(c.status, claim::Status::Approved | claim::Status::Resolved)
        || (c.status == claim::Status::Closed && c.resolution.is_some())
}

/// Opens a claim to the supplier (managers and up).
///
/// # Errors
/// [`Error::Missing`] `warranty_claim_not_found`, `supplier_not_found`; [`Error::Conflict`]
/// `claim_not_approved`, `supplier_warranty_expired` (none, or past its months or km on the
/// day of the customer's claim), `supplier_claim_exists`; [`Error::Validation`] naming the
/// field.
pub async fn open(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    new: NewSupplierClaim,
) -> Result<supplier_claim::Model> {
    let note = crate::rules::text::optional("note", new.note, 2000)?;
    if new
        .expected_credit_cents
        .is_some_and(|c| !(0..=crate::rules::money::MAX_CENTS).contains(&c))
    {
        return Err(Error::validation(
            "expected_credit",
            "expected_credit is 0 or more",
        ));
    }
    let c = claim::Entity::find_by_id(new.warranty_claim_id)
        .one(txn)
        .await?
        .ok_or_else(|| {
            Error::missing(
                "warranty_claim_id",
                "warranty_claim_not_found",
                format!("claim {} does not exist", new.warranty_claim_id),
            )
        })?;
    if !approved(&c) {
        return Err(Error::conflict(
            "claim_not_approved",
            format!(
                "claim {} is {}: only an approved claim goes to the supplier",
                c.folio, c.status
            ),
        ));
    }
    let w = warranty::Entity::find_by_id(c.warranty_id)
        .one(txn)
        .await?
        .ok_or(Error::NotFound { entity: "warranty" })?;
    let supplier_id = new.supplier_id.or(w.supplier_id).ok_or_else(|| {
        Error::validation(
            "supplier_id",
            "the item was never received from a supplier: name the supplier",
        )
    })?;
    if supplier::Entity::find_by_id(supplier_id)
        .one(txn)
        .await?
        .is_none()
    {
        return Err(Error::missing(
            "supplier_id",
            "supplier_not_found",
            format!("supplier {supplier_id} does not exist"),
        ));
    }
    let Some(months) = w.supplier_months else {
        return Err(Error::conflict(
            "supplier_warranty_expired",
            "the supplier gives no warranty on this part",
        ));
    };
    // The supplier's warranty as on the day the customer claimed, at the reading then.
    let e = rule::check(
        rule::last_day(w.starts_at, months),
        w.supplier_km,
        w.odometer_at_install,
        c.checked_on,
        c.odometer_km,
    );
    match e {
        Ok(e) if e.eligible => {}
        Ok(e) => {
            return Err(Error::conflict(
                "supplier_warranty_expired",
                format!(
                    "the supplier's warranty ended ({}) before the claim",
                    e.reason().unwrap_or_default()
                ),
            ));
        }
        Err(_) => {
            return Err(Error::conflict(
                "supplier_warranty_expired",
                "the supplier's warranty has a distance limit and the claim has no odometer",
            ));
        }
    }
    let n = crate::inventory::movements::next_folio(txn, "supplier_claim").await?;
    let now = crate::now();
    let id = Uuid::now_v7();
    let sc = supplier_claim::ActiveModel {
        id: Set(id),
        folio: Set(format!("RP-{n:06}")),
        warranty_claim_id: Set(c.id),
        supplier_id: Set(supplier_id),
        item_id: Set(c.item_id),
        qty: Set(c.qty),
        status: Set(Status::Draft),
        expected_credit_cents: Set(new
            .expected_credit_cents
            .unwrap_or(c.unit_cost_cents * c.qty)),
        credited_cents: Set(0),
        note: Set(note),
        created_by: Set(Some(seller.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await
    .on_unique(
        "supplier_claim_exists",
        "this claim already went to the supplier",
    )?;
    super::history(
        txn,
        "supplier",
        id,
        None,
        Status::Draft.as_str(),
        None,
        Some(seller.user_id),
    )
    .await?;
    seller
        .entry("supplier_claim.opened", "supplier_claim", id)
        .details(json!({"folio": sc.folio, "warranty_claim_id": c.id, "supplier_id": supplier_id, "expected_credit_cents": sc.expected_credit_cents}))
        .record_tenant(txn)
        .await?;
    Ok(sc)
}

/// Takes a step; crediting records the amount credited (`credited_cents`, the expected credit
/// by default), rejecting needs a note.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Conflict`] `invalid_transition`; [`Error::Validation`] on
/// `note` or `credited`.
pub async fn step(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    id: Uuid,
    step: Step,
    note: Option<String>,
    credited_cents: Option<i64>,
) -> Result<supplier_claim::Model> {
    let sc = get(txn, id).await?;
    let from = sc.status;
    let Some(to) = next(from, step) else {
        return Err(Error::conflict(
            "invalid_transition",
            format!(
                "supplier claim {} is {}: it cannot be {}",
                sc.folio,
                sc.status,
                step.verb()
            ),
        ));
    };
    let note = crate::rules::text::optional("note", note, 2000)?;
    if step == Step::Reject && note.is_none() {
        return Err(Error::validation("note", "say why the supplier refused"));
    }
    if credited_cents.is_some() && step != Step::Credit {
        return Err(Error::validation("credited", "only a credit has an amount"));
    }
    if credited_cents.is_some_and(|c| !(0..=crate::rules::money::MAX_CENTS).contains(&c)) {
        return Err(Error::validation("credited", "credited is 0 or more"));
    }
    // Conditionally, so two requests on one claim at once cannot both take a step from it.
    let moved = supplier_claim::Entity::update_many()
        .col_expr(supplier_claim::Column::Status, Expr::value(to))
        .filter(supplier_claim::Column::Id.eq(sc.id))
        .filter(supplier_claim::Column::Status.eq(from))
        .exec(txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(Error::conflict(
            "invalid_transition",
            format!(
                "supplier claim {} changed meanwhile; read it again",
                sc.folio
            ),
        ));
    }
    let mut am: supplier_claim::ActiveModel = sc.clone().into();
    if step == Step::Credit {
        am.credited_cents = Set(credited_cents.unwrap_or(sc.expected_credit_cents));
    }
    am.status = Set(to);
    am.updated_at = Set(crate::now());
    let sc = am.update(txn).await?;
    super::history(
        txn,
        "supplier",
        id,
        Some(from.as_str()),
        to.as_str(),
        note.as_deref(),
        Some(seller.user_id),
    )
    .await?;
    seller
        .entry(
            &format!("supplier_claim.{}", step.verb()),
            "supplier_claim",
            id,
        )
        .details(json!({"note": note, "credited_cents": sc.credited_cents}))
        .record_tenant(txn)
        .await?;
    Ok(sc)
}

/// Filters of the supplier-claim list.
#[derive(Debug, Clone, Default)]
pub struct SupplierClaimFilter {
    /// One state.
    pub status: Option<Status>,
    /// One supplier's.
    pub supplier_id: Option<Uuid>,
}

/// Supplier claims, newest first.
///
/// # Errors
/// Database errors.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: SupplierClaimFilter,
    page: PageRequest,
) -> Result<Page<supplier_claim::Model>> {
    let mut q = supplier_claim::Entity::find()
        .order_by_desc(supplier_claim::Column::CreatedAt)
        .order_by_desc(supplier_claim::Column::Id);
    if let Some(s) = filter.status {
        q = q.filter(supplier_claim::Column::Status.eq(s));
    }
    if let Some(s) = filter.supplier_id {
        q = q.filter(supplier_claim::Column::SupplierId.eq(s));
    }
    page.fetch(db, q).await
}

/// Why an amount has not come back from a supplier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gap {
    /// An approved customer claim that never went to the supplier.
    NotClaimed,
    /// The supplier refused it.
    Rejected,
    /// The supplier accepted it and has not credited it yet.
    AwaitingCredit,
}

impl Gap {
    /// The text shown.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NotClaimed => "not_claimed",
            Self::Rejected => "rejected",
            Self::AwaitingCredit => "awaiting_credit",
        }
    }
}

/// One amount not recovered.
#[derive(Debug, Clone)]
pub struct Unrecovered {
    /// The customer claim.
    pub warranty_claim_id: Uuid,
    /// The supplier claim, when there is one.
    pub supplier_claim_id: Option<Uuid>,
    /// Why.
    pub gap: Gap,
    /// MXN centavos.
    pub amount_cents: i64,
}

/// What one supplier has not given back.
#[derive(Debug, Clone)]
pub struct SupplierUnrecovered {
    /// The supplier; none for parts never received from one.
    pub supplier_id: Option<Uuid>,
    /// Its name.
    pub supplier_name: Option<String>,
    /// The claims.
    pub claims: Vec<Unrecovered>,
    /// Their sum, MXN centavos.
    pub total_cents: i64,
}

/// Per supplier, the approved customer claims with no supplier claim (at their cost), the
/// rejected supplier claims and the accepted ones not yet credited (at their expected credit).
///
/// # Errors
/// Database errors.
pub async fn unrecovered(db: &impl ConnectionTrait) -> Result<Vec<SupplierUnrecovered>> {
    let claims: Vec<claim::Model> = claim::Entity::find()
        .filter(claim::Column::Status.is_in([
            claim::Status::Approved,
            claim::Status::Resolved,
            claim::Status::Closed,
        ]))
        .order_by_asc(claim::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .filter(approved)
        .collect();
    let scs = supplier_claim::Entity::find()
        .order_by_asc(supplier_claim::Column::CreatedAt)
        .all(db)
        .await?;
    let claimed: HashSet<Uuid> = scs.iter().map(|s| s.warranty_claim_id).collect();
    let warranty_ids: Vec<Uuid> = claims
        .iter()
        .filter(|c| !claimed.contains(&c.id))
        .map(|c| c.warranty_id)
        .collect();
    let supplier_of: HashMap<Uuid, Option<Uuid>> = if warranty_ids.is_empty() {
        HashMap::new()
    } else {
        warranty::Entity::find()
            .filter(warranty::Column::Id.is_in(warranty_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|w| (w.id, w.supplier_id))
            .collect()
    };
    let mut by: BTreeMap<Option<Uuid>, Vec<Unrecovered>> = BTreeMap::new();
    for c in claims.iter().filter(|c| !claimed.contains(&c.id)) {
        let s = supplier_of.get(&c.warranty_id).copied().flatten();
        by.entry(s).or_default().push(Unrecovered {
            warranty_claim_id: c.id,
            supplier_claim_id: None,
            gap: Gap::NotClaimed,
            amount_cents: c.unit_cost_cents * c.qty,
        });
    }
    for s in &scs {
        let gap = match s.status {
            Status::Rejected => Gap::Rejected,
            Status::Accepted => Gap::AwaitingCredit,
            _ => continue,
        };
        by.entry(Some(s.supplier_id))
            .or_default()
            .push(Unrecovered {
                warranty_claim_id: s.warranty_claim_id,
                supplier_claim_id: Some(s.id),
                gap,
                amount_cents: s.expected_credit_cents,
            });
    }
    let ids: Vec<Uuid> = by.keys().filter_map(|k| *k).collect();
    let names: HashMap<Uuid, String> = if ids.is_empty() {
        HashMap::new()
    } else {
        supplier::Entity::find()
            .filter(supplier::Column::Id.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect()
    };
    Ok(by
        .into_iter()
        .map(|(supplier_id, claims)| SupplierUnrecovered {
            supplier_name: supplier_id.and_then(|s| names.get(&s).cloned()),
            supplier_id,
            total_cents: claims.iter().map(|c| c.amount_cents).sum(),
            claims,
        })
        .collect())
}
