//! Throw-away PostgreSQL databases for one test, dropped when the test ends.

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
