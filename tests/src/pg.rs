//! Throw-away PostgreSQL databases for one test, dropped when the test ends, each copied from a
//! database migrated once: `CREATE DATABASE … TEMPLATE` copies files, so a test's master and
//! tenant databases start migrated instead of running every migration again (the migrator then
//! finds nothing to do).

use std::time::{SystemTime, UNIX_EPOCH};

use rand::RngCore;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

/// The prefix every test database name starts with.
pub const PREFIX: &str = "nxt_";

/// A set of databases sharing a unique prefix; all are dropped on [`PgScope::drop`].
#[derive(Debug)]
pub struct PgScope {
    /// Server URL with the `postgres` database.
    pub admin_url: String,
    /// The unique prefix, e.g. `nxt_1764000000_a1b2c3d4_`.
    pub prefix: String,
}

fn swap_db(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let query = path
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{scheme}://{authority}/{name}{query}")
}

impl PgScope {
    /// A new scope on the server of `base_url`; also drops databases left by test runs that died
    /// more than an hour ago.
    pub async fn new(base_url: &str) -> Self {
        let admin_url = swap_db(base_url, "postgres");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let prefix = format!("{PREFIX}{now}_{:08x}_", rand::rng().next_u32());
        sweep_stale(&admin_url, now).await;
        Self { admin_url, prefix }
    }

    /// URL of a database of this scope.
    #[must_use]
    pub fn url(&self, name: &str) -> String {
        swap_db(&self.admin_url, &format!("{}{name}", self.prefix))
    }

    /// Creates this scope's database `name` (e.g. `master`, `nexus_t_acme`) as a copy of the
    /// migrated `template` ([`templates`]).
    pub async fn create_from(&self, name: &str, template: &str) {
        let admin = Database::connect(&self.admin_url).await.expect("admin");
        let sql = format!(
            "CREATE DATABASE \"{}{name}\" TEMPLATE \"{template}\"",
            self.prefix
        );
        admin
            .execute_unprepared(&sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let _ = admin.close().await;
    }

    /// The tenant URL template of this scope.
    #[must_use]
    pub fn template(&self) -> String {
        swap_db(&self.admin_url, &format!("{}{{db_name}}", self.prefix))
    }
}

async fn drop_matching(admin_url: &str, pattern: &str, older_than: Option<u64>) {
    let Ok(admin) = Database::connect(admin_url).await else {
        return;
    };
    let Ok(rows) = admin
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT datname FROM pg_database WHERE datname LIKE $1",
            [pattern.into()],
        ))
        .await
    else {
        return;
    };
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else {
            continue;
        };
        if let Some(limit) = older_than {
            let stamp = name
                .trim_start_matches(PREFIX)
                .split('_')
                .next()
                .and_then(|s| s.parse::<u64>().ok());
            if stamp.is_none_or(|s| s >= limit) {
                continue;
            }
        }
        let _ = admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await;
    }
    let _ = admin.close().await;
}

async fn sweep_stale(admin_url: &str, now: u64) {
    static SWEPT: std::sync::Once = std::sync::Once::new();
    let mut first = false;
    SWEPT.call_once(|| first = true);
    if first {
        drop_matching(
            admin_url,
            &format!("{PREFIX}%"),
            Some(now.saturating_sub(3600)),
        )
        .await;
    }
}

impl Drop for PgScope {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let pattern = format!("{}%", self.prefix.replace('_', "\\_"));
        // Drop runs inside the test's runtime; the clean-up gets a runtime of its own.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(drop_matching(&admin_url, &pattern, None));
            }
        })
        .join();
    }
}

/// The migrated templates on this server: `(platform, tenant)` database names, one pair per
/// schema version (the names carry a hash of the migrations), made by the first test that needs
/// them and reused by every later test and run. They are renamed into place only once migrated
/// and closed, so a copy never sees a half-made one or one still connected.
pub async fn templates(admin_url: &str) -> (String, String) {
    static MADE: tokio::sync::OnceCell<(String, String)> = tokio::sync::OnceCell::const_new();
    MADE.get_or_init(|| make_templates(admin_url.to_owned()))
        .await
        .clone()
}

async fn make_templates(admin_url: String) -> (String, String) {
    use migration::MigratorTrait;
    use std::hash::{Hash, Hasher};
    let (platform, tenant) = migration::migration_names();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (&platform, &tenant).hash(&mut h);
    let version = format!("{:012x}", h.finish() & 0xffff_ffff_ffff);
    let wanted = (
        format!("nxtpl_{version}_platform"),
        format!("nxtpl_{version}_tenant"),
    );
    let admin = Database::connect(&admin_url).await.expect("admin");
    // One process makes them; the others wait on the lock, then find them.
    admin
        .execute_unprepared("SELECT pg_advisory_lock(73110001)")
        .await
        .expect("template lock");
    for (name, tenant_schema) in [(&wanted.0, false), (&wanted.1, true)] {
        let exists = admin
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT 1 FROM pg_database WHERE datname = $1",
                [name.as_str().into()],
            ))
            .await
            .expect("pg_database")
            .is_some();
        if exists {
            continue;
        }
        let making = format!("{name}_making");
        admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS \"{making}\" WITH (FORCE)"
            ))
            .await
            .expect("drop a half-made template");
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{making}\""))
            .await
            .expect("create a template");
        let db = Database::connect(swap_db(&admin_url, &making))
            .await
            .expect("connect to the template");
        if tenant_schema {
            migration::TenantMigrator::up(&db, None).await
        } else {
            migration::PlatformMigrator::up(&db, None).await
        }
        .expect("migrate the template");
        db.close().await.expect("close the template");
        admin
            .execute_unprepared(&format!("ALTER DATABASE \"{making}\" RENAME TO \"{name}\""))
            .await
            .expect("rename the template into place");
    }
    let _ = admin
        .execute_unprepared("SELECT pg_advisory_unlock(73110001)")
        .await;
    let _ = admin.close().await;
    wanted
}
