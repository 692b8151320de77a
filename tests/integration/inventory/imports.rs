//! `/pos/api/items/imports`: bulk imports of items from a CSV with list prices and opening stock,
//! carried out by the `inventory.import_items` job; all rows or none.

use std::sync::Arc;

use entities::Role;
use entities::{
    inventory::tables::item, inventory::tables::item_import, inventory::tables::stock_ledger,
    org::tables::audit_log, pricing::tables::item_price,
};
use http::StatusCode;
use jobs::Job;
use jobs::inventory::ImportItems;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tests::shop::Shop;
use tests::{TestApp, TestResponse, shape_tests};
use uuid::Uuid;
use workers::runtime::{Outcome, Runtime};
use workers::services::Services;

shape_tests!(
    a_good_csv_creates_items_with_prices_and_stock_and_ends_done_with_counts,
    a_csv_with_bad_rows_ends_failed_listing_every_bad_row_and_changes_nothing,
    importing_again_updates_the_items_instead_of_duplicating_them,
    the_progress_moves_while_the_rows_are_checked,
    an_import_of_the_most_rows_is_applied_whole_while_a_client_polls_it,
    a_cashier_cannot_import_or_read_imports,
    another_tenants_import_is_not_found,
    an_unknown_column_is_refused_at_once_naming_it_and_nothing_is_recorded,
);

/// The handlers of every job, without external services.
fn runtime(app: &TestApp) -> Arc<Runtime> {
    Arc::new(Runtime::new(
        app.app.platform.clone(),
        app.app.tenants.clone(),
        workers::handlers::all(Services::none()),
    ))
}

async fn import(app: &TestApp, token: &str, body: Value) -> TestResponse {
    app.session(token)
        .post("/pos/api/items/imports", body)
        .await
}

/// Posts an import into `wh` and answers its id, checking the 202.
async fn accepted(app: &TestApp, token: &str, wh: Uuid, csv: &str) -> String {
    let r = import(app, token, json!({"csv": csv, "warehouse_id": wh})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    assert_eq!(r.json["status"], "queued");
    r.json["id"].as_str().unwrap().to_owned()
}

async fn status(app: &TestApp, token: &str, id: &str) -> Value {
    let r = app
        .session(token)
        .get(&format!("/pos/api/items/imports/{id}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json
}

async fn item_count(s: &Shop) -> u64 {
    item::Entity::find().count(&s.db).await.unwrap()
}

async fn item_by_sku(s: &Shop, sku: &str) -> item::Model {
    item::Entity::find()
        .filter(item::Column::Sku.eq(sku))
        .one(&s.db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no item {sku}"))
}

/// The list price of an item in a list, in centavos.
async fn list_price(s: &Shop, item: Uuid, list: &str) -> Option<i64> {
    item_price::Entity::find()
        .filter(item_price::Column::ItemId.eq(item))
        .filter(item_price::Column::PriceList.eq(list))
        .filter(item_price::Column::BranchId.eq(Uuid::nil()))
        .one(&s.db)
        .await
        .unwrap()
        .map(|p| p.amount_minor)
}

async fn audited(s: &Shop, action: &str) -> Vec<audit_log::Model> {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(action))
        .all(&s.db)
        .await
        .unwrap()
}

async fn a_good_csv_creates_items_with_prices_and_stock_and_ends_done_with_counts(app: TestApp) {
    use entities::catalog::part;
    tests::shop::small_catalog(&app).await;
    let part7 = part::Entity::find_by_id(7i64)
        .one(&app.app.platform)
        .await
        .unwrap()
        .unwrap();
    let s = Shop::open(&app, "importa").await;
    let _jobs = app.drive_jobs(runtime(&app));
    // Any case in the header, columns in any order, quoted cells, a row that leaves the name to
    // its catalog part, a row without stock.
    let csv = "SKU,Name,brand,cost,Price,stock,catalog_part_id,sat_product_key,sat_unit_key\n\
               bal-001,\"Balata delantera, cerámica\",Frenosa,210.00,450.00,12,,25174004,h87\n\
               CAT-7,,,100,199.90,3,7,,\n\
               FIL-9,Filtro de aceite,,35.5,80,,,,\n";
    let r = import(&app, &s.owner, json!({"csv": csv, "warehouse_id": s.wh})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    assert_eq!(r.json["status"], "queued");
    assert_eq!(r.json["total_rows"], 3);
    let id = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.headers["location"].to_str().unwrap(),
        format!("/pos/api/items/imports/{id}")
    );
    let queued = status(&app, &s.owner, &id).await;
    assert_eq!(queued["status"], "queued");
    assert_eq!(queued["rows_processed"], 0);

    app.run_jobs().await;
    let done = status(&app, &s.owner, &id).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["total_rows"], 3);
    assert_eq!(done["rows_processed"], 3);
    assert_eq!(done["created"], 3);
    assert_eq!(done["updated"], 0);
    assert_eq!(done["stock_skipped"], 0);
    assert_eq!(done["errors"], json!([]));
    assert_eq!(done["error"], Value::Null);
    assert!(done["finished_at"].is_string());

    let bal = item_by_sku(&s, "BAL-001").await;
    assert_eq!(bal.name, "Balata delantera, cerámica");
    assert_eq!(bal.brand.as_deref(), Some("Frenosa"));
    assert_eq!(bal.cost_cents, 21_000);
    assert_eq!(
        bal.sat_unit_key.as_deref(),
        Some("H87"),
        "the item rules apply"
    );
    assert_eq!(list_price(&s, bal.id, "mostrador").await, Some(45_000));
    assert_eq!(s.on_hand(bal.id, s.wh).await, 12);
    assert_eq!(s.ledger_sum(bal.id, s.wh).await, 12);
    let cat = item_by_sku(&s, "CAT-7").await;
    assert_eq!(
        cat.name, part7.name,
        "the catalog part fills what the row leaves out"
    );
    assert_eq!(cat.part_number.as_deref(), Some(part7.number.as_str()));
    assert_eq!(cat.catalog_part_id, Some(7));
    assert_eq!(list_price(&s, cat.id, "mostrador").await, Some(19_990));
    assert_eq!(s.on_hand(cat.id, s.wh).await, 3);
    let fil = item_by_sku(&s, "FIL-9").await;
    assert_eq!(list_price(&s, fil.id, "mostrador").await, Some(8_000));
    assert_eq!(s.on_hand(fil.id, s.wh).await, 0, "no stock cell, no stock");
    // The stock came in through the ledger, with the import as its document.
    let ledger = stock_ledger::Entity::find()
        .filter(stock_ledger::Column::ItemId.eq(bal.id))
        .one(&s.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ledger.reason, "import");
    assert_eq!(ledger.ref_type, "item_import");
    assert_eq!(ledger.ref_id, id);
    // The API sees the same.
    let r = app
        .session(&s.owner)
        .get(&format!("/pos/api/items/{}/prices", cat.id))
        .await;
    assert_eq!(r.json["prices"][0]["amount"], "199.90", "{}", r.text());

    let requested = audited(&s, "items.import_requested").await;
    assert_eq!(requested.len(), 1);
    assert_eq!(requested[0].target_id.as_deref(), Some(id.as_str()));
    assert!(requested[0].actor_user_id.is_some());
    let applied = audited(&s, "items.imported").await;
    assert_eq!(applied.len(), 1);
    let details = applied[0].details.clone().unwrap();
    assert_eq!(details["created"], 3);
    assert_eq!(
        details["created_skus"],
        json!(["BAL-001", "CAT-7", "FIL-9"])
    );
    assert_eq!(applied[0].actor_user_id, requested[0].actor_user_id);

    // The same job delivered again (a second outbox row for the same import) does nothing: the
    // import has ended.
    let job = ImportItems {
        tenant_id: s.t.tenant.id,
        import_id: id.parse().unwrap(),
    };
    let outbox_id = jobs::outbox::enqueue(&s.db, &job).await.unwrap();
    let env = jobs::Envelope {
        name: ImportItems::NAME.into(),
        tenant_id: s.t.tenant.id,
        outbox_id,
        attempt: 0,
        payload: serde_json::to_value(&job).unwrap(),
        due_at_us: None,
        requeued: 0,
    };
    let raw = serde_json::to_value(&env).unwrap();
    let rt = runtime(&app);
    assert_eq!(rt.execute(raw.clone()).await, Outcome::Done);
    // And a re-delivery of that one is skipped by its processed mark.
    assert_eq!(rt.execute(raw).await, Outcome::Skipped);
    assert_eq!(item_count(&s).await, 3);
    assert_eq!(s.on_hand(bal.id, s.wh).await, 12, "stock not moved twice");
    assert_eq!(audited(&s, "items.imported").await.len(), 1);
    assert_eq!(status(&app, &s.owner, &id).await["created"], 3);

    let list = app.session(&s.owner).get("/pos/api/items/imports").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text());
    assert_eq!(list.json["total"], 1);
    assert_eq!(list.json["items"][0]["id"], id.as_str());
    assert_eq!(list.json["items"][0]["status"], "done");
    assert!(
        list.json["items"][0].get("errors").is_none(),
        "a listing carries counts, not the errors"
    );
    let none = app
        .session(&s.owner)
        .get("/pos/api/items/imports?status=failed")
        .await;
    assert_eq!(none.json["total"], 0);
}

async fn a_csv_with_bad_rows_ends_failed_listing_every_bad_row_and_changes_nothing(app: TestApp) {
    tests::shop::small_catalog(&app).await;
    let s = Shop::open(&app, "errores").await;
    let existing = s.item("EXI-1", 10_000, None, 0).await;
    let _jobs = app.drive_jobs(runtime(&app));
    let before = item_count(&s).await;
    let csv = "sku,name,catalog_part_id,price,stock\n\
               GOOD-1,Pieza buena,,10,1\n\
               BAL 1,Espacio en el SKU,,10,1\n\
               NEG-1,Stock negativo,,10,-3\n\
               CAT-X,Parte inexistente,99999999,10,1\n\
               PRE-1,Precio malo,,abc,1\n\
               GOOD-1,Repetido,,10,1\n\
               SIN-NOMBRE,,,10,1\n\
               CORTA,Fila corta\n\
               MAL-2,Dos errores,,-5,2.5\n\
               EXI-1,Existente con precio malo,,1.234,\n";
    let id = accepted(&app, &s.owner, s.wh, csv).await;
    app.run_jobs().await;
    let r = status(&app, &s.owner, &id).await;
    assert_eq!(r["status"], "failed", "{r}");
    assert_eq!(r["rows_processed"], 10, "every row was checked");
    assert_eq!(r["created"], 0);
    assert_eq!(r["updated"], 0);
    assert_eq!(r["error"], Value::Null, "the rows failed, not the import");
    let errors: Vec<(u64, Option<String>)> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
            (
                e["row"].as_u64().unwrap(),
                e["column"].as_str().map(str::to_owned),
            )
        })
        .collect();
    let col = |c: &str| Some(c.to_owned());
    assert_eq!(
        errors,
        [
            (3, col("sku")),
            (4, col("stock")),
            (5, col("catalog_part_id")),
            (6, col("price")),
            (7, col("sku")),
            (8, col("name")),
            (9, None),
            (10, col("price")),
            (10, col("stock")),
            (11, col("price")),
        ],
        "{r}"
    );
    assert_eq!(r["error_count"], 10);
    let dup = &r["errors"][4]["message"];
    assert!(dup.as_str().unwrap().contains("row 2"), "{dup}");

    // Nothing was written: not even the good row.
    assert_eq!(item_count(&s).await, before);
    assert!(
        item::Entity::find()
            .filter(item::Column::Sku.eq("GOOD-1"))
            .one(&s.db)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(list_price(&s, existing, "mostrador").await, Some(10_000));
    assert_eq!(
        stock_ledger::Entity::find()
            .filter(stock_ledger::Column::RefType.eq("item_import"))
            .count(&s.db)
            .await
            .unwrap(),
        0
    );
    assert!(audited(&s, "items.imported").await.is_empty());

    // The same file corrected goes through.
    let fixed = "sku,name,price,stock\nGOOD-1,Pieza buena,10,1\n";
    let id = accepted(&app, &s.owner, s.wh, fixed).await;
    app.run_jobs().await;
    assert_eq!(status(&app, &s.owner, &id).await["status"], "done");
    assert_eq!(item_count(&s).await, before + 1);
}

async fn importing_again_updates_the_items_instead_of_duplicating_them(app: TestApp) {
    let s = Shop::open(&app, "reimporta").await;
    let _jobs = app.drive_jobs(runtime(&app));
    let first = "sku,name,brand,price,stock\n\
                 AMO-1,Amortiguador,Monroe,900,4\n\
                 BUJ-1,Bujía,NGK,60,10\n";
    let id = accepted(&app, &s.owner, s.wh, first).await;
    app.run_jobs().await;
    assert_eq!(status(&app, &s.owner, &id).await["status"], "done");
    let amo = item_by_sku(&s, "AMO-1").await;
    let buj = item_by_sku(&s, "BUJ-1").await;

    // The same SKUs (any case) with new names and prices, a brand left empty, and a new SKU; in
    // the taller list this time.
    let second = "sku,name,brand,price,stock\n\
                  amo-1,Amortiguador delantero,,950.50,4\n\
                  BUJ-1,Bujía iridio,Denso,75,10\n\
                  ACE-1,Aceite 5W-30,,180,24\n";
    let r = import(
        &app,
        &s.owner,
        json!({"csv": second, "warehouse_id": s.wh, "price_list": "taller"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    let id = r.json["id"].as_str().unwrap().to_owned();
    app.run_jobs().await;
    let done = status(&app, &s.owner, &id).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["created"], 1);
    assert_eq!(done["updated"], 2);
    assert_eq!(
        done["stock_skipped"], 2,
        "opening stock is for new items only"
    );
    assert_eq!(item_count(&s).await, 3, "no duplicates");

    let amo2 = item_by_sku(&s, "AMO-1").await;
    assert_eq!(amo2.id, amo.id);
    assert_eq!(amo2.name, "Amortiguador delantero");
    assert_eq!(
        amo2.brand.as_deref(),
        Some("Monroe"),
        "an empty cell changes nothing"
    );
    assert_eq!(
        item_by_sku(&s, "BUJ-1").await.brand.as_deref(),
        Some("Denso")
    );
    assert_eq!(list_price(&s, amo.id, "mostrador").await, Some(90_000));
    assert_eq!(list_price(&s, amo.id, "taller").await, Some(95_050));
    assert_eq!(list_price(&s, buj.id, "taller").await, Some(7_500));
    assert_eq!(
        s.on_hand(amo.id, s.wh).await,
        4,
        "not 8: stock was not added again"
    );
    assert_eq!(s.on_hand(buj.id, s.wh).await, 10);
    let ace = item_by_sku(&s, "ACE-1").await;
    assert_eq!(s.on_hand(ace.id, s.wh).await, 24);
    let applied = audited(&s, "items.imported").await;
    assert_eq!(applied.len(), 2);
    let last = applied
        .iter()
        .find(|a| a.target_id.as_deref() == Some(id.as_str()))
        .unwrap();
    assert_eq!(
        last.details.as_ref().unwrap()["updated_skus"],
        json!(["AMO-1", "BUJ-1"])
    );
}

/// `n` good rows of new items, with stock `i % 7` each.
fn rows(n: usize) -> String {
    let mut csv = String::from("sku,name,cost,price,stock\n");
    for i in 0..n {
        csv.push_str(&format!("P-{i:05},Pieza {i},10.50,21.00,{}\n", i % 7));
    }
    csv
}

async fn the_progress_moves_while_the_rows_are_checked(app: TestApp) {
    use entities::inventory::imports::{self, Checker};
    let s = Shop::open(&app, "progreso").await;
    let _jobs = app.drive_jobs(runtime(&app));
    let id = accepted(&app, &s.owner, s.wh, &rows(250)).await;
    // The job's steps, one batch at a time, with a client reading the import between them.
    let import_id: Uuid = id.parse().unwrap();
    let imp = imports::start(&s.db, import_id).await.unwrap().unwrap();
    let r = status(&app, &s.owner, &id).await;
    assert_eq!(
        (r["status"].as_str(), r["rows_processed"].as_u64()),
        (Some("running"), Some(0))
    );
    assert!(r["started_at"].is_string());
    let mut checker = Checker::new(&s.db, &app.app.platform, &imp).await.unwrap();
    for seen in [100, 200, 250] {
        assert_eq!(checker.next_batch().await.unwrap(), Some(seen));
        let r = status(&app, &s.owner, &id).await;
        assert_eq!(r["status"], "running");
        assert_eq!(r["rows_processed"], seen, "the client sees each batch");
        assert_eq!(r["total_rows"], 250);
        let list = app.session(&s.owner).get("/pos/api/items/imports").await;
        assert_eq!(list.json["items"][0]["rows_processed"], seen);
    }
    assert_eq!(checker.next_batch().await.unwrap(), None);
    assert_eq!(item_count(&s).await, 0, "checking writes nothing");
    // The job itself takes the import up again and carries it through.
    app.run_jobs().await;
    let done = status(&app, &s.owner, &id).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["rows_processed"], 250);
    assert_eq!(done["created"], 250);
}

async fn an_import_of_the_most_rows_is_applied_whole_while_a_client_polls_it(app: TestApp) {
    let s = Shop::open(&app, "grande").await;
    let _jobs = app.drive_jobs(runtime(&app));
    let total = entities::inventory::imports::MAX_ROWS;
    let id = accepted(&app, &s.owner, s.wh, &rows(total)).await;
    // A client polls the import on its own task, beside the job running in this one, as a
    // browser and a worker would; it reads the row the API answers from.
    let poll = {
        let (db, id) = (s.db.clone(), id.parse::<Uuid>().unwrap());
        tokio::spawn(async move {
            let mut seen = Vec::new();
            loop {
                let (st, n) = item_import::Entity::find_by_id(id)
                    .one(&db)
                    .await
                    .unwrap()
                    .map(|r| (r.status.to_string(), r.rows_processed))
                    .unwrap();
                seen.push((st.clone(), u64::try_from(n).unwrap()));
                if st == "done" || st == "failed" {
                    return seen;
                }
                tokio::task::yield_now().await;
            }
        })
    };
    app.run_jobs().await;
    let seen = poll.await.unwrap();
    let total = total as u64;
    assert_eq!(
        seen.last().unwrap(),
        &("done".to_owned(), total),
        "{seen:?}"
    );
    assert!(
        seen.windows(2).all(|w| w[0].1 <= w[1].1),
        "progress only grows: {seen:?}"
    );
    let batch = entities::inventory::imports::BATCH_ROWS as u64;
    assert!(
        seen.iter().all(|(_, n)| n % batch == 0 || *n == total),
        "progress is written every {batch} rows: {seen:?}"
    );
    let done = status(&app, &s.owner, &id).await;
    assert_eq!(done["created"], total);
    assert_eq!(item_count(&s).await, total);
    // Every new item's stock, in a few statements of the ledger.
    let units: i64 = (0..5_000).map(|i| i % 7).sum();
    let in_wh: i64 = stock_ledger::Entity::find()
        .filter(stock_ledger::Column::RefId.eq(id.as_str()))
        .all(&s.db)
        .await
        .unwrap()
        .iter()
        .map(|l| l.delta)
        .sum();
    assert_eq!(in_wh, units);
    let priced = item_price::Entity::find()
        .filter(item_price::Column::PriceList.eq("mostrador"))
        .count(&s.db)
        .await
        .unwrap();
    assert_eq!(priced, total);
}

async fn a_cashier_cannot_import_or_read_imports(app: TestApp) {
    let s = Shop::open(&app, "cajero").await;
    let _jobs = app.drive_jobs(runtime(&app));
    let id = accepted(&app, &s.owner, s.wh, "sku,name\nA-1,Pieza\n").await;
    let cashier = s.token(&app, Role::Cashier).await;
    let r = import(
        &app,
        &cashier,
        json!({"csv": "sku,name\nB-1,Pieza\n", "warehouse_id": s.wh}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    for path in [
        "/pos/api/items/imports".to_owned(),
        format!("/pos/api/items/imports/{id}"),
    ] {
        let r = app.session(&cashier).get(&path).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
    }
    // A manager imports.
    let manager = s.token(&app, Role::Manager).await;
    accepted(&app, &manager, s.wh, "sku,name\nC-1,Pieza\n").await;
    // A manager limited to one branch imports into its warehouses, without list prices.
    let scoped = app.user(&s.t, Role::Manager, Some(vec![s.branch])).await;
    let scoped = app.token(&scoped).await;
    let r = import(
        &app,
        &scoped,
        json!({"csv": "sku,name\nD-1,Pieza\n", "warehouse_id": s.border_wh}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    let r = import(
        &app,
        &scoped,
        json!({"csv": "sku,name,price\nD-1,Pieza,10\n", "warehouse_id": s.wh}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(r.json["error"]["code"], "branch_scope");
    let r = import(
        &app,
        &scoped,
        json!({"csv": "sku,name\nD-1,Pieza\n", "warehouse_id": s.wh}),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    app.run_jobs().await;
    assert_eq!(item_count(&s).await, 3, "A-1, C-1 and D-1; never B-1");
}

async fn another_tenants_import_is_not_found(app: TestApp) {
    let a = Shop::open(&app, "tienda-a").await;
    let b = Shop::open(&app, "tienda-b").await;
    let id = accepted(&app, &a.owner, a.wh, "sku,name\nA-1,Pieza\n").await;
    let r = app
        .session(&b.owner)
        .get(&format!("/pos/api/items/imports/{id}"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    let list = app.session(&b.owner).get("/pos/api/items/imports").await;
    assert_eq!(list.json["total"], 0);
    // Nor may one import into the other's warehouse.
    let r = import(
        &app,
        &b.owner,
        json!({"csv": "sku,name\nB-1,Pieza\n", "warehouse_id": a.wh}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
}

async fn an_unknown_column_is_refused_at_once_naming_it_and_nothing_is_recorded(app: TestApp) {
    let s = Shop::open(&app, "columnas").await;
    let refused = |csv: String| json!({"csv": csv, "warehouse_id": s.wh});
    let r = import(
        &app,
        &s.owner,
        refused("sku,name,precio\nA-1,Pieza,10\n".into()),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json["error"]["field"], "csv");
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"precio\""),
        "{}",
        r.text()
    );
    // The other refusals of the file's shape.
    for (csv, what) in [
        ("name,price\nPieza,10\n".to_owned(), "no sku column"),
        ("sku,name\n".to_owned(), "no rows"),
        (String::new(), "empty"),
        ("sku,name,NAME\nA,b,c\n".to_owned(), "a column twice"),
        (
            format!(
                "sku\n{}",
                "A\n".repeat(entities::inventory::imports::MAX_ROWS + 1)
            ),
            "too many rows",
        ),
    ] {
        let r = import(&app, &s.owner, refused(csv)).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{what}: {}",
            r.text()
        );
        assert_eq!(r.json["error"]["field"], "csv", "{what}");
    }
    let r = import(
        &app,
        &s.owner,
        json!({"csv": "sku\nA\n", "warehouse_id": s.wh, "price_list": "vip"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json["error"]["field"], "price_list");
    let r = import(
        &app,
        &s.owner,
        json!({"csv": "sku\nA\n", "warehouse_id": Uuid::now_v7()}),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Over 2 MiB of CSV: 413 saying so, though the body fits the route's own limit.
    let big = format!(
        "sku,name\n{}",
        "A-1,Pieza con un nombre largo\n".repeat(80_000)
    );
    assert!(big.len() > entities::inventory::imports::MAX_CSV_BYTES);
    let r = import(&app, &s.owner, refused(big)).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text());
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("2 MiB")
    );
    // A CSV over the server's default body limit (1 MiB) and within the import's goes through.
    let mut near = String::from("sku,name\n");
    let mut i = 0;
    while near.len() < 1_200_000 {
        near.push_str(&format!("S-{i},Pieza {i}\n"));
        i += 1;
    }
    let r = import(&app, &s.owner, refused(near)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("5000 rows"),
        "past the body limit, refused for its rows: {}",
        r.text()
    );

    // Nothing recorded, nothing queued.
    assert_eq!(item_import::Entity::find().count(&s.db).await.unwrap(), 0);
    assert_eq!(
        entities::jobs::tables::outbox::Entity::find()
            .filter(entities::jobs::tables::outbox::Column::JobName.eq(ImportItems::NAME))
            .count(&s.db)
            .await
            .unwrap(),
        0
    );
}
