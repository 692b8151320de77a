//! The workshop: service orders (órdenes de servicio) with their reception record, parts and
//! labour lines, append-only event history, photos, technicians' time and the owner's column
//! labels; labour operations as service items (no stock); the kind of a sale line (a part, a
//! labour operation, or a core deposit) and the service order a sale charged; core charges
//! (cascos): the deposit per item, the core ledger per customer and supplier, and batches of
//! cores back to suppliers.

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

const TABLES: [&str; 8] = [
    "service_orders",
    "service_order_lines",
    "service_order_events",
    "service_order_photos",
    "labour_entries",
    "workshop_settings",
    "core_ledger",
    "core_batches",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    #[allow(clippy::too_many_lines)]
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // `part` (stocked) or `service` (a labour operation: priced on the lists, never stocked).
        add(m, "items", string_len(a("kind"), 16).default("part")).await?;
        // The refundable deposit for the old unit (casco), IVA included; 0 for none.
        add(m, "items", big_integer(a("core_charge_cents")).default(0)).await?;
        // `part`, `labour` or `core` (the deposit line linked to the part line before it).
        add(m, "sale_lines", string_len(a("kind"), 16).default("part")).await?;
        add(m, "sales", &mut uuid_null(a("service_order_id"))).await?;

        m.create_table(
            Table::create()
                .table(a("service_orders"))
                .col(uuid(a("id")).primary_key())
                .col(string_len(a("folio"), 40))
                .col(uuid(a("branch_id")))
                .col(uuid(a("customer_id")))
                .col(uuid_null(a("vehicle_id")))
                .col(string_len_null(a("plate"), 16))
                .col(string_len_null(a("vin"), 17))
                .col(string_len_null(a("vehicle_label"), 200))
                .col(big_integer_null(a("odometer_km")))
                // Eighths of a tank, 0–8.
                .col(integer_null(a("fuel_eighths")))
                // The accessories checklist at reception, a JSON object of name → present.
                .col(text(a("accessories")))
                .col(text(a("complaint")))
                .col(timestamp_with_time_zone_null(a("promised_at")))
                .col(boolean(a("accepts_used_parts")).default(false))
                .col(string_len(a("status"), 24))
                // The status an order returns to when a supplement is answered.
                .col(string_len_null(a("resume_status"), 24))
                .col(string_len(a("price_list"), 32))
                .col(uuid_null(a("assigned_to")))
                // The budget version sent for approval, and the last one approved.
                .col(integer(a("budget_version")).default(0))
                .col(integer(a("approved_version")).default(0))
                .col(string_len(a("token"), 64))
                .col(timestamp_with_time_zone_null(a("approved_at")))
                .col(string_len_null(a("approved_by"), 200))
                .col(string_len_null(a("approval_channel"), 16))
                .col(uuid_null(a("sale_id")))
                .col(text_null(a("notes")))
                .col(timestamp_with_time_zone_null(a("ready_at")))
                .col(timestamp_with_time_zone_null(a("delivered_at")))
                .col(timestamp_with_time_zone_null(a("closed_at")))
                .col(uuid(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_service_orders_folio",
            "service_orders",
            &["folio"],
            true,
        )
        .await?;
        index(
            m,
            "ux_service_orders_token",
            "service_orders",
            &["token"],
            true,
        )
        .await?;
        index(
            m,
            "ix_service_orders_branch_status",
            "service_orders",
            &["branch_id", "status"],
            false,
        )
        .await?;
        index(
            m,
            "ix_service_orders_customer",
            "service_orders",
            &["customer_id", "created_at"],
            false,
        )
        .await?;
        index(
            m,
            "ix_service_orders_assigned",
            "service_orders",
            &["assigned_to", "status"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(a("service_order_lines"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("order_id")))
                .col(integer(a("line_no")))
                // `part` or `labour`.
                .col(string_len(a("kind"), 8))
                .col(uuid(a("item_id")))
                .col(string_len(a("sku"), 64))
                .col(string_len(a("name"), 300))
                .col(uuid_null(a("warehouse_id")))
                .col(big_integer(a("qty")))
                // Labour: hours in hundredths and the hourly rate (IVA included); none for a flat price.
                .col(big_integer_null(a("hours_hundredths")))
                .col(big_integer_null(a("rate_cents")))
                .col(uuid_null(a("technician_id")))
                .col(boolean(a("is_diagnosis")).default(false))
                .col(big_integer(a("unit_price_cents")))
                .col(big_integer(a("retail_unit_cents")))
                .col(integer(a("discount_bp")).default(0))
                .col(big_integer(a("discount_cents")))
                .col(big_integer(a("base_cents")))
                .col(big_integer(a("tax_cents")))
                .col(big_integer(a("total_cents")))
                .col(integer(a("iva_rate_bp")))
                // 0: the first budget; n: the n-th supplement.
                .col(integer(a("version")))
                // `proposed`, `approved`, `declined` or `removed`.
                .col(string_len(a("status"), 12))
                // Units held in stock for the order, then taken at `ready`, and given back.
                .col(big_integer(a("reserved_qty")).default(0))
                .col(big_integer(a("used_qty")).default(0))
                .col(big_integer(a("returned_qty")).default(0))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_service_order_lines_order",
            "service_order_lines",
            &["order_id", "line_no"],
            true,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(a("service_order_events"))
                .col(big_integer(a("id")).primary_key().auto_increment())
                .col(uuid(a("order_id")))
                // `status`, `approval`, `supplement`, `line`, `assignment`, `labour`, `photo`.
                .col(string_len(a("kind"), 16))
                .col(string_len_null(a("from_status"), 24))
                .col(string_len_null(a("to_status"), 24))
                .col(uuid_null(a("actor_id")))
                // Who acted when it was not a user: the customer through the public link.
                .col(string_len_null(a("actor_name"), 200))
                .col(text_null(a("note")))
                .col(text_null(a("details")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_service_order_events_order",
            "service_order_events",
            &["order_id", "id"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(a("service_order_photos"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("order_id")))
                .col(string_len(a("file_key"), 300))
                .col(string_len(a("content_type"), 64))
                .col(big_integer(a("bytes")))
                .col(string_len(a("sha256"), 64))
                .col(string_len_null(a("caption"), 200))
                .col(uuid(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_service_order_photos_order",
            "service_order_photos",
            &["order_id"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(a("labour_entries"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("order_id")))
                .col(uuid(a("line_id")))
                .col(uuid(a("technician_id")))
                .col(big_integer(a("minutes")))
                .col(date(a("worked_on")))
                .col(text_null(a("note")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_labour_entries_order",
            "labour_entries",
            &["order_id"],
            false,
        )
        .await?;
        index(
            m,
            "ix_labour_entries_technician",
            "labour_entries",
            &["technician_id", "worked_on"],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(a("workshop_settings"))
                .col(string_len(a("key"), 32).primary_key())
                // JSON object: status → label on the kanban.
                .col(text(a("column_labels")))
                // Days a sold core's deposit is refunded in money; after, as store credit.
                .col(integer(a("core_window_days")).default(30))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(a("core_ledger"))
                .col(big_integer(a("id")).primary_key().auto_increment())
                .col(uuid(a("item_id")))
                .col(uuid_null(a("customer_id")))
                .col(uuid_null(a("supplier_id")))
                .col(uuid_null(a("sale_id")))
                .col(uuid_null(a("batch_id")))
                // `deposit`, `returned`, `refunded`, `credited`, `rejected`, `to_supplier`,
                // `supplier_credit`.
                .col(string_len(a("kind"), 16))
                .col(big_integer(a("qty")))
                .col(big_integer(a("amount_cents")))
                .col(uuid_null(a("actor_id")))
                .col(text_null(a("note")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_core_ledger_customer",
            "core_ledger",
            &["customer_id", "item_id"],
            false,
        )
        .await?;
        index(
            m,
            "ix_core_ledger_supplier",
            "core_ledger",
            &["supplier_id", "item_id"],
            false,
        )
        .await?;
        index(m, "ix_core_ledger_sale", "core_ledger", &["sale_id"], false).await?;

        m.create_table(
            Table::create()
                .table(a("core_batches"))
                .col(uuid(a("id")).primary_key())
                .col(string_len(a("folio"), 40))
                .col(uuid(a("supplier_id")))
                .col(uuid(a("warehouse_id")))
                // `sent` or `credited`.
                .col(string_len(a("status"), 12))
                .col(big_integer(a("units")))
                .col(big_integer(a("expected_cents")))
                .col(big_integer(a("credited_cents")).default(0))
                .col(text(a("lines")))
                .col(uuid(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone_null(a("credited_at")))
                .to_owned(),
        )
        .await?;
        index(m, "ux_core_batches_folio", "core_batches", &["folio"], true).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in TABLES {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        for (t, c) in [
            ("sales", "service_order_id"),
            ("sale_lines", "kind"),
            ("items", "core_charge_cents"),
            ("items", "kind"),
        ] {
            m.alter_table(Table::alter().table(a(t)).drop_column(a(c)).to_owned())
                .await?;
        }
        Ok(())
    }
}
