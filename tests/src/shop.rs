//! A store ready to sell: a tenant with its first branch and warehouse, a second warehouse in
//! another branch, items with prices and stock written straight through the domain layer. Both
//! branches take cash without a drawer session unless a test asks for drawers.

use entities::Role;
use entities::inventory::movements::{self, Movement, Reference, reason};
use entities::{
    inventory::tables::item, org::tables::branch, org::tables::warehouse,
    pricing::tables::item_price,
};
use http::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{TestApp, TestResponse, TestTenant};

/// A tenant with two branches (16 % and 8 % IVA), a warehouse each, and its owner's token.
pub struct Shop {
    /// The tenant.
    pub t: TestTenant,
    /// Its database.
    pub db: DatabaseConnection,
    /// Owner's token.
    pub owner: String,
    /// The first branch (16 %).
    pub branch: Uuid,
    /// Its warehouse.
    pub wh: Uuid,
    /// A border branch (8 %).
    pub border: Uuid,
    /// Its warehouse.
    pub border_wh: Uuid,
}

impl Shop {
    /// Opens a shop in `app`.
    pub async fn open(app: &TestApp, slug: &str) -> Self {
        let t = app.tenant(slug).await;
        let db = app.tenant_db(&t).await;
        let owner = app.token(&t.owner_email).await;
        let first = branch::Entity::find()
            .one(&db)
            .await
            .expect("branches")
            .expect("a branch");
        let wh = warehouse::Entity::find()
            .one(&db)
            .await
            .expect("warehouses")
            .expect("a warehouse");
        let r = app
            .post(
                "/pos/api/branches",
                Some(&owner),
                json!({"code": "TIJ", "name": "Tijuana", "iva_rate": "0.08", "timezone": "America/Tijuana"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let border: Uuid = r.json["id"].as_str().expect("id").parse().expect("uuid");
        let r = app
            .post(
                &format!("/pos/api/branches/{border}/warehouses"),
                Some(&owner),
                json!({"code": "TIJ-A", "name": "Bodega Tijuana"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let border_wh: Uuid = r.json["id"].as_str().expect("id").parse().expect("uuid");
        // Most suites sell for cash without caring which drawer it goes to; the drawer suite
        // turns the requirement back on where it tests it.
        for b in [first.id, border] {
            let r = app
                .patch(
                    &format!("/pos/api/branches/{b}"),
                    Some(&owner),
                    json!({"cash_drawer_required": false}),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        }
        Self {
            t,
            db,
            owner,
            branch: first.id,
            wh: wh.id,
            border,
            border_wh,
        }
    }

    /// A token of a new user with `role`.
    pub async fn token(&self, app: &TestApp, role: Role) -> String {
        let email = app.user(&self.t, role, None).await;
        app.token(&email).await
    }

    /// An item with a `mostrador` list price and a reference retail price (centavos).
    pub async fn item(&self, sku: &str, price: i64, retail: Option<i64>, min_qty: i64) -> Uuid {
        let now = entities::now();
        let id = Uuid::now_v7();
        item::ActiveModel {
            id: Set(id),
            sku: Set(sku.to_owned()),
            catalog_part_id: Set(None),
            name: Set(format!("Pieza {sku}")),
            description: Set(None),
            brand: Set(Some("ACME".into())),
            part_number: Set(Some(sku.to_owned())),
            sat_product_key: Set(Some("25174800".into())),
            sat_unit_key: Set(Some("H87".into())),
            cost_cents: Set(price / 2),
            avg_cost_cents: Set(price / 2),
            retail_price_cents: Set(retail),
            min_qty: Set(min_qty),
            max_qty: Set(None),
            kind: Set(item::Kind::Part),
            core_charge_cents: Set(0),
            is_active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&self.db)
        .await
        .expect("item");
        self.price(id, "mostrador", Uuid::nil(), price, "MXN").await;
        id
    }

    /// A labour operation (a service item, SAT keys 78181500 and E48) whose `mostrador` price
    /// is `rate` centavos (an hourly rate or a flat price).
    pub async fn service(&self, sku: &str, rate: i64) -> Uuid {
        let now = entities::now();
        let id = Uuid::now_v7();
        item::ActiveModel {
            id: Set(id),
            sku: Set(sku.to_owned()),
            catalog_part_id: Set(None),
            name: Set(format!("Servicio {sku}")),
            description: Set(None),
            brand: Set(None),
            part_number: Set(None),
            sat_product_key: Set(Some("78181500".into())),
            sat_unit_key: Set(Some("E48".into())),
            cost_cents: Set(0),
            avg_cost_cents: Set(0),
            retail_price_cents: Set(None),
            min_qty: Set(0),
            max_qty: Set(None),
            kind: Set(item::Kind::Service),
            core_charge_cents: Set(0),
            is_active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&self.db)
        .await
        .expect("service item");
        self.price(id, "mostrador", Uuid::nil(), rate, "MXN").await;
        id
    }

    /// The units of `item` in `wh` held for documents (service and special orders).
    pub async fn reserved(&self, item: Uuid, wh: Uuid) -> i64 {
        entities::inventory::tables::stock::Entity::find_by_id((item, wh))
            .one(&self.db)
            .await
            .expect("stock")
            .map_or(0, |s| s.reserved)
    }

    /// Sets a price row.
    pub async fn price(&self, item: Uuid, list: &str, branch: Uuid, amount: i64, currency: &str) {
        item_price::ActiveModel {
            item_id: Set(item),
            price_list: Set(list.to_owned()),
            branch_id: Set(branch),
            amount_minor: Set(amount),
            currency: Set(currency.to_owned()),
            updated_by: Set(None),
            updated_at: Set(entities::now()),
        }
        .insert(&self.db)
        .await
        .expect("price");
    }

    /// Puts `qty` units of `item` into `wh` through the ledger.
    pub async fn stock(&self, item: Uuid, wh: Uuid, qty: i64) {
        movements::apply(
            &self.db,
            &[Movement {
                item_id: item,
                warehouse_id: wh,
                delta: qty,
            }],
            &Reference {
                reason: reason::ADJUSTMENT,
                ref_type: "test",
                ref_id: &Uuid::now_v7().to_string(),
                note: None,
                actor: None,
            },
        )
        .await
        .expect("stock");
    }

    /// The balance of `item` in `wh`.
    pub async fn on_hand(&self, item: Uuid, wh: Uuid) -> i64 {
        entities::inventory::tables::stock::Entity::find_by_id((item, wh))
            .one(&self.db)
            .await
            .expect("stock")
            .map_or(0, |s| s.qty)
    }

    /// The sum of the ledger of `item` in `wh`.
    pub async fn ledger_sum(&self, item: Uuid, wh: Uuid) -> i64 {
        use sea_orm::{ColumnTrait, QueryFilter};
        entities::inventory::tables::stock_ledger::Entity::find()
            .filter(entities::inventory::tables::stock_ledger::Column::ItemId.eq(item))
            .filter(entities::inventory::tables::stock_ledger::Column::WarehouseId.eq(wh))
            .all(&self.db)
            .await
            .expect("ledger")
            .iter()
            .map(|l| l.delta)
            .sum()
    }
}

/// POSTs JSON with an `Idempotency-Key`.
pub async fn post_with_key(
    app: &TestApp,
    path: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> TestResponse {
    let mut req = TestApp::request(Method::POST, path, Some(token), Some(body), None);
    req.headers_mut()
        .insert("idempotency-key", key.parse().expect("header"));
    app.send(req).await
}

/// A cash payment of `amount` (a decimal string).
#[must_use]
pub fn cash(amount: &str) -> Value {
    json!([{"method": "cash", "amount": amount}])
}

/// A small synthetic shared catalog (60 parts, the Mexican vehicles of `ops/data`), so items and
/// registered vehicles can name parts and vehicles that exist.
pub async fn small_catalog(app: &TestApp) {
    app.cli(&["catalog", "generate", "--parts", "60", "--seed", "7"])
        .await
        .expect("catalog generate");
}
