//! Manual activities on a customer (calls, visits, notes) and tasks with a due date and an owner;
//! each user's tasks due today (and overdue).

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::customers::records::get_customer;
use crate::customers::tables::activity::{self, Kind};
use crate::org::audit::Entry;
use crate::org::branches::Actor;
use crate::{Error, Page, PageRequest, Result};

/// An activity to record.
#[derive(Debug, Clone)]
pub struct NewActivity {
    /// Call, visit, note or task.
    pub kind: Kind,
    /// One line.
    pub subject: String,
    /// The detail.
    pub body: Option<String>,
    /// Tasks: the day it is due (required).
    pub due_on: Option<NaiveDate>,
    /// Tasks: who does it (the author when none).
    pub owner_id: Option<Uuid>,
}

fn check_text(subject: &str, body: Option<String>) -> Result<(String, Option<String>)> {
    let subject = subject.trim().to_owned();
    if subject.is_empty() || subject.chars().count() > 200 {
        return Err(Error::validation(
            "subject",
            "a subject is 1 to 200 characters",
        ));
    }
    let body = body.map(|b| b.trim().to_owned()).filter(|b| !b.is_empty());
    if body.as_ref().is_some_and(|b| b.chars().count() > 5000) {
        return Err(Error::validation(
            "body",
            "a body is at most 5000 characters",
        ));
    }
    Ok((subject, body))
}

fn audit(actor: &Actor, action: &str, a: &activity::Model) -> Entry {
    Entry::new(action)
        .actor(actor.user_id)
        .target("customer_activity", a.id)
        .request(None, actor.request_id.clone())
        .details(
            json!({"customer_id": a.customer_id, "kind": a.kind.as_str(), "subject": a.subject}),
        )
}

/// Records an activity on a customer, audited. A task needs a due date; its owner is the author
/// when none is named; other kinds take neither.
///
/// # Errors
/// [`Error::NotFound`] `customer`; [`Error::Validation`] naming the field.
pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    customer_id: Uuid,
    new: NewActivity,
) -> Result<activity::Model> {
    get_customer(db, customer_id).await?;
    let (subject, body) = check_text(&new.subject, new.body)?;
    let (due_on, owner_id) = if new.kind == Kind::Task {
        let due = new
            .due_on
            .ok_or_else(|| Error::validation("due_on", "a task needs a due date"))?;
        (Some(due), new.owner_id.or(actor.user_id))
    } else {
        if new.due_on.is_some() || new.owner_id.is_some() {
            return Err(Error::validation(
                if new.due_on.is_some() {
                    "due_on"
                } else {
                    "owner_id"
                },
                "only a task has a due date and an owner",
            ));
        }
        (None, None)
    };
    let now = crate::now();
    let a = activity::ActiveModel {
        id: Set(Uuid::now_v7()),
        customer_id: Set(customer_id),
        kind: Set(new.kind),
        subject: Set(subject),
        body: Set(body),
        due_on: Set(due_on),
        owner_id: Set(owner_id),
        done_at: Set(None),
        created_by: Set(actor.user_id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    audit(actor, "customer.activity_created", &a)
        .record_tenant(db)
        .await?;
    Ok(a)
}

/// One activity of a customer.
///
/// # Errors
/// [`Error::NotFound`] `activity`.
pub async fn get(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
    id: Uuid,
) -> Result<activity::Model> {
    activity::Entity::find_by_id(id)
        .filter(activity::Column::CustomerId.eq(customer_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "activity" })
}

/// A customer's activities, newest first.
///
/// # Errors
/// [`Error::NotFound`] `customer`.
pub async fn of_customer(
    db: &impl ConnectionTrait,
    customer_id: Uuid,
    page: PageRequest,
) -> Result<Page<activity::Model>> {
    get_customer(db, customer_id).await?;
    let q = activity::Entity::find()
        .filter(activity::Column::CustomerId.eq(customer_id))
        .order_by_desc(activity::Column::CreatedAt)
        .order_by_desc(activity::Column::Id);
    page.fetch(db, q).await
}

/// Marks a task done (or open again), audited.
///
/// # Errors
/// [`Error::NotFound`] `activity`; [`Error::Conflict`] `not_a_task`.
pub async fn set_done(
    db: &impl ConnectionTrait,
    actor: &Actor,
    customer_id: Uuid,
    id: Uuid,
    done: bool,
) -> Result<activity::Model> {
    let a = get(db, customer_id, id).await?;
    if a.kind != Kind::Task {
        return Err(Error::conflict("not_a_task", "only a task is marked done"));
    }
    if a.done_at.is_some() == done {
        return Ok(a);
    }
    let mut am: activity::ActiveModel = a.into();
    let now = crate::now();
    am.done_at = Set(done.then_some(now));
    am.updated_at = Set(now);
    let a = am.update(db).await?;
    audit(
        actor,
        if done {
            "customer.task_done"
        } else {
            "customer.task_reopened"
        },
        &a,
    )
    .record_tenant(db)
    .await?;
    Ok(a)
}

/// Filters of the task list.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// Whose tasks.
    pub owner_id: Option<Uuid>,
    /// Due on or before this day (today for "due today", overdue included).
    pub due_by: Option<NaiveDate>,
    /// Open only (not done).
    pub open: bool,
}

/// Tasks, by due date then creation.
///
/// # Errors
/// Database errors.
pub async fn tasks(
    db: &impl ConnectionTrait,
    f: &TaskFilter,
    page: PageRequest,
) -> Result<Page<activity::Model>> {
    let mut cond = Condition::all().add(activity::Column::Kind.eq(Kind::Task));
    if let Some(o) = f.owner_id {
        cond = cond.add(activity::Column::OwnerId.eq(o));
    }
    if let Some(d) = f.due_by {
        cond = cond.add(activity::Column::DueOn.lte(d));
    }
    if f.open {
        cond = cond.add(activity::Column::DoneAt.is_null());
    }
    let q = activity::Entity::find()
        .filter(cond)
        .order_by_asc(activity::Column::DueOn)
        .order_by_asc(activity::Column::Id);
    page.fetch(db, q).await
}
