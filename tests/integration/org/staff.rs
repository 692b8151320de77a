//! Staff from the API: invitations with a set-up link or a temporary password, role and scope
//! changes nobody makes on themselves, disabling one business's access only, password resets that
//! end every session, what `auth/me` tells a frontend, and a manager's single-use authorisation
//! of one action at a cashier's terminal.

use entities::Role;
use entities::org::tables::{audit_log, platform_audit_log};
use http::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tests::shop::Shop;
use tests::{PASSWORD, TestApp, TestResponse, shape_tests};
use uuid::Uuid;

shape_tests!(
    an_owner_invites_a_cashier_who_sets_a_password_once_and_signs_in,
    a_temporary_password_is_answered_once_and_signs_in,
    nobody_changes_their_own_role_and_an_admin_does_not_touch_an_owner,
    disabling_a_member_ends_their_access_here_and_nowhere_else,
    a_reset_ends_every_session_and_the_old_password,
    a_scope_change_limits_the_branches_a_member_sees,
    me_tells_a_frontend_what_the_role_may_do,
    a_manager_authorises_one_discount_at_a_cashiers_terminal,
    a_managers_authorisation_is_for_one_user_one_action_and_one_use,
);

async fn login(app: &TestApp, email: &str, password: &str) -> TestResponse {
    app.post(
        "/pos/api/auth/login",
        None,
        json!({"email": email, "password": password}),
    )
    .await
}

async fn invite(app: &TestApp, token: &str, body: Value) -> TestResponse {
    app.session(token).post("/pos/api/users", body).await
}

fn id_of(r: &TestResponse) -> Uuid {
    r.json["user"]["id"].as_str().unwrap().parse().unwrap()
}

async fn an_owner_invites_a_cashier_who_sets_a_password_once_and_signs_in(app: TestApp) {
    let t = app.tenant("staff-invite").await;
    let owner = app.token(&t.owner_email).await;
    let r = invite(
        &app,
        &owner,
        json!({"email": "Luis@Refacciones.MX", "full_name": "Luis Cajero", "role": "cashier"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["user"]["email"], "luis@refacciones.mx");
    assert_eq!(r.json["user"]["role"], "cashier");
    assert_eq!(r.json["user"]["active"], true);
    assert!(r.json["temporary_password"].is_null());
    let token = r.json["setup_token"].as_str().unwrap().to_owned();
    let id = id_of(&r);

    // Nobody knows the password until the link sets one.
    assert_eq!(
        login(&app, "luis@refacciones.mx", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .post(
            "/pos/api/auth/setup",
            None,
            json!({"token": token, "password": "short"}),
        )
        .await;
    assert_eq!(r.json["error"]["field"], "password", "{}", r.text());
    let r = app
        .post(
            "/pos/api/auth/setup",
            None,
            json!({"token": token, "password": "mostrador-2026"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let r = login(&app, "luis@refacciones.mx", "mostrador-2026").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .post(
            "/pos/api/auth/setup",
            None,
            json!({"token": token, "password": "otra-clave-2026"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "a link works once");
    assert_eq!(r.code(), "setup_link_not_found");
    assert_eq!(r.json["error"]["field"], "token");

    let again = invite(
        &app,
        &owner,
        json!({"email": "luis@refacciones.mx", "role": "viewer"}),
    )
    .await;
    assert_eq!(again.code(), "already_member", "{}", again.text());
    let list = app.session(&owner).get("/pos/api/users?role=cashier").await;
    assert_eq!(list.json["total"], 1, "{}", list.text());
    assert_eq!(list.json["items"][0]["id"], id.to_string());
    assert!(!list.text().contains("password"), "{}", list.text());
    let invited = platform_audit_log::Entity::find()
        .filter(platform_audit_log::Column::Action.eq("staff.invited"))
        .filter(platform_audit_log::Column::TenantId.eq(t.tenant.id))
        .all(&app.app.platform)
        .await
        .unwrap();
    assert_eq!(invited.len(), 1);
    assert_eq!(invited[0].target_id, Some(id.to_string()));

    // A cashier does not manage staff.
    let cashier = login(&app, "luis@refacciones.mx", "mostrador-2026")
        .await
        .json["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app.session(&cashier).get("/pos/api/users").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A new person needs a name; bad input changes nothing.
    let r = invite(
        &app,
        &owner,
        json!({"email": "sin.nombre@x.mx", "role": "cashier"}),
    )
    .await;
    assert_eq!(
        r.json["user"]["full_name"],
        "sin.nombre",
        "a new person without a name takes the address's: {}",
        r.text()
    );
    let r = invite(&app, &owner, json!({"email": "nuevo@x.mx", "full_name": "N", "role": "cashier", "branch_ids": [Uuid::now_v7()]})).await;
    assert_eq!(r.json["error"]["field"], "branch_ids", "{}", r.text());
    let r = invite(
        &app,
        &owner,
        json!({"email": "nuevo@x.mx", "full_name": "N", "role": "root"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let list = app.session(&owner).get("/pos/api/users").await;
    assert_eq!(
        list.json["total"],
        3,
        "the refused invitations added nobody: {}",
        list.text()
    );
}

async fn a_temporary_password_is_answered_once_and_signs_in(app: TestApp) {
    let t = app.tenant("staff-temp").await;
    let owner = app.token(&t.owner_email).await;
    let r = invite(
        &app,
        &owner,
        json!({"email": "ana@x.mx", "full_name": "Ana", "role": "manager", "temporary_password": true}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert!(r.json["setup_token"].is_null());
    let password = r.json["temporary_password"].as_str().unwrap().to_owned();
    assert_eq!(
        login(&app, "ana@x.mx", &password).await.status,
        StatusCode::OK
    );
    let one = app
        .session(&owner)
        .get(&format!("/pos/api/users/{}", id_of(&r)))
        .await;
    assert_eq!(one.json["role"], "manager");
    assert!(!one.text().contains(&password));
}

async fn nobody_changes_their_own_role_and_an_admin_does_not_touch_an_owner(app: TestApp) {
    let t = app.tenant("staff-rank").await;
    let owner = app.token(&t.owner_email).await;
    let owner_id = app.login(&t.owner_email).await["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin_email = app.user(&t, Role::Admin, None).await;
    let admin = app.token(&admin_email).await;
    let admin_id = app.login(&admin_email).await["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let r = app
        .session(&admin)
        .patch(
            &format!("/pos/api/users/{admin_id}"),
            json!({"role": "owner"}),
        )
        .await;
    assert_eq!(r.code(), "cannot_change_self", "{}", r.text());
    let r = app
        .session(&owner)
        .patch(
            &format!("/pos/api/users/{owner_id}"),
            json!({"active": false}),
        )
        .await;
    assert_eq!(r.code(), "cannot_change_self", "{}", r.text());
    let r = app
        .session(&owner)
        .post(
            &format!("/pos/api/users/{owner_id}/reset-password"),
            json!({}),
        )
        .await;
    assert_eq!(r.code(), "cannot_change_self", "{}", r.text());
    let me = app.session(&owner).get("/pos/api/auth/me").await;
    assert_eq!(me.status, StatusCode::OK, "the session lives on");
    let r = invite(
        &app,
        &admin,
        json!({"email": "dueno2@x.mx", "full_name": "D", "role": "owner"}),
    )
    .await;
    assert_eq!(r.code(), "owner_only", "{}", r.text());
    let r = app
        .session(&admin)
        .patch(
            &format!("/pos/api/users/{owner_id}"),
            json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(r.code(), "owner_only", "{}", r.text());
    let r = app
        .session(&admin)
        .post(
            &format!("/pos/api/users/{owner_id}/reset-password"),
            json!({}),
        )
        .await;
    assert_eq!(r.code(), "owner_only", "{}", r.text());
    // The owner may make the admin an owner; the change shows at the next request.
    let r = app
        .session(&owner)
        .patch(
            &format!("/pos/api/users/{admin_id}"),
            json!({"role": "owner"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let me = app.session(&admin).get("/pos/api/auth/me").await;
    assert_eq!(me.json["user"]["role"], "owner");
    let r = app
        .session(&owner)
        .patch(
            &format!("/pos/api/users/{}", Uuid::now_v7()),
            json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

async fn disabling_a_member_ends_their_access_here_and_nowhere_else(app: TestApp) {
    let here = app.tenant("staff-here").await;
    let there = app.tenant("staff-there").await;
    let owner = app.token(&here.owner_email).await;
    let email = app.user(&here, Role::Cashier, None).await;
    let user = entities::org::accounts::find_user_by_email(&app.app.platform, &email)
        .await
        .unwrap()
        .unwrap();
    entities::org::accounts::add_membership(
        &app.app.platform,
        user.id,
        there.tenant.id,
        Role::Manager,
        None,
    )
    .await
    .unwrap();
    let session = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": email, "password": PASSWORD, "tenant": "staff-here"}),
        )
        .await;
    let token = session.json["access_token"].as_str().unwrap().to_owned();
    let r = app
        .session(&owner)
        .patch(
            &format!("/pos/api/users/{}", user.id),
            json!({"active": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["active"], false);
    let r = app.session(&token).get("/pos/api/auth/me").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    let r = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": email, "password": PASSWORD, "tenant": "staff-here"}),
        )
        .await;
    assert_eq!(r.code(), "not_a_member", "{}", r.text());
    let r = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": email, "password": PASSWORD, "tenant": "staff-there"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the other business is untouched: {}",
        r.text()
    );
    let disabled = app.session(&owner).get("/pos/api/users?active=false").await;
    assert_eq!(disabled.json["total"], 1);
    let r = app
        .session(&owner)
        .patch(
            &format!("/pos/api/users/{}", user.id),
            json!({"active": true}),
        )
        .await;
    assert_eq!(r.json["active"], true);
    let r = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": email, "password": PASSWORD, "tenant": "staff-here"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

async fn a_reset_ends_every_session_and_the_old_password(app: TestApp) {
    let t = app.tenant("staff-reset").await;
    let owner = app.token(&t.owner_email).await;
    let email = app.user(&t, Role::Cashier, None).await;
    let session = app.login(&email).await;
    let token = session["access_token"].as_str().unwrap().to_owned();
    let id = session["user"]["id"].as_str().unwrap().to_owned();
    let r = app
        .session(&owner)
        .post(&format!("/pos/api/users/{id}/reset-password"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let setup = r.json["setup_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.session(&token).get("/pos/api/auth/me").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&app, &email, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .post(
            "/pos/api/auth/setup",
            None,
            json!({"token": setup, "password": "nueva-clave-2026"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert_eq!(
        login(&app, &email, "nueva-clave-2026").await.status,
        StatusCode::OK
    );

    // Someone of another business too resets their own password.
    let other = app.tenant("staff-reset-other").await;
    let user = entities::org::accounts::find_user_by_email(&app.app.platform, &email)
        .await
        .unwrap()
        .unwrap();
    entities::org::accounts::add_membership(
        &app.app.platform,
        user.id,
        other.tenant.id,
        Role::Viewer,
        None,
    )
    .await
    .unwrap();
    let r = app
        .session(&owner)
        .post(&format!("/pos/api/users/{id}/reset-password"), json!({}))
        .await;
    assert_eq!(r.code(), "member_elsewhere", "{}", r.text());
    let r = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": email, "password": "nueva-clave-2026", "tenant": "staff-reset"}),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the password stands: {}",
        r.text()
    );
}

async fn a_scope_change_limits_the_branches_a_member_sees(app: TestApp) {
    let s = Shop::open(&app, "staff-scope").await;
    let email = app.user(&s.t, Role::Cashier, None).await;
    let token = app.token(&email).await;
    let id = app.login(&email).await["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = app.session(&token).get("/pos/api/auth/me").await;
    assert_eq!(
        me.json["branches"].as_array().unwrap().len(),
        2,
        "{}",
        me.text()
    );
    let r = app
        .session(&s.owner)
        .patch(
            &format!("/pos/api/users/{id}"),
            json!({"branch_ids": [s.border]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["branch_ids"], json!([s.border]));
    let me = app.session(&token).get("/pos/api/auth/me").await;
    assert_eq!(me.json["branches"].as_array().unwrap().len(), 1);
    assert_eq!(me.json["branches"][0]["id"], s.border.to_string());
    let r = app
        .session(&s.owner)
        .patch(&format!("/pos/api/users/{id}"), json!({"branch_ids": []}))
        .await;
    assert_eq!(r.json["error"]["field"], "branch_ids", "{}", r.text());
    let r = app
        .session(&s.owner)
        .patch(&format!("/pos/api/users/{id}"), json!({"branch_ids": null}))
        .await;
    assert!(r.json["branch_ids"].is_null(), "{}", r.text());
}

async fn me_tells_a_frontend_what_the_role_may_do(app: TestApp) {
    let s = Shop::open(&app, "staff-me").await;
    let cashier = s.token(&app, Role::Cashier).await;
    let me = app.session(&cashier).get("/pos/api/auth/me").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text());
    let limits = &me.json["limits"];
    assert_eq!(limits["max_discount"], "10");
    assert_eq!(limits["sells"], true);
    assert_eq!(
        limits["needs_manager"],
        json!(["discount", "price_list", "cancel", "return"])
    );
    let endpoints: Vec<&str> = limits["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(endpoints.contains(&"POST /pos/api/sales"));
    assert!(!endpoints.contains(&"POST /pos/api/users"));
    assert!(!endpoints.contains(&"POST /pos/api/sales/{id}/returns"));
    let manager = s.token(&app, Role::Manager).await;
    let me = app.session(&manager).get("/pos/api/auth/me").await;
    assert_eq!(me.json["limits"]["max_discount"], "30");
    assert_eq!(me.json["limits"]["needs_manager"], json!([]));
    let mechanic = s.token(&app, Role::Mechanic).await;
    let me = app.session(&mechanic).get("/pos/api/auth/me").await;
    assert_eq!(me.json["limits"]["sells"], false);
}

/// A request with a manager's authorisation.
async fn with_override(
    app: &TestApp,
    path: &str,
    token: &str,
    grant: &str,
    body: Value,
) -> TestResponse {
    let mut req = TestApp::request(Method::POST, path, Some(token), Some(&body), None);
    req.headers_mut()
        .insert("x-manager-override", grant.parse().unwrap());
    app.send(req).await
}

async fn authorise(
    app: &TestApp,
    cashier: &str,
    manager: &str,
    secret: &str,
    action: &str,
) -> TestResponse {
    app.session(cashier)
        .post(
            "/pos/api/auth/override",
            json!({"email": manager, "secret": secret, "action": action}),
        )
        .await
}

async fn a_manager_authorises_one_discount_at_a_cashiers_terminal(app: TestApp) {
    let s = Shop::open(&app, "staff-override").await;
    let cashier = s.token(&app, Role::Cashier).await;
    let manager_email = app.user(&s.t, Role::Manager, None).await;
    let manager = app.token(&manager_email).await;
    let manager_id = app.login(&manager_email).await["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let item = s.item("DISCO", 100_000, None, 0).await;
    s.stock(item, s.wh, 5).await;
    let sale = json!({
        "branch_id": s.branch,
        "lines": [{"item_id": item, "warehouse_id": s.wh, "qty": 1, "discount": "20"}],
        "payments": [{"method": "card", "amount": "800.00"}],
    });
    let r = app
        .session(&cashier)
        .post("/pos/api/sales", sale.clone())
        .await;
    assert_eq!(r.code(), "discount_not_allowed", "{}", r.text());

    // The manager sets a PIN, confirmed with their password, and types it at the counter.
    let r = app
        .session(&manager)
        .put(
            "/pos/api/auth/pin",
            json!({"password": "wrong", "pin": "4821"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .session(&manager)
        .put(
            "/pos/api/auth/pin",
            json!({"password": PASSWORD, "pin": "48a1"}),
        )
        .await;
    assert_eq!(r.json["error"]["field"], "pin", "{}", r.text());
    let r = app
        .session(&manager)
        .put(
            "/pos/api/auth/pin",
            json!({"password": PASSWORD, "pin": "4821"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let r = authorise(&app, &cashier, &manager_email, "1111", "discount").await;
    assert_eq!(r.code(), "override_refused", "{}", r.text());
    let r = authorise(&app, &cashier, &manager_email, "4821", "discount").await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json["authorized_by"], manager_id);
    let grant = r.json["override_token"].as_str().unwrap().to_owned();
    let r = with_override(&app, "/pos/api/sales", &cashier, &grant, sale.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let sale_id = r.json["id"].as_str().unwrap().to_owned();
    let cashier_id = r.json["cashier_id"].as_str().unwrap().to_owned();
    assert_ne!(cashier_id, manager_id, "the sale stays the cashier's");
    let entry = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("sale.created"))
        .filter(audit_log::Column::TargetId.eq(sale_id))
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.actor_user_id.map(|u| u.to_string()), Some(cashier_id));
    assert_eq!(entry.details.unwrap()["authorized_by"], manager_id);

    // Used once: the same token does nothing more.
    let r = with_override(&app, "/pos/api/sales", &cashier, &grant, sale).await;
    assert_eq!(r.code(), "override_invalid", "{}", r.text());
    // The password works as well as the PIN, for a return the cashier cannot make alone.
    let r = authorise(&app, &cashier, &manager_email, PASSWORD, "return").await;
    let grant = r.json["override_token"].as_str().unwrap().to_owned();
    let body = json!({"lines": [{"line_no": 1, "qty": 1}], "reason": "Defecto"});
    let path = format!(
        "/pos/api/sales/{}/returns",
        entry.target_id.clone().unwrap()
    );
    let r = app.session(&cashier).post(&path, body.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = with_override(&app, &path, &cashier, &grant, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

async fn a_managers_authorisation_is_for_one_user_one_action_and_one_use(app: TestApp) {
    let s = Shop::open(&app, "staff-override-2").await;
    let cashier = s.token(&app, Role::Cashier).await;
    let other_cashier = s.token(&app, Role::Cashier).await;
    let cashier_email = app.user(&s.t, Role::Cashier, None).await;
    let manager_email = app.user(&s.t, Role::Manager, None).await;
    let item = s.item("FOCO", 10_000, None, 0).await;
    s.stock(item, s.wh, 5).await;
    let sale = json!({
        "branch_id": s.branch,
        "lines": [{"item_id": item, "warehouse_id": s.wh, "qty": 1, "discount": "20"}],
        "payments": [{"method": "card", "amount": "80.00"}],
    });
    // A cashier's credentials authorise nothing.
    let r = authorise(&app, &cashier, &cashier_email, PASSWORD, "discount").await;
    assert_eq!(r.code(), "override_refused", "{}", r.text());
    // Granted to one cashier, useless to another.
    let r = authorise(&app, &cashier, &manager_email, PASSWORD, "discount").await;
    let grant = r.json["override_token"].as_str().unwrap().to_owned();
    let r = with_override(&app, "/pos/api/sales", &other_cashier, &grant, sale.clone()).await;
    assert_eq!(r.code(), "override_invalid", "{}", r.text());
    // A cancellation's authorisation does not give a discount.
    let r = authorise(&app, &cashier, &manager_email, PASSWORD, "cancel").await;
    let cancel = r.json["override_token"].as_str().unwrap().to_owned();
    let r = with_override(&app, "/pos/api/sales", &cashier, &cancel, sale.clone()).await;
    assert_eq!(r.code(), "override_invalid", "{}", r.text());
    // Nor does it apply to other routes at all.
    let r = with_override(
        &app,
        "/pos/api/customers",
        &cashier,
        &grant,
        json!({"name": "X"}),
    )
    .await;
    assert_eq!(r.code(), "override_invalid", "{}", r.text());
    // The right cashier, the right action: still good once.
    let r = with_override(&app, "/pos/api/sales", &cashier, &grant, sale).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = authorise(&app, &cashier, "nadie@x.mx", PASSWORD, "discount").await;
    assert_eq!(r.code(), "override_refused");
}
