//! The counter: items, stock with its ledger, transfers, price lists, exchange rates, customers,
//! carts, sales with lines, payments and returns, idempotency keys, quotes, notifications and
//! stock alerts.
//!
//! Money is stored as integers in minor units (centavos, or cents of a USD price) and exchange
//! rates in millionths: integers are exact on SQLite and PostgreSQL alike, where a NUMERIC read
//! through sea-orm on SQLite goes through `f64`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn a(name: &str) -> Alias {
    Alias::new(name)
}

fn created(t: &mut TableCreateStatement) -> &mut TableCreateStatement {
    t.col(timestamp_with_time_zone(a("created_at")))
}

fn fk(t: &mut TableCreateStatement, table: &str, col: &str, to: &str) {
    t.foreign_key(
        ForeignKey::create()
            .from(a(table), a(col))
            .to(a(to), a("id"))
            .on_delete(ForeignKeyAction::Restrict),
    );
}

async fn index(
    m: &SchemaManager<'_>,
    table: &str,
    name: &str,
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

/// A document's money columns, in centavos: base, tax, discount, total, the retail reference and
/// the savings.
fn totals(t: &mut TableCreateStatement) {
    t.col(big_integer(a("subtotal_cents")))
        .col(big_integer(a("discount_cents")))
        .col(big_integer(a("tax_cents")))
        .col(big_integer(a("total_cents")))
        .col(big_integer(a("retail_total_cents")))
        .col(big_integer(a("savings_cents")));
}

/// A document line's columns: what, from where, how many, at what price, and its rounded amounts.
fn line(t: &mut TableCreateStatement) {
    t.col(integer(a("line_no")))
        .col(uuid(a("item_id")))
        .col(string_len(a("sku"), 64))
        .col(string(a("name")))
        .col(big_integer(a("qty")))
        .col(big_integer(a("unit_price_cents")))
        .col(big_integer(a("retail_unit_cents")))
        .col(big_integer(a("discount_cents")))
        .col(big_integer(a("base_cents")))
        .col(big_integer(a("tax_cents")))
        .col(big_integer(a("total_cents")))
        .col(big_integer(a("savings_cents")))
        .col(integer(a("iva_rate_bp")));
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Items: what the business stocks and sells, linked to the shared catalog when it is
        // there (no foreign key across databases).
        let mut t = Table::create();
        t.table(a("items"))
            .col(uuid(a("id")).primary_key())
            .col(string_len_uniq(a("sku"), 64))
            .col(big_integer_null(a("catalog_part_id")))
            .col(string(a("name")))
            .col(text_null(a("description")))
            .col(string_len_null(a("brand"), 100))
            .col(string_len_null(a("part_number"), 100))
            .col(string_len_null(a("sat_product_key"), 8))
            .col(string_len_null(a("sat_unit_key"), 3))
            .col(big_integer(a("cost_cents")).default(0))
            .col(big_integer_null(a("retail_price_cents")))
            .col(big_integer(a("min_qty")).default(0))
            .col(big_integer_null(a("max_qty")))
            .col(boolean(a("is_active")).default(true));
        created(&mut t).col(timestamp_with_time_zone(a("updated_at")));
        m.create_table(t.to_owned()).await?;
        index(
            m,
            "items",
            "ux_items_catalog_part",
            &["catalog_part_id"],
            true,
        )
        .await?;
        index(m, "items", "ix_items_name", &["name"], false).await?;

        // Stock: the cached balance per item and warehouse; the ledger is the truth.
        let mut t = Table::create();
        t.table(a("stock"))
            .col(uuid(a("item_id")))
            .col(uuid(a("warehouse_id")))
            .col(uuid(a("branch_id")))
            .col(big_integer(a("qty")))
            .col(timestamp_with_time_zone(a("updated_at")))
            .primary_key(Index::create().col(a("item_id")).col(a("warehouse_id")))
            .check((a("ck_stock_qty_not_negative"), Expr::col(a("qty")).gte(0)));
        fk(&mut t, "stock", "item_id", "items");
        fk(&mut t, "stock", "warehouse_id", "warehouses");
        m.create_table(t.to_owned()).await?;

        let mut t = Table::create();
        t.table(a("stock_ledger"))
            .col(big_pk_auto(a("id")))
            .col(uuid(a("item_id")))
            .col(uuid(a("warehouse_id")))
            .col(uuid(a("branch_id")))
            .col(big_integer(a("delta")))
            .col(big_integer(a("balance_after")))
            .col(string_len(a("reason"), 32))
            .col(string_len(a("ref_type"), 32))
            .col(string_len(a("ref_id"), 80))
            .col(text_null(a("note")))
            .col(uuid_null(a("actor_user_id")));
        created(&mut t);
        fk(&mut t, "stock_ledger", "item_id", "items");
        m.create_table(t.to_owned()).await?;
        // A retried operation cannot move the same stock twice.
        index(
            m,
            "stock_ledger",
            "ux_stock_ledger_ref",
            &["ref_type", "ref_id", "reason", "item_id", "warehouse_id"],
            true,
        )
        .await?;
        index(
            m,
            "stock_ledger",
            "ix_stock_ledger_item",
            &["item_id", "warehouse_id", "id"],
            false,
        )
        .await?;

        // Transfers between warehouses.
        let mut t = Table::create();
        t.table(a("transfers"))
            .col(uuid(a("id")).primary_key())
            .col(string_len_uniq(a("folio"), 32))
            .col(uuid(a("from_warehouse_id")))
            .col(uuid(a("to_warehouse_id")))
            .col(string_len(a("status"), 16))
            .col(text_null(a("note")))
            .col(uuid_null(a("requested_by")))
            .col(uuid_null(a("shipped_by")))
            .col(uuid_null(a("received_by")))
            .col(timestamp_with_time_zone_null(a("shipped_at")))
            .col(timestamp_with_time_zone_null(a("received_at")))
            .col(timestamp_with_time_zone_null(a("cancelled_at")))
            .col(integer(a("receipts")).default(0));
        created(&mut t).col(timestamp_with_time_zone(a("updated_at")));
        fk(&mut t, "transfers", "from_warehouse_id", "warehouses");
        fk(&mut t, "transfers", "to_warehouse_id", "warehouses");
        m.create_table(t.to_owned()).await?;
        index(
            m,
            "transfers",
            "ix_transfers_status",
            &["status", "created_at"],
            false,
        )
        .await?;

        let mut t = Table::create();
        t.table(a("transfer_lines"))
            .col(big_pk_auto(a("id")))
            .col(uuid(a("transfer_id")))
            .col(uuid(a("item_id")))
            .col(big_integer(a("qty_requested")))
            .col(big_integer(a("qty_shipped")).default(0))
            .col(big_integer(a("qty_received")).default(0));
        fk(&mut t, "transfer_lines", "transfer_id", "transfers");
        fk(&mut t, "transfer_lines", "item_id", "items");
        m.create_table(t.to_owned()).await?;
        index(
            m,
            "transfer_lines",
            "ux_transfer_lines_item",
            &["transfer_id", "item_id"],
            true,
        )
        .await?;

        // Prices: one row per item and list; `branch_id` nil is the list price for every branch,
        // any other value that branch's override.
        let mut t = Table::create();
        t.table(a("item_prices"))
            .col(uuid(a("item_id")))
            .col(string_len(a("price_list"), 16))
            .col(uuid(a("branch_id")))
            .col(big_integer(a("amount_minor")))
            .col(string_len(a("currency"), 3))
            .col(uuid_null(a("updated_by")))
            .col(timestamp_with_time_zone(a("updated_at")))
            .primary_key(
                Index::create()
                    .col(a("item_id"))
                    .col(a("price_list"))
                    .col(a("branch_id")),
            );
        fk(&mut t, "item_prices", "item_id", "items");
        m.create_table(t.to_owned()).await?;

        let mut t = Table::create();
        t.table(a("price_syncs"))
            .col(uuid(a("id")).primary_key())
            .col(string_len(a("status"), 16))
            .col(json(a("request")))
            .col(json_null(a("result")))
            .col(text_null(a("error")))
            .col(uuid_null(a("requested_by")))
            .col(timestamp_with_time_zone_null(a("finished_at")));
        created(&mut t);
        m.create_table(t.to_owned()).await?;

        let mut t = Table::create();
        t.table(a("exchange_rates"))
            .col(big_pk_auto(a("id")))
            .col(string_len(a("currency"), 3))
            .col(big_integer(a("rate_micros")))
            .col(text_null(a("note")))
            .col(uuid_null(a("set_by")));
        created(&mut t);
        m.create_table(t.to_owned()).await?;
        index(
            m,
            "exchange_rates",
            "ix_exchange_rates_currency",
            &["currency", "id"],
            false,
        )
        .await?;

        // Customers (the basic CRM record).
        let mut t = Table::create();
        t.table(a("customers"))
            .col(uuid(a("id")).primary_key())
            .col(string(a("name")))
            .col(string_len_null(a("rfc"), 13))
            .col(string_len_null(a("tax_regime"), 3))
            .col(string_len_null(a("zip"), 5))
            .col(string_len_null(a("email"), 254))
            .col(string_len_null(a("whatsapp_phone"), 20))
            .col(string_len(a("price_list"), 16))
            .col(big_integer(a("credit_limit_cents")).default(0))
            .col(text_null(a("notes")))
            .col(boolean(a("is_active")).default(true));
        created(&mut t).col(timestamp_with_time_zone(a("updated_at")));
        m.create_table(t.to_owned()).await?;
        index(m, "customers", "ix_customers_name", &["name"], false).await?;
        index(m, "customers", "ix_customers_rfc", &["rfc"], false).await?;
        index(
            m,
            "customers",
            "ix_customers_phone",
            &["whatsapp_phone"],
            false,
        )
        .await?;

        // Carts: one open cart per cashier, lines from any warehouse.
        let mut t = Table::create();
        t.table(a("carts"))
            .col(uuid(a("id")).primary_key())
            .col(uuid_uniq(a("user_id")))
            .col(uuid(a("branch_id")))
            .col(uuid_null(a("customer_id")))
            .col(string_len(a("price_list"), 16));
        created(&mut t).col(timestamp_with_time_zone(a("updated_at")));
        fk(&mut t, "carts", "branch_id", "branches");
        m.create_table(t.to_owned()).await?;

        let mut t = Table::create();
        t.table(a("cart_lines"))
            .col(uuid(a("id")).primary_key())
            .col(uuid(a("cart_id")))
            .col(integer(a("position")))
            .col(uuid(a("item_id")))
            .col(uuid(a("warehouse_id")))
            .col(big_integer(a("qty")))
            .col(integer(a("discount_bp")).default(0));
        created(&mut t);
        t.foreign_key(
            ForeignKey::create()
                .from(a("cart_lines"), a("cart_id"))
                .to(a("carts"), a("id"))
                .on_delete(ForeignKeyAction::Cascade),
        );
        fk(&mut t, "cart_lines", "item_id", "items");
        m.create_table(t.to_owned()).await?;
        index(
            m,
            "cart_lines",
            "ix_cart_lines_cart",
            &["cart_id", "position"],
            false,
        )
        .await?;

        // Sales.
        let mut t = Table::create();
        t.table(a("sales"))
            .col(uuid(a("id")).primary_key())
            .col(string_len_uniq(a("folio"), 32))
            .col(uuid(a("branch_id")))
            .col(uuid_null(a("customer_id")))
            .col(uuid(a("cashier_id")))
            .col(string_len(a("status"), 24))
            .col(string_len(a("price_list"), 16))
            .col(big_integer(a("exchange_rate_micros")));
        totals(&mut t);
        t.col(big_integer(a("paid_cents")))
            .col(big_integer(a("change_cents")))
            .col(big_integer(a("refunded_cents")).default(0))
            .col(uuid_null(a("quote_id")))
            .col(text_null(a("note")))
            .col(timestamp_with_time_zone_null(a("cancelled_at")));
        created(&mut t);
        fk(&mut t, "sales", "branch_id", "branches");
        fk(&mut t, "sales", "customer_id", "customers");
        m.create_table(t.to_owned()).await?;
        index(
            m,
            "sales",
            "ix_sales_customer",
            &["customer_id", "created_at"],
            false,
        )
        .await?;
        index(
            m,
            "sales",
            "ix_sales_branch",
            &["branch_id", "created_at"],
            false,
        )
        .await?;
        index(m, "sales", "ix_sales_created", &["created_at"], false).await?;

        let mut t = Table::create();
        t.table(a("sale_lines"))
            .col(big_pk_auto(a("id")))
            .col(uuid(a("sale_id")))
            .col(uuid(a("warehouse_id")));
        line(&mut t);
        t.col(big_integer(a("returned_qty")).default(0));
        fk(&mut t, "sale_lines", "sale_id", "sales");
        m.create_table(t.to_owned()).await?;
        index(
            m,
            "sale_lines",
            "ux_sale_lines_no",
            &["sale_id", "line_no"],
            true,
        )
        .await?;

        let mut t = Table::create();
        t.table(a("payments"))
            .col(big_pk_auto(a("id")))
            .col(uuid(a("sale_id")))
            .col(string_len(a("method"), 16))
            .col(string_len(a("currency"), 3))
            .col(big_integer(a("amount_minor")))
            .col(big_integer(a("amount_mxn_cents")))
            .col(big_integer(a("exchange_rate_micros")))
            .col(string_len_null(a("reference"), 100));
        created(&mut t);
        fk(&mut t, "payments", "sale_id", "sales");
        m.create_table(t.to_owned()).await?;
        index(m, "payments", "ix_payments_sale", &["sale_id"], false).await?;

        let mut t = Table::create();
        t.table(a("sale_returns"))
            .col(uuid(a("id")).primary_key())
            .col(uuid(a("sale_id")))
            .col(string_len(a("kind"), 16))
            .col(text(a("reason")))
            .col(big_integer(a("refund_cents")))
            .col(big_integer(a("savings_cents")))
            .col(uuid_null(a("created_by")));
        created(&mut t);
        fk(&mut t, "sale_returns", "sale_id", "sales");
        m.create_table(t.to_owned()).await?;
        index(
            m,
            "sale_returns",
            "ix_sale_returns_sale",
            &["sale_id"],
            false,
        )
        .await?;

        let mut t = Table::create();
        t.table(a("sale_return_lines"))
            .col(big_pk_auto(a("id")))
            .col(uuid(a("return_id")))
            .col(big_integer(a("sale_line_id")))
            .col(big_integer(a("qty")))
            .col(big_integer(a("refund_cents")));
        fk(&mut t, "sale_return_lines", "return_id", "sale_returns");
        m.create_table(t.to_owned()).await?;

        // Idempotency keys of POSTs that create documents.
        let mut t = Table::create();
        t.table(a("idempotency_keys"))
            .col(string_len(a("scope"), 64))
            .col(string_len(a("key"), 255))
            .col(string_len(a("request_hash"), 64))
            .col(string_len(a("status"), 16))
            .col(integer_null(a("response_status")))
            .col(json_null(a("response_body")))
            .col(timestamp_with_time_zone_null(a("finished_at")))
            .primary_key(Index::create().col(a("scope")).col(a("key")));
        created(&mut t);
        m.create_table(t.to_owned()).await?;
        index(
            m,
            "idempotency_keys",
            "ix_idempotency_keys_created",
            &["created_at"],
            false,
        )
        .await?;

        // Quotes (cotizaciones).
        let mut t = Table::create();
        t.table(a("quotes"))
            .col(uuid(a("id")).primary_key())
            .col(string_len_uniq(a("folio"), 32))
            .col(string_len_uniq(a("token"), 64))
            .col(uuid(a("branch_id")))
            .col(uuid_null(a("customer_id")))
            .col(uuid_null(a("created_by")))
            .col(string_len(a("status"), 16))
            .col(string_len(a("price_list"), 16))
            .col(big_integer(a("exchange_rate_micros")))
            .col(timestamp_with_time_zone(a("valid_until")));
        totals(&mut t);
        t.col(text_null(a("note")))
            .col(uuid_null(a("sale_id")))
            .col(timestamp_with_time_zone_null(a("sent_at")));
        created(&mut t).col(timestamp_with_time_zone(a("updated_at")));
        fk(&mut t, "quotes", "branch_id", "branches");
        fk(&mut t, "quotes", "customer_id", "customers");
        m.create_table(t.to_owned()).await?;
        index(m, "quotes", "ix_quotes_created", &["created_at"], false).await?;

        let mut t = Table::create();
        t.table(a("quote_lines"))
            .col(big_pk_auto(a("id")))
            .col(uuid(a("quote_id")))
            .col(uuid(a("warehouse_id")));
        line(&mut t);
        fk(&mut t, "quote_lines", "quote_id", "quotes");
        m.create_table(t.to_owned()).await?;
        index(
            m,
            "quote_lines",
            "ux_quote_lines_no",
            &["quote_id", "line_no"],
            true,
        )
        .await?;

        // Outgoing messages; a channel that is not configured parks them with the reason.
        let mut t = Table::create();
        t.table(a("notifications"))
            .col(uuid(a("id")).primary_key())
            .col(string_len(a("channel"), 16))
            .col(string_len(a("recipient"), 254))
            .col(string_len(a("template"), 64))
            .col(string_len(a("ref_type"), 32))
            .col(string_len(a("ref_id"), 80))
            .col(json(a("payload")))
            .col(string_len(a("status"), 16))
            .col(text_null(a("reason")))
            .col(integer(a("attempts")).default(0));
        created(&mut t).col(timestamp_with_time_zone(a("updated_at")));
        m.create_table(t.to_owned()).await?;
        index(
            m,
            "notifications",
            "ix_notifications_ref",
            &["ref_type", "ref_id"],
            false,
        )
        .await?;

        // Low-stock alerts raised from the outbox's `low_stock` jobs.
        let mut t = Table::create();
        t.table(a("stock_alerts"))
            .col(big_pk_auto(a("id")))
            .col(uuid(a("item_id")))
            .col(uuid(a("warehouse_id")))
            .col(big_integer(a("qty")))
            .col(big_integer(a("min_qty")))
            .col(string_len(a("status"), 16))
            .col(string_len(a("source"), 80))
            .col(timestamp_with_time_zone_null(a("resolved_at")));
        created(&mut t);
        m.create_table(t.to_owned()).await?;
        index(
            m,
            "stock_alerts",
            "ux_stock_alerts_source",
            &["source", "item_id", "warehouse_id"],
            true,
        )
        .await?;
        index(
            m,
            "stock_alerts",
            "ix_stock_alerts_status",
            &["status", "id"],
            false,
        )
        .await?;

        // Per-tenant folio counters (sales per branch, transfers, quotes).
        let mut t = Table::create();
        t.table(a("folio_counters"))
            .col(string_len(a("series"), 48).primary_key())
            .col(big_integer(a("last")));
        m.create_table(t.to_owned()).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "folio_counters",
            "stock_alerts",
            "notifications",
            "quote_lines",
            "quotes",
            "idempotency_keys",
            "sale_return_lines",
            "sale_returns",
            "payments",
            "sale_lines",
            "sales",
            "cart_lines",
            "carts",
            "customers",
            "exchange_rates",
            "price_syncs",
            "item_prices",
            "transfer_lines",
            "transfers",
            "stock_ledger",
            "stock",
            "items",
        ] {
            m.drop_table(Table::drop().table(a(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
