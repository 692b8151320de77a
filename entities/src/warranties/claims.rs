//! Customers' warranty claims: `open → inspecting → approved | rejected → resolved → closed`
//! (a rejected claim closes directly). Eligibility is computed when the claim is opened and kept
//! on it; approving an ineligible claim needs a manager and a reason. An approved claim is
//! resolved by a replacement (a unit leaves a stock warehouse of the branch at no charge and the
//! failed one enters the branch's quarantine), a refund (the counter's return pays the money
//! back, with its credit note when the sale was invoiced, and the failed unit goes to
//! quarantine) or a repair (no stock moves). Every step is in the claim's history.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::counter::sales::{self, RefundAsk};
use crate::counter::tables::{sale, sale_line};
use crate::inventory::movements::{self, Movement, Reference};
use crate::inventory::tables::item;
use crate::org::seller::Seller;
use crate::org::tables::warehouse;
use crate::warranties::coverage;
use crate::warranties::quarantine;
use crate::warranties::tables::{claim, warranty};
use crate::{Error, Page, PageRequest, Result};

pub use crate::warranties::tables::claim::{Resolution, Status};

/// The ledger reason of a replacement unit leaving stock.
pub const REASON_REPLACEMENT: &str = "warranty_replacement";
/// The ledger reason of a failed unit entering quarantine.
pub const REASON_QUARANTINE: &str = "warranty_quarantine";

/// A claim to open.
#[derive(Debug, Clone, Default)]
pub struct NewClaim {
    /// The warranty claimed on.
    pub warranty_id: Uuid,
    /// What the customer says is wrong (1 to 2000 characters).
    pub complaint: String,
    /// The odometer now, km (needed when the warranty has a distance limit).
    pub odometer_km: Option<i64>,
    /// Units claimed (1 by default, at most the warranty's).
    pub qty: Option<i64>,
}

/// A step of a claim that is not its resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// open → inspecting.
    Inspect,
    /// inspecting → approved.
    Approve,
    /// inspecting → rejected.
    Reject,
    /// resolved | rejected → closed.
    Close,
}

impl Step {
    const fn verb(self) -> &'static str {
        match self {
            Self::Inspect => "inspected",
            Self::Approve => "approved",
            Self::Reject => "rejected",
            Self::Close => "closed",
        }
    }
}

/// The state a step leads to from `from`, if it may be taken.
#[must_use]
pub const fn next(from: Status, step: Step) -> Option<Status> {
    match (from, step) {
        (Status::Open, Step::Inspect) => Some(Status::Inspecting),
        (Status::Inspecting, Step::Approve) => Some(Status::Approved),
        (Status::Inspecting, Step::Reject) => Some(Status::Rejected),
        (Status::Resolved | Status::Rejected, Step::Close) => Some(Status::Closed),
        _ => None,
    }
}

/// How an approved claim is resolved.
#[derive(Debug, Clone, Default)]
pub struct Resolve {
    /// Replace, refund or repair.
    pub resolution: Option<Resolution>,
    /// Replace: the stock warehouse of the sale's branch the new unit leaves from (the sale
    /// line's by default).
    pub warehouse_id: Option<Uuid>,
    /// Notes (needed for a repair), at most 2000 characters.
    pub notes: Option<String>,
    /// Refund: how the money goes back (as the counter's returns).
    pub refund: RefundAsk,
}

/// What a resolution did beyond the claim.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    /// Items whose stock changed.
    pub touched_items: Vec<Uuid>,
    /// The credit note issued (to be stamped by the caller's `cfdi.stamp`).
    pub credit_note_id: Option<Uuid>,
}

fn invalid(c: &claim::Model, verb: &str) -> Error {
    Error::conflict(
        "invalid_transition",
        format!("claim {} is {}: it cannot be {verb}", c.folio, c.status),
    )
}

/// A claim by id.
///
/// # Errors
/// [`Error::NotFound`] `warranty_claim`.
pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<claim::Model> {
    claim::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "warranty_claim",
        })
}

/// What a unit of the item cost the store (its average cost, else its last cost), MXN centavos.
async fn unit_cost(db: &impl ConnectionTrait, item_id: Uuid) -> Result<i64> {
    Ok(item::Entity::find_by_id(item_id)
        .one(db)
        .await?
        .map_or(0, |i| {
            if i.avg_cost_cents > 0 {
                i.avg_cost_cents
            } else {
                i.cost_cents
            }
        }))
}

/// Opens a claim on a warranty, with its eligibility today.
///
/// # Errors
/// [`Error::Validation`] on `complaint`, `qty`, `odometer`; [`Error::Missing`]
/// `warranty_not_found`.
pub async fn open(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    new: NewClaim,
) -> Result<claim::Model> {
    let complaint = crate::rules::text::required("complaint", &new.complaint, 2000)?;
    let w = warranty::Entity::find_by_id(new.warranty_id)
        .one(txn)
        .await?
        .ok_or_else(|| {
            Error::missing(
                "warranty_id",
                "warranty_not_found",
                format!("warranty {} does not exist", new.warranty_id),
            )
        })?;
    let qty = new.qty.unwrap_or(1);
    if !(1..=w.qty).contains(&qty) {
        return Err(Error::validation(
            "qty",
            format!("the warranty covers {} units", w.qty),
        ));
    }
    let today = crate::today();
    let e = coverage::eligibility(&w, today, new.odometer_km)?;
    let cost = unit_cost(txn, w.item_id).await?;
    let n = movements::next_folio(txn, "warranty_claim").await?;
    let now = crate::now();
    let id = Uuid::now_v7();
    let c = claim::ActiveModel {
        id: Set(id),
        folio: Set(format!("GA-{n:06}")),
        warranty_id: Set(w.id),
        sale_id: Set(w.sale_id),
        item_id: Set(w.item_id),
        customer_id: Set(w.customer_id),
        qty: Set(qty),
        status: Set(Status::Open),
        complaint: Set(complaint),
        odometer_km: Set(new.odometer_km),
        eligible: Set(e.eligible),
        ineligible_reason: Set(e.reason()),
        checked_on: Set(today),
        decision_reason: Set(None),
        decided_by: Set(None),
        resolution: Set(None),
        resolution_notes: Set(None),
        replacement_warehouse_id: Set(None),
        quarantine_warehouse_id: Set(None),
        sale_return_id: Set(None),
        credit_note_id: Set(None),
        unit_cost_cents: Set(cost),
        created_by: Set(Some(seller.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?;
    super::history(
        txn,
        "customer",
        id,
        None,
        Status::Open.as_str(),
        None,
        Some(seller.user_id),
    )
    .await?;
    seller
        .entry("warranty_claim.opened", "warranty_claim", id)
        .details(json!({"folio": c.folio, "warranty_id": w.id, "eligible": c.eligible, "ineligible_reason": c.ineligible_reason}))
        .record_tenant(txn)
        .await?;
    Ok(c)
}

/// Takes a step (inspect, approve, reject, close). Rejecting needs a reason; approving an
/// ineligible claim needs a manager and a reason.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Conflict`] `invalid_transition`; [`Error::Validation`] on
/// `reason`; [`Error::Forbidden`] approving an ineligible claim below manager.
pub async fn step(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    id: Uuid,
    step: Step,
    reason: Option<String>,
) -> Result<claim::Model> {
    let c = get(txn, id).await?;
    let from = c.status;
    let Some(to) = next(from, step) else {
        return Err(invalid(&c, step.verb()));
    };
    let reason = crate::rules::text::optional("reason", reason, 2000)?;
    take_state(txn, &c, to, step.verb()).await?;
    let mut am: claim::ActiveModel = c.clone().into();
    match step {
        Step::Reject => {
            if reason.is_none() {
                return Err(Error::validation("reason", "say why the claim is rejected"));
            }
            am.decision_reason = Set(reason.clone());
            am.decided_by = Set(Some(seller.user_id));
        }
        Step::Approve => {
            if !c.eligible {
                if !seller.role.is_manager() {
                    return Err(Error::Forbidden {
                        code: "forbidden",
                        message: format!(
                            "the claim is not covered ({}): approving it needs a manager",
                            c.ineligible_reason.as_deref().unwrap_or("ineligible")
                        ),
                    });
                }
                if reason.is_none() {
                    return Err(Error::validation(
                        "reason",
                        "say why a claim that is not covered is approved",
                    ));
                }
            }
            am.decision_reason = Set(reason.clone());
            am.decided_by = Set(Some(seller.user_id));
        }
        Step::Inspect | Step::Close => {}
    }
    am.status = Set(to);
    am.updated_at = Set(crate::now());
    let c = am.update(txn).await?;
    super::history(
        txn,
        "customer",
        id,
        Some(from.as_str()),
        to.as_str(),
        reason.as_deref(),
        Some(seller.user_id),
    )
    .await?;
    seller
        .entry(
            &format!("warranty_claim.{}", step.verb()),
            "warranty_claim",
            id,
        )
        .details(json!({"reason": reason}))
        .record_tenant(txn)
        .await?;
    Ok(c)
}

/// Resolves an approved claim: replace, refund or repair (see the module).
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Conflict`] `invalid_transition`, `insufficient_stock`,
/// `warehouse_not_for_sale`, the counter's return and credit-note conflicts;
/// [`Error::Validation`] on `resolution`, `warehouse_id`, `notes`; [`Error::Forbidden`] a refund
/// below manager.
pub async fn resolve(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    id: Uuid,
    ask: Resolve,
) -> Result<(claim::Model, Resolved)> {
    let resolution = ask.resolution.ok_or_else(|| {
        Error::validation("resolution", "resolution is replace, refund or repair")
    })?;
    let notes = crate::rules::text::optional("notes", ask.notes, 2000)?;
    let c = get(txn, id).await?;
    if c.status != Status::Approved {
        return Err(invalid(&c, "resolved"));
    }
    // Claimed first, conditionally: of two resolutions of one claim at once, the second finds
    // it no longer approved (PostgreSQL holds the row; SQLite's write transaction is exclusive)
    // and moves no stock and no money.
    take_state(txn, &c, Status::Resolved, "resolved").await?;
    let s = sale::Entity::find_by_id(c.sale_id)
        .one(txn)
        .await?
        .ok_or(Error::NotFound { entity: "sale" })?;
    let w = coverage::get(txn, c.warranty_id).await?;
    let line = sale_line::Entity::find()
        .filter(sale_line::Column::SaleId.eq(s.id))
        .filter(sale_line::Column::LineNo.eq(w.sale_line_no))
        .one(txn)
        .await?;
    let ref_id = id.to_string();
    let mut out = Resolved::default();
    let mut am: claim::ActiveModel = c.clone().into();
    match resolution {
        Resolution::Repair => {
            if notes.is_none() {
                return Err(Error::validation("notes", "say what was repaired"));
            }
        }
        Resolution::Replace => {
            let from = match (ask.warehouse_id, &line) {
                (Some(wh), _) => wh,
                (None, Some(l)) => l.warehouse_id,
                (None, None) => {
                    return Err(Error::validation(
                        "warehouse_id",
                        "name the warehouse the new unit leaves from",
                    ));
                }
            };
            let wh = warehouse::Entity::find_by_id(from)
                .one(txn)
                .await?
                .filter(|wh| wh.branch_id == s.branch_id)
                .ok_or_else(|| {
                    Error::validation("warehouse_id", "not a warehouse of the sale's branch")
                })?;
            quarantine::require_stock(txn, &[wh.id]).await?;
            let q = quarantine::of_branch(txn, s.branch_id).await?;
            movements::apply(
                txn,
                &[Movement {
                    item_id: c.item_id,
                    warehouse_id: wh.id,
                    delta: -c.qty,
                }],
                &Reference {
                    reason: REASON_REPLACEMENT,
                    ref_type: "warranty_claim",
                    ref_id: &ref_id,
                    note: Some(&c.folio),
                    actor: Some(seller.user_id),
                },
            )
            .await?;
            into_quarantine(txn, seller, &c, &ref_id, &[(q.id, c.qty)]).await?;
            am.replacement_warehouse_id = Set(Some(wh.id));
            am.quarantine_warehouse_id = Set(Some(q.id));
            out.touched_items.push(c.item_id);
        }
        Resolution::Refund => {
            let l = line.ok_or(Error::NotFound {
                entity: "sale line",
            })?;
            let ret = sales::return_items(
                txn,
                seller,
                s.id,
                &[(l.line_no, c.qty)],
                &format!("garantía {}", c.folio),
                false,
                ask.refund,
            )
            .await?;
            let q = quarantine::of_branch(txn, s.branch_id).await?;
            // The return put the unit back where it was sold from; it is failed, so it moves on
            // to quarantine at once (both legs in the ledger under the claim).
            into_quarantine(
                txn,
                seller,
                &c,
                &ref_id,
                &[(l.warehouse_id, -c.qty), (q.id, c.qty)],
            )
            .await?;
            match crate::invoicing::related::request_credit_note(
                txn,
                Some(seller.user_id),
                s.id,
                ret.ret.id,
                crate::invoicing::related::CreditNoteAsk::default(),
            )
            .await
            {
                Ok((note, _)) => out.credit_note_id = Some(note.id),
                Err(Error::Conflict {
                    code: "sale_not_invoiced",
                    ..
                }) => {}
                Err(e) => return Err(e),
            }
            am.sale_return_id = Set(Some(ret.ret.id));
            am.credit_note_id = Set(out.credit_note_id);
            am.quarantine_warehouse_id = Set(Some(q.id));
            out.touched_items.push(c.item_id);
        }
    }
    am.status = Set(Status::Resolved);
    am.resolution = Set(Some(resolution));
    am.resolution_notes = Set(notes.clone());
    am.updated_at = Set(crate::now());
    let c = am.update(txn).await?;
    super::history(
        txn,
        "customer",
        id,
        Some(Status::Approved.as_str()),
        Status::Resolved.as_str(),
        Some(&format!(
            "{}{}",
            resolution.as_str(),
            notes
                .as_deref()
                .map(|n| format!(": {n}"))
                .unwrap_or_default()
        )),
        Some(seller.user_id),
    )
    .await?;
    seller
        .entry("warranty_claim.resolved", "warranty_claim", id)
        .details(json!({"resolution": resolution.as_str(), "sale_return_id": c.sale_return_id, "credit_note_id": c.credit_note_id}))
        .record_tenant(txn)
        .await?;
    Ok((c, out))
}

/// Moves a claim from the state it was read in to `to`, or answers `invalid_transition` when
/// another request moved it meanwhile.
async fn take_state(
    txn: &impl ConnectionTrait,
    c: &claim::Model,
    to: Status,
    verb: &str,
) -> Result<()> {
    let r = claim::Entity::update_many()
        .col_expr(claim::Column::Status, Expr::value(to))
        .filter(claim::Column::Id.eq(c.id))
        .filter(claim::Column::Status.eq(c.status))
        .exec(txn)
        .await?;
    if r.rows_affected == 1 {
        Ok(())
    } else {
        Err(invalid(c, verb))
    }
}

/// Moves units under the claim with the quarantine reason (`(warehouse, delta)`).
async fn into_quarantine(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    c: &claim::Model,
    ref_id: &str,
    legs: &[(Uuid, i64)],
) -> Result<()> {
    let moves: Vec<Movement> = legs
        .iter()
        .map(|(wh, d)| Movement {
            item_id: c.item_id,
            warehouse_id: *wh,
            delta: *d,
        })
        .collect();
    movements::apply(
        txn,
        &moves,
        &Reference {
            reason: REASON_QUARANTINE,
            ref_type: "warranty_claim",
            ref_id,
            note: Some(&c.folio),
            actor: Some(seller.user_id),
        },
    )
    .await?;
    Ok(())
}

/// Filters of the claim list.
#[derive(Debug, Clone, Default)]
pub struct ClaimFilter {
    /// One state.
    pub status: Option<Status>,
    /// One customer's.
    pub customer_id: Option<Uuid>,
    /// One item's.
    pub item_id: Option<Uuid>,
}

/// Claims, newest first.
///
/// # Errors
/// Database errors.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: ClaimFilter,
    page: PageRequest,
) -> Result<Page<claim::Model>> {
    let mut q = claim::Entity::find()
        .order_by_desc(claim::Column::CreatedAt)
        .order_by_desc(claim::Column::Id);
    if let Some(s) = filter.status {
        q = q.filter(claim::Column::Status.eq(s));
    }
    if let Some(c) = filter.customer_id {
        q = q.filter(claim::Column::CustomerId.eq(c));
    }
    if let Some(i) = filter.item_id {
        q = q.filter(claim::Column::ItemId.eq(i));
    }
    page.fetch(db, q).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_documented_transitions_are_allowed() {
        let all = [
            Status::Open,
            Status::Inspecting,
            Status::Approved,
            Status::Rejected,
            Status::Resolved,
            Status::Closed,
        ];
        let steps = [Step::Inspect, Step::Approve, Step::Reject, Step::Close];
        let mut allowed = Vec::new();
        for s in all {
            for st in steps {
                if let Some(to) = next(s, st) {
                    allowed.push((s, st, to));
                }
            }
        }
        assert_eq!(
            allowed,
            vec![
                (Status::Open, Step::Inspect, Status::Inspecting),
                (Status::Inspecting, Step::Approve, Status::Approved),
                (Status::Inspecting, Step::Reject, Status::Rejected),
                (Status::Rejected, Step::Close, Status::Closed),
                (Status::Resolved, Step::Close, Status::Closed),
            ]
        );
    }
}
