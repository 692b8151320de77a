//! Maintenance plans: due whichever of km and months comes first, the daily `maintenance_due`
//! event once per due point (and again at the next one), a delivered service order with the
//! plan's item advancing it, contracts told at 30 and 15 days once each, cost logs and stats
//! with hand-computed totals, and bad input refused naming the field.

use chrono::Duration;
use entities::Role;
use entities::fleets::due;
use entities::notifications::events;
use http::StatusCode;
use serde_json::json;
use tests::{TestApp, shape_tests};

use super::{fleet, oid, read, run_daily};
use crate::workshop::step;

shape_tests!(
    a_plan_is_due_whichever_of_km_and_months_first_and_told_once_per_due_point,
    a_delivered_service_order_with_the_plans_item_advances_it_and_logs_its_cost,
    contracts_are_told_at_thirty_and_at_fifteen_days_once_each,
    bad_plans_and_settings_are_refused_naming_the_field,
    logs_give_the_spend_per_month_and_the_cost_per_km,
);

async fn a_plan_is_due_whichever_of_km_and_months_first_and_told_once_per_due_point(app: TestApp) {
    let g = fleet(&app, "plan-due").await;
    let owner = app.session(g.owner());
    let today = entities::today();
    read(&app, g.owner(), g.vehicle, json!({"km": 89_950})).await;
    let done_on = today - Duration::days(30);
    let r = owner
        .post(
            "/pos/api/maintenance-plans",
            json!({"name": "Aceite y filtro", "vehicle_id": g.vehicle, "interval_km": 10_000,
                   "interval_months": 6, "last_done_km": 80_000, "last_done_on": done_on}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let plan = oid(&r.json);
    let path = format!("/pos/api/vehicles/registered/{}/maintenance", g.vehicle);
    let m = owner.get(&path).await.json;
    // Due at 90 000 km or six months after the last service; 50 km left is very urgent by km.
    assert_eq!(m[0]["next_due_km"], 90_000, "{m}");
    let six_months = entities::rules::maintenance::add_months(done_on, 6);
    assert_eq!(m[0]["next_due_on"], six_months.to_string());
    assert_eq!(m[0]["urgency"], "very_urgent");
    assert_eq!(m[0]["metric"], "km");
    run_daily(&app).await;
    let evs = events::of_kind(&g.s.db, events::MAINTENANCE_DUE)
        .await
        .unwrap();
    assert_eq!(evs.len(), 1, "{evs:?}");
    assert_eq!(evs[0].payload["due_km"], 90_000);
    assert_eq!(evs[0].payload["urgency"], "very_urgent");
    assert_eq!(evs[0].payload["customer_id"], g.customer.to_string());
    // Another run the same day tells nothing again.
    let n = due::record_due(&g.s.db, today).await.unwrap();
    assert_eq!(n.maintenance, 0);
    // Done at 90 000: due again at 100 000, not urgent; at 99 950 a new due point is told.
    let r = owner
        .post(&format!("{path}/{plan}/done"), json!({"km": 90_000}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["next_due_km"], 100_000);
    assert_eq!(r.json["urgency"], "not_urgent");
    read(&app, g.owner(), g.vehicle, json!({"km": 99_950})).await;
    let n = due::record_due(&g.s.db, today).await.unwrap();
    assert_eq!(n.maintenance, 1);
    assert_eq!(
        events::of_kind(&g.s.db, events::MAINTENANCE_DUE)
            .await
            .unwrap()
            .len(),
        2
    );
    // A make-and-model plan starts on the unit (any case) at its current reading.
    let r = owner
        .post(
            "/pos/api/maintenance-plans",
            json!({"name": "Afinación", "make": "nissan", "model": "VERSA", "interval_km": 20_000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let m = owner.get(&path).await.json;
    assert_eq!(m.as_array().unwrap().len(), 2, "{m}");
    let tune = m
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["plan"] == "Afinación")
        .unwrap();
    assert_eq!(tune["last_done_km"], 99_950);
    assert_eq!(tune["next_due_km"], 119_950);
}

async fn a_delivered_service_order_with_the_plans_item_advances_it_and_logs_its_cost(app: TestApp) {
    let g = fleet(&app, "plan-orden").await;
    let owner = app.session(g.owner());
    let r = owner
        .post(
            "/pos/api/maintenance-plans",
            json!({"name": "Balatas", "vehicle_id": g.vehicle, "item_id": g.pads,
                   "interval_km": 30_000, "last_done_km": 50_000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    // Received at 85 000 km, a set of pads and 1.5 h of labour.
    let o = g.approved(&app, &[(g.pads, 1)]).await;
    let order = oid(&o);
    for a in ["check", "ready"] {
        step(&app, g.owner(), order, a, json!({})).await;
    }
    let total = owner
        .get(&format!("/pos/api/service-orders/{order}"))
        .await
        .json["charged"]["total"]
        .as_str()
        .unwrap()
        .to_owned();
    // 450.00 of pads and 1.5 × 400.00 of labour.
    assert_eq!(total, "1050.00");
    let r = owner
        .post(
            &format!("/pos/api/service-orders/{order}/deliver"),
            json!({"payments": [{"method": "card", "amount": total}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let m = owner
        .get(&format!(
            "/pos/api/vehicles/registered/{}/maintenance",
            g.vehicle
        ))
        .await
        .json;
    assert_eq!(m[0]["last_done_km"], 85_000, "{m}");
    assert_eq!(m[0]["next_due_km"], 115_000);
    let logs = owner
        .get(&format!("/pos/api/vehicles/registered/{}/logs", g.vehicle))
        .await
        .json;
    assert_eq!(logs["total"], 1, "{logs}");
    assert_eq!(logs["items"][0]["kind"], "service");
    assert_eq!(logs["items"][0]["amount"], "1050.00");
    assert_eq!(logs["items"][0]["service_order_id"], order.to_string());
}

async fn contracts_are_told_at_thirty_and_at_fifteen_days_once_each(app: TestApp) {
    let g = fleet(&app, "plan-contrato").await;
    let owner = app.session(g.owner());
    let today = entities::today();
    let base = format!("/pos/api/fleets/{}/contracts", g.customer);
    let r = owner
        .post(
            &base,
            json!({"kind": "insurance", "vehicle_id": g.vehicle, "provider": "GNP",
                   "reference": "POL-778", "starts_on": today - Duration::days(345),
                   "expires_on": today + Duration::days(20), "cost": "8500.00"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["status"], "active");
    assert_eq!(r.json["cost"], "8500.00");
    let contract = oid(&r.json);
    // A year from its start when no end is given.
    let r = owner
        .post(
            &base,
            json!({"kind": "tenencia", "starts_on": "2025-01-31"}),
        )
        .await;
    assert_eq!(r.json["expires_on"], "2026-01-31", "{}", r.text());
    let r = owner
        .post(&base, json!({"kind": "seguro", "starts_on": "2025-01-31"}))
        .await;
    assert_eq!(r.json["error"]["field"], "kind", "{}", r.text());
    // 20 days left: the 30-day notice, once.
    assert_eq!(due::record_due(&g.s.db, today).await.unwrap().contracts, 1);
    assert_eq!(due::record_due(&g.s.db, today).await.unwrap().contracts, 0);
    // 10 days before (ten days on): the 15-day notice, once.
    let later = today + Duration::days(10);
    assert_eq!(due::record_due(&g.s.db, later).await.unwrap().contracts, 1);
    assert_eq!(due::record_due(&g.s.db, later).await.unwrap().contracts, 0);
    let evs = events::of_kind(&g.s.db, events::CONTRACT_EXPIRING)
        .await
        .unwrap();
    let notices: Vec<_> = evs
        .iter()
        .map(|e| e.payload["notice_days"].clone())
        .collect();
    assert_eq!(notices, vec![json!(30), json!(15)]);
    let r = owner.get(&format!("{base}?expiring_within_days=30")).await;
    assert_eq!(r.json["total"], 1, "{}", r.text());
    let r = owner
        .put(
            &format!("/pos/api/fleet-contracts/{contract}/close"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["status"], "closed");
    let r = owner
        .put(
            &format!("/pos/api/fleet-contracts/{contract}/close"),
            json!({}),
        )
        .await;
    assert_eq!(r.code(), "contract_closed");
}

async fn bad_plans_and_settings_are_refused_naming_the_field(app: TestApp) {
    let g = fleet(&app, "plan-malo").await;
    let owner = app.session(g.owner());
    let v = g.vehicle;
    for (body, field) in [
        (json!({"name": "x", "vehicle_id": v}), "interval_km"),
        (
            json!({"name": "x", "vehicle_id": v, "interval_months": 0}),
            "interval_months",
        ),
        (
            json!({"name": "x", "vehicle_id": v, "interval_km": 5_000, "warn_km": 6_000}),
            "warn_km",
        ),
        (
            json!({"name": "x", "vehicle_id": v, "make": "Nissan", "interval_km": 5_000}),
            "vehicle_id",
        ),
        (
            json!({"name": "x", "make": "Nissan", "interval_km": 5_000}),
            "vehicle_id",
        ),
        (
            json!({"name": " ", "vehicle_id": v, "interval_km": 5_000}),
            "name",
        ),
    ] {
        let r = owner.post("/pos/api/maintenance-plans", body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text()
        );
        assert_eq!(r.json["error"]["field"], field, "{body}");
    }
    let r = owner
        .post(
            "/pos/api/maintenance-plans",
            json!({"name": "x", "vehicle_id": g.s.branch, "interval_km": 5_000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    assert_eq!(r.code(), "vehicle_not_found");
    assert_eq!(
        owner.get("/pos/api/maintenance-plans").await.json["total"],
        0
    );
    let cashier = g.s.token(&app, Role::Cashier).await;
    let r = app
        .session(&cashier)
        .post(
            "/pos/api/maintenance-plans",
            json!({"name": "x", "vehicle_id": v, "interval_km": 5_000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let s = owner.get("/pos/api/fleet-settings").await.json;
    assert_eq!(
        s,
        json!({"very_urgent_days": 7, "very_urgent_km": 50, "urgent_days": 30, "urgent_km": 100,
               "contract_notice_days": 30, "contract_second_notice_days": 15})
    );
    let mut bad = s.clone();
    bad["urgent_days"] = json!(5);
    let r = owner.put("/pos/api/fleet-settings", bad).await;
    assert_eq!(r.json["error"]["field"], "urgent_days", "{}", r.text());
    let mut good = s.clone();
    good["urgent_km"] = json!(500);
    let r = owner.put("/pos/api/fleet-settings", good).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["urgent_km"], 500);
}

async fn logs_give_the_spend_per_month_and_the_cost_per_km(app: TestApp) {
    let g = fleet(&app, "plan-costos").await;
    let owner = app.session(g.owner());
    let path = format!("/pos/api/vehicles/registered/{}/logs", g.vehicle);
    for body in [
        json!({"kind": "fuel", "spent_on": "2025-01-15", "amount": "500.00", "odometer_km": 10_000, "fuel_ml": 40_000}),
        json!({"kind": "other", "spent_on": "2025-02-10", "amount": "120.50", "description": "caseta"}),
        json!({"kind": "fuel", "spent_on": "2025-03-05", "amount": "650.00", "odometer_km": 11_500, "fuel_ml": 52_000}),
    ] {
        let r = owner.post(&path, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }
    let r = owner
        .post(&path, json!({"kind": "fuel", "spent_on": "2025-03-06", "amount": "10.00", "odometer_km": 11_000}))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert_eq!(r.code(), "odometer_below_current");
    let r = owner
        .post(
            &path,
            json!({"kind": "service", "spent_on": "2025-03-06", "amount": "10.00", "fuel_ml": 1}),
        )
        .await;
    assert_eq!(r.json["error"]["field"], "fuel_ml", "{}", r.text());
    let r = owner
        .post(
            &path,
            json!({"kind": "fuel", "spent_on": "2025-03-06", "amount": "-1"}),
        )
        .await;
    assert_eq!(r.json["error"]["field"], "amount", "{}", r.text());
    assert_eq!(owner.get(&path).await.json["total"], 3);
    let st = owner
        .get(&format!(
            "/pos/api/vehicles/registered/{}/stats?from=2025-01-01&to=2025-03-31",
            g.vehicle
        ))
        .await;
    assert_eq!(st.status, StatusCode::OK, "{}", st.text());
    let st = st.json;
    assert_eq!(st["spend"]["total"], "1270.50", "{st}");
    assert_eq!(st["spend"]["fuel"], "1150.00");
    assert_eq!(st["km_driven"], 1_500);
    // 127 050 centavos over 1 500 km: 84.7, so 85 centavos a km.
    assert_eq!(st["cost_per_km"], "0.85");
    assert_eq!(st["fuel_ml"], 92_000);
    let months: Vec<(String, String)> = st["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["month"].as_str().unwrap().to_owned(),
                m["spend"]["total"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        months,
        vec![
            ("2025-01".to_owned(), "500.00".to_owned()),
            ("2025-02".to_owned(), "120.50".to_owned()),
            ("2025-03".to_owned(), "650.00".to_owned()),
        ]
    );
    let fs = owner
        .get(&format!(
            "/pos/api/fleets/{}/stats?from=2025-01-01&to=2025-03-31",
            g.customer
        ))
        .await;
    assert_eq!(fs.json["spend"]["total"], "1270.50", "{}", fs.text());
    let r = owner
        .get(&format!(
            "/pos/api/fleets/{}/stats?from=2025-03-01&to=2025-01-01",
            g.customer
        ))
        .await;
    assert_eq!(r.json["error"]["field"], "from", "{}", r.text());
}
