//! Configuration from the environment. Names follow the seed system's so an existing
//! deployment's settings carry over; a missing or malformed setting stops start-up with one line
//! naming it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use entities::db::Backend;
use entities::registry::TenantDbLocation;
use rust_decimal::Decimal;

/// A bad setting: the variable and what is wrong with it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{name}: {reason}")]
pub struct ConfigError {
    /// The environment variable.
    pub name: &'static str,
    /// What is wrong, for a person.
    pub reason: String,
}

fn err(name: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        name,
        reason: reason.into(),
    }
}

/// Which runtime shape the settings describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// SQLite files and in-process everything, under the data folder.
    Embedded,
    /// PostgreSQL for the platform and tenants, Redis for queues and caches.
    Distributed,
}

/// Every setting of the `nexus` binary.
#[derive(Clone)]
pub struct Config {
    /// `NEXUS_DATA_DIR` (default `data`): SQLite files, files, generated secrets.
    pub data_dir: PathBuf,
    /// `MASTER_DB_URL`, or the SQLite file `data/master.db`.
    pub master_db_url: String,
    /// `TENANT_DB_URL_TEMPLATE` (PostgreSQL, with `{db_name}`), or `data/tenants/`.
    pub tenant_location: TenantDbLocation,
    /// `REDIS_URL`, unless `REDIS_ENABLED=false`.
    pub redis_url: Option<String>,
    /// `REDIS_STOCK_TTL` in seconds (default 300).
    pub redis_stock_ttl: Duration,
    /// `REDIS_DEADLINE_MS`: how long a request waits for Redis (stock cache, login throttle)
    /// before going on without it (default 150).
    pub redis_deadline: Duration,
    /// `NEXUS_HTTP_ADDR` (default `127.0.0.1:8080`).
    pub http_addr: SocketAddr,
    /// `POS_JWT_SECRET`; generated into the data folder in the embedded shape when unset.
    pub jwt_secret: Option<Vec<u8>>,
    /// `NEXUS_ACCESS_TOKEN_TTL_SECS` (default 900).
    pub access_ttl: Duration,
    /// `NEXUS_REFRESH_TOKEN_TTL_DAYS` (default 30).
    pub refresh_ttl: Duration,
    /// `NEXUS_CORS_ORIGINS`: comma-separated origins, or `*`; unset disables CORS.
    pub cors_origins: Vec<String>,
    /// `NEXUS_PUBLIC_URL`: the address customers reach this deployment at (`https://pos.tienda.mx`);
    /// links sent to them (a quote's page) are absolute when set.
    pub public_url: Option<String>,
    /// `NEXUS_TRUSTED_PROXIES`: comma-separated addresses of the load balancers in front of the
    /// API; only a request from one of them has its client address taken from
    /// `X-Forwarded-For`. Unset: the connection's address, always.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// `NEXUS_BODY_LIMIT_BYTES` (default 1 MiB).
    pub body_limit: usize,
    /// `NEXUS_TENANT_MAX_CONNECTIONS` per tenant pool (default 5).
    pub tenant_max_connections: u32,
    /// `NEXUS_TENANT_IDLE_SECS`: close a tenant pool unused this long (default 600).
    pub tenant_idle: Duration,
    /// `DEFAULT_CURRENCY`: `MXN` (default) or `USD`.
    pub default_currency: String,
    /// `EXCHANGE_RATE_USD_MXN` (default 17.50).
    pub exchange_rate_usd_mxn: Decimal,
    /// `FILES_S3_BUCKET` with `FILES_S3_ENDPOINT`, `FILES_S3_REGION` (default `us-east-1`),
    /// `FILES_S3_ACCESS_KEY_ID` and `FILES_S3_SECRET_ACCESS_KEY`: the tenants' files go to this
    /// S3-compatible bucket instead of `NEXUS_DATA_DIR/files` (hosts of the distributed shape
    /// share it).
    pub files_s3: Option<entities::files::S3Settings>,
    /// `MEILI_URL`, unless `MEILI_ENABLED=false`.
    pub meili_url: Option<String>,
    /// `MEILI_MASTER_KEY`, or `MEILI_API_KEY` (the seed's name).
    pub meili_api_key: Option<String>,
    /// `MEILI_INDEX_PREFIX` (default `nexus_`): the live catalog index is `<prefix>parts`, so
    /// deployments can share one Meilisearch.
    pub meili_index_prefix: String,
    /// `MEILI_TIMEOUT_MS` (default 2000): a search or write request not answered by then fails
    /// (searches fall back to SQL).
    pub meili_timeout: Duration,
    /// `MEILI_SYNC_INTERVAL_MS` (default 1000): time between passes of the change-log sync.
    pub meili_sync_interval: Duration,
    /// `WHATSAPP_BRIDGE_URL`.
    pub whatsapp_bridge_url: Option<String>,
    /// `WHATSAPP_BRIDGE_KEY`.
    pub whatsapp_bridge_key: Option<String>,
    /// `OPENROUTER_API_KEY`.
    pub openrouter_api_key: Option<String>,
    /// `NEXUS_VPIC_URL` (default the public NHTSA vPIC API; `off` or empty: VIN enrichment is
    /// not configured and VIN look-ups answer the local decode only).
    pub vpic_url: Option<String>,
    /// `NEXUS_FACTURAPI_URL` (default `https://www.facturapi.io/v2`; `off` or empty disables
    /// stamping): the PAC the `cfdi` workers call with each business's own key.
    pub facturapi_url: Option<String>,
    /// `NEXUS_WHATSAPP_API_URL` (default Meta's Graph API, `https://graph.facebook.com/v21.0`;
    /// `off` disables the Cloud API): where WhatsApp messages go with each business's token.
    pub whatsapp_api_url: Option<String>,
    /// `NEXUS_SMTP_URL` (unset: e-mail is not configured and e-mails are parked):
    /// `smtps://user:pass@host:465`, `smtp://user:pass@host:587?tls=required` (STARTTLS), or
    /// `smtp://127.0.0.1:25` for a relay on the same host.
    pub smtp_url: Option<String>,
    /// `NEXUS_SMTP_FROM` (default `Nexus <avisos@localhost>`): the relay's sender; each business
    /// puts its own name on it.
    pub smtp_from: String,
    /// `NEXUS_LOG_FORMAT`: `text` (default) or `json`.
    pub log_json: bool,
    /// `NEXUS_QUEUE_NAMESPACE` (default `nexus`): prefix of every queue name, so deployments can
    /// share one Redis.
    pub queue_namespace: String,
    /// `NEXUS_QUEUE_WINDOW` (default 2000): most jobs of one queue waiting in the backend; the
    /// outbox holds the rest.
    pub queue_window: u64,
    /// `NEXUS_OUTBOX_REPUSH_SECS` (default 120): an outbox row sent this long ago whose run never
    /// started, or whose run's lease lapsed, is pushed again (the queue lost it: Redis restarted
    /// empty, a worker died with it); delivery is idempotent by run key.
    pub outbox_repush: Duration,
    /// `NEXUS_WORKER_CONCURRENCY` (default 20): jobs run at once per queue and process.
    pub worker_concurrency: usize,
    /// `NEXUS_OPS_ADDR` (default `127.0.0.1:8081`, `off` to disable): the operator console's
    /// listener (the queue board must sit at the root of a host or port).
    pub ops_addr: Option<SocketAddr>,
    /// `NEXUS_METRICS_ADDR` (unset: off): where `nexus worker` and `nexus scheduler` serve
    /// `/metrics` and `/healthz` (`serve` and `api` have them on the API).
    pub metrics_addr: Option<SocketAddr>,
    /// What the nightly clean-up keeps; `NEXUS_RETENTION_DAYS` (default 14) sets how long sent
    /// outbox rows stay, the rest keeps [`jobs::maintenance::Retention`]'s defaults.
    pub retention: jobs::maintenance::Retention,
    /// `NEXUS_QUEUE_HEARTBEAT` in seconds (default 5) and `NEXUS_QUEUE_MISSED_HEARTBEATS`
    /// (default 6): a killed worker's jobs run again after their product.
    pub queue_heartbeat: jobs::backend::Heartbeat,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("shape", &self.shape())
            .field("data_dir", &self.data_dir)
            .field("http_addr", &self.http_addr)
            .field("ops_addr", &self.ops_addr)
            .field("redis", &self.redis_url.is_some())
            .finish_non_exhaustive()
    }
}

fn parse_bool(name: &'static str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => Err(err(name, format!("expected true or false, got `{other}`"))),
    }
}

fn parse_num<T: FromStr>(name: &'static str, v: &str, what: &str) -> Result<T, ConfigError> {
    v.trim()
        .parse()
        .map_err(|_| err(name, format!("expected {what}, got `{v}`")))
}

fn check_http_url(name: &'static str, v: &str) -> Result<String, ConfigError> {
    let v = v.trim();
    if (v.starts_with("http://") || v.starts_with("https://")) && v.len() > "https://".len() {
        Ok(v.trim_end_matches('/').to_owned())
    } else {
        Err(err(
            name,
            format!("expected an http:// or https:// URL, got `{v}`"),
        ))
    }
}

/// The S3-compatible file store's settings, when `FILES_S3_BUCKET` names one.
fn files_s3(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<entities::files::S3Settings>, ConfigError> {
    let Some(bucket) = get("FILES_S3_BUCKET").map(|b| b.trim().to_owned()) else {
        return Ok(None);
    };
    // S3's bucket naming rules, so a typo stops start-up rather than the first invoice.
    let named = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    if !named {
        return Err(err(
            "FILES_S3_BUCKET",
            "3 to 63 lowercase letters, digits, '-' or '.', starting and ending with a letter or digit",
        ));
    }
    let endpoint = get("FILES_S3_ENDPOINT")
        .map(|u| check_http_url("FILES_S3_ENDPOINT", &u))
        .transpose()?;
    let need = |name: &'static str| {
        get(name)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| err(name, "required with FILES_S3_BUCKET"))
    };
    Ok(Some(entities::files::S3Settings {
        bucket,
        endpoint,
        region: get("FILES_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
        access_key_id: need("FILES_S3_ACCESS_KEY_ID")?,
        secret_access_key: need("FILES_S3_SECRET_ACCESS_KEY")?,
    }))
}

/// Derives a tenant template from the platform URL by putting `{db_name}` where its database
/// name is: `postgres://u@h/nexus` becomes `postgres://u@h/{db_name}`.
fn template_from_master(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let (authority, path) = rest.split_once('/')?;
    let query = path
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    Some(format!("{scheme}://{authority}/{{db_name}}{query}"))
}

impl Config {
    /// Reads the process environment.
    ///
    /// # Errors
    /// The first bad setting.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads settings through `get` (the environment, or a map in tests). Empty values count as
    /// unset.
    ///
    /// # Errors
    /// The first bad setting.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        // Unlike the other settings, an empty NEXUS_VPIC_URL is an explicit "off": a provider is
        // switched off by blanking its URL, and that must not bring the default back.
        let vpic_url = match get("NEXUS_VPIC_URL").as_deref().map(str::trim) {
            None => Some(workers::clients::vpic::DEFAULT_BASE_URL.to_owned()),
            Some("" | "off" | "false") => None,
            Some(v) => Some(check_http_url("NEXUS_VPIC_URL", v)?),
        };
        let facturapi_url = match get("NEXUS_FACTURAPI_URL").as_deref().map(str::trim) {
            None => Some("https://www.facturapi.io/v2".to_owned()),
            Some("" | "off" | "false") => None,
            Some(v) => Some(check_http_url("NEXUS_FACTURAPI_URL", v)?),
        };
        let whatsapp_api_url = match get("NEXUS_WHATSAPP_API_URL").as_deref().map(str::trim) {
            None => Some(workers::clients::whatsapp::DEFAULT_BASE_URL.to_owned()),
            Some("" | "off" | "false") => None,
            Some(v) => Some(check_http_url("NEXUS_WHATSAPP_API_URL", v)?),
        };
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let smtp_url = match get("NEXUS_SMTP_URL") {
            Some(u) if u.starts_with("smtp://") || u.starts_with("smtps://") => Some(u),
            Some(_) => {
                return Err(err("NEXUS_SMTP_URL", "must start with smtp:// or smtps://"));
            }
            None => None,
        };
        let data_dir = PathBuf::from(get("NEXUS_DATA_DIR").unwrap_or_else(|| "data".into()));

        let master_db_url = match get("MASTER_DB_URL") {
            Some(url) => match Backend::of_url(&url) {
                Some(_) => url,
                None => {
                    return Err(err(
                        "MASTER_DB_URL",
                        "expected a postgres:// or sqlite: URL",
                    ));
                }
            },
            None => entities::db::sqlite_url(&data_dir.join("master.db")),
        };
        let distributed = Backend::of_url(&master_db_url) == Some(Backend::Postgres);
        let tenant_location = match get("TENANT_DB_URL_TEMPLATE") {
            Some(t) => {
                if Backend::of_url(&t) != Some(Backend::Postgres) {
                    return Err(err("TENANT_DB_URL_TEMPLATE", "expected a postgres:// URL"));
                }
                if !t.contains("{db_name}") {
                    return Err(err(
                        "TENANT_DB_URL_TEMPLATE",
                        "must contain `{db_name}` where the database name goes",
                    ));
                }
                TenantDbLocation::PostgresTemplate(t)
            }
            None if distributed => TenantDbLocation::PostgresTemplate(
                template_from_master(&master_db_url).ok_or_else(|| {
                    err("MASTER_DB_URL", "cannot find the database name in the URL")
                })?,
            ),
            None => TenantDbLocation::SqliteDir(data_dir.join("tenants")),
        };

        let redis_enabled = get("REDIS_ENABLED")
            .map(|v| parse_bool("REDIS_ENABLED", &v))
            .transpose()?
            .unwrap_or(true);
        let redis_url = match get("REDIS_URL") {
            Some(url) if redis_enabled => {
                redis::Client::open(url.as_str())
                    .map_err(|e| err("REDIS_URL", format!("not a valid Redis URL: {e}")))?;
                Some(url)
            }
            _ => None,
        };
        let redis_stock_ttl = get("REDIS_STOCK_TTL")
            .map(|v| parse_num::<u64>("REDIS_STOCK_TTL", &v, "seconds"))
            .transpose()?
            .unwrap_or(300);
        if redis_stock_ttl == 0 {
            return Err(err("REDIS_STOCK_TTL", "must be at least 1 second"));
        }
        let redis_deadline_ms = get("REDIS_DEADLINE_MS")
            .map(|v| parse_num::<u64>("REDIS_DEADLINE_MS", &v, "milliseconds"))
            .transpose()?
            .unwrap_or(150);
        if !(10..=10_000).contains(&redis_deadline_ms) {
            return Err(err(
                "REDIS_DEADLINE_MS",
                "must be between 10 and 10000 milliseconds",
            ));
        }

        let http_addr = get("NEXUS_HTTP_ADDR")
            .map(|v| {
                parse_num::<SocketAddr>("NEXUS_HTTP_ADDR", &v, "an address like 127.0.0.1:8080")
            })
            .transpose()?
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));

        let ops_addr = match get("NEXUS_OPS_ADDR").as_deref().map(str::trim) {
            Some("off" | "false" | "") => None,
            Some(v) => Some(parse_num::<SocketAddr>(
                "NEXUS_OPS_ADDR",
                v,
                "an address like 127.0.0.1:8081, or `off`",
            )?),
            None => Some(SocketAddr::from(([127, 0, 0, 1], 8081))),
        };
        let metrics_addr = get("NEXUS_METRICS_ADDR")
            .filter(|v| !v.trim().is_empty())
            .map(|v| {
                parse_num::<SocketAddr>("NEXUS_METRICS_ADDR", &v, "an address like 127.0.0.1:9464")
            })
            .transpose()?;
        if ops_addr.is_some_and(|a| a.port() != 0 && a == http_addr) {
            return Err(err(
                "NEXUS_OPS_ADDR",
                "must differ from NEXUS_HTTP_ADDR (the console has a listener of its own)",
            ));
        }

        let jwt_secret = match get("POS_JWT_SECRET") {
            Some(s) if s.len() < 32 => {
                return Err(err(
                    "POS_JWT_SECRET",
                    "must be at least 32 characters (e.g. 64 hex digits)",
                ));
            }
            Some(s) => Some(s.into_bytes()),
            None if distributed => {
                return Err(err(
                    "POS_JWT_SECRET",
                    "required with PostgreSQL: every API process must share it",
                ));
            }
            None => None,
        };
        let access_secs = get("NEXUS_ACCESS_TOKEN_TTL_SECS")
            .map(|v| parse_num::<u64>("NEXUS_ACCESS_TOKEN_TTL_SECS", &v, "seconds"))
            .transpose()?
            .unwrap_or(900);
        if !(60..=3600).contains(&access_secs) {
            return Err(err(
                "NEXUS_ACCESS_TOKEN_TTL_SECS",
                "must be between 60 and 3600 seconds",
            ));
        }
        let refresh_days = get("NEXUS_REFRESH_TOKEN_TTL_DAYS")
            .map(|v| parse_num::<u64>("NEXUS_REFRESH_TOKEN_TTL_DAYS", &v, "days"))
            .transpose()?
            .unwrap_or(30);
        if !(1..=365).contains(&refresh_days) {
            return Err(err(
                "NEXUS_REFRESH_TOKEN_TTL_DAYS",
                "must be between 1 and 365 days",
            ));
        }

        let cors_origins: Vec<String> = get("NEXUS_CORS_ORIGINS")
            .map(|v| {
                v.split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_owned())
                    .filter(|o| !o.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        for o in &cors_origins {
            if o != "*" {
                check_http_url("NEXUS_CORS_ORIGINS", o)?;
            }
        }
        let public_url = get("NEXUS_PUBLIC_URL")
            .map(|v| v.trim().trim_end_matches('/').to_owned())
            .filter(|v| !v.is_empty());
        if let Some(u) = &public_url {
            check_http_url("NEXUS_PUBLIC_URL", u)?;
        }
        let trusted_proxies = get("NEXUS_TRUSTED_PROXIES")
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        p.parse::<std::net::IpAddr>().map_err(|_| {
                            err(
                                "NEXUS_TRUSTED_PROXIES",
                                format!("`{p}` is not an IP address (e.g. 10.0.0.5, ::1)"),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        let body_limit = get("NEXUS_BODY_LIMIT_BYTES")
            .map(|v| parse_num::<usize>("NEXUS_BODY_LIMIT_BYTES", &v, "a number of bytes"))
            .transpose()?
            .unwrap_or(1024 * 1024);
        if body_limit < 1024 {
            return Err(err("NEXUS_BODY_LIMIT_BYTES", "must be at least 1024"));
        }
        let tenant_max_connections = get("NEXUS_TENANT_MAX_CONNECTIONS")
            .map(|v| parse_num::<u32>("NEXUS_TENANT_MAX_CONNECTIONS", &v, "a number"))
            .transpose()?
            .unwrap_or(5);
        if tenant_max_connections == 0 {
            return Err(err("NEXUS_TENANT_MAX_CONNECTIONS", "must be at least 1"));
        }
        let tenant_idle = get("NEXUS_TENANT_IDLE_SECS")
            .map(|v| parse_num::<u64>("NEXUS_TENANT_IDLE_SECS", &v, "seconds"))
            .transpose()?
            .unwrap_or(600);

        let default_currency = get("DEFAULT_CURRENCY")
            .unwrap_or_else(|| "MXN".into())
            .trim()
            .to_ascii_uppercase();
        if default_currency != "MXN" && default_currency != "USD" {
            return Err(err("DEFAULT_CURRENCY", "must be MXN or USD"));
        }
        let exchange_rate_usd_mxn = get("EXCHANGE_RATE_USD_MXN")
            .map(|v| parse_num::<Decimal>("EXCHANGE_RATE_USD_MXN", &v, "a decimal such as 17.50"))
            .transpose()?
            .unwrap_or_else(|| Decimal::new(1750, 2));
        if exchange_rate_usd_mxn <= Decimal::ZERO {
            return Err(err("EXCHANGE_RATE_USD_MXN", "must be greater than zero"));
        }

        let files_s3 = files_s3(&get)?;

        let meili_enabled = get("MEILI_ENABLED")
            .map(|v| parse_bool("MEILI_ENABLED", &v))
            .transpose()?
            .unwrap_or(true);
        let meili_url = match get("MEILI_URL") {
            Some(u) if meili_enabled => Some(check_http_url("MEILI_URL", &u)?),
            _ => None,
        };
        let meili_index_prefix = get("MEILI_INDEX_PREFIX").unwrap_or_else(|| "nexus_".into());
        if meili_index_prefix.len() > 100
            || !meili_index_prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            // Meilisearch index uids allow only these.
            return Err(err(
                "MEILI_INDEX_PREFIX",
                "use up to 100 letters, digits, '-' or '_'",
            ));
        }
        let meili_timeout_ms = get("MEILI_TIMEOUT_MS")
            .map(|v| parse_num::<u64>("MEILI_TIMEOUT_MS", &v, "milliseconds"))
            .transpose()?
            .unwrap_or(2_000);
        if !(50..=120_000).contains(&meili_timeout_ms) {
            return Err(err("MEILI_TIMEOUT_MS", "must be between 50 and 120000"));
        }
        let meili_sync_ms = get("MEILI_SYNC_INTERVAL_MS")
            .map(|v| parse_num::<u64>("MEILI_SYNC_INTERVAL_MS", &v, "milliseconds"))
            .transpose()?
            .unwrap_or(1_000);
        if !(10..=3_600_000).contains(&meili_sync_ms) {
            return Err(err(
                "MEILI_SYNC_INTERVAL_MS",
                "must be between 10 and 3600000",
            ));
        }
        let whatsapp_bridge_url = get("WHATSAPP_BRIDGE_URL")
            .map(|u| check_http_url("WHATSAPP_BRIDGE_URL", &u))
            .transpose()?;
        let log_json = match get("NEXUS_LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("text") => false,
            Some("json") => true,
            Some(other) => {
                return Err(err(
                    "NEXUS_LOG_FORMAT",
                    format!("expected text or json, got `{other}`"),
                ));
            }
        };

        let queue_namespace = get("NEXUS_QUEUE_NAMESPACE").unwrap_or_else(|| "nexus".into());
        if !queue_namespace
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            || queue_namespace.len() > 40
        {
            return Err(err(
                "NEXUS_QUEUE_NAMESPACE",
                "use up to 40 letters, digits, '-' or '_'",
            ));
        }
        let queue_window = get("NEXUS_QUEUE_WINDOW")
            .map(|v| parse_num::<u64>("NEXUS_QUEUE_WINDOW", &v, "a number of jobs"))
            .transpose()?
            .unwrap_or(2_000);
        if !(1..=7_000).contains(&queue_window) {
            // apalis-redis fails every fetch past ~8,000 due jobs in one queue (docs/jobs.md).
            return Err(err("NEXUS_QUEUE_WINDOW", "must be between 1 and 7000"));
        }

        let repush_secs = get("NEXUS_OUTBOX_REPUSH_SECS")
            .map(|v| parse_num::<u64>("NEXUS_OUTBOX_REPUSH_SECS", &v, "a number of seconds"))
            .transpose()?
            .unwrap_or(120);
        if !(1..=86_400).contains(&repush_secs) {
            return Err(err(
                "NEXUS_OUTBOX_REPUSH_SECS",
                "must be between 1 and 86400",
            ));
        }

        let worker_concurrency = get("NEXUS_WORKER_CONCURRENCY")
            .map(|v| parse_num::<usize>("NEXUS_WORKER_CONCURRENCY", &v, "a number"))
            .transpose()?
            .unwrap_or(20);
        if !(1..=1000).contains(&worker_concurrency) {
            return Err(err(
                "NEXUS_WORKER_CONCURRENCY",
                "must be between 1 and 1000",
            ));
        }

        let retention_days = get("NEXUS_RETENTION_DAYS")
            .map(|v| parse_num::<u32>("NEXUS_RETENTION_DAYS", &v, "a number of days"))
            .transpose()?
            .unwrap_or(14);
        if !(1..=365).contains(&retention_days) {
            return Err(err(
                "NEXUS_RETENTION_DAYS",
                "must be between 1 and 365 days",
            ));
        }
        let retention = jobs::maintenance::Retention {
            sent_outbox_days: retention_days,
            ..Default::default()
        };
        // The backends count liveness in whole seconds (apalis-sqlite compares `strftime('%s')`).
        let heartbeat_secs = get("NEXUS_QUEUE_HEARTBEAT")
            .map(|v| parse_num::<u64>("NEXUS_QUEUE_HEARTBEAT", &v, "seconds"))
            .transpose()?
            .unwrap_or(jobs::backend::HEARTBEAT.as_secs());
        if !(1..=300).contains(&heartbeat_secs) {
            return Err(err(
                "NEXUS_QUEUE_HEARTBEAT",
                "must be between 1 and 300 seconds",
            ));
        }
        let missed_heartbeats = get("NEXUS_QUEUE_MISSED_HEARTBEATS")
            .map(|v| parse_num::<usize>("NEXUS_QUEUE_MISSED_HEARTBEATS", &v, "a number"))
            .transpose()?
            .unwrap_or(jobs::backend::MISSED_HEARTBEATS);
        if !(2..=100).contains(&missed_heartbeats) {
            // One missed beat would take a worker that is merely slow to beat for dead.
            return Err(err(
                "NEXUS_QUEUE_MISSED_HEARTBEATS",
                "must be between 2 and 100",
            ));
        }

        Ok(Self {
            data_dir,
            master_db_url,
            tenant_location,
            redis_url,
            redis_stock_ttl: Duration::from_secs(redis_stock_ttl),
            redis_deadline: Duration::from_millis(redis_deadline_ms),
            http_addr,
            jwt_secret,
            access_ttl: Duration::from_secs(access_secs),
            refresh_ttl: Duration::from_secs(refresh_days * 24 * 3600),
            cors_origins,
            public_url,
            trusted_proxies,
            body_limit,
            tenant_max_connections,
            tenant_idle: Duration::from_secs(tenant_idle),
            default_currency,
            exchange_rate_usd_mxn,
            files_s3,
            meili_url,
            meili_api_key: get("MEILI_MASTER_KEY").or_else(|| get("MEILI_API_KEY")),
            meili_index_prefix,
            meili_timeout: Duration::from_millis(meili_timeout_ms),
            meili_sync_interval: Duration::from_millis(meili_sync_ms),
            whatsapp_bridge_url,
            whatsapp_bridge_key: get("WHATSAPP_BRIDGE_KEY"),
            openrouter_api_key: get("OPENROUTER_API_KEY"),
            vpic_url,
            facturapi_url,
            whatsapp_api_url,
            smtp_url,
            smtp_from: get("NEXUS_SMTP_FROM").unwrap_or_else(|| "Nexus <avisos@localhost>".into()),
            log_json,
            queue_namespace,
            queue_window,
            outbox_repush: Duration::from_secs(repush_secs),
            worker_concurrency,
            ops_addr,
            metrics_addr,
            retention,
            queue_heartbeat: jobs::backend::Heartbeat {
                interval: Duration::from_secs(heartbeat_secs),
                missed: missed_heartbeats,
            },
        })
    }

    /// The runtime shape these settings describe.
    #[must_use]
    pub fn shape(&self) -> Shape {
        if Backend::of_url(&self.master_db_url) == Some(Backend::Postgres) {
            Shape::Distributed
        } else {
            Shape::Embedded
        }
    }

    /// The SQLite file of the queues in the embedded shape.
    #[must_use]
    pub fn queue_db_path(&self) -> PathBuf {
        self.data_dir.join("queue.db")
    }

    /// Where uploaded and generated files go when no bucket is configured.
    #[must_use]
    pub fn files_dir(&self) -> PathBuf {
        self.data_dir.join("files")
    }

    /// The tenants' file store: the S3-compatible bucket when `FILES_S3_BUCKET` is set, else
    /// [`Self::files_dir`].
    ///
    /// # Errors
    /// `FILES_S3_ENDPOINT` when the client cannot be built from it.
    pub fn file_store(&self) -> Result<entities::files::FileStore, ConfigError> {
        match &self.files_s3 {
            Some(s) => entities::files::FileStore::s3(s)
                .map_err(|e| err("FILES_S3_ENDPOINT", e.to_string())),
            None => Ok(entities::files::FileStore::new(self.files_dir())),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn cfg(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn no_settings_give_the_embedded_shape_under_data() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.shape(), Shape::Embedded);
        assert_eq!(c.master_db_url, "sqlite://data/master.db?mode=rwc");
        assert!(
            matches!(c.tenant_location, TenantDbLocation::SqliteDir(ref d) if d == &PathBuf::from("data/tenants"))
        );
        assert_eq!(c.files_dir(), PathBuf::from("data/files"));
        assert_eq!(c.http_addr.to_string(), "127.0.0.1:8080");
        assert!(c.redis_url.is_none());
    }

    #[test]
    fn the_operator_console_listens_on_localhost_unless_moved_or_turned_off() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.ops_addr.unwrap().to_string(), "127.0.0.1:8081");
        assert!(
            cfg(&[("NEXUS_OPS_ADDR", "off")])
                .unwrap()
                .ops_addr
                .is_none()
        );
        let moved = cfg(&[("NEXUS_OPS_ADDR", "0.0.0.0:9000")]).unwrap();
        assert_eq!(moved.ops_addr.unwrap().to_string(), "0.0.0.0:9000");
        let bad = cfg(&[("NEXUS_OPS_ADDR", "console")])
            .unwrap_err()
            .to_string();
        assert!(bad.contains("NEXUS_OPS_ADDR"), "{bad}");
        let same = cfg(&[
            ("NEXUS_HTTP_ADDR", "127.0.0.1:9000"),
            ("NEXUS_OPS_ADDR", "127.0.0.1:9000"),
        ])
        .unwrap_err()
        .to_string();
        assert!(same.contains("must differ"), "{same}");
    }

    #[test]
    fn nexus_data_dir_moves_every_file() {
        let c = cfg(&[("NEXUS_DATA_DIR", "/srv/nexus")]).unwrap();
        assert_eq!(c.master_db_url, "sqlite:///srv/nexus/master.db?mode=rwc");
        assert_eq!(c.files_dir(), PathBuf::from("/srv/nexus/files"));
    }

    #[test]
    fn a_bucket_takes_the_files_and_bad_bucket_settings_are_named() {
        assert!(cfg(&[]).unwrap().files_s3.is_none());
        let keys = [
            ("FILES_S3_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
            ("FILES_S3_SECRET_ACCESS_KEY", "secret"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut v = keys.to_vec();
            v.extend_from_slice(extra);
            cfg(&v)
        };
        let c = with(&[
            ("FILES_S3_BUCKET", "nexus-files"),
            ("FILES_S3_ENDPOINT", "http://minio:9000/"),
        ])
        .unwrap();
        let s = c.files_s3.clone().unwrap();
        assert_eq!(s.bucket, "nexus-files");
        assert_eq!(s.endpoint.as_deref(), Some("http://minio:9000"));
        assert_eq!(s.region, "us-east-1");
        assert!(
            c.file_store()
                .unwrap()
                .describe()
                .starts_with("object store")
        );
        assert!(
            !format!("{s:?}").contains("secret"),
            "the secret is never printed"
        );
        for (bad, name) in [
            (vec![("FILES_S3_BUCKET", "Nexus_Files")], "FILES_S3_BUCKET"),
            (vec![("FILES_S3_BUCKET", "nx")], "FILES_S3_BUCKET"),
            (
                vec![
                    ("FILES_S3_BUCKET", "nexus-files"),
                    ("FILES_S3_ENDPOINT", "minio:9000"),
                ],
                "FILES_S3_ENDPOINT",
            ),
        ] {
            assert_eq!(with(&bad).unwrap_err().name, name);
        }
        let no_secret = cfg(&[
            ("FILES_S3_BUCKET", "nexus-files"),
            ("FILES_S3_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
        ]);
        assert_eq!(no_secret.unwrap_err().name, "FILES_S3_SECRET_ACCESS_KEY");
    }

    #[test]
    fn postgres_settings_give_the_distributed_shape() {
        let c = cfg(&[
            ("MASTER_DB_URL", "postgres://nexus@db/nexus_master"),
            ("POS_JWT_SECRET", "0123456789abcdef0123456789abcdef"),
            ("REDIS_URL", "redis://127.0.0.1:6379/0"),
        ])
        .unwrap();
        assert_eq!(c.shape(), Shape::Distributed);
        assert!(
            matches!(c.tenant_location, TenantDbLocation::PostgresTemplate(ref t) if t == "postgres://nexus@db/{db_name}")
        );
    }

    #[test]
    fn a_malformed_redis_url_names_the_variable() {
        let e = cfg(&[("REDIS_URL", "http://localhost:6379")])
            .err()
            .unwrap();
        assert_eq!(e.name, "REDIS_URL");
        assert!(!e.to_string().contains('\n'));
    }

    #[test]
    fn meilisearch_takes_either_key_name_and_can_be_switched_off() {
        let c = cfg(&[
            ("MEILI_URL", "http://127.0.0.1:7700/"),
            ("MEILI_MASTER_KEY", "master"),
            ("MEILI_API_KEY", "seed"),
        ])
        .unwrap();
        assert_eq!(c.meili_url.as_deref(), Some("http://127.0.0.1:7700"));
        assert_eq!(c.meili_api_key.as_deref(), Some("master"));
        assert_eq!(c.meili_index_prefix, "nexus_");
        assert_eq!(c.meili_timeout, Duration::from_secs(2));
        let seed = cfg(&[("MEILI_URL", "http://m:7700"), ("MEILI_API_KEY", "seed")]).unwrap();
        assert_eq!(seed.meili_api_key.as_deref(), Some("seed"));
        let off = cfg(&[("MEILI_URL", "http://m:7700"), ("MEILI_ENABLED", "false")]).unwrap();
        assert!(off.meili_url.is_none());
    }

    #[test]
    fn redis_can_be_switched_off() {
        let c = cfg(&[
            ("REDIS_URL", "redis://127.0.0.1/"),
            ("REDIS_ENABLED", "false"),
        ])
        .unwrap();
        assert!(c.redis_url.is_none());
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (k, v) in [
            ("NEXUS_HTTP_ADDR", "localhost"),
            ("MASTER_DB_URL", "mysql://x/y"),
            ("TENANT_DB_URL_TEMPLATE", "postgres://h/fixed"),
            ("POS_JWT_SECRET", "short"),
            ("REDIS_STOCK_TTL", "five"),
            ("REDIS_ENABLED", "maybe"),
            ("DEFAULT_CURRENCY", "EUR"),
            ("EXCHANGE_RATE_USD_MXN", "-1"),
            ("MEILI_URL", "localhost:7700"),
            ("MEILI_INDEX_PREFIX", "a b"),
            ("MEILI_TIMEOUT_MS", "soon"),
            ("MEILI_TIMEOUT_MS", "0"),
            ("NEXUS_LOG_FORMAT", "xml"),
            ("NEXUS_CORS_ORIGINS", "example.com"),
            ("NEXUS_TRUSTED_PROXIES", "10.0.0.1, lb.internal"),
            ("NEXUS_QUEUE_WINDOW", "9000"),
            ("NEXUS_QUEUE_NAMESPACE", "a:b"),
            ("NEXUS_RETENTION_DAYS", "0"),
            ("NEXUS_RETENTION_DAYS", "two weeks"),
            ("NEXUS_QUEUE_HEARTBEAT", "0"),
            ("NEXUS_QUEUE_HEARTBEAT", "1.5"),
            ("NEXUS_QUEUE_MISSED_HEARTBEATS", "1"),
            ("NEXUS_VPIC_URL", "vpic.nhtsa.dot.gov"),
        ] {
            let e = cfg(&[(k, v)])
                .err()
                .unwrap_or_else(|| panic!("{k}={v} accepted"));
            assert_eq!(e.name, k);
        }
    }

    #[test]
    fn nexus_retention_days_sets_how_long_sent_outbox_rows_stay() {
        assert_eq!(cfg(&[]).unwrap().retention.sent_outbox_days, 14);
        let c = cfg(&[("NEXUS_RETENTION_DAYS", "7")]).unwrap();
        assert_eq!(c.retention.sent_outbox_days, 7);
        assert_eq!(
            c.retention.failed_runs_days,
            jobs::maintenance::Retention::default().failed_runs_days
        );
    }

    #[test]
    fn the_heartbeat_defaults_to_5_s_times_6_and_can_be_shortened() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.queue_heartbeat.orphaned_after(), Duration::from_secs(30));
        let c = cfg(&[
            ("NEXUS_QUEUE_HEARTBEAT", "1"),
            ("NEXUS_QUEUE_MISSED_HEARTBEATS", "3"),
        ])
        .unwrap();
        assert_eq!(c.queue_heartbeat.interval, Duration::from_secs(1));
        assert_eq!(c.queue_heartbeat.orphaned_after(), Duration::from_secs(3));
    }

    #[test]
    fn vin_enrichment_uses_public_vpic_unless_moved_or_turned_off() {
        assert_eq!(
            cfg(&[]).unwrap().vpic_url.as_deref(),
            Some(workers::clients::vpic::DEFAULT_BASE_URL)
        );
        assert_eq!(cfg(&[("NEXUS_VPIC_URL", "off")]).unwrap().vpic_url, None);
        assert_eq!(cfg(&[("NEXUS_VPIC_URL", "")]).unwrap().vpic_url, None);
        assert_eq!(
            cfg(&[("NEXUS_VPIC_URL", "http://127.0.0.1:9/api/vehicles/")])
                .unwrap()
                .vpic_url
                .as_deref(),
            Some("http://127.0.0.1:9/api/vehicles")
        );
    }

    #[test]
    fn postgres_without_a_jwt_secret_is_refused() {
        let e = cfg(&[("MASTER_DB_URL", "postgres://h/m")]).err().unwrap();
        assert_eq!(e.name, "POS_JWT_SECRET");
    }
}
