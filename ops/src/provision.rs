//! Creating and migrating databases: the platform database, tenant databases, the demo tenant.

use anyhow::{Context, Result, bail};
use entities::db::{self, Backend};
use entities::org::accounts::{self, NewUser};
use entities::org::branches::{self, Actor, NewBranch, NewWarehouse};
use entities::org::tenants::{self, NewTenant};
use entities::registry::{TenantDbLocation, TenantRegistry};
use entities::{Role, sea_orm};
use entities::{org::audit::Entry, org::tables::tenant};
use migration::{MigratorTrait, PlatformMigrator, TenantMigrator};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, Statement};

use crate::config::Config;

/// Opens the platform database (creating the data folder for SQLite) and, with `migrate`,
/// migrates it.
///
/// # Errors
/// One line naming `MASTER_DB_URL` when the database cannot be reached or migrated.
pub async fn open_platform(cfg: &Config, migrate: bool) -> Result<DatabaseConnection> {
    if Backend::of_url(&cfg.master_db_url) == Some(Backend::Sqlite) {
        std::fs::create_dir_all(&cfg.data_dir)
            .with_context(|| format!("NEXUS_DATA_DIR: cannot create {}", cfg.data_dir.display()))?;
    }
    let conn = db::connect(&cfg.master_db_url, 10).await.with_context(|| {
        format!(
            "MASTER_DB_URL: cannot connect to {}",
            redact(&cfg.master_db_url)
        )
    })?;
    if migrate {
        PlatformMigrator::up(&conn, None)
            .await
            .context("MASTER_DB_URL: migrating the platform database")?;
    }
    Ok(conn)
}

/// Hides the password of a URL for messages.
#[must_use]
pub fn redact(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, rest)), Some(at)) if at > scheme.len() + 3 => {
            let userinfo = &url[scheme.len() + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{scheme}://{user}:***{}", &rest[userinfo.len()..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn quote_ident(name: &str) -> Result<String> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        bail!("refusing database name `{name}`");
    }
    Ok(format!("\"{name}\""))
}

/// Creates a tenant's database if it does not exist (PostgreSQL: `CREATE DATABASE` through the
/// server's `postgres` database; SQLite: the folder, the file comes on first connect).
///
/// # Errors
/// When the server refuses.
pub async fn create_database(
    location: &TenantDbLocation,
    db_name: &str,
    db_url: Option<&str>,
) -> Result<()> {
    let target = db_url.map_or_else(|| location.url_for_name(db_name), str::to_owned);
    match Backend::of_url(&target) {
        Some(Backend::Sqlite) => {
            if let TenantDbLocation::SqliteDir(dir) = location {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            Ok(())
        }
        Some(Backend::Postgres) => {
            let name = database_of(&target)
                .with_context(|| format!("no database name in {}", redact(&target)))?;
            create_postgres_database(&swap_db(&target, "postgres"), &name).await
        }
        None => bail!("unsupported database URL {}", redact(&target)),
    }
}

/// The database name in a URL's path.
fn database_of(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let (_, path) = rest.split_once('/')?;
    let name = path.split('?').next()?;
    (!name.is_empty()).then(|| name.to_owned())
}

fn swap_db(url: &str, name: &str) -> String {
    match url
        .split_once("://")
        .and_then(|(s, rest)| rest.split_once('/').map(|(a, p)| (s, a, p)))
    {
        Some((scheme, authority, path)) => {
            let query = path
                .split_once('?')
                .map(|(_, q)| format!("?{q}"))
                .unwrap_or_default();
            format!("{scheme}://{authority}/{name}{query}")
        }
        None => url.to_owned(),
    }
}

/// Creates a PostgreSQL database unless it exists.
///
/// # Errors
/// When the server cannot be reached or refuses.
pub async fn create_postgres_database(admin_url: &str, db_name: &str) -> Result<()> {
    let admin = db::connect(admin_url, 1)
        .await
        .with_context(|| format!("cannot connect to {}", redact(admin_url)))?;
    let exists = admin
        .query_one_raw(Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT 1 FROM pg_database WHERE datname = $1",
            [db_name.into()],
        ))
        .await?
        .is_some();
    if !exists {
        let sql = format!("CREATE DATABASE {}", quote_ident(db_name)?);
        if let Err(e) = admin.execute_unprepared(&sql).await {
            // Two processes creating the same tenant at once: the loser finds it made.
            if !e.to_string().contains("already exists") {
                return Err(e).with_context(|| format!("creating database {db_name}"));
            }
        }
    }
    admin.close().await.ok();
    Ok(())
}

/// Migrates one tenant database.
///
/// # Errors
/// When the database cannot be opened or migrated.
pub async fn migrate_tenant(
    registry: &TenantRegistry,
    t: &tenant::Model,
) -> Result<DatabaseConnection> {
    let conn = registry
        .connection(t)
        .await
        .with_context(|| format!("tenant {}", t.slug))?;
    TenantMigrator::up(&conn, None)
        .await
        .with_context(|| format!("migrating tenant {}", t.slug))?;
    Ok(conn)
}

/// Migrates every tenant, with a progress bar when there are more than a few.
///
/// # Errors
/// The first tenant that fails.
pub async fn migrate_all(
    platform: &DatabaseConnection,
    registry: &TenantRegistry,
    show_progress: bool,
) -> Result<usize> {
    let all = tenants::list(platform).await?;
    let bar = (show_progress && all.len() > 3).then(|| {
        let b = indicatif::ProgressBar::new(all.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} tenants {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    for t in &all {
        if let Some(b) = &bar {
            b.set_message(t.slug.clone());
        }
        migrate_tenant(registry, t).await?;
        if let Some(b) = &bar {
            b.inc(1);
        }
    }
    if let Some(b) = bar {
        b.finish_with_message("migrated");
    }
    Ok(all.len())
}

/// What to create with a tenant.
#[derive(Debug, Clone)]
pub struct TenantSpec {
    /// Slug, name, RFC and optional own database URL.
    pub tenant: NewTenant,
    /// Owner's e-mail.
    pub owner_email: String,
    /// Owner's name.
    pub owner_name: String,
    /// Owner's password; ignored when the user exists already.
    pub owner_password: String,
}

/// The result of [`create_tenant`].
#[derive(Debug, Clone)]
pub struct CreatedTenant {
    /// The tenant row.
    pub tenant: tenant::Model,
    /// The owner's e-mail.
    pub owner_email: String,
    /// Whether the owner was an existing user (whose password was left alone).
    pub owner_existed: bool,
    /// Whether the RFC's check digit matched (a mismatch is a warning).
    pub rfc_check_digit_ok: bool,
}

/// Creates a tenant: its database, schema, first branch and warehouse, the record and the owner.
/// Safe to re-run after a failure: the database and seed steps find their work done.
///
/// # Errors
/// Validation errors naming the field, a taken slug, or database failures.
pub async fn create_tenant(
    platform: &DatabaseConnection,
    registry: &TenantRegistry,
    spec: TenantSpec,
) -> Result<CreatedTenant> {
    let valid = spec.tenant.validate()?;
    let owner_email = accounts::normalize_email(&spec.owner_email)?;
    if tenants::find_by_slug(platform, &valid.slug).await.is_ok() {
        return Err(entities::Error::conflict(
            "slug_taken",
            "a tenant with this slug already exists",
        )
        .into());
    }
    let existing = accounts::find_user_by_email(platform, &owner_email).await?;
    if existing.is_none() {
        entities::org::password::check_policy(&spec.owner_password)?;
    }
    create_database(registry.location(), &valid.db_name, valid.db_url.as_deref()).await?;

    // The record is written last so a failure above leaves nothing a user can log into; the
    // provisional model only tells the registry where the database is.
    let provisional = tenant::Model {
        id: uuid::Uuid::now_v7(),
        slug: valid.slug.clone(),
        name: valid.name.clone(),
        rfc: valid.rfc.as_str().to_owned(),
        db_name: valid.db_name.clone(),
        db_url: valid.db_url.clone(),
        plan: String::new(),
        status: tenant::STATUS_ACTIVE.into(),
        created_at: entities::now(),
        updated_at: entities::now(),
    };
    let tenant_db = migrate_tenant(registry, &provisional).await?;
    seed_first_branch(&tenant_db).await?;
    registry.close(provisional.id).await;

    let txn = entities::db::begin_write(platform).await?;
    let t = tenants::insert(&txn, &valid).await?;
    let (user, owner_existed) = match existing {
        Some(u) => (u, true),
        None => (
            accounts::create_user(
                &txn,
                NewUser {
                    email: owner_email.clone(),
                    full_name: spec.owner_name,
                    password: spec.owner_password,
                },
            )
            .await?,
            false,
        ),
    };
    accounts::add_membership(&txn, user.id, t.id, Role::Owner, None).await?;
    Entry::new("tenant.created")
        .tenant(t.id)
        .target("tenant", t.id)
        .details(serde_json::json!({"slug": t.slug, "owner": owner_email}))
        .record_platform(&txn)
        .await?;
    txn.commit().await?;
    Ok(CreatedTenant {
        tenant: t,
        owner_email,
        owner_existed,
        rfc_check_digit_ok: valid.rfc.check_digit_ok(),
    })
}

async fn seed_first_branch(db: &DatabaseConnection) -> Result<()> {
    use entities::org::tables::branch;
    if branch::Entity::find().count(db).await? > 0 {
        return Ok(());
    }
    let actor = Actor::default();
    let b = branches::create_branch(
        db,
        &actor,
        NewBranch {
            code: "MATRIZ".into(),
            name: "Matriz".into(),
            ..NewBranch::default()
        },
    )
    .await?;
    branches::create_warehouse(
        db,
        &actor,
        b.id,
        NewWarehouse {
            code: "MATRIZ-A".into(),
            name: "Almacén principal".into(),
        },
    )
    .await?;
    Ok(())
}

/// Slug of the demo tenant.
pub const DEMO_SLUG: &str = "demo";
/// Login of the demo owner.
pub const DEMO_EMAIL: &str = "demo@nexus.local";

/// A random password for generated accounts: 20 letters and digits that cannot be misread.
#[must_use]
pub fn random_password() -> String {
    entities::org::password::readable(20)
}

/// Makes sure the demo tenant exists and its owner has a fresh password, which is returned so
/// it can be printed.
///
/// # Errors
/// Database failures.
pub async fn ensure_demo(
    platform: &DatabaseConnection,
    registry: &TenantRegistry,
) -> Result<String> {
    let password = random_password();
    if tenants::find_by_slug(platform, DEMO_SLUG).await.is_ok() {
        if accounts::find_user_by_email(platform, DEMO_EMAIL)
            .await?
            .is_some()
        {
            accounts::set_password(platform, DEMO_EMAIL, password.clone()).await?;
            accounts::set_disabled(platform, DEMO_EMAIL, false).await?;
            return Ok(password);
        }
        bail!("the demo tenant exists but its owner {DEMO_EMAIL} does not");
    }
    create_tenant(
        platform,
        registry,
        TenantSpec {
            tenant: NewTenant {
                slug: DEMO_SLUG.into(),
                name: "Refaccionaria Demo".into(),
                rfc: "EKU9003173C9".into(),
                db_url: None,
            },
            owner_email: DEMO_EMAIL.into(),
            owner_name: "Dueño Demo".into(),
            owner_password: password.clone(),
        },
    )
    .await?;
    Ok(password)
}

/// Whether the platform has no tenant yet (a first start).
///
/// # Errors
/// Database failures.
pub async fn is_empty(platform: &DatabaseConnection) -> Result<bool> {
    Ok(tenant::Entity::find().count(platform).await? == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(
            redact("postgres://nexus:s3cret@db:5432/m"),
            "postgres://nexus:***@db:5432/m"
        );
        assert_eq!(redact("postgres://db/m"), "postgres://db/m");
        assert_eq!(redact("postgres://nexus@db/m"), "postgres://nexus@db/m");
    }

    #[test]
    fn the_database_of_a_url_can_be_swapped() {
        assert_eq!(
            swap_db("postgres://u@h:5432/tenant_a?sslmode=disable", "postgres"),
            "postgres://u@h:5432/postgres?sslmode=disable"
        );
    }

    #[test]
    fn the_database_name_is_read_from_a_url() {
        assert_eq!(
            database_of("postgres://u@h/nxt_1_nexus_t_acme?x=1").as_deref(),
            Some("nxt_1_nexus_t_acme")
        );
        assert_eq!(database_of("postgres://u@h/"), None);
    }

    #[test]
    fn only_plain_database_names_are_quoted() {
        assert_eq!(quote_ident("nexus_t_acme").unwrap(), "\"nexus_t_acme\"");
        assert!(quote_ident("x\"; DROP DATABASE y; --").is_err());
    }

    #[test]
    fn random_passwords_meet_the_policy() {
        assert!(entities::org::password::check_policy(&random_password()).is_ok());
    }
}
