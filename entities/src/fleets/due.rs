//! The daily fleet events and the settings they read. `maintenance_due`: one per (vehicle,
//! plan, due point) once the plan is urgent or worse, whatever the number of runs (the state
//! keeps the due point it told; the next cycle has another point and is told again).
//! `contract_expiring`: at the first notice (30 days before the end by default) and at the
//! second (15), each once per contract.

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::fleets::tables::{contract, fleet_vehicle, plan, plan_state, setting};
use crate::notifications::events::{self, NewEvent};
use crate::org::seller::Seller;
use crate::rules::maintenance::{self, Due, Thresholds};
use crate::{Error, Result};

pub use crate::notifications::events::{CONTRACT_EXPIRING, MAINTENANCE_DUE};

/// The business's fleet settings (the defaults until written).
///
/// # Errors
/// Database errors.
pub async fn settings(db: &impl ConnectionTrait) -> Result<setting::Model> {
    let t = Thresholds::default();
    Ok(setting::Entity::find_by_id(1)
        .one(db)
        .await?
        .unwrap_or(setting::Model {
            id: 1,
            very_urgent_days: i32::try_from(t.very_urgent_days).unwrap_or(7),
            very_urgent_km: t.very_urgent_km,
            urgent_days: i32::try_from(t.urgent_days).unwrap_or(30),
            urgent_km: t.urgent_km,
            contract_notice_days: 30,
            contract_second_notice_days: 15,
            updated_at: chrono::DateTime::UNIX_EPOCH,
        }))
}

/// The windows a plan is judged by: the business's, with the plan's own warning window in
/// place of the `urgent` one when it has one.
#[must_use]
pub fn thresholds(s: &setting::Model, p: &plan::Model) -> Thresholds {
    Thresholds {
        very_urgent_days: i64::from(s.very_urgent_days),
        very_urgent_km: s.very_urgent_km,
        urgent_days: i64::from(p.warn_days.unwrap_or(s.urgent_days)),
        urgent_km: p.warn_km.unwrap_or(s.urgent_km),
    }
}

/// New fleet settings.
#[derive(Debug, Clone, Copy)]
pub struct NewSettings {
    /// Very urgent within this many days (0 to 365).
    pub very_urgent_days: i32,
    /// Very urgent within this many km (0 to 100 000).
    pub very_urgent_km: i64,
    /// Urgent within this many days (at least the very urgent days, at most 365).
    pub urgent_days: i32,
    /// Urgent within this many km (at least the very urgent km, at most 100 000).
    pub urgent_km: i64,
    /// First contract notice, days before the end (1 to 365).
    pub contract_notice_days: i32,
    /// Second contract notice (1 to the first).
    pub contract_second_notice_days: i32,
}

/// Replaces the fleet settings (managers and up), audited.
///
/// # Errors
/// [`Error::Forbidden`]; [`Error::Validation`] naming the field.
pub async fn set_settings(
    db: &impl ConnectionTrait,
    seller: &Seller,
    n: NewSettings,
) -> Result<setting::Model> {
    crate::fleets::require_manager(seller, "changing the fleet settings")?;
    if !(0..=365).contains(&n.very_urgent_days) {
        return Err(Error::validation(
            "very_urgent_days",
            "very_urgent_days is 0 to 365",
        ));
    }
    if !(n.very_urgent_days..=365).contains(&n.urgent_days) {
        return Err(Error::validation(
            "urgent_days",
            "urgent_days is very_urgent_days to 365",
        ));
    }
    if !(0..=100_000).contains(&n.very_urgent_km) {
        return Err(Error::validation(
            "very_urgent_km",
            "very_urgent_km is 0 to 100000",
        ));
    }
    if !(n.very_urgent_km..=100_000).contains(&n.urgent_km) {
        return Err(Error::validation(
            "urgent_km",
            "urgent_km is very_urgent_km to 100000",
        ));
    }
    if !(1..=365).contains(&n.contract_notice_days) {
        return Err(Error::validation(
            "contract_notice_days",
            "contract_notice_days is 1 to 365",
        ));
    }
    if !(1..=n.contract_notice_days).contains(&n.contract_second_notice_days) {
        return Err(Error::validation(
            "contract_second_notice_days",
            "contract_second_notice_days is 1 to contract_notice_days",
        ));
    }
    let exists = setting::Entity::find_by_id(1).one(db).await?.is_some();
    let am = setting::ActiveModel {
        id: Set(1),
        very_urgent_days: Set(n.very_urgent_days),
        very_urgent_km: Set(n.very_urgent_km),
        urgent_days: Set(n.urgent_days),
        urgent_km: Set(n.urgent_km),
        contract_notice_days: Set(n.contract_notice_days),
        contract_second_notice_days: Set(n.contract_second_notice_days),
        updated_at: Set(crate::now()),
    };
    let saved = if exists {
        am.update(db).await?
    } else {
        am.insert(db).await?
    };
    seller
        .entry("fleets.settings_updated", "fleet_settings", Uuid::nil())
        .details(json!({"very_urgent_days": n.very_urgent_days, "very_urgent_km": n.very_urgent_km, "urgent_days": n.urgent_days, "urgent_km": n.urgent_km, "contract_notice_days": n.contract_notice_days, "contract_second_notice_days": n.contract_second_notice_days}))
        .record_tenant(db)
        .await?;
    Ok(saved)
}

/// What a daily run recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recorded {
    /// `maintenance_due` events.
    pub maintenance: usize,
    /// `contract_expiring` events.
    pub contracts: usize,
}

/// States read a page at a time, so memory stays flat with the fleet's size.
const PAGE: u64 = 5_000;

/// Records, in the caller's transaction, one `maintenance_due` event per state of an active
/// plan on an active fleet unit that is urgent or worse on `today` at a due point not told yet,
/// and the `contract_expiring` events due; marks each told.
///
/// # Errors
/// Database errors.
pub async fn record_due(txn: &impl ConnectionTrait, today: NaiveDate) -> Result<Recorded> {
    let s = settings(txn).await?;
    let plans: std::collections::HashMap<Uuid, plan::Model> = plan::Entity::find()
        .filter(plan::Column::IsActive.eq(true))
        .all(txn)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let mut out = Recorded::default();
    if !plans.is_empty() {
        let units: std::collections::HashMap<Uuid, Uuid> = fleet_vehicle::Entity::find()
            .select_only()
            .column(fleet_vehicle::Column::VehicleId)
            .column(fleet_vehicle::Column::CustomerId)
            .filter(fleet_vehicle::Column::IsActive.eq(true))
            .into_tuple::<(Uuid, Uuid)>()
            .all(txn)
            .await?
            .into_iter()
            .collect();
        let (current, paces) = crate::fleets::readings::odometers(txn, today).await?;
        let mut after: Option<Uuid> = None;
        loop {
            let mut q = plan_state::Entity::find()
                .order_by_asc(plan_state::Column::Id)
                .limit(PAGE);
            if let Some(a) = after {
                q = q.filter(plan_state::Column::Id.gt(a));
            }
            let page = q.all(txn).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            let mut events_out = Vec::new();
            for st in page {
                let (Some(p), Some(customer)) = (plans.get(&st.plan_id), units.get(&st.vehicle_id))
                else {
                    continue;
                };
                let due = Due {
                    km: st.next_due_km,
                    on: st.next_due_on,
                };
                let key = due.key();
                if st.notified_due.as_deref() == Some(key.as_str()) {
                    continue;
                }
                let km = current.get(&st.vehicle_id).copied();
                let standing = maintenance::standing(
                    due,
                    today,
                    km,
                    paces.get(&st.vehicle_id).copied(),
                    thresholds(&s, p),
                );
                if !standing.urgency.warns() {
                    continue;
                }
                events_out.push(NewEvent {
                    ref_id: st.id.to_string(),
                    payload: json!({
                        "vehicle_id": st.vehicle_id, "customer_id": customer, "plan_id": p.id,
                        "plan": p.name, "due_km": due.km, "due_on": due.on, "current_km": km,
                        "urgency": standing.urgency.as_str(),
                        "metric": standing.metric.map(|m| m.as_str()),
                        "projected_on": standing.projected_on, "alert_on": standing.alert_on,
                    }),
                });
                let mut am: plan_state::ActiveModel = st.into();
                am.notified_due = Set(Some(key));
                am.notified_on = Set(Some(today));
                am.update(txn).await?;
            }
            out.maintenance += events_out.len();
            events::record_many(txn, MAINTENANCE_DUE, "vehicle_plan_state", events_out).await?;
        }
    }
    out.contracts = contracts_due(txn, &s, today).await?;
    Ok(out)
}

async fn contracts_due(
    txn: &impl ConnectionTrait,
    s: &setting::Model,
    today: NaiveDate,
) -> Result<usize> {
    let (first, second) = (s.contract_notice_days, s.contract_second_notice_days);
    let due = contract::Entity::find()
        .filter(contract::Column::ClosedAt.is_null())
        .filter(contract::Column::ExpiresOn.gte(today))
        .filter(contract::Column::ExpiresOn.lte(today + chrono::Duration::days(i64::from(first))))
        .all(txn)
        .await?;
    let mut evs = Vec::new();
    for c in due {
        let left = i32::try_from((c.expires_on - today).num_days()).unwrap_or(i32::MAX);
        let notice = if left <= second { second } else { first };
        if c.reminded_days.is_some_and(|r| r <= notice) {
            continue;
        }
        evs.push(NewEvent {
            ref_id: c.id.to_string(),
            payload: json!({
                "customer_id": c.customer_id, "vehicle_id": c.vehicle_id, "kind": c.kind.as_str(),
                "provider": c.provider, "reference": c.reference, "expires_on": c.expires_on,
                "days_left": left, "notice_days": notice,
            }),
        });
        let mut am: contract::ActiveModel = c.into();
        am.reminded_days = Set(Some(notice));
        am.updated_at = Set(crate::now());
        am.update(txn).await?;
    }
    let n = evs.len();
    events::record_many(txn, CONTRACT_EXPIRING, "fleet_contract", evs).await?;
    Ok(n)
}
