//! Warranties: the owner's policies per item or brand, the warranty of each sold or installed
//! line (a snapshot of its policy), customers' claims with their history, claims to suppliers,
//! the warranty settings, and the kind of a warehouse (`stock`, `quarantine`, `cores`) so that
//! failed units are kept apart and never sold.

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

const TABLES: [&str; 6] = [
    "warranty_policies",
    "warranties",
    "warranty_claims",
    "warranty_claim_events",
    "supplier_claims",
    "warranty_settings",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    #[allow(clippy::too_many_lines)]
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // `stock` (sold from), `quarantine` (failed units under warranty) or `cores` (returned
        // cores): only `stock` warehouses sell.
        m.alter_table(
            Table::alter()
                .table(a("warehouses"))
                .add_column(string_len(a("kind"), 16).default("stock"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("warranty_policies"))
                .col(uuid(a("id")).primary_key())
                // One of item or brand: an item's own policy wins over its brand's.
                .col(uuid_null(a("item_id")))
                .col(string_len_null(a("brand"), 120))
                // The brand folded to lower case: what items' brands are matched on.
                .col(string_len_null(a("brand_key"), 120))
                .col(integer(a("months")))
                // Whichever comes first with the months; none for no distance limit.
                .col(big_integer_null(a("km")))
                // `parts` or `parts_labor`.
                .col(string_len(a("coverage"), 16))
                // `sale` or `installation`.
                .col(string_len(a("starts_on"), 16))
                // What the supplier covers, for recovering the cost.
                .col(integer_null(a("supplier_months")))
                .col(big_integer_null(a("supplier_km")))
                // Printed on the receipt (LFPC art. 62).
                .col(text_null(a("terms")))
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_warranty_policies_item",
            "warranty_policies",
            &["item_id"],
            true,
        )
        .await?;
        index(
            m,
            "ux_warranty_policies_brand",
            "warranty_policies",
            &["brand_key"],
            true,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("warranties"))
                .col(uuid(a("id")).primary_key())
                .col(uuid(a("sale_id")))
                .col(integer(a("sale_line_no")))
                .col(uuid(a("item_id")))
                .col(big_integer(a("qty")))
                // IVA included, MXN centavos.
                .col(big_integer(a("unit_price_cents")))
                .col(uuid_null(a("customer_id")))
                .col(uuid_null(a("vehicle_id")))
                .col(big_integer_null(a("odometer_at_install")))
                // The workshop's service order (no foreign key: another area's table).
                .col(uuid_null(a("service_order_id")))
                // The policy copied; later changes of the policy never rewrite the copy.
                .col(uuid_null(a("policy_id")))
                .col(integer(a("months")))
                .col(big_integer_null(a("km")))
                .col(string_len(a("coverage"), 16))
                .col(string_len(a("starts_on"), 16))
                .col(integer_null(a("supplier_months")))
                .col(big_integer_null(a("supplier_km")))
                .col(text_null(a("terms")))
                // The supplier of the item's last receipt, when known.
                .col(uuid_null(a("supplier_id")))
                .col(date(a("starts_at")))
                // The last day covered.
                .col(date(a("expires_on")))
                // Set when the `warranty_expiring` event was recorded: never twice.
                .col(date_null(a("expiring_notified_on")))
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_warranties_sale_line",
            "warranties",
            &["sale_id", "sale_line_no"],
            true,
        )
        .await?;
        index(
            m,
            "ix_warranties_customer",
            "warranties",
            &["customer_id"],
            false,
        )
        .await?;
        index(m, "ix_warranties_item", "warranties", &["item_id"], false).await?;
        index(
            m,
            "ix_warranties_expires",
            "warranties",
            &["expires_on"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("warranty_claims"))
                .col(uuid(a("id")).primary_key())
                // `GA-000042`.
                .col(string_len(a("folio"), 16))
                .col(uuid(a("warranty_id")))
                // Copied from the warranty for the list's filters.
                .col(uuid(a("sale_id")))
                .col(uuid(a("item_id")))
                .col(uuid_null(a("customer_id")))
                .col(big_integer(a("qty")))
                // `open`, `inspecting`, `approved`, `rejected`, `resolved`, `closed`.
                .col(string_len(a("status"), 16))
                .col(text(a("complaint")))
                .col(big_integer_null(a("odometer_km")))
                // Eligibility on the day it was opened, and the limit that failed.
                .col(boolean(a("eligible")))
                .col(string_len_null(a("ineligible_reason"), 24))
                .col(date(a("checked_on")))
                // Why it was rejected, or approved though ineligible.
                .col(text_null(a("decision_reason")))
                .col(uuid_null(a("decided_by")))
                // `replace`, `refund` or `repair`.
                .col(string_len_null(a("resolution"), 16))
                .col(text_null(a("resolution_notes")))
                .col(uuid_null(a("replacement_warehouse_id")))
                .col(uuid_null(a("quarantine_warehouse_id")))
                .col(uuid_null(a("sale_return_id")))
                .col(uuid_null(a("credit_note_id")))
                // What the unit cost the store (MXN centavos): what the supplier should credit.
                .col(big_integer(a("unit_cost_cents")).default(0))
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ux_warranty_claims_folio",
            "warranty_claims",
            &["folio"],
            true,
        )
        .await?;
        index(
            m,
            "ix_warranty_claims_warranty",
            "warranty_claims",
            &["warranty_id"],
            false,
        )
        .await?;
        index(
            m,
            "ix_warranty_claims_status",
            "warranty_claims",
            &["status", "created_at"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("warranty_claim_events"))
                .col(big_integer(a("id")).primary_key().auto_increment())
                // `customer` (a warranty claim) or `supplier` (a supplier claim).
                .col(string_len(a("claim_kind"), 16))
                .col(uuid(a("claim_id")))
                .col(string_len_null(a("from_status"), 16))
                .col(string_len(a("to_status"), 16))
                .col(text_null(a("note")))
                .col(uuid_null(a("actor")))
                .col(timestamp_with_time_zone(a("created_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_warranty_claim_events_claim",
            "warranty_claim_events",
            &["claim_id", "id"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("supplier_claims"))
                .col(uuid(a("id")).primary_key())
                // `RP-000042`.
                .col(string_len(a("folio"), 16))
                // One supplier claim per customer claim.
                .col(uuid(a("warranty_claim_id")).unique_key())
                .col(uuid(a("supplier_id")))
                .col(uuid(a("item_id")))
                .col(big_integer(a("qty")))
                // `draft`, `sent`, `accepted`, `rejected`, `credited`, `replaced`.
                .col(string_len(a("status"), 16))
                .col(big_integer(a("expected_credit_cents")))
                .col(big_integer(a("credited_cents")).default(0))
                .col(text_null(a("note")))
                .col(uuid_null(a("created_by")))
                .col(timestamp_with_time_zone(a("created_at")))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "ix_supplier_claims_supplier",
            "supplier_claims",
            &["supplier_id", "status"],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(a("warranty_settings"))
                // One row, id 1.
                .col(integer(a("id")).primary_key())
                // A `warranty_expiring` event is recorded this many days before the end.
                .col(integer(a("expiring_notice_days")).default(15))
                .col(timestamp_with_time_zone(a("updated_at")))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in TABLES {
            m.drop_table(Table::drop().table(a(t)).to_owned()).await?;
        }
        m.alter_table(
            Table::alter()
                .table(a("warehouses"))
                .drop_column(a("kind"))
                .to_owned(),
        )
        .await
    }
}
