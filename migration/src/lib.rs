//! Migrations of Nexus's two kinds of database.
//!
//! The platform database (one per deployment) and the tenant schema (one database per business)
//! evolve separately, so each has its own migrator and its own `seaql_migrations` table in its own
//! database. Every migration is written with sea-query builders so the same history runs on SQLite
//! and PostgreSQL. Migrations are frozen history: they never import the entities.

#![expect(
    elided_lifetimes_in_paths,
    reason = "sea-orm-migration's async-trait signatures take SchemaManager without a lifetime"
)]

pub use sea_orm_migration::MigratorTrait;
use sea_orm_migration::prelude::*;

mod m20261124_000001_platform_init;
mod m20261124_000001_tenant_init;
mod m20261124_000002_platform_operators;
mod m20261124_000002_tenant_outbox;
mod m20261124_000003_platform_schedule_ticks;
mod m20261124_000003_tenant_job_runs;
mod m20261124_000004_platform_catalog;
mod m20261124_000004_tenant_vehicles;
mod m20261124_000005_platform_vin_decodes;
mod m20261125_000005_tenant_counter;
mod m20261125_000006_tenant_transfer_status;
mod m20261125_000007_tenant_cfdi;
mod m20261125_000008_tenant_run_lease_and_files;
mod m20261125_000009_tenant_cfdi_documents;
mod m20261125_000010_tenant_global_invoice;
mod m20261125_000011_tenant_category_sat_keys;
mod m20261125_000012_tenant_invoice_lines;
mod m20261206_000013_tenant_returned_qty_guard;
mod m20261206_000014_tenant_job_runs_by_outbox;
mod m20261207_000006_platform_staff;
mod m20261207_000015_tenant_customer_accounts;
mod m20261207_000016_tenant_cash_drawers;
mod m20261207_000017_tenant_customer_search;
mod m20261208_000018_tenant_item_imports;
mod m20261209_000019_tenant_buying;
mod m20261210_000020_tenant_workshop;
mod m20261210_000021_tenant_warranties;
mod m20261211_000022_tenant_fleets;
mod m20261211_000023_tenant_crm;
mod m20261211_000024_tenant_credit_referrals;
mod m20261212_000025_tenant_notifications;
mod m20261212_000026_tenant_whatsapp;

/// Migrates the platform database: tenants, users, memberships, operators, refresh tokens, API
/// keys, audit, claimed schedule ticks, the shared parts catalog and the VIN decode cache.
pub struct PlatformMigrator;

#[async_trait::async_trait]
impl MigratorTrait for PlatformMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_platform_init::Migration),
            Box::new(m20261124_000002_platform_operators::Migration),
            Box::new(m20261124_000003_platform_schedule_ticks::Migration),
            Box::new(m20261124_000004_platform_catalog::Migration),
            Box::new(m20261124_000005_platform_vin_decodes::Migration),
            Box::new(m20261207_000006_platform_staff::Migration),
        ]
    }
}

/// Migrates one tenant database: branches, warehouses, the tenant audit log, the outbox,
/// processed-job marks, job runs, the customers' vehicles, and the counter (items, stock and
/// its ledger, transfers, prices, customers, carts, sales, quotes, item imports).
pub struct TenantMigrator;

#[async_trait::async_trait]
impl MigratorTrait for TenantMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_tenant_init::Migration),
            Box::new(m20261124_000002_tenant_outbox::Migration),
            Box::new(m20261124_000003_tenant_job_runs::Migration),
            Box::new(m20261124_000004_tenant_vehicles::Migration),
            Box::new(m20261125_000005_tenant_counter::Migration),
            Box::new(m20261125_000006_tenant_transfer_status::Migration),
            Box::new(m20261125_000007_tenant_cfdi::Migration),
            Box::new(m20261125_000008_tenant_run_lease_and_files::Migration),
            Box::new(m20261125_000009_tenant_cfdi_documents::Migration),
            Box::new(m20261125_000010_tenant_global_invoice::Migration),
            Box::new(m20261125_000011_tenant_category_sat_keys::Migration),
            Box::new(m20261125_000012_tenant_invoice_lines::Migration),
            Box::new(m20261206_000013_tenant_returned_qty_guard::Migration),
            Box::new(m20261206_000014_tenant_job_runs_by_outbox::Migration),
            Box::new(m20261207_000015_tenant_customer_accounts::Migration),
            Box::new(m20261207_000016_tenant_cash_drawers::Migration),
            Box::new(m20261207_000017_tenant_customer_search::Migration),
            Box::new(m20261208_000018_tenant_item_imports::Migration),
            Box::new(m20261209_000019_tenant_buying::Migration),
            Box::new(m20261210_000020_tenant_workshop::Migration),
            Box::new(m20261210_000021_tenant_warranties::Migration),
            Box::new(m20261211_000022_tenant_fleets::Migration),
            Box::new(m20261211_000023_tenant_crm::Migration),
            Box::new(m20261211_000024_tenant_credit_referrals::Migration),
            Box::new(m20261212_000025_tenant_notifications::Migration),
            Box::new(m20261212_000026_tenant_whatsapp::Migration),
        ]
    }
}

/// The names of every migration, platform then tenant, in order: what a database migrated to
/// this version has applied (the test harness names its migrated template databases by them).
#[must_use]
pub fn migration_names() -> (Vec<String>, Vec<String>) {
    let names = |ms: Vec<Box<dyn MigrationTrait>>| ms.iter().map(|m| m.name().to_owned()).collect();
    (
        names(PlatformMigrator::migrations()),
        names(TenantMigrator::migrations()),
    )
}
