//! Prices: list prices and branch overrides resolved per branch, USD prices at the rate in
//! force, the rate's history, and propagating list prices to branches with the `pricing.sync`
//! job (idempotent: a second run writes nothing).

use entities::Role;
use entities::{
    inventory::tables::item, org::tables::audit_log, pricing::admin, pricing::tables::item_price,
    pricing::tables::price_sync,
};
use http::StatusCode;
use jobs::Job;
use jobs::pricing::SyncPrices;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use tests::{TestApp, TestResponse, TestTenant, shape_tests};
use uuid::Uuid;
use workers::runtime::{Outcome, Runtime};
use workers::services::Services;

use crate::customers::records::branch;

shape_tests!(
    a_list_price_and_a_branch_override_resolve_per_branch,
    a_usd_price_converts_at_the_rate_in_force,
    bad_prices_are_refused_naming_the_field,
    the_rate_history_keeps_every_rate_and_the_last_is_in_force,
    sync_prices_makes_every_branch_follow_the_list_price_and_a_second_run_writes_nothing,
    fill_missing_keeps_overrides_and_another_tenants_sync_is_not_found,
    a_sync_that_died_after_a_batch_resumes_without_counting_a_row_twice,
    a_sync_that_cannot_run_ends_failed_with_the_reason,
    the_nil_branch_is_not_found_and_a_branch_scoped_manager_sets_no_list_price,
);

/// Inserts an item directly (the items API is built elsewhere).
async fn new_item(app: &TestApp, t: &TestTenant, sku: &str, retail: Option<i64>) -> Uuid {
    let now = entities::now();
    let id = Uuid::now_v7();
    item::ActiveModel {
        id: Set(id),
        sku: Set(sku.into()),
        catalog_part_id: Set(None),
        name: Set(format!("Pieza {sku}")),
        description: Set(None),
        brand: Set(None),
        part_number: Set(None),
        sat_product_key: Set(None),
        sat_unit_key: Set(None),
        cost_cents: Set(0),
        avg_cost_cents: Set(0),
        retail_price_cents: Set(retail),
        min_qty: Set(0),
        max_qty: Set(None),
        kind: Set(item::Kind::Part),
        core_charge_cents: Set(0),
        is_active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.tenant_db(t).await)
    .await
    .unwrap();
    id
}

async fn set_prices(app: &TestApp, token: &str, item: Uuid, prices: Value) -> TestResponse {
    app.session(token)
        .put(
            &format!("/pos/api/items/{item}/prices"),
            json!({ "prices": prices }),
        )
        .await
}

fn resolved<'a>(v: &'a Value, branch: Uuid, list: &str) -> &'a Value {
    v["resolved"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["branch_id"] == json!(branch) && r["price_list"] == list)
        .unwrap_or_else(|| panic!("no resolved price for {branch} {list}: {v}"))
}

async fn a_list_price_and_a_branch_override_resolve_per_branch(app: TestApp) {
    let t = app.tenant("acme").await;
    let owner = app.token(&t.owner_email).await;
    let manager = app.user(&t, Role::Manager, None).await;
    let manager = app.token(&manager).await;
    let mty = branch(&app, &owner, "MTY").await;
    let gdl = branch(&app, &owner, "GDL").await;
    let it = new_item(&app, &t, "BAL-001", Some(12_000)).await;

    let r = set_prices(
        &app,
        &manager,
        it,
        json!([
            {"price_list": "mostrador", "amount": "100", "currency": "MXN"},
            {"price_list": "taller", "amount": "90.00", "currency": "mxn"},
            {"price_list": "taller", "branch_id": gdl, "amount": "85.50", "currency": "MXN"},
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["prices"].as_array().unwrap().len(), 3);
    let r = app
        .session(&manager)
        .get(&format!("/pos/api/items/{it}/prices"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let j = &r.json;
    let taller_mty = resolved(j, mty, "taller");
    assert_eq!(taller_mty["unit_price"], "90.00");
    assert_eq!(taller_mty["source"], "list");
    let taller_gdl = resolved(j, gdl, "taller");
    assert_eq!(taller_gdl["unit_price"], "85.50");
    assert_eq!(taller_gdl["source"], "branch_override");
    let flotilla = resolved(j, gdl, "flotilla");
    assert_eq!(flotilla["unit_price"], "100.00");
    assert_eq!(flotilla["source"], "mostrador");

    // Changing one row leaves the others.
    let r = set_prices(
        &app,
        &manager,
        it,
        json!([{"price_list": "taller", "amount": "95", "currency": "MXN"}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(resolved(&r.json, mty, "taller")["unit_price"], "95.00");
    assert_eq!(resolved(&r.json, gdl, "taller")["unit_price"], "85.50");

    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("prices.set"))
        .all(&app.tenant_db(&t).await)
        .await
        .unwrap();
    assert_eq!(audited.len(), 2);
}

async fn a_usd_price_converts_at_the_rate_in_force(mut app: TestApp) {
    app.reconfigure(&[("EXCHANGE_RATE_USD_MXN", "17.00")]).await;
    let t = app.tenant("acme").await;
    let owner = app.token(&t.owner_email).await;
    let mty = branch(&app, &owner, "MTY").await;
    let it = new_item(&app, &t, "USD-001", None).await;
    let r = set_prices(
        &app,
        &owner,
        it,
        json!([{"price_list": "mostrador", "amount": "10.01", "currency": "USD"}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    // The configured default (17) until an admin sets one.
    let p = resolved(&r.json, mty, "mostrador");
    assert_eq!(p["unit_price"], "170.17");
    assert_eq!(p["amount"], "10.01");
    assert_eq!(p["currency"], "USD");

    let r = app
        .session(&owner)
        .put(
            "/pos/api/settings/exchange-rate",
            json!({"rate": "17.2345", "note": "DOF"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .session(&owner)
        .get(&format!("/pos/api/items/{it}/prices"))
        .await;
    assert_eq!(r.json["exchange_rate"], "17.2345");
    // 10.01 × 17.2345 = 172.517345 → 172.52
    assert_eq!(resolved(&r.json, mty, "mostrador")["unit_price"], "172.52");
}

async fn bad_prices_are_refused_naming_the_field(app: TestApp) {
    let t = app.tenant("acme").await;
    let owner = app.token(&t.owner_email).await;
    let it = new_item(&app, &t, "BAD-001", None).await;
    for (price, field) in [
        (
            json!({"price_list": "mostrador", "amount": "1", "currency": "EUR"}),
            "prices[0].currency",
        ),
        (
            json!({"price_list": "vip", "amount": "1", "currency": "MXN"}),
            "prices[0].price_list",
        ),
        (
            json!({"price_list": "mostrador", "amount": "-1", "currency": "MXN"}),
            "prices[0].amount",
        ),
        (
            json!({"price_list": "mostrador", "amount": "1.001", "currency": "MXN"}),
            "prices[0].amount",
        ),
    ] {
        let r = set_prices(&app, &owner, it, json!([price])).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
        assert_eq!(r.json["error"]["field"], field, "{}", r.text());
    }
    let r = set_prices(
        &app,
        &owner,
        it,
        json!([{"price_list": "mostrador", "branch_id": Uuid::now_v7(), "amount": "1", "currency": "MXN"}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "unknown branch");
    let ok = json!([{"price_list": "mostrador", "amount": "1", "currency": "MXN"}]);
    let r = set_prices(&app, &owner, Uuid::now_v7(), ok.clone()).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "unknown item");
    let cashier = app.user(&t, Role::Cashier, None).await;
    let cashier = app.token(&cashier).await;
    let r = set_prices(&app, &cashier, it, ok.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Another tenant's item is not found.
    let b = app.tenant("bravo").await;
    let other = app.token(&b.owner_email).await;
    assert_eq!(
        set_prices(&app, &other, it, ok).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.session(&other)
            .get(&format!("/pos/api/items/{it}/prices"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let rows = item_price::Entity::find()
        .all(&app.tenant_db(&t).await)
        .await
        .unwrap();
    assert!(rows.is_empty(), "nothing was written: {rows:?}");
}

async fn the_rate_history_keeps_every_rate_and_the_last_is_in_force(mut app: TestApp) {
    app.reconfigure(&[("EXCHANGE_RATE_USD_MXN", "16.90")]).await;
    let t = app.tenant("acme").await;
    let owner = app.token(&t.owner_email).await;
    let r = app
        .session(&owner)
        .get("/pos/api/settings/exchange-rate")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["source"], "configured");
    assert_eq!(r.json["rate"], "16.9");
    assert_eq!(r.json["history"]["total"], 0);

    for rate in ["17.5", "18.123456"] {
        let r = app
            .session(&owner)
            .put("/pos/api/settings/exchange-rate", json!({"rate": rate}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let r = app
        .session(&owner)
        .get("/pos/api/settings/exchange-rate?per_page=1")
        .await;
    assert_eq!(r.json["source"], "set");
    assert_eq!(r.json["rate"], "18.123456");
    assert_eq!(r.json["history"]["total"], 2);
    assert_eq!(r.json["history"]["items"][0]["rate"], "18.123456");
    let r = app
        .session(&owner)
        .get("/pos/api/settings/exchange-rate?page=2&per_page=1")
        .await;
    assert_eq!(r.json["history"]["items"][0]["rate"], "17.5");

    for role in [Role::Cashier, Role::Manager] {
        let u = app.user(&t, role, None).await;
        let tok = app.token(&u).await;
        let r = app
            .session(&tok)
            .put("/pos/api/settings/exchange-rate", json!({"rate": "1"}))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{role}");
        assert_eq!(
            app.session(&tok)
                .get("/pos/api/settings/exchange-rate")
                .await
                .status,
            StatusCode::OK
        );
    }
    for bad in ["0", "abc", "17.1234567"] {
        let r = app
            .session(&owner)
            .put("/pos/api/settings/exchange-rate", json!({"rate": bad}))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(r.json["error"]["field"], "rate");
    }
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("exchange_rate.set"))
        .all(&app.tenant_db(&t).await)
        .await
        .unwrap();
    assert_eq!(audited.len(), 2);
}

/// The branch rows of a list for an item: branch → (amount, currency).
async fn branch_rows(app: &TestApp, t: &TestTenant, item: Uuid, list: &str) -> Vec<(Uuid, i64)> {
    let mut v: Vec<(Uuid, i64)> = item_price::Entity::find()
        .filter(item_price::Column::ItemId.eq(item))
        .filter(item_price::Column::PriceList.eq(list))
        .filter(item_price::Column::BranchId.ne(Uuid::nil()))
        .all(&app.tenant_db(t).await)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.branch_id, r.amount_minor))
        .collect();
    v.sort_unstable();
    v
}

async fn sync_status(app: &TestApp, token: &str, id: &str) -> Value {
    let r = app
        .session(token)
        .get(&format!("/pos/api/inventory/sync-prices/{id}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json
}

async fn sync_prices_makes_every_branch_follow_the_list_price_and_a_second_run_writes_nothing(
    app: TestApp,
) {
    let t = app.tenant("acme").await;
    let owner = app.token(&t.owner_email).await;
    branch(&app, &owner, "MTY").await;
    branch(&app, &owner, "GDL").await;
    // Every active branch, the tenant's first one included.
    let mut branches: Vec<Uuid> = app
        .session(&owner)
        .get("/pos/api/branches?active=true")
        .await
        .json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap().parse().unwrap())
        .collect();
    branches.sort_unstable();
    assert_eq!(branches.len(), 3);
    let a = new_item(&app, &t, "SYN-A", None).await;
    let b = new_item(&app, &t, "SYN-B", None).await;
    let no_list_price = new_item(&app, &t, "SYN-C", None).await;
    set_prices(
        &app,
        &owner,
        a,
        json!([
            {"price_list": "mostrador", "amount": "100", "currency": "MXN"},
            {"price_list": "mostrador", "branch_id": branches[0], "amount": "80", "currency": "MXN"},
        ]),
    )
    .await;
    set_prices(
        &app,
        &owner,
        b,
        json!([{"price_list": "mostrador", "amount": "50", "currency": "MXN"}]),
    )
    .await;
    set_prices(
        &app,
        &owner,
        no_list_price,
        json!([{"price_list": "mostrador", "branch_id": branches[1], "amount": "7", "currency": "MXN"}]),
    )
    .await;
    // The list price changes after the override was set.
    let r = set_prices(
        &app,
        &owner,
        a,
        json!([{"price_list": "mostrador", "amount": "120", "currency": "MXN"}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    let cashier = app.user(&t, Role::Cashier, None).await;
    let cashier = app.token(&cashier).await;
    let r = app
        .session(&cashier)
        .post("/pos/api/inventory/sync-prices", json!({}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .session(&owner)
        .post(
            "/pos/api/inventory/sync-prices",
            json!({"mode": "everything"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json["error"]["field"], "mode");

    let r = app
        .session(&owner)
        .post(
            "/pos/api/inventory/sync-prices",
            json!({"price_list": "mostrador"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    assert_eq!(r.json["status"], "queued");
    let id = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.headers["location"].to_str().unwrap(),
        format!("/pos/api/inventory/sync-prices/{id}")
    );
    assert_eq!(sync_status(&app, &owner, &id).await["status"], "queued");

    let rt = Runtime::new(
        app.app.platform.clone(),
        app.app.tenants.clone(),
        workers::handlers::all(Services::none()),
    );
    app.run_pending_jobs(&rt).await;
    let done = sync_status(&app, &owner, &id).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(
        done["result"],
        json!({"branches": 3, "items": 2, "overrides_removed": 1, "rows_unchanged": 5}),
        "A: its one override removed; B: every branch followed the list already"
    );
    assert!(done["finished_at"].is_string());
    assert_eq!(done["error"], Value::Null);
    assert!(branch_rows(&app, &t, a, "mostrador").await.is_empty());
    assert!(branch_rows(&app, &t, b, "mostrador").await.is_empty());
    // Every branch sells at the list price, and a later change of it reaches every branch.
    let r = app
        .session(&owner)
        .get(&format!("/pos/api/items/{a}/prices"))
        .await;
    assert_eq!(
        resolved(&r.json, branches[0], "mostrador")["unit_price"],
        "120.00"
    );
    let r = set_prices(
        &app,
        &owner,
        a,
        json!([{"price_list": "mostrador", "amount": "130", "currency": "MXN"}]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .session(&owner)
        .get(&format!("/pos/api/items/{a}/prices"))
        .await;
    for b in &branches {
        let p = resolved(&r.json, *b, "mostrador");
        assert_eq!(p["unit_price"], "130.00", "{b}");
        assert_eq!(p["source"], "list");
    }
    assert_eq!(
        branch_rows(&app, &t, no_list_price, "mostrador").await,
        [(branches[1], 700)],
        "an item without a list price is left alone"
    );

    // The same job again (a second outbox row for the same propagation), delivered directly.
    let sync_id: Uuid = id.parse().unwrap();
    let job = SyncPrices {
        tenant_id: t.tenant.id,
        sync_id,
    };
    let outbox_id = jobs::outbox::enqueue(&app.tenant_db(&t).await, &job)
        .await
        .unwrap();
    let env = jobs::Envelope {
        name: SyncPrices::NAME.into(),
        tenant_id: t.tenant.id,
        outbox_id,
        attempt: 0,
        payload: serde_json::to_value(&job).unwrap(),
        due_at_us: None,
        requeued: 0,
    };
    let raw = serde_json::to_value(&env).unwrap();
    assert_eq!(rt.execute(raw.clone()).await, Outcome::Done);
    let again = sync_status(&app, &owner, &id).await;
    assert_eq!(again["status"], "done");
    assert_eq!(
        again["result"],
        json!({"branches": 3, "items": 2, "overrides_removed": 0, "rows_unchanged": 6})
    );
    // A re-delivery of that job is skipped and changes nothing.
    assert_eq!(rt.execute(raw).await, Outcome::Skipped);
    assert_eq!(
        sync_status(&app, &owner, &id).await["result"],
        again["result"]
    );
    assert!(branch_rows(&app, &t, a, "mostrador").await.is_empty());

    let synced = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("prices.synced"))
        .all(&app.tenant_db(&t).await)
        .await
        .unwrap();
    assert_eq!(synced.len(), 2);
}

async fn fill_missing_keeps_overrides_and_another_tenants_sync_is_not_found(app: TestApp) {
    let t = app.tenant("acme").await;
    let owner = app.token(&t.owner_email).await;
    let mty = branch(&app, &owner, "MTY").await;
    let gdl = branch(&app, &owner, "GDL").await;
    let it = new_item(&app, &t, "FIL-A", None).await;
    set_prices(
        &app,
        &owner,
        it,
        json!([
            {"price_list": "taller", "amount": "100", "currency": "MXN"},
            {"price_list": "taller", "branch_id": mty, "amount": "80", "currency": "MXN"},
            {"price_list": "mayoreo", "amount": "70", "currency": "MXN"},
        ]),
    )
    .await;
    let r = app
        .session(&owner)
        .post(
            "/pos/api/inventory/sync-prices",
            json!({"mode": "fill_missing", "item_ids": [it], "branch_ids": [mty, gdl]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let id = r.json["id"].as_str().unwrap().to_owned();
    let rt = Runtime::new(
        app.app.platform.clone(),
        app.app.tenants.clone(),
        workers::handlers::all(Services::none()),
    );
    app.run_pending_jobs(&rt).await;
    let done = sync_status(&app, &owner, &id).await;
    assert_eq!(
        done["result"],
        json!({"branches": 2, "items": 1, "overrides_removed": 0, "rows_unchanged": 4}),
        "{done}"
    );
    assert_eq!(
        branch_rows(&app, &t, it, "taller").await,
        [(mty, 8_000)],
        "the override stays and nothing is written"
    );
    assert_eq!(done["request"]["mode"], "fill_missing");

    let r = app
        .session(&owner)
        .post(
            "/pos/api/inventory/sync-prices",
            json!({"branch_ids": [Uuid::now_v7()]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "unknown branch");

    let b = app.tenant("bravo").await;
    let other = app.token(&b.owner_email).await;
    let r = app
        .session(&other)
        .get(&format!("/pos/api/inventory/sync-prices/{id}"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn a_sync_that_died_after_a_batch_resumes_without_counting_a_row_twice(app: TestApp) {
    let t = app.tenant("acme").await;
    let owner = app.token(&t.owner_email).await;
    let db = app.tenant_db(&t).await;
    // Ids are time-ordered: `first` is the first batch of one item.
    let first = new_item(&app, &t, "RES-A", None).await;
    let second = new_item(&app, &t, "RES-B", None).await;
    for it in [first, second] {
        set_prices(
            &app,
            &owner,
            it,
            json!([{"price_list": "flotilla", "amount": "10", "currency": "MXN"}]),
        )
        .await;
    }
    let b1 = branch(&app, &owner, "MTY").await;
    let b2 = branch(&app, &owner, "GDL").await;
    let r = app
        .session(&owner)
        .post(
            "/pos/api/inventory/sync-prices",
            json!({"price_list": "flotilla", "branch_ids": [b1, b2]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let id: Uuid = r.json["id"].as_str().unwrap().parse().unwrap();
    // The second item has overrides at both branches; the first had them too, and a run that
    // died right after committing its first batch removed those.
    set_prices(
        &app,
        &owner,
        second,
        json!([
            {"price_list": "flotilla", "branch_id": b1, "amount": "9", "currency": "MXN"},
            {"price_list": "flotilla", "branch_id": b2, "amount": "9", "currency": "MXN"},
        ]),
    )
    .await;
    let mut row: price_sync::ActiveModel = admin::get_sync(&db, id).await.unwrap().into();
    row.status = Set("running".parse().unwrap());
    row.result = Set(Some(json!({
        "branches": 2, "items": 1, "overrides_removed": 2, "rows_unchanged": 0, "cursor": first,
    })));
    row.update(&db).await.unwrap();

    let result = admin::run_sync(&db, id, 1).await.unwrap();
    assert_eq!(
        (
            result.items,
            result.overrides_removed,
            result.rows_unchanged
        ),
        (2, 4, 0),
        "the first item is not redone nor counted again"
    );
    let done = sync_status(&app, &owner, &id.to_string()).await;
    assert_eq!(
        done["result"],
        json!({"branches": 2, "items": 2, "overrides_removed": 4, "rows_unchanged": 0})
    );
    assert!(branch_rows(&app, &t, second, "flotilla").await.is_empty());
}

async fn a_sync_that_cannot_run_ends_failed_with_the_reason(app: TestApp) {
    let t = app.tenant("acme").await;
    let owner = app.token(&t.owner_email).await;
    let db = app.tenant_db(&t).await;
    let id = Uuid::now_v7();
    price_sync::ActiveModel {
        id: Set(id),
        status: Set("queued".parse().unwrap()),
        request: Set(json!({"mode": "sideways"})),
        result: Set(None),
        error: Set(None),
        requested_by: Set(None),
        finished_at: Set(None),
        created_at: Set(entities::now()),
    }
    .insert(&db)
    .await
    .unwrap();
    let job = SyncPrices {
        tenant_id: t.tenant.id,
        sync_id: id,
    };
    let outbox_id = jobs::outbox::enqueue(&db, &job).await.unwrap();
    let rt = Runtime::new(
        app.app.platform.clone(),
        app.app.tenants.clone(),
        workers::handlers::all(Services::none()),
    );
    let env = jobs::Envelope {
        name: SyncPrices::NAME.into(),
        tenant_id: t.tenant.id,
        outbox_id,
        attempt: 0,
        payload: serde_json::to_value(&job).unwrap(),
        due_at_us: None,
        requeued: 0,
    };
    let outcome = rt.execute(serde_json::to_value(&env).unwrap()).await;
    assert!(matches!(outcome, Outcome::Dead(_)), "{outcome:?}");
    let s = sync_status(&app, &owner, &id.to_string()).await;
    assert_eq!(s["status"], "failed");
    assert!(
        s["error"].as_str().unwrap().contains("request"),
        "{}",
        s["error"]
    );
    assert!(s["finished_at"].is_string());
}

/// The nil UUID is how a list price is stored, never a branch: naming it is 404 and changes no
/// price; a manager limited to some branches may set their prices but not the list's, which every
/// branch sells at.
async fn the_nil_branch_is_not_found_and_a_branch_scoped_manager_sets_no_list_price(app: TestApp) {
    let t = app.tenant("nulo").await;
    let owner = app.token(&t.owner_email).await;
    let it = new_item(&app, &t, "NIL-1", None).await;
    let path = format!("/pos/api/items/{it}/prices");
    let r = app
        .session(&owner)
        .put(
            &path,
            json!({"prices": [{"price_list": "mostrador", "amount": "100.00", "currency": "MXN"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .session(&owner).put(&path, json!({"prices": [{"price_list": "mostrador", "branch_id": Uuid::nil(), "amount": "1.00", "currency": "MXN"}]}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    let db = app.tenant_db(&t).await;
    let rows = item_price::Entity::find()
        .filter(item_price::Column::ItemId.eq(it))
        .all(&db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].amount_minor, 10_000, "the list price is unchanged");

    let b = branch(&app, &owner, "NORTE").await;
    let scoped = app.user(&t, Role::Manager, Some(vec![b])).await;
    let scoped = app.token(&scoped).await;
    let r = app
        .session(&scoped)
        .put(
            &path,
            json!({"prices": [{"price_list": "mostrador", "amount": "5.00", "currency": "MXN"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(r.code(), "branch_scope");
    let r = app
        .session(&scoped).put(&path, json!({"prices": [{"price_list": "mostrador", "branch_id": b, "amount": "95.00", "currency": "MXN"}]}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "its own branch's price: {}",
        r.text()
    );
    let list = item_price::Entity::find()
        .filter(item_price::Column::ItemId.eq(it))
        .filter(item_price::Column::BranchId.eq(Uuid::nil()))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        list.amount_minor, 10_000,
        "the list price is still the owner's"
    );
}
