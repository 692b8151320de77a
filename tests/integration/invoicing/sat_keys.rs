//! Default SAT keys per part type: an invoice line takes its item's keys, else its catalog
//! part's, else its part type's, else the business-wide defaults; bad keys are 422 and change
//! nothing; only owners and admins set them.

use entities::catalog::schema::category;
use entities::catalog::write::{self, PartInput};
use entities::org::role::Role;
use entities::{
    inventory::tables::item, invoicing::tables::category_sat_key, invoicing::tables::invoice,
    org::tables::audit_log,
};
use http::StatusCode;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};
use tests::cfdi::fiscal_shop;
use tests::{TestApp, shape_tests};
use uuid::Uuid;

shape_tests!(
    an_invoice_line_takes_its_item_s_keys_else_its_part_s_else_its_part_type_s_else_the_business_s,
    bad_part_type_keys_are_refused_and_change_nothing,
);

const PATH: &str = "/pos/api/settings/fiscal/sat-keys";

/// The (product, unit) keys of each line of an invoice's stored request.
async fn keys_of(db: &sea_orm::DatabaseConnection, invoice_id: &str) -> Vec<(String, String)> {
    let row = invoice::Entity::find_by_id(invoice_id.parse::<Uuid>().unwrap())
        .one(db)
        .await
        .unwrap()
        .unwrap();
    row.request["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|it| {
            let p = &it["product"];
            (
                p["product_key"].as_str().unwrap().to_owned(),
                p["unit_key"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Links an item to a catalog part and clears its own keys.
async fn link(db: &sea_orm::DatabaseConnection, id: Uuid, part: i64) {
    let it = item::Entity::find_by_id(id).one(db).await.unwrap().unwrap();
    let mut am: item::ActiveModel = it.into();
    am.catalog_part_id = Set(Some(part));
    am.sat_product_key = Set(None);
    am.sat_unit_key = Set(None);
    am.update(db).await.unwrap();
}

async fn a_part_type(app: &TestApp, name: &str) -> i32 {
    category::Entity::insert(category::ActiveModel {
        name: Set(name.into()),
        ..Default::default()
    })
    .exec(&app.app.platform)
    .await
    .unwrap()
    .last_insert_id
}

async fn an_invoice_line_takes_its_item_s_keys_else_its_part_s_else_its_part_type_s_else_the_business_s(
    app: TestApp,
) {
    let f = fiscal_shop(&app, "satk1").await;
    let pf = &app.app.platform;
    let brakes = a_part_type(&app, "Balatas (claves SAT)").await;
    let brand = write::brand_id(pf, None, Some("Brembo SAT")).await.unwrap();
    let part = |number: &str, key: Option<&str>| PartInput {
        brand_id: brand,
        number: number.into(),
        name: format!("Balata {number}"),
        category_id: Some(brakes),
        sat_product_key: key.map(str::to_owned),
        ..PartInput::default()
    };
    let (plain, _) = write::upsert_part(pf, &part("SATK-1", None)).await.unwrap();
    let (keyed, _) = write::upsert_part(pf, &part("SATK-2", Some("25172000")))
        .await
        .unwrap();
    link(&f.s.db, f.a, plain).await;
    link(&f.s.db, f.b, keyed).await;

    // No part-type keys yet: the part's own product key, else the business's defaults.
    let first = f.invoice(&app, &f.sell(&app).await).await;
    assert_eq!(
        keys_of(&f.s.db, &first).await,
        [
            ("25174800".into(), "H87".into()),
            ("25172000".into(), "H87".into())
        ]
    );

    let r = app
        .session(&f.s.owner)
        .put(
            &format!("{PATH}/{brakes}"),
            json!({"product_key": "25171500", "unit_key": "kt"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["category"], "Balatas (claves SAT)");
    assert_eq!(r.json["unit_key"], "KT", "keys are kept in SAT's capitals");
    let list = app.session(&f.s.owner).get(PATH).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        list.json,
        json!({"items": [{"category_id": brakes, "category": "Balatas (claves SAT)",
                          "product_key": "25171500", "unit_key": "KT",
                          "updated_at": r.json["updated_at"]}],
               "page": 1, "per_page": 1, "total": 1})
    );

    // The part type fills what neither the item nor its part names.
    let second = f.invoice(&app, &f.sell(&app).await).await;
    assert_eq!(
        keys_of(&f.s.db, &second).await,
        [
            ("25171500".into(), "KT".into()),
            ("25172000".into(), "KT".into())
        ]
    );
    // An item's own key wins over all.
    let it = item::Entity::find_by_id(f.a)
        .one(&f.s.db)
        .await
        .unwrap()
        .unwrap();
    let mut am: item::ActiveModel = it.into();
    am.sat_product_key = Set(Some("25171700".into()));
    am.update(&f.s.db).await.unwrap();
    let third = f.invoice(&app, &f.sell(&app).await).await;
    assert_eq!(
        keys_of(&f.s.db, &third).await[0],
        ("25171700".into(), "KT".into())
    );

    // Removed: back to the business's defaults; a second removal is 404.
    let r = app
        .session(&f.s.owner)
        .delete(&format!("{PATH}/{brakes}"))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let r = app
        .session(&f.s.owner)
        .delete(&format!("{PATH}/{brakes}"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    let fourth = f.invoice(&app, &f.sell(&app).await).await;
    assert_eq!(
        keys_of(&f.s.db, &fourth).await[1],
        ("25172000".into(), "H87".into())
    );
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.starts_with("sat_keys."))
        .count(&f.s.db)
        .await
        .unwrap();
    assert_eq!(audited, 2, "set and cleared are audited");
}

async fn bad_part_type_keys_are_refused_and_change_nothing(app: TestApp) {
    let f = fiscal_shop(&app, "satk2").await;
    let kind = a_part_type(&app, "Filtros (claves SAT)").await;
    let put = |token: String, path: String, body: Value| {
        let app = &app;
        async move { app.session(&token).put(&path, body).await }
    };
    let at = format!("{PATH}/{kind}");
    for (body, field) in [
        (json!({"product_key": "2517"}), "product_key"),
        (json!({"product_key": "ABCDEFGH"}), "product_key"),
        (json!({"unit_key": "PIEZA"}), "unit_key"),
        (json!({}), "product_key"),
        (
            json!({"product_key": null, "unit_key": null}),
            "product_key",
        ),
    ] {
        let r = put(f.s.owner.clone(), at.clone(), body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text()
        );
        assert_eq!(r.json["error"]["field"], field, "{body}");
    }
    let r = put(
        f.s.owner.clone(),
        at.clone(),
        json!({"product_key": "25171500", "x": 1}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    let r = put(
        f.s.owner.clone(),
        format!("{PATH}/{}", kind + 100_000),
        json!({"product_key": "25171500"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    let cashier = f.s.token(&app, Role::Cashier).await;
    let r = put(
        cashier.clone(),
        at.clone(),
        json!({"product_key": "25171500"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(
        app.session(&cashier).get(PATH).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        category_sat_key::Entity::find()
            .count(&f.s.db)
            .await
            .unwrap(),
        0,
        "nothing was stored"
    );
}
