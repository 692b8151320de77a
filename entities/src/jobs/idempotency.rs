//! `Idempotency-Key` on POSTs that create documents (Stripe's design, reliability.md §3).
//!
//! The key is claimed in its own short transaction ([`claim`]) before the work starts, so a
//! concurrent duplicate finds it `in_progress` and gets 409 at once instead of waiting. The work's
//! own transaction stores the answer with [`finish`], so a committed document always has its
//! answer and a rolled-back one has none. A failed request releases the key ([`release`]): a
//! request that changed nothing may be retried with the same key. A claim left by a crashed
//! process is taken over after [`STALE_AFTER`].

use chrono::Duration;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};

use crate::jobs::tables::idempotency_key::{self, Column, Entity};
use crate::{Error, Result};

/// A claim older than this, still `in_progress`, belongs to a process that died.
pub const STALE_AFTER: Duration = Duration::seconds(60);
/// Longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is ours: do the work.
    Fresh,
    /// The same request was answered before: send this again.
    Replay {
        /// The first answer's status.
        status: u16,
        /// The first answer's body.
        body: serde_json::Value,
    },
}

/// The hash of a request body: SHA-256 of its canonical JSON (object keys sorted), so spacing
/// and key order do not make the same request look different.
#[must_use]
pub fn request_hash(body: &serde_json::Value) -> String {
    let canonical = body.to_string();
    let digest = Sha256::digest(canonical.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks a client's key.
///
/// # Errors
/// [`Error::Validation`] on `Idempotency-Key`.
pub fn check_key(key: &str) -> Result<&str> {
    let k = key.trim();
    if k.is_empty() || k.len() > MAX_KEY_LEN || !k.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::validation(
            "Idempotency-Key",
            "the key is 1 to 255 visible ASCII characters (a UUID is best)",
        ));
    }
    Ok(k)
}

/// Claims `key` for a request with body hash `hash`, in its own statement (autocommit).
///
/// # Errors
/// [`Error::Conflict`] `idempotency_key_in_use` while another request with the key runs;
/// [`Error::Validation`] (422) `Idempotency-Key` when the key was used for another body.
pub async fn claim(db: &impl ConnectionTrait, scope: &str, key: &str, hash: &str) -> Result<Claim> {
    let now = crate::now();
    let row = idempotency_key::ActiveModel {
        scope: Set(scope.to_owned()),
        key: Set(key.to_owned()),
        request_hash: Set(hash.to_owned()),
        status: Set("in_progress".to_owned()),
        response_status: Set(None),
        response_body: Set(None),
        finished_at: Set(None),
        created_at: Set(now),
    };
    let inserted = Entity::insert(row)
        .on_conflict(
            OnConflict::columns([Column::Scope, Column::Key])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    if inserted == 1 {
        return Ok(Claim::Fresh);
    }
    let Some(found) = Entity::find_by_id((scope.to_owned(), key.to_owned()))
        .one(db)
        .await?
    else {
        // Released between our insert and this read: the caller may simply retry.
        return Err(in_use());
    };
    if found.request_hash != hash {
        return Err(Error::validation(
            "Idempotency-Key",
            "this key was used for a different request; use a new key for a new request",
        ));
    }
    if found.status == "done" {
        return Ok(Claim::Replay {
            status: found
                .response_status
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(200),
            body: found.response_body.unwrap_or(serde_json::Value::Null),
        });
    }
    // In progress: ours only if its owner died long ago (compare-and-set on created_at).
    if found.created_at < now - STALE_AFTER {
        let taken = Entity::update_many()
            .col_expr(Column::CreatedAt, Expr::value(now))
            .filter(Column::Scope.eq(scope))
            .filter(Column::Key.eq(key))
            .filter(Column::Status.eq("in_progress"))
            .filter(Column::CreatedAt.eq(found.created_at))
            .exec(db)
            .await?;
        if taken.rows_affected == 1 {
            return Ok(Claim::Fresh);
        }
    }
    Err(in_use())
}

fn in_use() -> Error {
    Error::conflict(
        "idempotency_key_in_use",
        "a request with this Idempotency-Key is still being processed; retry in a moment",
    )
}

/// Stores the answer of a claimed key, in the work's transaction.
///
/// # Errors
/// Database errors.
pub async fn finish(
    db: &impl ConnectionTrait,
    scope: &str,
    key: &str,
    status: u16,
    body: &serde_json::Value,
) -> Result<()> {
    let am = idempotency_key::ActiveModel {
        scope: sea_orm::Unchanged(scope.to_owned()),
        key: sea_orm::Unchanged(key.to_owned()),
        status: Set("done".to_owned()),
        response_status: Set(Some(i32::from(status))),
        response_body: Set(Some(body.clone())),
        finished_at: Set(Some(crate::now())),
        ..Default::default()
    };
    am.update(db).await?;
    Ok(())
}

/// Releases a claim whose request failed without changing anything.
///
/// # Errors
/// Database errors.
pub async fn release(db: &impl ConnectionTrait, scope: &str, key: &str) -> Result<()> {
    Entity::delete_many()
        .filter(Column::Scope.eq(scope))
        .filter(Column::Key.eq(key))
        .filter(Column::Status.eq("in_progress"))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes answered keys older than `before` (kept 72 h by the nightly clean-up).
///
/// # Errors
/// Database errors.
pub async fn prune(
    db: &impl ConnectionTrait,
    before: chrono::DateTime<chrono::Utc>,
) -> Result<u64> {
    let r = Entity::delete_many()
        .filter(Column::Status.eq("done"))
        .filter(Column::CreatedAt.lt(before))
        .exec(db)
        .await?;
    Ok(r.rows_affected)
}
