//! A manual activity on a customer: a call, a visit, a note, or a task with a due date and an
//! owner.

use sea_orm::entity::prelude::*;

crate::text_enum! {
    /// What kind of activity.
    pub enum Kind {
        /// A phone call.
        Call = "call",
        /// A visit (theirs or ours).
        Visit = "visit",
        /// A note.
        Note = "note",
        /// Something to do by a date, by someone.
        Task = "task",
    }
}

/// A row of `customer_activities`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_activities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub customer_id: Uuid,
    pub kind: Kind,
    pub subject: String,
    pub body: Option<String>,
    /// Tasks only.
    pub due_on: Option<Date>,
    /// Tasks only: who does it.
    pub owner_id: Option<Uuid>,
    /// Tasks only: when it was marked done.
    pub done_at: Option<DateTimeUtc>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations of `customer_activities` (joins are written in queries).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
