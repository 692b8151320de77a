//! Fleets: fleet customers with their units, drivers and cost centres; odometer readings that
//! only go up (a manager's rollover aside), also from receptions (a lower one flagged, never
//! refused) and counter sales; maintenance plans whichever of km and months first, the daily
//! `maintenance_due` events once per due point, a delivered service order advancing its plan;
//! cost logs and stats; contracts and their `contract_expiring` notices; who may do what.

mod odometer;
mod plans;
mod profiles;

use http::StatusCode;
use serde_json::json;
use tests::TestApp;
use uuid::Uuid;

use crate::workshop::{Garage, garage, id};

/// A garage whose customer is a fleet with its Nissan Versa as unit `T-01`.
pub async fn fleet(app: &TestApp, slug: &str) -> Garage {
    let g = garage(app, slug).await;
    let owner = app.session(g.owner());
    let r = owner
        .post(
            "/pos/api/fleets",
            json!({"customer_id": g.customer, "contact_name": "Lic. Garza"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = owner
        .post(
            &format!("/pos/api/fleets/{}/vehicles", g.customer),
            json!({"vehicle_id": g.vehicle, "unit_no": "T-01"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    g
}

/// Records a reading as `token`; answers the response.
pub async fn read(
    app: &TestApp,
    token: &str,
    vehicle: Uuid,
    body: serde_json::Value,
) -> tests::TestResponse {
    app.session(token)
        .post(
            &format!("/pos/api/vehicles/registered/{vehicle}/odometer"),
            body,
        )
        .await
}

/// Fires the daily fleet schedule and delivers its jobs.
pub async fn run_daily(app: &TestApp) {
    let _jobs = app.drive_jobs(crate::purchasing::runtime(app));
    let fired = schedules::Scheduler::new(
        app.app.platform.clone(),
        app.app.tenants.clone(),
        app.app.waker.clone(),
        jobs::maintenance::Retention::default(),
    )
    .fire(schedules::Schedule::MaintenanceDue, entities::now())
    .await
    .unwrap();
    assert!(fired.claimed && fired.failed.is_empty(), "{fired:?}");
    app.run_jobs().await;
}

/// The id of a JSON object.
pub fn oid(v: &serde_json::Value) -> Uuid {
    id(v)
}
