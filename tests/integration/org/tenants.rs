//! Tenant provisioning, migrations, the demo tenant and the tenant registry.

use entities::org::tenants::NewTenant;
use entities::{org::accounts, org::tables::tenant};
use http::StatusCode;
use ops::provision::{self, TenantSpec};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbBackend, Set, Statement};
use serde_json::{Value, json};
use tests::app::PASSWORD;
use tests::{Shape, TestApp, shape_tests};

shape_tests!(
    creating_a_tenant_makes_its_database_branch_warehouse_and_owner,
    a_taken_slug_or_a_bad_field_is_refused_and_creates_nothing,
    an_existing_user_can_own_a_second_tenant_with_the_password_unchanged,
    migrating_again_is_harmless,
    the_demo_tenant_gets_a_fresh_working_password_on_each_demo_start,
    a_first_start_opens_a_demo_store_one_can_sell_from_at_once,
    a_platform_with_its_own_businesses_gets_no_demo_unless_asked,
    idle_tenant_pools_are_closed_and_reopened_on_demand,
    a_suspended_tenant_is_refused_at_login_and_on_every_request,
);

fn spec(slug: &str, rfc: &str, email: &str, password: &str) -> TenantSpec {
    TenantSpec {
        tenant: NewTenant {
            slug: slug.into(),
            name: "Refaccionaria".into(),
            rfc: rfc.into(),
            db_url: None,
        },
        owner_email: email.into(),
        owner_name: "Dueña".into(),
        owner_password: password.into(),
    }
}

async fn database_exists(app: &TestApp, db_name: &str) -> bool {
    match app.shape {
        Shape::Embedded => app
            .dir
            .path()
            .join("tenants")
            .join(format!("{db_name}.db"))
            .exists(),
        Shape::Distributed => {
            let scope = app.pg.as_ref().unwrap();
            let admin = sea_orm::Database::connect(&scope.admin_url).await.unwrap();
            let row = admin
                .query_one_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT 1 FROM pg_database WHERE datname = $1",
                    [format!("{}{db_name}", scope.prefix).into()],
                ))
                .await
                .unwrap();
            admin.close().await.unwrap();
            row.is_some()
        }
    }
}

async fn creating_a_tenant_makes_its_database_branch_warehouse_and_owner(app: TestApp) {
    let t = app.tenant("acme-norte").await;
    assert_eq!(t.tenant.db_name, "nexus_t_acme_norte");
    assert!(database_exists(&app, "nexus_t_acme_norte").await);
    let token = app.token(&t.owner_email).await;
    let me = app.session(&token).get("/pos/api/auth/me").await;
    assert_eq!(me.json["user"]["role"], "owner");
    assert_eq!(me.json["tenant"]["rfc"], "EKU9003173C9");
    let listed = entities::org::tenants::list(&app.app.platform)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
}

async fn a_taken_slug_or_a_bad_field_is_refused_and_creates_nothing(app: TestApp) {
    app.tenant("acme").await;
    let (p, r) = (&app.app.platform, &app.app.tenants);
    let e = provision::create_tenant(p, r, spec("acme", "EKU9003173C9", "x@acme.mx", PASSWORD))
        .await
        .unwrap_err();
    assert!(format!("{e:#}").contains("slug"), "{e:#}");
    let e = provision::create_tenant(p, r, spec("bolt", "NOT-AN-RFC", "x@bolt.mx", PASSWORD))
        .await
        .unwrap_err();
    assert!(format!("{e:#}").starts_with("rfc:"), "{e:#}");
    let e = provision::create_tenant(
        p,
        r,
        spec("Bolt Motors", "EKU9003173C9", "x@bolt.mx", PASSWORD),
    )
    .await
    .unwrap_err();
    assert!(format!("{e:#}").starts_with("slug:"), "{e:#}");
    let e = provision::create_tenant(p, r, spec("bolt", "EKU9003173C9", "not-an-email", PASSWORD))
        .await
        .unwrap_err();
    assert!(format!("{e:#}").starts_with("email:"), "{e:#}");
    let e = provision::create_tenant(p, r, spec("bolt", "EKU9003173C9", "x@bolt.mx", "short"))
        .await
        .unwrap_err();
    assert!(format!("{e:#}").starts_with("password:"), "{e:#}");
    assert_eq!(entities::org::tenants::list(p).await.unwrap().len(), 1);
    assert!(!database_exists(&app, "nexus_t_bolt").await);
    assert!(
        accounts::find_user_by_email(p, "x@bolt.mx")
            .await
            .unwrap()
            .is_none()
    );
}

async fn an_existing_user_can_own_a_second_tenant_with_the_password_unchanged(app: TestApp) {
    let a = app.tenant("acme").await;
    let created = provision::create_tenant(
        &app.app.platform,
        &app.app.tenants,
        // The README's example RFC: its check digit does not match, which is only a warning.
        spec("bolt", "ACM010101ABC", &a.owner_email, "ignored password"),
    )
    .await
    .unwrap();
    assert!(created.owner_existed);
    assert!(!created.rfc_check_digit_ok);
    let r = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": a.owner_email, "password": PASSWORD, "tenant": "bolt"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["user"]["role"], "owner");
}

async fn migrating_again_is_harmless(app: TestApp) {
    let t = app.tenant("acme").await;
    let n = provision::migrate_all(&app.app.platform, &app.app.tenants, false)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let again = TestApp::build(&app.vars)
        .await
        .expect("second start on the same data");
    assert_eq!(
        entities::org::tenants::list(&again.platform).await.unwrap()[0].id,
        t.tenant.id
    );
    app.token(&t.owner_email).await;
}

async fn the_demo_tenant_gets_a_fresh_working_password_on_each_demo_start(app: TestApp) {
    assert!(provision::is_empty(&app.app.platform).await.unwrap());
    let first = provision::ensure_demo(&app.app.platform, &app.app.tenants)
        .await
        .unwrap();
    let ok = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": provision::DEMO_EMAIL, "password": first}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.json["tenant"]["slug"], "demo");
    let second = provision::ensure_demo(&app.app.platform, &app.app.tenants)
        .await
        .unwrap();
    assert_ne!(first, second);
    let old = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": provision::DEMO_EMAIL, "password": first}),
        )
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": provision::DEMO_EMAIL, "password": second}),
        )
        .await;
    assert_eq!(new.status, StatusCode::OK);
    assert_eq!(
        entities::org::tenants::list(&app.app.platform)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn idle_tenant_pools_are_closed_and_reopened_on_demand(app: TestApp) {
    let vars = app.vars_with(&[("NEXUS_TENANT_IDLE_SECS", "0")]);
    let quick = TestApp::build(&vars).await.unwrap();
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let send = |path: &str| {
        let req = TestApp::request(http::Method::GET, path, Some(&token), None, None);
        let router = quick.router.clone();
        async move {
            tower::ServiceExt::oneshot(router, req)
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(send("/pos/api/branches").await, StatusCode::OK);
    assert_eq!(quick.tenants.open_count(), 1);
    assert_eq!(quick.tenants.close_idle().await, 1);
    assert_eq!(quick.tenants.open_count(), 0);
    assert_eq!(send("/pos/api/branches").await, StatusCode::OK);
    assert_eq!(quick.tenants.open_count(), 1);
    quick.tenants.close_all().await;
}

async fn a_suspended_tenant_is_refused_at_login_and_on_every_request(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let mut am: tenant::ActiveModel = t.tenant.clone().into();
    am.status = Set(tenant::STATUS_SUSPENDED.into());
    am.update(&app.app.platform).await.unwrap();
    let r = app.session(&token).get("/pos/api/branches").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "tenant_suspended");
    let r = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": t.owner_email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "tenant_suspended");
}

async fn login_as(app: &TestApp, email: &str, password: &str) -> Option<String> {
    let r = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": email, "password": password}),
        )
        .await;
    (r.status == StatusCode::OK).then(|| r.json["access_token"].as_str().unwrap().to_owned())
}

async fn a_first_start_opens_a_demo_store_one_can_sell_from_at_once(app: TestApp) {
    let data = tempfile::tempdir().unwrap();
    ops::catalog::generate::ensure_demo_catalog(&app.app.platform)
        .await
        .unwrap();
    let demo = ops::demo::ensure(&app.app.platform, &app.app.tenants, data.path(), true)
        .await
        .unwrap()
        .expect("a demo on a first start");
    assert!(demo.created);
    assert!(
        demo.car.is_some(),
        "a car with brake, filter and ignition parts"
    );
    assert_eq!(demo.logins.0.len(), 3);
    let password = |email: &str| {
        demo.logins
            .0
            .iter()
            .find(|(e, _)| e == email)
            .map(|(_, p)| p.clone())
            .unwrap()
    };
    let cashier = login_as(
        &app,
        ops::demo::CASHIER_EMAIL,
        &password(ops::demo::CASHIER_EMAIL),
    )
    .await
    .expect("the printed cashier login works");
    let manager = login_as(
        &app,
        ops::demo::MANAGER_EMAIL,
        &password(ops::demo::MANAGER_EMAIL),
    )
    .await
    .expect("the printed manager login works");
    let s = app.session(&manager);
    assert_eq!(s.get("/pos/api/branches").await.json["total"], 2);
    assert_eq!(s.get("/pos/api/items?per_page=1").await.json["total"], 200);
    let sales = s.get("/pos/api/sales?per_page=200").await;
    assert_eq!(sales.json["total"], 20, "five days of past sales");
    let oldest: chrono::DateTime<chrono::Utc> = sales.json["items"][19]["created_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        entities::now() - oldest > chrono::Duration::days(3),
        "{oldest}"
    );
    let customers = s.get("/pos/api/customers").await;
    assert_eq!(customers.json["total"], 3);
    assert!(
        customers.text().contains("CACX7605101P8"),
        "one with fiscal data"
    );
    assert!(customers.text().contains("flotilla"), "a fleet");
    let item = s.get("/pos/api/items?per_page=1").await.json["items"][0].clone();
    let item_id = item["id"].as_str().unwrap().to_owned();
    assert!(
        item["catalog_part_id"].is_number(),
        "items are linked to catalog parts"
    );
    let prices = s.get(&format!("/pos/api/items/{item_id}/prices")).await;
    for list in ["mostrador", "taller", "flotilla", "mayoreo"] {
        assert!(
            prices.text().contains(list),
            "{list} missing: {}",
            prices.text()
        );
    }
    let stock = s.get(&format!("/pos/api/items/{item_id}/stock")).await;
    assert_eq!(stock.status, StatusCode::OK, "{}", stock.text());

    // The cashier opens a drawer and sells for cash at once.
    let c = app.session(&cashier);
    let me = c.get("/pos/api/auth/me").await;
    let branch = me.json["branches"][0]["id"].as_str().unwrap().to_owned();
    let wh = s
        .get(&format!("/pos/api/branches/{branch}/warehouses"))
        .await
        .json["items"]
        .as_array()
        .map(|a| a[0]["id"].clone())
        .unwrap_or_else(|| Value::Null);
    let r = c
        .post(
            "/pos/api/drawers",
            json!({"branch_id": branch, "float_mxn": "500.00"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = c
        .post(
            "/pos/api/sales",
            json!({
                "branch_id": branch,
                "lines": [{"item_id": item_id, "warehouse_id": wh, "qty": 1}],
                "payments": [{"method": "cash", "amount": "100000.00"}],
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());

    // A restart keeps the logins; --demo gives new ones.
    let again = ops::demo::ensure(&app.app.platform, &app.app.tenants, data.path(), false)
        .await
        .unwrap()
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.logins, demo.logins);
    let fresh = ops::demo::ensure(&app.app.platform, &app.app.tenants, data.path(), true)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(fresh.logins, demo.logins);
    assert!(
        login_as(
            &app,
            ops::demo::CASHIER_EMAIL,
            &password(ops::demo::CASHIER_EMAIL)
        )
        .await
        .is_none()
    );
    let (email, p) = fresh
        .logins
        .0
        .iter()
        .find(|(e, _)| e == ops::demo::MANAGER_EMAIL)
        .unwrap();
    let manager = login_as(&app, email, p).await.expect("the new login works");
    let items = app.session(&manager).get("/pos/api/items?per_page=1").await;
    assert_eq!(items.json["total"], 200, "nothing doubled");
}

async fn a_platform_with_its_own_businesses_gets_no_demo_unless_asked(app: TestApp) {
    let data = tempfile::tempdir().unwrap();
    app.tenant("propia").await;
    let none = ops::demo::ensure(&app.app.platform, &app.app.tenants, data.path(), false)
        .await
        .unwrap();
    assert!(none.is_none());
    assert_eq!(
        entities::org::tenants::list(&app.app.platform)
            .await
            .unwrap()
            .len(),
        1
    );
    // Asked for, with no catalog loaded: the store opens without items or past sales.
    let demo = ops::demo::ensure(&app.app.platform, &app.app.tenants, data.path(), true)
        .await
        .unwrap()
        .unwrap();
    assert!(demo.created);
    let (email, password) = demo.logins.0[1].clone();
    let token = login_as(&app, &email, &password).await.unwrap();
    let sales = app.session(&token).get("/pos/api/sales").await;
    assert_eq!(sales.json["total"], 0);
}
