//! A user's in-app notifications: unread first, marked read one by one or all at once, and the
//! newest since a point (the live stream's poll).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::notifications::tables::notification::{self, Status};
use crate::{Error, Page, PageRequest, Result};

fn mine(user: Uuid) -> sea_orm::Select<notification::Entity> {
    notification::Entity::find()
        .filter(notification::Column::Channel.eq("in_app"))
        .filter(notification::Column::UserId.eq(user))
}

/// The user's in-app notifications: unread first, newest first within each; `unread_only`
/// leaves the read ones out.
///
/// # Errors
/// Database errors.
pub async fn list(
    db: &impl ConnectionTrait,
    user: Uuid,
    unread_only: bool,
    page: PageRequest,
) -> Result<Page<notification::Model>> {
    let mut q = mine(user);
    if unread_only {
        q = q.filter(notification::Column::ReadAt.is_null());
    }
    // `read_at IS NOT NULL` sorts false (unread) first on both backends.
    let q = q
        .order_by_asc(Expr::col(notification::Column::ReadAt).is_not_null())
        .order_by_desc(notification::Column::CreatedAt)
        .order_by_desc(notification::Column::Id);
    page.fetch(db, q).await
}

/// How many of the user's in-app notifications are unread.
///
/// # Errors
/// Database errors.
pub async fn unread(db: &impl ConnectionTrait, user: Uuid) -> Result<u64> {
    Ok(mine(user)
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await?)
}

/// Marks one of the user's notifications read (again: nothing changes).
///
/// # Errors
/// [`Error::NotFound`] `notification`, also for another user's.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    user: Uuid,
    id: Uuid,
) -> Result<notification::Model> {
    let n = mine(user)
        .filter(notification::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(Error::NotFound {
            entity: "notification",
        })?;
    if n.read_at.is_some() {
        return Ok(n);
    }
    let now = crate::now();
    notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(now))
        .col_expr(
            notification::Column::Status,
            Expr::value(Status::Read.as_str()),
        )
        .col_expr(notification::Column::UpdatedAt, Expr::value(now))
        .filter(notification::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(notification::Model {
        read_at: Some(now),
        status: Status::Read,
        updated_at: now,
        ..n
    })
}

/// Marks every unread notification of the user read; answers how many.
///
/// # Errors
/// Database errors.
pub async fn mark_all_read(db: &impl ConnectionTrait, user: Uuid) -> Result<u64> {
    let now = crate::now();
    let r = notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(now))
        .col_expr(
            notification::Column::Status,
            Expr::value(Status::Read.as_str()),
        )
        .col_expr(notification::Column::UpdatedAt, Expr::value(now))
        .filter(notification::Column::Channel.eq("in_app"))
        .filter(notification::Column::UserId.eq(user))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected)
}

/// The user's in-app notifications written after `(after, after_id)`, oldest first, at most
/// `limit`: what the live stream has not shown yet.
///
/// # Errors
/// Database errors.
pub async fn since(
    db: &impl ConnectionTrait,
    user: Uuid,
    after: DateTime<Utc>,
    after_id: Uuid,
    limit: u64,
) -> Result<Vec<notification::Model>> {
    Ok(mine(user)
        .filter(
            notification::Column::CreatedAt
                .gt(after)
                .or(notification::Column::CreatedAt
                    .eq(after)
                    .and(notification::Column::Id.gt(after_id))),
        )
        .order_by_asc(notification::Column::CreatedAt)
        .order_by_asc(notification::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}
