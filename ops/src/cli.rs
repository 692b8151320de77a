//! The `nexus` command line.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use entities::Role;
use entities::org::accounts::{self, NewUser};
use entities::org::audit::Entry;
use entities::org::tenants::{self, NewTenant};
use entities::registry::TenantRegistry;
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::app;
use crate::config::Config;
use crate::provision::{self, TenantSpec};
use jobs::Queue;

/// Nexus: the back end of Mexican auto-parts stores.
#[derive(Debug, Parser)]
#[command(name = "nexus", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the whole platform in one process (API, outbox relay, worker pools, scheduler);
    /// migrates on start and creates a demo tenant (and a small catalog) on a first start.
    Serve {
        /// Create the demo tenant if missing, load a 2,000-part catalog if the catalog is empty,
        /// and print a fresh login.
        #[arg(long)]
        demo: bool,
    },
    /// Runs only the HTTP API (distributed shape); run `nexus migrate` before.
    Api,
    /// Runs worker pools and the outbox relay (distributed shape); run `nexus migrate` before.
    Worker {
        /// Comma-separated queues (cfdi, images, search, notify, chat, integrations, pricing,
        /// maintenance); all when absent.
        #[arg(long, value_delimiter = ',')]
        queues: Vec<String>,
    },
    /// Runs only the scheduler (the cron table, in Mexico City time) until SIGTERM or Ctrl-C;
    /// several may run, each tick is claimed once. Run `nexus migrate` before.
    Scheduler,
    /// Migrates the platform database and every tenant database.
    Migrate,
    /// Manages tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Inspects and mends jobs: counts, failed runs, retry, discard.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Measurements (see `bench/README.md`).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Manages users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manages platform operators: the people who may see every tenant's queued work.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Loads the shared parts catalog: a synthetic one, or ACES and PIES files.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// The catalog's Meilisearch index (needs `MEILI_URL`).
    #[command(subcommand)]
    Search(SearchCommand),
}

/// Catalog subcommands.
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Generates a deterministic synthetic catalog of the Mexican market and loads it in bulk
    /// (COPY on PostgreSQL, one transaction of batched inserts on SQLite).
    Generate {
        /// Parts to generate (each fits 10–20 vehicles).
        #[arg(long, default_value_t = 10_000)]
        parts: u64,
        /// Seed: the same seed and count give the same catalog.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Replace a catalog that already has parts.
        #[arg(long)]
        replace: bool,
    },
    /// Streams an ACES file (App records: BaseVehicle or Years/Make/Model, EngineBase, Qty,
    /// PartType, Position, Part, Note, Qual) into fitment. Parts must exist (import PIES first).
    /// Bad records are reported with their line and skipped; broken XML stops the import at
    /// that line, keeping every record before it.
    ImportAces {
        /// The ACES XML file.
        file: std::path::PathBuf,
    },
    /// Streams a PIES file (Items: PartNumber, brand, descriptions, LST price in MXN,
    /// interchange, packages) into parts. Same error rules as `import-aces`.
    ImportPies {
        /// The PIES XML file.
        file: std::path::PathBuf,
    },
}

/// Search-index subcommands.
#[derive(Debug, Subcommand)]
pub enum SearchCommand {
    /// Builds a new index from the catalog, swaps it in for the live one and deletes the old;
    /// searches keep being served throughout. Prints documents per second.
    Reindex,
    /// Applies the catalog change log once, from the saved cursor.
    Sync,
}

/// Operator subcommands.
#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Makes a platform operator: creates the user when the e-mail is new, then grants the
    /// operator role (an existing user keeps their password and memberships).
    Create {
        /// Login e-mail.
        #[arg(long)]
        email: String,
        /// Password for a new user (at least 10 characters).
        #[arg(long, env = "NEXUS_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// Name of a new user.
        #[arg(long, default_value = "Operator")]
        name: String,
    },
    /// Lists operators.
    List,
    /// Takes the operator role away; their operator sessions stop working at once.
    Revoke {
        /// Login e-mail.
        #[arg(long)]
        email: String,
    },
}

/// Job subcommands.
#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Per queue: jobs waiting in the backend, outbox rows not yet pushed, rows pushed over a
    /// minute ago with no run started (deep in the queue, or lost by it), runs by status.
    Stats,
    /// Dead and quarantined runs, newest first, with their reason.
    Failed {
        /// Only this tenant (slug).
        #[arg(long)]
        tenant: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// Runs a failed job again (as a new run).
    Retry {
        /// The run's key, as `jobs failed` shows it.
        key: String,
    },
    /// Gives up on a failed run for good.
    Discard {
        /// The run's key, as `jobs failed` shows it.
        key: String,
    },
}

/// Benchmark subcommands.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Pushes jobs one by one and in bulk, drains them with one worker, measures idle latency;
    /// ends with one JSON line. The backend follows `REDIS_URL` as everywhere.
    Queue {
        /// Jobs per phase (at most 7000).
        #[arg(long, default_value_t = 5000)]
        jobs: usize,
        /// How often an idle worker polls, in milliseconds (Nexus's workers use 50).
        #[arg(long, default_value_t = 50)]
        poll_ms: u64,
    },
    /// The nightly customers pass (expire points, move tiers, compute analytics) over a
    /// synthetic business (customers with a year of sales and a points lot each) on the
    /// configured shape, beside the sales' grouped scan alone; ends with one JSON line. Makes a
    /// tenant: run it on scratch databases.
    Customers {
        /// Customers.
        #[arg(long, default_value_t = 200_000)]
        customers: u64,
        /// Sales per customer over the last year, on average.
        #[arg(long, default_value_t = 5)]
        sales: u64,
    },
    /// The daily due-maintenance run over a synthetic fleet (units with a year of weekly
    /// readings, two plans each, a contract each) on the configured shape, beside the readings'
    /// grouped scans alone; ends with one JSON line. Makes a tenant: run it on scratch databases.
    Fleets {
        /// Fleet units.
        #[arg(long, default_value_t = 20_000)]
        vehicles: u64,
        /// Odometer readings per unit over the last year.
        #[arg(long, default_value_t = 52)]
        readings: u64,
    },
    /// The nightly velocity and reorder run over a synthetic business (items × warehouses rules,
    /// a year of sale lines) on the configured shape, beside the ledger's grouped scan alone;
    /// ends with one JSON line. Makes a tenant: run it on scratch databases.
    Reorder {
        /// Items.
        #[arg(long, default_value_t = 100_000)]
        items: u64,
        /// Warehouses.
        #[arg(long, default_value_t = 3)]
        warehouses: u64,
        /// Sale lines in the ledger over the last year.
        #[arg(long, default_value_t = 1_000_000)]
        lines: u64,
    },
    /// Notifications end to end on the configured shape: business events → dispatch → render →
    /// send to a WhatsApp Cloud API peer answering after `latency_ms` → recorded sent; prints
    /// the bound `concurrency / latency` beside the figure; ends with one JSON line. Makes a
    /// tenant: run it on scratch databases.
    Notify {
        /// Messages.
        #[arg(long, default_value_t = 5_000)]
        messages: u64,
        /// The peer's latency per message, ms.
        #[arg(long, default_value_t = 100)]
        latency_ms: u64,
    },
    /// Nexus's whole job path on the configured shape: commits no-op jobs for a new tenant
    /// through the outbox, then times relay, pools and runtime until all are processed. Makes a
    /// tenant: run it on scratch databases (e.g. a fresh `NEXUS_DATA_DIR`).
    Jobs {
        /// Jobs to run.
        #[arg(long, default_value_t = 20_000)]
        jobs: u64,
    },
    /// Checkout throughput and latency of a running Nexus over HTTP: makes and stocks items
    /// through the API, then `clients` cashiers sell `lines`-line tickets for `seconds`; then
    /// stock by branch cold and warm. Use a scratch tenant.
    Checkout {
        /// Base URL of the API.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// An owner or admin of the scratch tenant.
        #[arg(long)]
        email: String,
        /// Their password.
        #[arg(long, env = "NEXUS_BENCH_PASSWORD", hide_env_values = true)]
        password: String,
        /// Concurrent cashiers.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Seconds of selling.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Lines per ticket.
        #[arg(long, default_value_t = 20)]
        lines: usize,
        /// Items to sell from.
        #[arg(long, default_value_t = 1000)]
        items: usize,
        /// The server's pid: also report its CPU and PostgreSQL's per sale (Linux).
        #[arg(long)]
        server_pid: Option<u32>,
    },
}

/// Tenant subcommands.
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Creates a tenant: its database, first branch and warehouse, and its owner.
    Create(TenantCreate),
    /// Lists tenants.
    List,
}

/// Arguments of `tenant create`.
#[derive(Debug, Args)]
pub struct TenantCreate {
    /// Login name of the business, e.g. `acme`.
    #[arg(long)]
    pub slug: String,
    /// Legal or trade name.
    #[arg(long)]
    pub name: String,
    /// The business's RFC.
    #[arg(long)]
    pub rfc: String,
    /// Owner's e-mail (an existing user becomes owner with the password unchanged).
    #[arg(long)]
    pub owner_email: String,
    /// Owner's password (at least 10 characters).
    #[arg(long, env = "NEXUS_OWNER_PASSWORD", hide_env_values = true)]
    pub owner_password: String,
    /// Owner's name.
    #[arg(long, default_value = "Dueño")]
    pub owner_name: String,
    /// Put this tenant's database at this URL instead of the template (a big tenant on its own
    /// server).
    #[arg(long)]
    pub db_url: Option<String>,
}

/// User subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Creates a user, optionally with a role in a tenant.
    Create {
        /// Login e-mail.
        #[arg(long)]
        email: String,
        /// Password (at least 10 characters).
        #[arg(long, env = "NEXUS_USER_PASSWORD", hide_env_values = true)]
        password: String,
        /// Name.
        #[arg(long)]
        name: String,
        /// Tenant slug to join.
        #[arg(long, requires = "role")]
        tenant: Option<String>,
        /// Role in that tenant: owner, admin, manager, cashier, mechanic, viewer.
        #[arg(long, requires = "tenant")]
        role: Option<String>,
    },
    /// Gives an existing user a role in a tenant.
    Grant {
        /// Login e-mail.
        #[arg(long)]
        email: String,
        /// Tenant slug.
        #[arg(long)]
        tenant: String,
        /// Role.
        #[arg(long)]
        role: String,
    },
    /// Sets a user's password and ends the user's sessions.
    SetPassword {
        /// Login e-mail.
        #[arg(long)]
        email: String,
        /// New password.
        #[arg(long, env = "NEXUS_USER_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Disables a user and ends the user's sessions.
    Disable {
        /// Login e-mail.
        #[arg(long)]
        email: String,
    },
    /// Re-enables a disabled user.
    Enable {
        /// Login e-mail.
        #[arg(long)]
        email: String,
    },
}

fn progress_bar(len: u64, what: &str) -> indicatif::ProgressBar {
    let b = indicatif::ProgressBar::new(len);
    b.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{elapsed_precise}} {{bar:40}} {{pos}}/{{len}} {what} ({{per_sec}}, eta {{eta}})"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    b
}

async fn catalog(cfg: Config, cmd: CatalogCommand) -> Result<()> {
    let platform = provision::open_platform(&cfg, true).await?;
    match cmd {
        CatalogCommand::Generate {
            parts,
            seed,
            replace,
        } => {
            let started = std::time::Instant::now();
            let bar = progress_bar(parts, "parts");
            let r = crate::catalog::generate::generate(
                &platform,
                crate::catalog::generate::GenOptions {
                    parts,
                    seed,
                    replace,
                },
                |n| bar.set_position(n),
            )
            .await;
            bar.finish_and_clear();
            let r = r?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "catalog generated in {secs:.1} s: {} vehicles, {} parts, {} fitment rows, {} interchange numbers ({:.0} rows/s)",
                r.vehicles,
                r.parts,
                r.fitment,
                r.interchange,
                r.rows() as f64 / secs
            );
            println!("run `nexus search reindex` to rebuild a Meilisearch index from it");
            Ok(())
        }
        CatalogCommand::ImportAces { file } => {
            import_file(&platform, crate::catalog::import::Kind::Aces, &file).await
        }
        CatalogCommand::ImportPies { file } => {
            import_file(&platform, crate::catalog::import::Kind::Pies, &file).await
        }
    }
}

async fn import_file(
    platform: &sea_orm::DatabaseConnection,
    kind: crate::catalog::import::Kind,
    file: &std::path::Path,
) -> Result<()> {
    let started = std::time::Instant::now();
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{elapsed_precise} {spinner} {pos} records ({per_sec})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let r = crate::catalog::import::import(platform, kind, file, |n| bar.set_position(n)).await;
    bar.finish_and_clear();
    let r = r?;
    println!(
        "{} records in {:.1} s: {} applied ({} new, {} already there, {} deleted), {} failed",
        r.records,
        started.elapsed().as_secs_f64(),
        r.applied,
        r.created,
        r.duplicates,
        r.deleted,
        r.failed
    );
    for e in &r.errors {
        println!(
            "  line {}{}: {}",
            e.line,
            e.record
                .as_deref()
                .map(|id| format!(" ({id})"))
                .unwrap_or_default(),
            e.message
        );
    }
    if r.failed > r.errors.len() as u64 {
        println!("  … and {} more", r.failed - r.errors.len() as u64);
    }
    println!("{}", serde_json::to_string(&r)?);
    if let Some((line, message)) = &r.broken {
        anyhow::bail!(
            "{}: broken XML at line {line}: {message}; the {} records before it were applied as reported above",
            file.display(),
            r.records
        );
    }
    Ok(())
}

fn registry(cfg: &Config) -> TenantRegistry {
    TenantRegistry::new(
        cfg.tenant_location.clone(),
        cfg.tenant_max_connections,
        cfg.tenant_idle,
    )
}

/// Runs a command with a configuration.
///
/// # Errors
/// Anything that stops the command, as one line.
pub async fn run(cli: Cli, cfg: Config) -> Result<()> {
    match cli.command {
        Command::Serve { demo } => serve(cfg, demo, true).await,
        Command::Api => serve(cfg, false, false).await,
        Command::Worker { queues } => worker(cfg, &queues).await,
        Command::Scheduler => scheduler(cfg).await,
        Command::Migrate => {
            let platform = provision::open_platform(&cfg, true).await?;
            let n = provision::migrate_all(&platform, &registry(&cfg), true).await?;
            println!("migrated the platform database and {n} tenant databases");
            Ok(())
        }
        Command::Tenant(TenantCommand::Create(a)) => {
            let platform = provision::open_platform(&cfg, true).await?;
            let reg = registry(&cfg);
            let created = provision::create_tenant(
                &platform,
                &reg,
                TenantSpec {
                    tenant: NewTenant {
                        slug: a.slug,
                        name: a.name,
                        rfc: a.rfc,
                        db_url: a.db_url,
                    },
                    owner_email: a.owner_email,
                    owner_name: a.owner_name,
                    owner_password: a.owner_password,
                },
            )
            .await?;
            reg.close_all().await;
            if !created.rfc_check_digit_ok {
                eprintln!(
                    "warning: the RFC's check digit does not match; check it before invoicing"
                );
            }
            println!(
                "created tenant {} ({}), database {}, owner {}{}",
                created.tenant.slug,
                created.tenant.id,
                created.tenant.db_name,
                created.owner_email,
                if created.owner_existed {
                    " (existing user, password unchanged)"
                } else {
                    ""
                }
            );
            Ok(())
        }
        Command::Tenant(TenantCommand::List) => {
            let platform = provision::open_platform(&cfg, true).await?;
            let all = tenants::list(&platform).await?;
            println!(
                "{:<24} {:<36} {:<14} {:<10} NAME",
                "SLUG", "ID", "RFC", "STATUS"
            );
            for t in all {
                println!(
                    "{:<24} {:<36} {:<14} {:<10} {}",
                    t.slug, t.id, t.rfc, t.status, t.name
                );
            }
            Ok(())
        }
        Command::User(cmd) => user(cfg, cmd).await,
        Command::Operator(cmd) => operator(cfg, cmd).await,
        Command::Catalog(cmd) => catalog(cfg, cmd).await,
        Command::Jobs(cmd) => jobs_command(cfg, cmd).await,
        Command::Search(cmd) => search_command(cfg, cmd).await,
        Command::Bench(BenchCommand::Reorder {
            items,
            warehouses,
            lines,
        }) => {
            let r = crate::reorder_bench::run(cfg, items, warehouses, lines).await?;
            println!(
                "{}: {} items × {} warehouses ({} rules), {} sale lines, loaded in {:.1} s",
                r.database, r.items, r.warehouses, r.rules, r.sale_lines, r.load_s
            );
            println!(
                "nightly run {:.2} s (velocity {:.2} s), ledger scan alone {:.2} s: {:.1}× the scan; peak RSS {:.0} MiB",
                r.run_s, r.velocity_s, r.scan_s, r.ratio_to_scan, r.peak_rss_mib
            );
            println!("{}", serde_json::to_string(&r)?);
            Ok(())
        }
        Command::Bench(BenchCommand::Customers { customers, sales }) => {
            let r = crate::customers_bench::run(cfg, customers, sales).await?;
            println!(
                "{}: {} customers, {} sales, loaded in {:.1} s",
                r.database, r.customers, r.sales, r.load_s
            );
            println!(
                "nightly pass {:.2} s (expire {:.2} s: {} lots; tiers {:.2} s: {} moves; analytics {:.2} s: {} rows), sales' grouped scan alone {:.2} s: {:.1}× the scan; peak RSS {:.0} MiB",
                r.run_s,
                r.expire_s,
                r.expired,
                r.tiers_s,
                r.tier_changes,
                r.analytics_s,
                r.stats,
                r.scan_s,
                r.ratio_to_scan,
                r.peak_rss_mib
            );
            println!("{}", serde_json::to_string(&r)?);
            Ok(())
        }
        Command::Bench(BenchCommand::Fleets { vehicles, readings }) => {
            let r = crate::fleets_bench::run(cfg, vehicles, readings).await?;
            println!(
                "{}: {} units, {} readings, {} plan states, loaded in {:.1} s",
                r.database, r.vehicles, r.readings, r.states, r.load_s
            );
            println!(
                "daily run {:.2} s ({} maintenance_due, {} contract_expiring), readings' scans alone {:.2} s: {:.1}× the scans; peak RSS {:.0} MiB",
                r.run_s,
                r.maintenance_due,
                r.contract_expiring,
                r.scan_s,
                r.ratio_to_scan,
                r.peak_rss_mib
            );
            println!("{}", serde_json::to_string(&r)?);
            Ok(())
        }
        Command::Bench(BenchCommand::Notify {
            messages,
            latency_ms,
        }) => {
            let r = crate::notify_bench::run(
                cfg,
                messages,
                std::time::Duration::from_millis(latency_ms),
            )
            .await?;
            println!(
                "{}: {} messages, peer latency {} ms, {} in flight",
                r.database, r.messages, r.latency_ms, r.concurrency
            );
            println!(
                "events → dispatch → render → send → recorded: {:.0} messages/s (bound {:.0}/s, {:.0} %)",
                r.per_s,
                r.bound_per_s,
                100.0 * r.per_s / r.bound_per_s
            );
            println!("{}", serde_json::to_string(&r)?);
            Ok(())
        }
        Command::Bench(BenchCommand::Jobs { jobs }) => {
            let r = crate::pipeline_bench::run(cfg, jobs).await?;
            println!("backend {}: {} jobs", r.backend, r.jobs);
            println!(
                "outbox commits (1,000 a transaction): {:.0} jobs/s",
                r.commit_per_s
            );
            println!(
                "relay + pools + runtime, end to end: {:.0} jobs/s",
                r.end_to_end_per_s
            );
            println!("{}", serde_json::to_string(&r)?);
            Ok(())
        }
        Command::Bench(BenchCommand::Checkout {
            url,
            email,
            password,
            clients,
            seconds,
            lines,
            items,
            server_pid,
        }) => {
            let r = crate::checkout_bench::run(crate::checkout_bench::Settings {
                url,
                email,
                password,
                clients,
                seconds,
                lines,
                items,
                server_pid,
            })
            .await?;
            println!(
                "checkout ({lines} lines, {clients} clients): {:.1} sales/s, p50 {:.1} ms, p99 {:.1} ms ({} sold, {} refused, {} errors)",
                r.sales_per_s, r.checkout_p50_ms, r.checkout_p99_ms, r.sales, r.refused, r.errors
            );
            println!(
                "stock-by-branch: miss p50 {:.2} ms p99 {:.2} ms; hit p50 {:.2} ms p99 {:.2} ms ({} hits)",
                r.stock_miss_p50_ms,
                r.stock_miss_p99_ms,
                r.stock_hit_p50_ms,
                r.stock_hit_p99_ms,
                r.stock_hits
            );
            if let (Some(a), Some(b), Some(c)) = (
                r.server_cpu_ms_per_sale,
                r.postgres_cpu_ms_per_sale,
                r.client_cpu_ms_per_sale,
            ) {
                println!(
                    "CPU per sale while selling: server {a:.2} ms, PostgreSQL {b:.2} ms, load generator {c:.2} ms"
                );
            }
            println!("{}", serde_json::to_string(&r)?);
            Ok(())
        }
        Command::Bench(BenchCommand::Queue { jobs, poll_ms }) => {
            let mut cfg = cfg;
            cfg.queue_namespace = format!("{}-bench", cfg.queue_namespace);
            let backend = app::queue_backend(&cfg).await?;
            let r = workers::bench::queue(backend, jobs, std::time::Duration::from_millis(poll_ms))
                .await?;
            println!("backend {}: {} jobs", r.backend, r.jobs);
            println!("enqueue, one call per job: {:.0} jobs/s", r.enqueue_per_s);
            println!(
                "enqueue, bulk (1,000 a call): {:.0} jobs/s",
                r.enqueue_bulk_per_s
            );
            println!("drain, one worker: {:.0} jobs/s", r.drain_per_s);
            println!(
                "idle enqueue-to-start latency, median of 50: {:.2} ms (poll every {poll_ms} ms)",
                r.idle_latency_ms
            );
            println!("{}", serde_json::to_string(&r)?);
            Ok(())
        }
    }
}

async fn search_command(cfg: Config, cmd: SearchCommand) -> Result<()> {
    // Before opening anything: without Meilisearch there is nothing to do.
    let writer = crate::search::writer(&cfg)?;
    let sync = crate::search::sync_config(&cfg);
    let platform = provision::open_platform(&cfg, true).await?;
    match cmd {
        SearchCommand::Reindex => {
            let total = entities::catalog::part::Entity::find()
                .count(&platform)
                .await?;
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} parts {per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let report =
                workers::handlers::catalog::reindex(&platform, &writer, &sync, None, |done| {
                    bar.set_position(done);
                })
                .await;
            bar.finish_and_clear();
            let report = report.context("reindex failed; the live index was left as it was")?;
            println!(
                "indexed {} parts into {} in {:.1} s: {:.0} docs/s (change log at {})",
                report.docs,
                report.index_uid,
                report.elapsed.as_secs_f64(),
                report.docs_per_second(),
                report.last_seq
            );
        }
        SearchCommand::Sync => {
            let r =
                workers::handlers::catalog::sync_changes(&platform, &writer, &sync, None).await?;
            println!(
                "upserted {} parts, deleted {}; change log applied up to {}",
                r.upserted, r.deleted, r.cursor
            );
        }
    }
    Ok(())
}

async fn jobs_command(cfg: Config, cmd: JobsCommand) -> Result<()> {
    use workers::admin;
    let platform = provision::open_platform(&cfg, true).await?;
    let reg = registry(&cfg);
    match cmd {
        JobsCommand::Stats => {
            let backend = app::queue_backend(&cfg).await?;
            let stats = admin::stats(&platform, &reg, &backend).await?;
            println!(
                "{:<14} {:>9} {:>9} {:>10}  RUNS BY STATUS ({})",
                "QUEUE",
                "WAITING",
                "OUTBOX",
                "UNSTARTED",
                backend.name()
            );
            for (q, s) in stats.queues {
                let runs: Vec<String> = s.runs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                println!(
                    "{q:<14} {:>9} {:>9} {:>10}  {}",
                    s.waiting,
                    s.outbox,
                    s.unstarted,
                    runs.join(" ")
                );
            }
            for u in &stats.unreachable {
                eprintln!("tenant {} could not be read: {}", u.tenant, u.error);
            }
        }
        JobsCommand::Failed { tenant, limit } => {
            let failed = admin::failed(&platform, &reg, tenant.as_deref(), limit).await?;
            for u in &failed.unreachable {
                eprintln!("tenant {} could not be read: {}", u.tenant, u.error);
            }
            let runs = failed.runs;
            if runs.is_empty() {
                println!("no dead or quarantined jobs");
            }
            for f in runs {
                let r = f.run;
                println!(
                    "{}  {}  {} on {}  run {} started {}x  {}: {}",
                    r.push_key,
                    f.tenant,
                    r.job_name,
                    r.queue,
                    r.attempt,
                    r.starts,
                    r.status,
                    r.last_error.unwrap_or_default()
                );
            }
        }
        JobsCommand::Retry { key } => {
            let next = admin::retry(&platform, &reg, &key).await?;
            println!("{key} goes again as {next}");
        }
        JobsCommand::Discard { key } => {
            admin::discard(&platform, &reg, &key).await?;
            println!("{key} discarded");
        }
    }
    reg.close_all().await;
    Ok(())
}

/// Creates a user and records it in the platform audit log.
async fn create_user(
    platform: &sea_orm::DatabaseConnection,
    email: String,
    full_name: String,
    password: String,
) -> Result<entities::org::tables::user::Model> {
    let u = accounts::create_user(
        platform,
        NewUser {
            email,
            full_name,
            password,
        },
    )
    .await?;
    Entry::new("user.created")
        .target("user", u.id)
        .record_platform(platform)
        .await?;
    Ok(u)
}

async fn user(cfg: Config, cmd: UserCommand) -> Result<()> {
    let platform = provision::open_platform(&cfg, true).await?;
    match cmd {
        UserCommand::Create {
            email,
            password,
            name,
            tenant,
            role,
        } => {
            let target = match (&tenant, &role) {
                (Some(slug), Some(role)) => Some((
                    tenants::find_by_slug(&platform, slug).await?,
                    role.parse::<Role>()?,
                )),
                _ => None,
            };
            let u = create_user(&platform, email, name, password).await?;
            if let Some((t, role)) = target {
                accounts::add_membership(&platform, u.id, t.id, role, None).await?;
                Entry::new("membership.granted")
                    .tenant(t.id)
                    .target("user", u.id)
                    .details(serde_json::json!({"role": role}))
                    .record_platform(&platform)
                    .await?;
                println!("created user {} as {role} of {}", u.email, t.slug);
            } else {
                println!("created user {}", u.email);
            }
        }
        UserCommand::Grant {
            email,
            tenant,
            role,
        } => {
            let role: Role = role.parse()?;
            let t = tenants::find_by_slug(&platform, &tenant).await?;
            let u = accounts::find_user_by_email(&platform, &email)
                .await?
                .context("no user with that e-mail")?;
            accounts::add_membership(&platform, u.id, t.id, role, None).await?;
            Entry::new("membership.granted")
                .tenant(t.id)
                .target("user", u.id)
                .details(serde_json::json!({"role": role}))
                .record_platform(&platform)
                .await?;
            println!("{} is now {role} of {}", u.email, t.slug);
        }
        UserCommand::SetPassword { email, password } => {
            let u = accounts::set_password(&platform, &email, password).await?;
            Entry::new("user.password_set")
                .target("user", u.id)
                .record_platform(&platform)
                .await?;
            println!("password set for {}; their sessions were ended", u.email);
        }
        UserCommand::Disable { email } => {
            let u = accounts::set_disabled(&platform, &email, true).await?;
            Entry::new("user.disabled")
                .target("user", u.id)
                .record_platform(&platform)
                .await?;
            println!("disabled {}; their sessions were ended", u.email);
        }
        UserCommand::Enable { email } => {
            let u = accounts::set_disabled(&platform, &email, false).await?;
            Entry::new("user.enabled")
                .target("user", u.id)
                .record_platform(&platform)
                .await?;
            println!("enabled {}", u.email);
        }
    }
    Ok(())
}

async fn operator(cfg: Config, cmd: OperatorCommand) -> Result<()> {
    let platform = provision::open_platform(&cfg, true).await?;
    match cmd {
        OperatorCommand::Create {
            email,
            password,
            name,
        } => {
            let u = match accounts::find_user_by_email(&platform, &email.trim().to_lowercase())
                .await?
            {
                Some(u) => {
                    if password.is_some() {
                        println!(
                            "{} already exists: the password was left as it is (use `nexus user \
                             set-password`)",
                            u.email
                        );
                    }
                    u
                }
                None => {
                    let password = password
                        .context("--password: a new user needs one (or set NEXUS_USER_PASSWORD)")?;
                    create_user(&platform, email, name, password).await?
                }
            };
            accounts::grant_operator(&platform, u.id).await?;
            Entry::new("operator.granted")
                .target("user", u.id)
                .record_platform(&platform)
                .await?;
            println!(
                "{} is a platform operator: sign in at the console's /login (NEXUS_OPS_ADDR)",
                u.email
            );
        }
        OperatorCommand::List => {
            for u in accounts::operators(&platform).await? {
                let state = if u.disabled_at.is_some() {
                    "disabled"
                } else {
                    "active"
                };
                println!("{}\t{}\t{state}", u.email, u.full_name);
            }
        }
        OperatorCommand::Revoke { email } => {
            let u = accounts::find_user_by_email(&platform, &email.trim().to_lowercase())
                .await?
                .context("no user with that e-mail")?;
            accounts::revoke_operator(&platform, u.id).await?;
            Entry::new("operator.revoked")
                .target("user", u.id)
                .record_platform(&platform)
                .await?;
            println!("{} is no longer an operator", u.email);
        }
    }
    Ok(())
}

fn parse_queues(names: &[String]) -> Result<Vec<Queue>> {
    if names.is_empty() {
        return Ok(Queue::ALL.to_vec());
    }
    names
        .iter()
        .map(|n| {
            Queue::from_name(n.trim()).with_context(|| {
                let all: Vec<&str> = Queue::ALL.iter().map(|q| q.name()).collect();
                format!(
                    "--queues: unknown queue `{n}`; the queues are {}",
                    all.join(", ")
                )
            })
        })
        .collect()
}

async fn worker(cfg: Config, queues: &[String]) -> Result<()> {
    let queues = parse_queues(queues)?;
    let app = app::build(cfg, prometheus::Registry::new(), false).await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let metrics = app.spawn_metrics_listener(stopped.clone()).await?;
    let relay = app.spawn_relay(stopped.clone())?;
    let search = if queues.contains(&Queue::Search) {
        app.spawn_search_sync(stopped.clone())?
    } else {
        None
    };
    let result = until_signal(app.run_workers(queues, stopped), &stop).await;
    let _ = relay.await;
    if let Some(s) = search {
        let _ = s.await;
    }
    if let Some((_, m)) = metrics {
        let _ = m.await;
    }
    app.tenants.close_all().await;
    result
}

async fn scheduler(cfg: Config) -> Result<()> {
    let app = app::build(cfg, prometheus::Registry::new(), false).await?;
    // Each tick opens every tenant's pool once; close them while the scheduler idles till the
    // next.
    let reaper = app.tenants.spawn_reaper(std::time::Duration::from_secs(60));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let metrics = app.spawn_metrics_listener(stopped.clone()).await?;
    let result = until_signal(app.run_scheduler(stopped), &stop).await;
    if let Some((_, m)) = metrics {
        let _ = m.await;
    }
    reaper.abort();
    app.tenants.close_all().await;
    result
}

async fn serve(cfg: Config, demo: bool, with_workers: bool) -> Result<()> {
    let started = std::time::Instant::now();
    let addr = cfg.http_addr;
    let shape = cfg.shape();
    // `serve` migrates on start; `api` leaves it to `nexus migrate`.
    let migrate = with_workers;
    let app = app::build(cfg, prometheus::Registry::new(), migrate).await?;
    if migrate {
        let first = provision::is_empty(&app.platform).await?;
        if (first || demo)
            && let Some(r) = crate::catalog::generate::ensure_demo_catalog(&app.platform).await?
        {
            println!(
                "demo catalog loaded: {} parts fitting {} vehicles (nexus catalog generate makes bigger ones)",
                r.parts, r.vehicles
            );
        }
        let data_dir = app.config.data_dir.clone();
        if let Some(d) =
            crate::demo::ensure(&app.platform, &app.tenants, &data_dir, first || demo).await?
        {
            if d.created {
                println!(
                    "demo store ready: 2 branches, {} items with stock and prices, 3 customers, 5 days of sales",
                    crate::demo::ITEMS
                );
            }
            if let Some(car) = d.car {
                println!("  its parts are stocked first for a {car}: try the vehicle cascade");
            }
            println!(
                "demo logins (sign in at http://{addr}/pos/api/auth/login; new ones with --demo):"
            );
            for (email, password) in &d.logins.0 {
                println!("  {email}  {password}");
            }
        }
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("NEXUS_HTTP_ADDR: cannot listen on {addr}"))?;
    let ops_listener = match app.config.ops_addr {
        Some(a) => Some(
            tokio::net::TcpListener::bind(a)
                .await
                .with_context(|| format!("NEXUS_OPS_ADDR: cannot listen on {a}"))?,
        ),
        None => None,
    };
    let reaper = app.tenants.spawn_reaper(std::time::Duration::from_secs(60));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let gauges = app.spawn_queue_gauges(stopped.clone())?;
    let console = ops_listener.map(|l| {
        if let Ok(a) = l.local_addr() {
            tracing::info!("operator console on http://{a}/ (sign in at /login)");
        }
        app.spawn_console(l, stopped.clone())
    });
    let relay = if with_workers {
        Some(app.spawn_relay(stopped.clone())?)
    } else {
        None
    };
    let search = if with_workers {
        app.spawn_search_sync(stopped.clone())?
    } else {
        None
    };
    tracing::info!(
        shape = ?shape,
        "Nexus listening on http://{addr} (docs at /docs) after {} ms",
        started.elapsed().as_millis()
    );
    let result = {
        let http = async {
            axum::serve(
                listener,
                app.router
                    .clone()
                    .into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(app::stopped(stopped.clone()))
            .await
            .context("serving HTTP")
        };
        let workers = async {
            if with_workers {
                app.run_workers(Queue::ALL.to_vec(), stopped.clone()).await
            } else {
                Ok(())
            }
        };
        let scheduler = async {
            if with_workers {
                app.run_scheduler(stopped.clone()).await
            } else {
                Ok(())
            }
        };
        until_signal(
            async { tokio::try_join!(http, workers, scheduler).map(|_| ()) },
            &stop,
        )
        .await
    };
    if let Some(relay) = relay {
        let _ = relay.await;
    }
    if let Some(s) = search {
        let _ = s.await;
    }
    if let Some(console) = console {
        let _ = console.await;
    }
    let _ = gauges.await;
    reaper.abort();
    app.tenants.close_all().await;
    app.platform.clone().close().await.ok();
    tracing::info!("Nexus stopped");
    result
}

/// Runs `work` until it ends or SIGTERM/Ctrl-C comes; then tells everything listening on `stop`
/// to stop and lets `work` finish. `stop` is set either way, so helpers spawned beside `work`
/// end with it.
async fn until_signal<F>(work: F, stop: &tokio::sync::watch::Sender<bool>) -> Result<()>
where
    F: std::future::Future<Output = Result<()>>,
{
    tokio::pin!(work);
    let result = tokio::select! {
        r = &mut work => r,
        () = shutdown_signal() => {
            let _ = stop.send(true);
            work.await
        }
    };
    let _ = stop.send(true);
    result
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
