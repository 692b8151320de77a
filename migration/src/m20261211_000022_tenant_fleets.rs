//! Fleets: a fleet profile on a customer, its cost centres, drivers and units (registered
//! vehicles), odometer readings, maintenance plans per vehicle or per make and model with each
//! vehicle's state on them, the cost logs, contracts (insurance, verificación, tenencia) and the
//! fleet settings; and the vehicle and odometer a counter sale was made for.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn a(name: &str) -> Alias {
    Alias::new(name)
}

async fn index(
    m: &SchemaManager<'_>,
    name: &str,
    table: &str,
    cols: &[&str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut i = Index::create();
    i.name(name).table(a(table));
    for c in cols {
        i.col(a(c));
    }
    if unique {
        i.unique();
    }
    m.create_index(i.to_owned()).await
}

async fn add(m: &SchemaManager<'_>, table: &str, col: &mut ColumnDef) -> Result<(), DbErr> {
    // One column per statement: SQLite's ALTER TABLE adds one at a time.
    m.alter_table(Table::alter().table(a(table)).add_column(col).to_owned())
        .await
}

const TABLES: [&str; 10] = [
    "fleet_customers",
    "fleet_cost_centres",
    "fleet_drivers",
    "fleet_vehicles",
    "odometer_readings",
    "maintenance_plans",
    "vehicle_plan_states",
    "fleet_logs",
    "fleet_contracts",
    "fleet_settings",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    #[allow(clippy::too_many_lines)]
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(a("fleet_customers"))
                // The customer's own id: a customer has at most one fleet profile.
                .col(uuid(a("customer_id")).primary_key())
                .col(string_len_null(a("contact_name"), 120))
                .col(string_len_null(a("contact_phone"), 20))
                .col(text_null(a("notes")))
                .col(boolean(a("is_active")).default(true))
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("fleet_cost_centres"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("customer_id")))
                // Upper case, unique in the fleet (`RUTA-NORTE`).
                .col(string_len(a("code"), 20))
                .col(string_len(a("name"), 120))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_fleet_cost_centres_code",
            "fleet_cost_centres",
            &["customer_id", "code"],
            true,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("fleet_drivers"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("customer_id")))
                .col(string_len(a("name"), 120))
                .col(string_len_null(a("phone"), 20))
                .col(string_len_null(a("license_no"), 30))
                .col(date_null(a("license_expires_on")))
                .col(boolean(a("is_active")).default(true))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_fleet_drivers_customer",
            "fleet_drivers",
            &["customer_id", "name"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("fleet_vehicles"))
                // The registered vehicle (`customer_vehicles.id`).
                .col(uuid(a("vehicle_id")).primary_key())
                .col(uuid(a("customer_id")))
                // The fleet's own unit number (número económico).
                .col(string_len_null(a("unit_no"), 20))
                .col(uuid_null(a("driver_id")))
                .col(uuid_null(a("cost_centre_id")))
                .col(boolean(a("is_active")).default(true))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_fleet_vehicles_customer",
            "fleet_vehicles",
            &["customer_id"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("odometer_readings"))
                .col(uuid(a("id")).primary_key())
                // Any registered vehicle, a fleet unit or not.
                .col(uuid(a("vehicle_id")))
                .col(big_integer(a("km")))
                .col(date(a("read_on")))
                // `reading`, `rollover` or `correction` (the last two by a manager: a new base).
                .col(string_len(a("kind"), 16))
                // `manual`, `reception`, `sale` or `log`, with the document's id.
                .col(string_len(a("source"), 16))
                .col(uuid_null(a("source_id")))
                // Below the vehicle's current reading (a reception never waits on it): kept for
                // a manager to review, never the current reading.
                .col(boolean(a("flagged")).default(false))
                .col(text_null(a("note")))
                .col(uuid_null(a("recorded_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_odometer_readings_vehicle",
            "odometer_readings",
            &["vehicle_id", "created_at"],
            false,
        )
        .await?;
        index(
            m,
            "ix_odometer_readings_read_on",
            "odometer_readings",
            &["read_on", "vehicle_id"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("maintenance_plans"))
                .col(uuid(a("id")).primary_key())
                .col(string_len(a("name"), 120))
                // One vehicle's plan, or every fleet unit of a make and model.
                .col(uuid_null(a("vehicle_id")))
                .col(string_len_null(a("make"), 60))
                .col(string_len_null(a("model"), 60))
                // Lower case: what vehicles' make and model are matched on.
                .col(string_len_null(a("make_key"), 60))
                .col(string_len_null(a("model_key"), 60))
                // The service item whose delivery in a service order does the plan's work.
                .col(uuid_null(a("item_id")))
                // Whichever comes first; at least one.
                .col(big_integer_null(a("interval_km")))
                .col(integer_null(a("interval_months")))
                // The plan's own warning window, in place of the business's `urgent` one.
                .col(big_integer_null(a("warn_km")))
                .col(integer_null(a("warn_days")))
                .col(boolean(a("is_active")).default(true))
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_maintenance_plans_model",
            "maintenance_plans",
            &["make_key", "model_key"],
            false,
        )
        .await?;
        index(
            m,
            "ix_maintenance_plans_vehicle",
            "maintenance_plans",
            &["vehicle_id"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("vehicle_plan_states"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("vehicle_id")))
                .col(uuid(a("plan_id")))
                // The base the next due point counts from: the last time the work was done
                // (or when the plan started for the vehicle).
                .col(big_integer_null(a("last_done_km")))
                .col(date(a("last_done_on")))
                .col(big_integer_null(a("next_due_km")))
                .col(date_null(a("next_due_on")))
                // The due point (`km|date`) whose `maintenance_due` event was recorded: never
                // twice for one point.
                .col(string_len_null(a("notified_due"), 40))
                .col(date_null(a("notified_on")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_vehicle_plan_states",
            "vehicle_plan_states",
            &["vehicle_id", "plan_id"],
            true,
        )
        .await?;
        index(
            m,
            "ix_vehicle_plan_states_plan",
            "vehicle_plan_states",
            &["plan_id"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("fleet_logs"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("vehicle_id")))
                .col(uuid(a("customer_id")))
                // `service`, `fuel` or `other`.
                .col(string_len(a("kind"), 16))
                .col(date(a("spent_on")))
                // IVA included, MXN centavos.
                .col(big_integer(a("amount_cents")))
                .col(big_integer_null(a("odometer_km")))
                // Fuel in millilitres.
                .col(big_integer_null(a("fuel_ml")))
                .col(text_null(a("description")))
                // The delivered service order it came from: one log per order.
                .col(uuid_null(a("service_order_id")).unique_key())
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_fleet_logs_vehicle",
            "fleet_logs",
            &["vehicle_id", "spent_on"],
            false,
        )
        .await?;
        index(
            m,
            "ix_fleet_logs_customer",
            "fleet_logs",
            &["customer_id", "spent_on"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("fleet_contracts"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("customer_id")))
                .col(uuid_null(a("vehicle_id")))
                // `insurance`, `verificacion`, `tenencia`, `leasing` or `other`.
                .col(string_len(a("kind"), 16))
                .col(string_len_null(a("provider"), 120))
                // Policy or folio number.
                .col(string_len_null(a("reference"), 60))
                .col(date(a("starts_on")))
                // The last day in force.
                .col(date(a("expires_on")))
                .col(big_integer(a("cost_cents")).default(0))
                .col(timestamp_with_time_zone_null(a("closed_at")))
                // The smallest notice (days before the end) already told: each once.
                .col(integer_null(a("reminded_days")))
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_fleet_contracts_expires",
            "fleet_contracts",
            &["expires_on"],
            false,
        )
        .await?;
        index(
            m,
            "ix_fleet_contracts_customer",
            "fleet_contracts",
            &["customer_id", "expires_on"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("fleet_settings"))
                // One row, id 1.
                .col(integer(a("id")).primary_key())
                .col(integer(a("very_urgent_days")).default(7))
                .col(big_integer(a("very_urgent_km")).default(50))
                .col(integer(a("urgent_days")).default(30))
                .col(big_integer(a("urgent_km")).default(100))
                // `contract_expiring` is recorded this many days before the end, and again at
                // the second notice.
                .col(integer(a("contract_notice_days")).default(30))
                .col(integer(a("contract_second_notice_days")).default(15))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        // The fleet unit a counter sale was for, and its odometer then.
        add(m, "sales", &mut uuid_null(a("vehicle_id"))).await?;
        add(m, "sales", &mut big_integer_null(a("odometer_km"))).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in TABLES {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        for c in ["vehicle_id", "odometer_km"] {
            m.alter_table(
                Table::alter()
                    .table(a("sales"))
                    .drop_column(a(c))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
