//! The demo store a first `nexus serve` opens on an empty data folder: a business one can sell from
//! at once. Two branches with a warehouse each, ~200 items linked to catalog parts (those of one
//! popular car first, so the vehicle cascade finds stock), prices in every list, stock in both
//! branches, customers (one with fiscal data, a fleet, one on credit), a manager and a cashier, and
//! a few days of past sales so reports show something.
//!
//! The three logins are written to `NEXUS_DATA_DIR/demo-logins.txt` (owner-only) and printed on
//! every start; they change only when `--demo` asks for new ones.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::Duration;
use entities::catalog::docs::ph;
use entities::catalog::schema::{brand, part};
use entities::counter::sales::{self, LineInput, Method, NewSale, PaymentInput, Seller};
use entities::customers::records::{self, NewCustomer};
use entities::inventory::movements::{self, Movement, Reference, reason};
use entities::inventory::tables::item;
use entities::org::accounts::{self, NewUser};
use entities::org::branches::{self, Actor, NewBranch, NewWarehouse};
use entities::org::tables::{branch, warehouse};
use entities::pricing::tables::item_price;
use entities::registry::TenantRegistry;
use entities::rules::money::{Money, Rate};
use entities::{Role, sea_orm};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement,
};
use uuid::Uuid;

use crate::provision::{self, DEMO_EMAIL, DEMO_SLUG};

/// The demo manager's login.
pub const MANAGER_EMAIL: &str = "gerente@nexus.local";
/// The demo cashier's login.
pub const CASHIER_EMAIL: &str = "cajero@nexus.local";
/// How many items the demo store stocks.
pub const ITEMS: u64 = 200;

/// The demo's logins: e-mail and password of the owner, the manager and the cashier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logins(pub Vec<(String, String)>);

impl Logins {
    fn render(&self) -> String {
        self.0.iter().map(|(e, p)| format!("{e} {p}\n")).collect()
    }

    fn parse(text: &str) -> Self {
        Self(
            text.lines()
                .filter_map(|l| l.split_once(' '))
                .map(|(e, p)| (e.to_owned(), p.trim().to_owned()))
                .collect(),
        )
    }
}

/// What a start did with the demo.
#[derive(Debug, Clone)]
pub struct Demo {
    /// The logins in force.
    pub logins: Logins,
    /// Whether the store was created by this start.
    pub created: bool,
    /// The car whose parts are stocked first, e.g. `2017 Chevrolet Captiva`.
    pub car: Option<String>,
}

fn logins_file(data_dir: &Path) -> PathBuf {
    data_dir.join("demo-logins.txt")
}

fn save(data_dir: &Path, logins: &Logins) -> Result<()> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("NEXUS_DATA_DIR: cannot create {}", data_dir.display()))?;
    let path = logins_file(data_dir);
    std::fs::write(&path, logins.render())
        .with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict {}", path.display()))?;
    }
    Ok(())
}

/// Makes sure the demo store exists. When `fresh` (a first start on an empty platform, or the
/// `--demo` flag) it is created if missing and every demo login gets a new password; otherwise
/// the logins saved by the first start are read back, and a platform without a demo gets none.
///
/// # Errors
/// Database failures; a demo tenant without its users.
pub async fn ensure(
    platform: &DatabaseConnection,
    registry: &TenantRegistry,
    data_dir: &Path,
    fresh: bool,
) -> Result<Option<Demo>> {
    let exists = entities::org::tenants::find_by_slug(platform, DEMO_SLUG)
        .await
        .is_ok();
    if !exists && !fresh {
        // A platform with businesses of its own gets no demo unless asked.
        return Ok(None);
    }
    if exists && !fresh {
        let Ok(text) = std::fs::read_to_string(logins_file(data_dir)) else {
            return Ok(None);
        };
        return Ok(Some(Demo {
            logins: Logins::parse(&text),
            created: false,
            car: None,
        }));
    }
    let owner_password = provision::ensure_demo(platform, registry).await?;
    let tenant = entities::org::tenants::find_by_slug(platform, DEMO_SLUG).await?;
    let db = registry.connection(&tenant).await?;
    let mut logins = vec![(DEMO_EMAIL.to_owned(), owner_password)];
    let mut car = None;
    if exists {
        for email in [MANAGER_EMAIL, CASHIER_EMAIL] {
            let p = provision::random_password();
            if accounts::set_password(platform, email, p.clone())
                .await
                .is_ok()
            {
                logins.push((email.to_owned(), p));
            }
        }
    } else {
        let (matriz, sur) = branches_of(&db).await?;
        for (email, name, role, scope) in [
            (MANAGER_EMAIL, "Gerente Demo", Role::Manager, None),
            (
                CASHIER_EMAIL,
                "Cajero Demo",
                Role::Cashier,
                Some(vec![matriz.0]),
            ),
        ] {
            let p = provision::random_password();
            let u = accounts::create_user(
                platform,
                NewUser {
                    email: email.into(),
                    full_name: name.into(),
                    password: p.clone(),
                },
            )
            .await?;
            accounts::add_membership(platform, u.id, tenant.id, role, scope).await?;
            logins.push((email.to_owned(), p));
        }
        let cashier = accounts::find_user_by_email(platform, CASHIER_EMAIL)
            .await?
            .context("the demo cashier")?;
        car = stock_store(platform, &db, matriz, sur, cashier.id).await?;
    }
    let logins = Logins(logins);
    save(data_dir, &logins)?;
    Ok(Some(Demo {
        logins,
        created: !exists,
        car,
    }))
}

/// The first branch and its warehouse, and a second branch with one, created here.
async fn branches_of(db: &DatabaseConnection) -> Result<((Uuid, Uuid), (Uuid, Uuid))> {
    let first = branch::Entity::find()
        .order_by_asc(branch::Column::CreatedAt)
        .one(db)
        .await?
        .context("the demo's first branch")?;
    let first_wh = warehouse::Entity::find()
        .filter(warehouse::Column::BranchId.eq(first.id))
        .one(db)
        .await?
        .context("the demo's first warehouse")?;
    let actor = Actor::default();
    let sur = branches::create_branch(
        db,
        &actor,
        NewBranch {
            code: "SUR".into(),
            name: "Sucursal Sur".into(),
            address: Some("Av. Revolución 1500, Monterrey, N.L.".into()),
            postal_code: Some("64700".into()),
            ..NewBranch::default()
        },
    )
    .await?;
    let sur_wh = branches::create_warehouse(
        db,
        &actor,
        sur.id,
        NewWarehouse {
            code: "SUR-A".into(),
            name: "Almacén Sur".into(),
        },
    )
    .await?;
    Ok(((first.id, first_wh.id), (sur.id, sur_wh.id)))
}

/// The popular car the catalog has the most brake, filter and ignition parts for.
async fn demo_car(platform: &DatabaseConnection) -> Result<Option<(i32, i16, String)>> {
    let backend = platform.get_database_backend();
    let row = platform
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT v.model_id, v.year, mk.name || ' ' || m.name AS label, \
                    COUNT(DISTINCT p.category_id) AS kinds \
             FROM catalog_parts p \
             JOIN catalog_categories k ON k.id = p.category_id \
             JOIN catalog_fitment f ON f.part_id = p.id \
             JOIN catalog_vehicles v ON v.id = f.vehicle_id \
             JOIN catalog_models m ON m.id = v.model_id \
             JOIN catalog_makes mk ON mk.id = m.make_id \
             WHERE k.name IN ('Balata', 'Bujía', 'Filtro de aceite', 'Filtro de aire', \
                              'Filtro de cabina', 'Disco de freno') \
               AND mk.name IN ('Nissan', 'Volkswagen', 'Chevrolet', 'Toyota', 'Honda', 'Ford', \
                               'Kia', 'Mazda', 'Hyundai') \
             GROUP BY v.model_id, v.year, mk.name, m.name \
             ORDER BY kinds DESC, v.year DESC, v.model_id \
             LIMIT 1"
                .to_owned(),
        ))
        .await?;
    Ok(match row {
        Some(r) => Some((
            r.try_get::<i32>("", "model_id")?,
            r.try_get::<i16>("", "year")?,
            r.try_get::<String>("", "label")?,
        )),
        None => None,
    })
}

/// Parts of the car first, then common parts, up to [`ITEMS`].
async fn chosen_parts(
    platform: &DatabaseConnection,
    car: Option<(i32, i16)>,
) -> Result<Vec<part::Model>> {
    let backend = platform.get_database_backend();
    let mut ids: Vec<i64> = Vec::new();
    if let Some((model_id, year)) = car {
        let rows = platform
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                format!(
                    "SELECT DISTINCT f.part_id FROM catalog_fitment f \
                     JOIN catalog_vehicles v ON v.id = f.vehicle_id \
                     WHERE v.model_id = {} AND v.year = {} ORDER BY f.part_id LIMIT 80",
                    ph(backend, 1),
                    ph(backend, 2)
                ),
                [model_id.into(), year.into()],
            ))
            .await?;
        for r in rows {
            ids.push(r.try_get_by_index::<i64>(0)?);
        }
    }
    let fill = part::Entity::find()
        .filter(part::Column::Id.is_not_in(ids.clone()))
        .order_by_asc(part::Column::Id)
        .limit(ITEMS.saturating_sub(ids.len() as u64))
        .all(platform)
        .await?;
    let mut parts = part::Entity::find()
        .filter(part::Column::Id.is_in(ids))
        .order_by_asc(part::Column::Id)
        .all(platform)
        .await?;
    parts.extend(fill);
    Ok(parts)
}

/// Items, prices, stock, customers and past sales.
async fn stock_store(
    platform: &DatabaseConnection,
    db: &DatabaseConnection,
    (matriz, matriz_wh): (Uuid, Uuid),
    (_, sur_wh): (Uuid, Uuid),
    cashier: Uuid,
) -> Result<Option<String>> {
    let car = demo_car(platform).await?;
    let parts = chosen_parts(platform, car.as_ref().map(|(m, y, _)| (*m, *y))).await?;
    let brands: Vec<brand::Model> = brand::Entity::find().all(platform).await?;
    let now = entities::now();
    let mut items = Vec::with_capacity(parts.len());
    for (i, p) in parts.iter().enumerate() {
        let retail = p.retail_price_cents.unwrap_or(50_000).max(1_000);
        let id = Uuid::now_v7();
        item::ActiveModel {
            id: Set(id),
            sku: Set(format!("RF-{:05}", i + 1)),
            catalog_part_id: Set(Some(p.id)),
            name: Set(p.name.clone()),
            description: Set(p.description.clone()),
            brand: Set(brands
                .iter()
                .find(|b| b.id == p.brand_id)
                .map(|b| b.name.clone())),
            part_number: Set(Some(p.number.clone())),
            sat_product_key: Set(p.sat_product_key.clone()),
            sat_unit_key: Set(p.sat_unit_key.clone()),
            cost_cents: Set(retail * 55 / 100),
            avg_cost_cents: Set(retail * 55 / 100),
            retail_price_cents: Set(Some(retail)),
            min_qty: Set(2),
            max_qty: Set(Some(30)),
            kind: Set(item::Kind::Part),
            core_charge_cents: Set(0),
            is_active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(db)
        .await?;
        // Every list priced: the counter price, and 8, 12 and 15 % off for workshops, fleets and
        // wholesale.
        for (list, pct) in [
            ("mostrador", 100),
            ("taller", 92),
            ("flotilla", 88),
            ("mayoreo", 85),
        ] {
            item_price::ActiveModel {
                item_id: Set(id),
                price_list: Set(list.to_owned()),
                branch_id: Set(Uuid::nil()),
                amount_minor: Set(retail * pct / 100),
                currency: Set("MXN".to_owned()),
                updated_by: Set(None),
                updated_at: Set(now),
            }
            .insert(db)
            .await?;
        }
        let n = i64::try_from(i).unwrap_or(0);
        movements::apply(
            db,
            &[
                Movement {
                    item_id: id,
                    warehouse_id: matriz_wh,
                    delta: 4 + (n * 7) % 17,
                },
                Movement {
                    item_id: id,
                    warehouse_id: sur_wh,
                    delta: 2 + (n * 5) % 11,
                },
            ],
            &Reference {
                reason: reason::ADJUSTMENT,
                ref_type: "demo",
                ref_id: "opening",
                note: Some("initial"),
                actor: None,
            },
        )
        .await?;
        items.push(id);
    }
    let actor = Actor::default();
    let mut credit_customer = None;
    for c in [
        NewCustomer {
            name: "María Fernanda López".into(),
            rfc: Some("CACX7605101P8".into()),
            tax_regime: Some("612".into()),
            zip: Some("64000".into()),
            email: Some("maria.lopez@example.com".into()),
            whatsapp_phone: Some("+528112345678".into()),
            ..NewCustomer::default()
        },
        NewCustomer {
            name: "Transportes del Norte".into(),
            rfc: Some("IIA040805DZ4".into()),
            tax_regime: Some("601".into()),
            zip: Some("64000".into()),
            price_list: Some("flotilla".into()),
            credit_limit: Some(Money(5_000_000)),
            notes: Some("Flotilla de 12 camionetas de reparto".into()),
            ..NewCustomer::default()
        },
        NewCustomer {
            name: "Taller Mecánico Hernández".into(),
            whatsapp_phone: Some("+528187654321".into()),
            price_list: Some("taller".into()),
            credit_limit: Some(Money(3_000_000)),
            ..NewCustomer::default()
        },
    ] {
        let on_credit = c.name.starts_with("Taller");
        let made = records::create_customer(db, &actor, c).await?;
        if on_credit {
            credit_customer = Some(made.id);
        }
    }
    past_sales(db, matriz, matriz_wh, cashier, &items, credit_customer).await?;
    Ok(car.map(|(_, year, label)| format!("{year} {label}")))
}

/// Four sales a day over the last five days, by card and one a day on credit, dated back.
async fn past_sales(
    db: &DatabaseConnection,
    branch_id: Uuid,
    wh: Uuid,
    cashier: Uuid,
    items: &[Uuid],
    credit_customer: Option<Uuid>,
) -> Result<()> {
    if items.is_empty() {
        // An empty catalog links no items: there is nothing to have sold.
        return Ok(());
    }
    let seller = Seller {
        user_id: cashier,
        role: Role::Cashier,
        branch_scope: None,
        request_id: None,
        authorized_by: None,
    };
    let b = branch::Entity::find_by_id(branch_id)
        .one(db)
        .await?
        .context("the demo branch")?;
    let rate = Rate(17_000_000);
    let mut k = 0usize;
    for day in (1..=5i64).rev() {
        for n in 0..4i64 {
            let lines: Vec<LineInput> = (0..=(n % 3))
                .map(|j| LineInput {
                    item_id: items[(k + usize::try_from(j).unwrap_or(0) * 13) % items.len()],
                    warehouse_id: wh,
                    qty: 1 + (k % 2) as i64,
                    discount_bp: 0,
                    fixed_price: None,
                })
                .collect();
            k += 1;
            let on_credit = n == 3 && credit_customer.is_some();
            // A credit sale is one unit of one item: five of them stay far below the limit.
            let lines = if on_credit {
                lines
                    .into_iter()
                    .take(1)
                    .map(|l| LineInput { qty: 1, ..l })
                    .collect()
            } else {
                lines
            };
            let customer_id = if on_credit { credit_customer } else { None };
            let list = if on_credit { "taller" } else { "mostrador" };
            let (_, totals) = sales::price_lines(db, &b, list, rate, &lines, Role::Cashier).await?;
            let txn = entities::db::begin_write(db).await?;
            let out = sales::checkout(
                &txn,
                &seller,
                NewSale {
                    branch_id,
                    customer_id,
                    price_list: None,
                    lines,
                    payments: vec![PaymentInput {
                        method: if on_credit {
                            Method::Credit
                        } else {
                            Method::Card
                        },
                        amount_minor: totals.total.0,
                        reference: (!on_credit).then(|| format!("AUT{:06}", k * 7919 % 1_000_000)),
                    }],
                    note: None,
                    quote_id: None,
                    fixed_rate: Some(rate),
                    drawer_session_id: None,
                },
                rate,
            )
            .await?;
            let at = entities::now() - Duration::days(day) + Duration::hours(10 + 2 * n);
            let mut am: entities::counter::tables::sale::ActiveModel = out.doc.sale.into();
            am.created_at = Set(at);
            am.update(&txn).await?;
            txn.commit().await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_logins_read_back_the_same() {
        let l = Logins(vec![
            ("demo@nexus.local".into(), "abc".into()),
            ("cajero@nexus.local".into(), "xyz".into()),
        ]);
        assert_eq!(Logins::parse(&l.render()), l);
    }
}
