//! Fleet contracts (insurance, verificación vehicular, tenencia, leasing) with their end dates.
//! The state is read from the dates: `future` before the start, `active` to the last day,
//! `expired` after it, `closed` once closed by hand; reminders are [`crate::fleets::due`]'s.

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::fleets::tables::contract::{self, Kind};
use crate::fleets::tables::fleet_vehicle;
use crate::org::seller::Seller;
use crate::{Error, Page, PageRequest, Result};

/// A contract's state on a day.
#[must_use]
pub fn status(c: &contract::Model, today: NaiveDate) -> &'static str {
    if c.closed_at.is_some() {
        "closed"
    } else if today < c.starts_on {
        "future"
    } else if today > c.expires_on {
        "expired"
    } else {
        "active"
    }
}

/// A contract to record.
#[derive(Debug, Clone)]
pub struct NewContract {
    /// What it is.
    pub kind: Kind,
    /// The unit it is for (the whole fleet when none).
    pub vehicle_id: Option<Uuid>,
    /// Insurer, state government, lessor.
    pub provider: Option<String>,
    /// Policy or folio number.
    pub reference: Option<String>,
    /// First day in force.
    pub starts_on: NaiveDate,
    /// Last day in force (a year after the start when absent, as Odoo does).
    pub expires_on: Option<NaiveDate>,
    /// What it cost, centavos.
    pub cost_cents: i64,
}

/// Records a fleet's contract, audited.
///
/// # Errors
/// [`Error::NotFound`] `fleet`; [`Error::Validation`] naming the field; [`Error::Missing`]
/// `vehicle_not_found` (not a unit of this fleet).
pub async fn create(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    customer_id: Uuid,
    n: NewContract,
) -> Result<contract::Model> {
    crate::fleets::profiles::get(txn, customer_id).await?;
    if let Some(v) = n.vehicle_id {
        match fleet_vehicle::Entity::find_by_id(v).one(txn).await? {
            Some(u) if u.customer_id == customer_id => {}
            _ => {
                return Err(Error::missing(
                    "vehicle_id",
                    "vehicle_not_found",
                    "no unit of this fleet with this id",
                ));
            }
        }
    }
    let expires_on = n
        .expires_on
        .unwrap_or_else(|| crate::rules::maintenance::add_months(n.starts_on, 12));
    if expires_on < n.starts_on {
        return Err(Error::validation(
            "expires_on",
            "a contract ends on or after its start",
        ));
    }
    if !(0..=crate::fleets::logs::MAX_AMOUNT_CENTS).contains(&n.cost_cents) {
        return Err(Error::validation("cost", "cost is 0.00 to 10000000.00"));
    }
    let now = crate::now();
    let row = contract::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(customer_id),
        vehicle_id: Set(n.vehicle_id),
        kind: Set(n.kind),
        provider: Set(crate::rules::text::optional("provider", n.provider, 120)?),
        reference: Set(crate::rules::text::optional("reference", n.reference, 60)?),
        starts_on: Set(n.starts_on),
        expires_on: Set(expires_on),
        cost_cents: Set(n.cost_cents),
        closed_at: Set(None),
        reminded_days: Set(None),
        created_by: Set(Some(seller.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(txn)
    .await?;
    seller
        .entry("fleet.contract_added", "fleet_contract", row.id)
        .details(json!({"customer_id": customer_id, "kind": row.kind.as_str(), "expires_on": row.expires_on}))
        .record_tenant(txn)
        .await?;
    Ok(row)
}

/// Closes a contract (renewed elsewhere, cancelled): no more reminders, audited.
///
/// # Errors
/// [`Error::NotFound`] `fleet_contract`; [`Error::Conflict`] `contract_closed`.
pub async fn close(
    txn: &impl ConnectionTrait,
    seller: &Seller,
    id: Uuid,
) -> Result<contract::Model> {
    let c = contract::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or(Error::NotFound {
            entity: "fleet_contract",
        })?;
    if c.closed_at.is_some() {
        return Err(Error::conflict(
            "contract_closed",
            "the contract is already closed",
        ));
    }
    let mut am: contract::ActiveModel = c.into();
    let now = crate::now();
    am.closed_at = Set(Some(now));
    am.updated_at = Set(now);
    let c = am.update(txn).await?;
    seller
        .entry("fleet.contract_closed", "fleet_contract", id)
        .record_tenant(txn)
        .await?;
    Ok(c)
}

/// Filters of a fleet's contract list.
#[derive(Debug, Clone, Default)]
pub struct ContractFilter {
    /// One unit's.
    pub vehicle_id: Option<Uuid>,
    /// One kind.
    pub kind: Option<Kind>,
    /// Open and ending within this many days from today (expired ones excluded).
    pub expiring_within_days: Option<i64>,
}

/// A fleet's contracts by end date.
///
/// # Errors
/// [`Error::NotFound`] `fleet`.
pub async fn list(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
    f: ContractFilter,
    page: PageRequest,
) -> Result<Page<contract::Model>> {
    crate::fleets::profiles::get(db, customer_id).await?;
    let mut q = contract::Entity::find()
        .filter(contract::Column::CustomerId.eq(customer_id))
        .order_by_asc(contract::Column::ExpiresOn)
        .order_by_asc(contract::Column::Id);
    if let Some(v) = f.vehicle_id {
        q = q.filter(contract::Column::VehicleId.eq(v));
    }
    if let Some(k) = f.kind {
        q = q.filter(contract::Column::Kind.eq(k));
    }
    if let Some(d) = f.expiring_within_days {
        let today = crate::today();
        q = q
            .filter(contract::Column::ClosedAt.is_null())
            .filter(contract::Column::ExpiresOn.gte(today))
            .filter(contract::Column::ExpiresOn.lte(today + chrono::Duration::days(d)));
    }
    page.fetch(db, q).await
}
