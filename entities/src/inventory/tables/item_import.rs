//! A bulk import of items from a CSV (with prices and opening stock), carried out by the
//! `inventory.import_items` job.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// The state of an import.
    pub enum Status {
        /// Recorded, its job not started.
        Queued = "queued",
        /// The job is checking its rows (or died doing it and will start over).
        Running = "running",
        /// Every row applied; the counts say what changed.
        Done = "done",
        /// Nothing applied: `errors` lists the bad rows, or `error` says why the whole import
        /// could not be applied.
        Failed = "failed",
    }
}

/// A row of `item_imports`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "item_imports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub status: Status,
    /// Where the opening stock of new items goes.
    pub warehouse_id: Uuid,
    /// The list the `price` column sets.
    pub price_list: String,
    /// The CSV as sent.
    pub csv: String,
    /// Data rows of the CSV (the header not counted).
    pub total_rows: i64,
    /// Rows checked so far.
    pub rows_processed: i64,
    pub created_count: i64,
    pub updated_count: i64,
    /// Rows of existing items whose `stock` was not applied (opening stock is for new items).
    pub stock_skipped: i64,
    /// `[{row, column, message}]`.
    pub errors: Json,
    pub error_count: i64,
    /// Why the import as a whole failed, or why the last try did while it is retried.
    pub error: Option<String>,
    pub requested_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
}

/// Relations of `item_imports` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
