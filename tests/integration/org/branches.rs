//! `/pos/api/branches`: CRUD, roles, scope, validation, tenant isolation, audit.

use entities::Role;
use http::StatusCode;
use serde_json::json;
use tests::{TestApp, shape_tests};

shape_tests!(
    an_owner_creates_reads_updates_and_deletes_a_branch,
    a_new_tenant_has_its_first_branch_and_warehouse,
    a_cashier_reads_branches_but_cannot_change_them,
    a_tenant_a_token_never_reaches_tenant_b_branches,
    invalid_branch_input_returns_422_naming_the_field_and_changes_nothing,
    a_duplicate_branch_code_returns_409,
    a_branch_with_warehouses_cannot_be_deleted,
    warehouses_are_managed_under_their_branch,
    a_branch_scoped_user_sees_only_their_branches,
    branch_changes_are_audited_in_the_tenant_database,
    the_branch_list_pages_and_filters,
);

async fn an_owner_creates_reads_updates_and_deletes_a_branch(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let r = app
        .session(&token).post("/pos/api/branches", json!({"code": "tij-01", "name": "Tijuana Centro", "iva_rate": "0.08", "timezone": "America/Tijuana", "postal_code": "22000", "phone": "+52 664 123 4567"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(r.json["code"], "TIJ-01");
    assert_eq!(r.json["iva_rate"], "0.08");
    assert_eq!(r.json["timezone"], "America/Tijuana");

    let got = app
        .session(&token)
        .get(&format!("/pos/api/branches/{id}"))
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.json["name"], "Tijuana Centro");

    let defaults = app
        .session(&token)
        .post(
            "/pos/api/branches",
            json!({"code": "GDL", "name": "Guadalajara", "iva_rate": 0.16}),
        )
        .await;
    assert_eq!(
        defaults.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a rate is a decimal string, not a number that would round: {}",
        defaults.text()
    );
    assert_eq!(defaults.json["error"]["field"], "iva_rate");
    let defaults = app
        .session(&token)
        .post(
            "/pos/api/branches",
            json!({"code": "GDL", "name": "Guadalajara", "iva_rate": "0.16"}),
        )
        .await;
    assert_eq!(defaults.status, StatusCode::CREATED, "{}", defaults.text());
    assert_eq!(defaults.json["iva_rate"], "0.16");
    assert_eq!(defaults.json["timezone"], "America/Mexico_City");

    let upd = app
        .session(&token)
        .patch(
            &format!("/pos/api/branches/{id}"),
            json!({"name": "Tijuana Otay", "phone": null, "is_active": false}),
        )
        .await;
    assert_eq!(upd.status, StatusCode::OK, "{}", upd.text());
    assert_eq!(upd.json["name"], "Tijuana Otay");
    assert_eq!(upd.json["phone"], serde_json::Value::Null);
    assert_eq!(upd.json["postal_code"], "22000", "absent fields stay");
    assert_eq!(upd.json["is_active"], false);

    let del = app
        .session(&token)
        .delete(&format!("/pos/api/branches/{id}"))
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.session(&token)
            .get(&format!("/pos/api/branches/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn a_new_tenant_has_its_first_branch_and_warehouse(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let list = app.session(&token).get("/pos/api/branches").await;
    assert_eq!(list.json["total"], 1);
    let branch = &list.json["items"][0];
    assert_eq!(branch["code"], "MATRIZ");
    assert_eq!(branch["iva_rate"], "0.16");
    let ws = app
        .session(&token)
        .get(&format!(
            "/pos/api/branches/{}/warehouses",
            branch["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(ws.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(ws.json["total"], 1);
    assert_eq!(ws.json["items"][0]["code"], "MATRIZ-A");
}

async fn a_cashier_reads_branches_but_cannot_change_them(app: TestApp) {
    let t = app.tenant("acme").await;
    let cashier = app.token(&app.user(&t, Role::Cashier, None).await).await;
    let list = app.session(&cashier).get("/pos/api/branches").await;
    assert_eq!(list.status, StatusCode::OK);
    let id = list.json["items"][0]["id"].as_str().unwrap().to_owned();
    let r = app
        .session(&cashier)
        .post("/pos/api/branches", json!({"code": "X", "name": "X"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "forbidden");
    let r = app
        .session(&cashier)
        .patch(&format!("/pos/api/branches/{id}"), json!({"name": "Mine"}))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .session(&cashier)
        .delete(&format!("/pos/api/branches/{id}"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let admin = app.token(&app.user(&t, Role::Admin, None).await).await;
    let r = app
        .session(&admin)
        .post("/pos/api/branches", json!({"code": "X", "name": "X"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
}

async fn a_tenant_a_token_never_reaches_tenant_b_branches(app: TestApp) {
    let a = app.tenant("acme").await;
    let b = app.tenant("bolt").await;
    let token_a = app.token(&a.owner_email).await;
    let token_b = app.token(&b.owner_email).await;
    let b_branch = app.session(&token_b).get("/pos/api/branches").await.json["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b_wh = app
        .session(&token_b)
        .get(&format!("/pos/api/branches/{b_branch}/warehouses"))
        .await
        .json["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    for r in [
        app.session(&token_a)
            .get(&format!("/pos/api/branches/{b_branch}"))
            .await,
        app.session(&token_a)
            .patch(
                &format!("/pos/api/branches/{b_branch}"),
                json!({"name": "hijacked"}),
            )
            .await,
        app.session(&token_a)
            .delete(&format!("/pos/api/branches/{b_branch}"))
            .await,
        app.session(&token_a)
            .get(&format!("/pos/api/branches/{b_branch}/warehouses"))
            .await,
        app.session(&token_a)
            .post(
                &format!("/pos/api/branches/{b_branch}/warehouses"),
                json!({"code": "W", "name": "W"}),
            )
            .await,
        app.session(&token_a)
            .get(&format!("/pos/api/branches/{b_branch}/warehouses/{b_wh}"))
            .await,
        app.session(&token_a)
            .delete(&format!("/pos/api/branches/{b_branch}/warehouses/{b_wh}"))
            .await,
    ] {
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    }
    let list_a = app.session(&token_a).get("/pos/api/branches").await;
    assert!(!list_a.text().contains(&b_branch));
    let still = app
        .session(&token_b)
        .get(&format!("/pos/api/branches/{b_branch}"))
        .await;
    assert_eq!(
        still.json["name"], "Matriz",
        "tenant B's branch is untouched"
    );
}

async fn invalid_branch_input_returns_422_naming_the_field_and_changes_nothing(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    for (body, field) in [
        (
            json!({"code": "N1", "name": "Norte", "iva_rate": "0.15"}),
            "iva_rate",
        ),
        (
            json!({"code": "N1", "name": "Norte", "timezone": "Europe/Madrid"}),
            "timezone",
        ),
        (
            json!({"code": "N1", "name": "Norte", "postal_code": "2200"}),
            "postal_code",
        ),
        (json!({"code": "N 1", "name": "Norte"}), "code"),
        (json!({"code": "N1", "name": "  "}), "name"),
        (
            json!({"code": "N1", "name": "Norte", "phone": "call me"}),
            "phone",
        ),
    ] {
        let r = app
            .session(&token)
            .post("/pos/api/branches", body.clone())
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text()
        );
        assert_eq!(r.code(), "validation_failed");
        assert_eq!(r.json["error"]["field"], field, "{body}");
    }
    let r = app
        .session(&token)
        .post("/pos/api/branches", json!({"name": "No code"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.session(&token).get("/pos/api/branches").await.json["total"],
        1,
        "nothing was created"
    );
    let id = app.session(&token).get("/pos/api/branches").await.json["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .session(&token)
        .patch(
            &format!("/pos/api/branches/{id}"),
            json!({"name": "Ok", "iva_rate": "0.10"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.session(&token)
            .get(&format!("/pos/api/branches/{id}"))
            .await
            .json["name"],
        "Matriz",
        "a rejected patch changes nothing"
    );
    let r = app
        .session(&token)
        .get("/pos/api/branches/not-a-uuid")
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "invalid_path");
    let r = app
        .session(&token)
        .get("/pos/api/branches?per_page=1000")
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json["error"]["field"], "per_page");
}

async fn a_duplicate_branch_code_returns_409(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let r = app
        .session(&token)
        .post(
            "/pos/api/branches",
            json!({"code": "matriz", "name": "Otra"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "branch_code_taken");
}

async fn a_branch_with_warehouses_cannot_be_deleted(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let id = app.session(&token).get("/pos/api/branches").await.json["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .session(&token)
        .delete(&format!("/pos/api/branches/{id}"))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "branch_has_warehouses");
    let wh = app
        .session(&token)
        .get(&format!("/pos/api/branches/{id}/warehouses"))
        .await
        .json["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.session(&token)
            .delete(&format!("/pos/api/branches/{id}/warehouses/{wh}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let r = app
        .session(&token)
        .delete(&format!("/pos/api/branches/{id}"))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "last_branch");
}

async fn warehouses_are_managed_under_their_branch(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let b1 = app.session(&token).get("/pos/api/branches").await.json["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b2 = app
        .session(&token)
        .post(
            "/pos/api/branches",
            json!({"code": "NORTE", "name": "Norte"}),
        )
        .await
        .json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let w = app
        .session(&token)
        .post(
            &format!("/pos/api/branches/{b2}/warehouses"),
            json!({"code": "norte-a", "name": "Bodega Norte"}),
        )
        .await;
    assert_eq!(w.status, StatusCode::CREATED, "{}", w.text());
    assert_eq!(w.json["code"], "NORTE-A");
    assert_eq!(w.json["branch_id"], b2);
    let wid = w.json["id"].as_str().unwrap().to_owned();
    // Reached through the wrong branch, the warehouse does not exist.
    assert_eq!(
        app.session(&token)
            .get(&format!("/pos/api/branches/{b1}/warehouses/{wid}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let dup = app
        .session(&token)
        .post(
            &format!("/pos/api/branches/{b1}/warehouses"),
            json!({"code": "NORTE-A", "name": "Dup"}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.code(), "warehouse_code_taken");
    let upd = app
        .session(&token)
        .patch(
            &format!("/pos/api/branches/{b2}/warehouses/{wid}"),
            json!({"name": "Bodega N", "is_active": false}),
        )
        .await;
    assert_eq!(upd.status, StatusCode::OK);
    assert_eq!(upd.json["is_active"], false);
    assert_eq!(
        app.session(&token)
            .delete(&format!("/pos/api/branches/{b2}/warehouses/{wid}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.session(&token)
            .get(&format!("/pos/api/branches/{b2}/warehouses"))
            .await
            .json["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

async fn a_branch_scoped_user_sees_only_their_branches(app: TestApp) {
    let t = app.tenant("acme").await;
    let owner = app.token(&t.owner_email).await;
    let norte: uuid::Uuid = app
        .session(&owner)
        .post(
            "/pos/api/branches",
            json!({"code": "NORTE", "name": "Norte"}),
        )
        .await
        .json["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let matriz = app
        .session(&owner)
        .get("/pos/api/branches?per_page=10")
        .await
        .json["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["code"] == "MATRIZ")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cashier = app
        .token(&app.user(&t, Role::Cashier, Some(vec![norte])).await)
        .await;
    let list = app.session(&cashier).get("/pos/api/branches").await;
    assert_eq!(list.json["total"], 1);
    assert_eq!(list.json["items"][0]["id"], norte.to_string());
    assert_eq!(
        app.session(&cashier)
            .get(&format!("/pos/api/branches/{matriz}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let me = app.session(&cashier).get("/pos/api/auth/me").await;
    assert_eq!(me.json["user"]["branch_ids"][0], norte.to_string());
}

async fn branch_changes_are_audited_in_the_tenant_database(app: TestApp) {
    use entities::org::tables::audit_log;
    use sea_orm::{EntityTrait, QueryOrder};
    let t = app.tenant("acme").await;
    let login = app.login(&t.owner_email).await;
    let token = login["access_token"].as_str().unwrap();
    let id = app
        .session(token)
        .post(
            "/pos/api/branches",
            json!({"code": "NORTE", "name": "Norte"}),
        )
        .await
        .json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.session(token)
        .patch(
            &format!("/pos/api/branches/{id}"),
            json!({"iva_rate": "0.08"}),
        )
        .await;
    app.session(token)
        .delete(&format!("/pos/api/branches/{id}"))
        .await;
    let db = app.tenant_db(&t).await;
    let rows = audit_log::Entity::find()
        .order_by_asc(audit_log::Column::Id)
        .all(&db)
        .await
        .unwrap();
    let mine: Vec<_> = rows
        .iter()
        .filter(|r| r.target_id.as_deref() == Some(id.as_str()))
        .collect();
    let actions: Vec<&str> = mine.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        ["branch.created", "branch.updated", "branch.deleted"]
    );
    let owner_id: uuid::Uuid = login["user"]["id"].as_str().unwrap().parse().unwrap();
    assert!(
        mine.iter()
            .all(|r| r.actor_user_id == Some(owner_id) && r.request_id.is_some())
    );
    assert_eq!(mine[1].details.as_ref().unwrap()["iva_rate_bp"], 800);
}

async fn the_branch_list_pages_and_filters(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    for i in 0..4 {
        app.session(&token)
            .post(
                "/pos/api/branches",
                json!({"code": format!("S{i}"), "name": format!("Sucursal {i}")}),
            )
            .await;
    }
    let id = app
        .session(&token)
        .get("/pos/api/branches?per_page=50")
        .await
        .json["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.session(&token)
        .patch(
            &format!("/pos/api/branches/{id}"),
            json!({"is_active": false}),
        )
        .await;
    let p = app
        .session(&token)
        .get("/pos/api/branches?page=2&per_page=2")
        .await;
    assert_eq!(p.json["total"], 5);
    assert_eq!(p.json["page"], 2);
    assert_eq!(p.json["items"].as_array().unwrap().len(), 2);
    let active = app
        .session(&token)
        .get("/pos/api/branches?active=true")
        .await;
    assert_eq!(active.json["total"], 4);
    let inactive = app
        .session(&token)
        .get("/pos/api/branches?active=false")
        .await;
    assert_eq!(inactive.json["total"], 1);
    let bad = app.session(&token).get("/pos/api/branches?page=0").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let junk = app
        .session(&token)
        .get("/pos/api/branches?active=perhaps")
        .await;
    assert_eq!(junk.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(junk.code(), "invalid_query");
    assert_eq!(junk.json["error"]["field"], "active");
}
