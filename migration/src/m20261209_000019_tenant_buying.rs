//! Buying: suppliers and their price lists, units of stock held for customers, purchase orders with their lines and receipts, the
//! suppliers' CFDI invoices received against them, returns to suppliers, reorder rules and their
//! alerts, lost sales, special orders for a customer, the owner's purchasing settings, the item's
//! average cost, and the events a later notifications area will send (`po_received`,
//! `reorder_alert`).

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

const TABLES: [&str; 15] = [
    "suppliers",
    "supplier_prices",
    "purchase_orders",
    "purchase_order_lines",
    "purchase_receipts",
    "purchase_receipt_lines",
    "supplier_invoices",
    "supplier_returns",
    "supplier_return_lines",
    "reorder_rules",
    "reorder_alerts",
    "lost_sales",
    "special_orders",
    "purchasing_settings",
    "business_events",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    #[allow(clippy::too_many_lines)]
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // The weighted average cost of what is on hand (MXN centavos), moved by each receipt;
        // `cost_cents` stays the last cost paid.
        m.alter_table(
            Table::alter()
                .table(a("items"))
                .add_column(big_integer(a("avg_cost_cents")).default(0))
                .to_owned(),
        )
        .await?;
        // Units held for customers (received special orders): a sale, transfer or return takes
        // only `qty - reserved`.
        m.alter_table(
            Table::alter()
                .table(a("stock"))
                .add_column(big_integer(a("reserved")).default(0))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("suppliers"))
                .col(uuid(a("id")).primary_key())
                .col(string_len(a("name"), 200))
                .col(string_len_null(a("rfc"), 13))
                .col(string_len_null(a("contact_name"), 200))
                .col(string_len_null(a("email"), 254))
                .col(string_len_null(a("phone"), 20))
                .col(integer(a("payment_terms_days")).default(0))
                .col(string_len(a("currency"), 3))
                .col(integer(a("lead_days")).default(0))
                .col(text_null(a("notes")))
                // Name, RFC and contact folded to lower case without accents: what search reads.
                .col(text(a("search_text")))
                .col(boolean(a("is_active")).default(true))
                .col(timestamp_with_time_zone_null(a("deleted_at")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        index(m, "ix_suppliers_name", "suppliers", &["name"], false).await?;
        m.create_table(
            Table::create()
                .table(a("supplier_prices"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("supplier_id")))
                .col(uuid(a("item_id")))
                .col(string_len_null(a("supplier_sku"), 64))
                .col(big_integer(a("min_qty")).default(1))
                // In the price's currency, minor units, before IVA (as a supplier quotes).
                .col(big_integer(a("price_cents")))
                .col(string_len(a("currency"), 3))
                // The day the price starts (the day it was written when not given).
                .col(date(a("valid_from")))
                .col(date_null(a("valid_to")))
                .col(integer_null(a("lead_days")))
                .col(big_integer(a("pack_multiple")).default(1))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        // One price per supplier, item, break quantity and start of validity: what an import
        // matches its rows on.
        index(
            m,
            "ux_supplier_prices_key",
            "supplier_prices",
            &["supplier_id", "item_id", "min_qty", "valid_from"],
            true,
        )
        .await?;
        index(
            m,
            "ix_supplier_prices_item",
            "supplier_prices",
            &["item_id"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("purchase_orders"))
                .col(uuid(a("id")).primary_key())
                .col(string_len(a("folio"), 16))
                .col(uuid(a("supplier_id")))
                // Where it is to be received by default.
                .col(uuid(a("warehouse_id")))
                .col(string_len(a("status"), 24))
                .col(string_len(a("currency"), 3))
                // MXN per unit of the currency, micros, fixed when the order is created.
                .col(big_integer(a("exchange_rate_micros")))
                .col(big_integer(a("subtotal_cents")).default(0))
                .col(big_integer(a("tax_cents")).default(0))
                .col(big_integer(a("total_cents")).default(0))
                .col(boolean(a("needs_approval")).default(false))
                .col(uuid_null(a("approved_by")))
                .col(timestamp_with_time_zone_null(a("approved_at")))
                .col(date_null(a("expected_on")))
                .col(text_null(a("notes")))
                // `manual` or `reorder`; a reorder PO carries `reorder:{supplier}:{warehouse}:{day}`
                // so the suggestion run of a day makes it once.
                .col(string_len(a("origin"), 16))
                .col(string_len_null(a("origin_key"), 120).unique_key())
                .col(integer(a("receipts")).default(0))
                // Bumped by every change: two edits read at the same version cannot both apply.
                .col(integer(a("version")).default(0))
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone_null(a("sent_at")))
                .col(timestamp_with_time_zone_null(a("confirmed_at")))
                .col(timestamp_with_time_zone_null(a("closed_at")))
                .col(timestamp_with_time_zone_null(a("cancelled_at")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_purchase_orders_folio",
            "purchase_orders",
            &["folio"],
            true,
        )
        .await?;
        index(
            m,
            "ix_purchase_orders_supplier",
            "purchase_orders",
            &["supplier_id", "status"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("purchase_order_lines"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("purchase_order_id")))
                .col(integer(a("position")))
                .col(uuid(a("item_id")))
                .col(string_len_null(a("supplier_sku"), 64))
                .col(big_integer(a("qty")))
                .col(big_integer(a("received_qty")).default(0))
                .col(big_integer(a("returned_qty")).default(0))
                // In the order's currency, before IVA.
                .col(big_integer(a("unit_cost_cents")))
                .col(integer(a("iva_rate_bp")))
                .col(big_integer(a("subtotal_cents")))
                .col(big_integer(a("tax_cents")))
                .col(big_integer(a("total_cents")))
                .col(date_null(a("expected_on")))
                // The customer's special order this line buys for.
                .col(uuid_null(a("special_order_id")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_purchase_order_lines_po",
            "purchase_order_lines",
            &["purchase_order_id"],
            false,
        )
        .await?;
        index(
            m,
            "ix_purchase_order_lines_item",
            "purchase_order_lines",
            &["item_id"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("purchase_receipts"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("purchase_order_id")))
                .col(integer(a("number")))
                .col(uuid(a("warehouse_id")))
                // The supplier's CFDI it was received from.
                .col(string_len_null(a("invoice_uuid"), 36))
                .col(text_null(a("note")))
                .col(uuid_null(a("received_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_purchase_receipts_number",
            "purchase_receipts",
            &["purchase_order_id", "number"],
            true,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("purchase_receipt_lines"))
                .col(big_integer(a("id")).primary_key().auto_increment())
                .col(uuid(a("receipt_id")))
                .col(uuid(a("line_id")))
                .col(uuid(a("item_id")))
                .col(big_integer(a("qty")))
                // MXN centavos per unit at the order's rate: what the average cost took in.
                .col(big_integer(a("unit_cost_mxn_cents")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_purchase_receipt_lines_receipt",
            "purchase_receipt_lines",
            &["receipt_id"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("supplier_invoices"))
                // The CFDI's UUID: once per business, whatever the order.
                .col(string_len(a("uuid"), 36).primary_key())
                .col(uuid(a("purchase_order_id")))
                .col(uuid(a("supplier_id")))
                .col(string_len(a("issuer_rfc"), 13))
                .col(string_len_null(a("series"), 25))
                .col(string_len_null(a("folio"), 40))
                .col(string_len(a("currency"), 3))
                .col(big_integer(a("subtotal_cents")))
                .col(big_integer(a("total_cents")))
                // The XML as sent, in the tenant's files.
                .col(string_len(a("file_key"), 300))
                // The proposed match of its concepts to the order's lines.
                .col(json(a("matches")))
                // `pending` until received, then `received`.
                .col(string_len(a("status"), 16))
                .col(uuid_null(a("receipt_id")))
                .col(uuid_null(a("uploaded_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("supplier_returns"))
                .col(uuid(a("id")).primary_key())
                .col(string_len(a("folio"), 16))
                .col(uuid(a("supplier_id")))
                .col(uuid_null(a("purchase_order_id")))
                .col(uuid(a("warehouse_id")))
                .col(string_len(a("reason"), 500))
                // What the supplier should credit, MXN centavos.
                .col(big_integer(a("expected_credit_cents")))
                // `pending` until the supplier's credit note arrives, then `credited`.
                .col(string_len(a("status"), 16))
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("supplier_return_lines"))
                .col(big_integer(a("id")).primary_key().auto_increment())
                .col(uuid(a("return_id")))
                .col(uuid(a("item_id")))
                .col(uuid_null(a("line_id")))
                .col(big_integer(a("qty")))
                .col(big_integer(a("unit_cost_cents")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("reorder_rules"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("warehouse_id")))
                .col(uuid(a("item_id")))
                .col(big_integer(a("min_qty")))
                .col(big_integer(a("max_qty")))
                .col(big_integer(a("multiple")).default(1))
                .col(integer(a("lead_days")).default(0))
                .col(uuid_null(a("preferred_supplier_id")))
                // `manual` (pinned by hand, never changed by the nightly job) or `computed`.
                .col(string_len(a("mode"), 16))
                .col(date_null(a("snoozed_until")))
                // Units a day the last velocity run found, thousandths.
                .col(big_integer_null(a("velocity_milli")))
                .col(timestamp_with_time_zone_null(a("computed_at")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_reorder_rules_key",
            "reorder_rules",
            &["warehouse_id", "item_id"],
            true,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("reorder_alerts"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("rule_id")))
                .col(uuid(a("item_id")))
                .col(uuid(a("warehouse_id")))
                .col(big_integer(a("on_hand")))
                .col(big_integer(a("on_order")))
                .col(big_integer(a("inbound")))
                .col(big_integer(a("reserved")))
                .col(big_integer(a("forecast")))
                .col(big_integer(a("min_qty")))
                .col(big_integer(a("max_qty")))
                .col(big_integer(a("suggested_qty")))
                .col(uuid_null(a("supplier_id")))
                // `open`, `acknowledged` or `resolved`.
                .col(string_len(a("status"), 16))
                // Set while the alert is not resolved: one live alert per rule.
                .col(uuid_null(a("live_rule_id")).unique_key())
                .col(uuid_null(a("acknowledged_by")))
                .col(timestamp_with_time_zone_null(a("acknowledged_at")))
                .col(uuid_null(a("resolved_by")))
                .col(timestamp_with_time_zone_null(a("resolved_at")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_reorder_alerts_status",
            "reorder_alerts",
            &["status", "created_at"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("lost_sales"))
                .col(uuid(a("id")).primary_key())
                .col(uuid_null(a("item_id")))
                .col(big_integer_null(a("catalog_part_id")))
                .col(uuid_null(a("warehouse_id")))
                .col(uuid_null(a("branch_id")))
                .col(big_integer(a("qty")))
                // `no_stock`, `price` or `other`.
                .col(string_len(a("reason"), 16))
                // `manual`, `stock_lookup` or `cart`.
                .col(string_len(a("source"), 16))
                .col(uuid_null(a("customer_id")))
                .col(text_null(a("note")))
                .col(uuid_null(a("recorded_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_lost_sales_item",
            "lost_sales",
            &["item_id", "created_at"],
            false,
        )
        .await?;
        index(
            m,
            "ix_lost_sales_created",
            "lost_sales",
            &["created_at"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("special_orders"))
                .col(uuid(a("id")).primary_key())
                .col(string_len(a("folio"), 16))
                .col(uuid(a("customer_id")))
                .col(uuid(a("item_id")))
                .col(uuid(a("warehouse_id")))
                .col(big_integer(a("qty")))
                .col(big_integer(a("deposit_cents")).default(0))
                // The payment on the customer's account that holds the deposit.
                .col(uuid_null(a("deposit_entry_id")))
                .col(uuid_null(a("supplier_id")))
                // `open` → `ordered` → `received` → `collected`, or `cancelled`.
                .col(string_len(a("status"), 16))
                .col(uuid_null(a("purchase_order_id")))
                .col(text_null(a("note")))
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone_null(a("received_at")))
                .col(timestamp_with_time_zone_null(a("collected_at")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_special_orders_status",
            "special_orders",
            &["status", "item_id"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("purchasing_settings"))
                // One row, id 1.
                .col(integer(a("id")).primary_key())
                // Orders at or above this total (MXN centavos) need an owner's approval to be
                // sent; none means no approval.
                .col(big_integer_null(a("approval_threshold_cents")))
                // How far a receipt may exceed the ordered quantity, basis points.
                .col(integer(a("over_receipt_tolerance_bp")).default(0))
                // How much a lost unit counts against a sold one in the velocity, basis points.
                .col(integer(a("lost_sale_weight_bp")).default(5000))
                .col(integer(a("safety_days")).default(7))
                .col(integer(a("review_days")).default(14))
                .col(integer(a("special_order_days")).default(15))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("business_events"))
                .col(big_integer(a("id")).primary_key().auto_increment())
                // `po_received`, `reorder_alert`, `special_order_received`…
                .col(string_len(a("kind"), 40))
                .col(string_len(a("ref_type"), 40))
                .col(string_len(a("ref_id"), 80))
                .col(json(a("payload")))
                // Set by the notifications area once it has sent what the event asks for.
                .col(timestamp_with_time_zone_null(a("handled_at")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_business_events_kind",
            "business_events",
            &["kind", "created_at"],
            false,
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in TABLES {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        m.alter_table(
            Table::alter()
                .table(a("stock"))
                .drop_column(a("reserved"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(a("items"))
                .drop_column(a("avg_cost_cents"))
                .to_owned(),
        )
        .await
    }
}
