//! The kanban: a projection of the orders' one status column into columns, with the owner's
//! labels over the fixed states, counts, and the cards of each column.

use std::collections::BTreeMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::counter::sales::Seller;
use crate::workshop::orders::{Status, is_late};
use crate::workshop::tables::{service_order, setting};
use crate::{Error, Result, Role};

/// The columns of the board, in order: every state an order is worked or waits in.
pub const COLUMNS: [Status; 8] = [
    Status::Received,
    Status::Diagnosing,
    Status::AwaitingApproval,
    Status::WaitingParts,
    Status::InRepair,
    Status::QualityCheck,
    Status::Ready,
    Status::Declined,
];

/// Most cards a column shows; the count is always whole.
pub const MAX_CARDS: u64 = 100;

const KEY: &str = "workshop";

/// The owner's workshop settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The label of each column (the state's name when not set).
    pub column_labels: BTreeMap<String, String>,
    /// Days a core's deposit is refunded in money; after them, as store credit.
    pub core_window_days: i32,
}

/// The spanish labels a tenant starts with.
#[must_use]
pub fn default_label(s: Status) -> &'static str {
    match s {
        Status::Received => "Recibido",
        Status::Diagnosing => "Diagnóstico",
        Status::AwaitingApproval => "Esperando aprobación",
        Status::WaitingParts => "Esperando refacciones",
        Status::InRepair => "En reparación",
        Status::QualityCheck => "Control de calidad",
        Status::Ready => "Listo",
        Status::Delivered => "Entregado",
        Status::Declined => "Presupuesto rechazado",
        Status::Cancelled => "Cancelado",
    }
}

/// The settings, with defaults when never set.
///
/// # Errors
/// Database errors.
pub async fn settings(db: &impl ConnectionTrait) -> Result<Settings> {
    let row = setting::Entity::find_by_id(KEY).one(db).await?;
    let mut labels: BTreeMap<String, String> = row
        .as_ref()
        .and_then(|r| serde_json::from_str(&r.column_labels).ok())
        .unwrap_or_default();
    for s in COLUMNS
        .iter()
        .chain(&[Status::Delivered, Status::Cancelled])
    {
        labels
            .entry(s.to_string())
            .or_insert_with(|| default_label(*s).to_owned());
    }
    Ok(Settings {
        column_labels: labels,
        core_window_days: row.map_or(30, |r| r.core_window_days),
    })
}

/// Sets labels (only of known states, 1–40 characters) and the core window (1–365 days).
///
/// # Errors
/// [`Error::Validation`] naming the field.
pub async fn set_settings(
    db: &impl ConnectionTrait,
    labels: Option<BTreeMap<String, String>>,
    core_window_days: Option<i32>,
) -> Result<Settings> {
    let current = settings(db).await?;
    let mut all = current.column_labels;
    for (k, v) in labels.unwrap_or_default() {
        if k.parse::<Status>().is_err() {
            return Err(Error::validation(
                format!("column_labels.{k}"),
                "not a service order state",
            ));
        }
        let v = v.trim().to_owned();
        if v.is_empty() || v.chars().count() > 40 {
            return Err(Error::validation(
                format!("column_labels.{k}"),
                "a label is 1 to 40 characters",
            ));
        }
        all.insert(k, v);
    }
    let days = core_window_days.unwrap_or(current.core_window_days);
    if !(1..=365).contains(&days) {
        return Err(Error::validation(
            "core_window_days",
            "the core window is 1 to 365 days",
        ));
    }
    let am = setting::ActiveModel {
        key: Set(KEY.to_owned()),
        column_labels: Set(serde_json::json!(all).to_string()),
        core_window_days: Set(days),
        updated_at: Set(crate::now()),
    };
    if setting::Entity::find_by_id(KEY).one(db).await?.is_some() {
        am.update(db).await?;
    } else {
        am.insert(db).await?;
    }
    settings(db).await
}

/// One column of the board.
#[derive(Debug, Clone)]
pub struct Column {
    /// The state.
    pub status: Status,
    /// The owner's label.
    pub label: String,
    /// Orders in it (all, not only the cards).
    pub count: u64,
    /// Up to [`MAX_CARDS`] orders, promised soonest first.
    pub cards: Vec<service_order::Model>,
}

/// The board of a branch (or every branch in reach): a mechanic sees only their orders.
///
/// # Errors
/// Database errors.
pub async fn kanban(
    db: &impl ConnectionTrait,
    seller: &Seller,
    branch_id: Option<Uuid>,
) -> Result<(Vec<Column>, chrono::DateTime<chrono::Utc>)> {
    let labels = settings(db).await?.column_labels;
    let mut q = service_order::Entity::find()
        .filter(service_order::Column::Status.is_in(COLUMNS))
        .order_by_asc(service_order::Column::PromisedAt)
        .order_by_asc(service_order::Column::CreatedAt);
    if let Some(b) = branch_id {
        if !seller.can_see(b) {
            return Err(Error::NotFound { entity: "branch" });
        }
        q = q.filter(service_order::Column::BranchId.eq(b));
    }
    if let Some(ids) = &seller.branch_scope {
        q = q.filter(service_order::Column::BranchId.is_in(ids.iter().copied()));
    }
    if seller.role == Role::Mechanic {
        q = q.filter(service_order::Column::AssignedTo.eq(seller.user_id));
    }
    // Open orders of one workshop are a few hundred at most; one read, grouped here.
    let rows = q.limit(5_000).all(db).await?;
    let mut columns: Vec<Column> = COLUMNS
        .iter()
        .map(|s| Column {
            status: *s,
            label: labels
                .get(&s.to_string())
                .cloned()
                .unwrap_or_else(|| default_label(*s).to_owned()),
            count: 0,
            cards: Vec::new(),
        })
        .collect();
    for o in rows {
        if let Some(c) = columns.iter_mut().find(|c| c.status == o.status) {
            c.count += 1;
            if c.cards.len() < usize::try_from(MAX_CARDS).unwrap_or(100) {
                c.cards.push(o);
            }
        }
    }
    let now = crate::now();
    // Late cards first within a column: they are what the counter must call about.
    for c in &mut columns {
        c.cards.sort_by_key(|o| !is_late(o, now));
    }
    Ok((columns, now))
}
