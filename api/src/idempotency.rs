//! The `Idempotency-Key` header on POSTs that create documents: same key and body → the first
//! answer again (with `Idempotent-Replayed: true`), same key and another body → 422, a duplicate
//! while the first still runs → 409. The domain side is `entities::jobs::idempotency`.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use entities::jobs::idempotency::{self, Claim};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::error::{ApiError, ApiResult};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// Set on a replayed answer.
pub const REPLAYED: &str = "idempotent-replayed";

/// A claimed key (or none, when the client sent no header).
#[derive(Debug)]
struct Idem {
    scope: String,
    key: Option<String>,
}

/// What [`Idem::claim`] found.
#[derive(Debug)]
enum Claimed {
    /// Do the work, then [`Idem::finish`] in its transaction (or [`Idem::release`] on failure).
    Fresh(Idem),
    /// The first answer, to send again.
    Replay(Response),
}

impl Idem {
    /// Claims the request's key, if it has one, for `scope` (the operation, at most 64
    /// characters: `sales.create`, `quotes.convert:<id>`) and `body`.
    ///
    /// # Errors
    /// 422 for a malformed key or one used with another body; 409 `idempotency_key_in_use`.
    pub async fn claim(
        db: &DatabaseConnection,
        headers: &HeaderMap,
        scope: &str,
        body: &serde_json::Value,
    ) -> ApiResult<Claimed> {
        let Some(raw) = headers.get(HEADER) else {
            return Ok(Claimed::Fresh(Self {
                scope: scope.to_owned(),
                key: None,
            }));
        };
        let raw = raw
            .to_str()
            .map_err(|_| ApiError::invalid("Idempotency-Key", "the key must be ASCII"))?;
        let key = idempotency::check_key(raw)?.to_owned();
        let hash = idempotency::request_hash(body);
        match idempotency::claim(db, scope, &key, &hash).await? {
            Claim::Fresh => Ok(Claimed::Fresh(Self {
                scope: scope.to_owned(),
                key: Some(key),
            })),
            Claim::Replay { status, body } => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
                let mut resp = (status, Json(body)).into_response();
                resp.headers_mut()
                    .insert(REPLAYED, HeaderValue::from_static("true"));
                Ok(Claimed::Replay(resp))
            }
        }
    }

    /// Stores the answer in the work's transaction.
    ///
    /// # Errors
    /// Database errors.
    pub async fn finish(
        &self,
        txn: &impl ConnectionTrait,
        status: StatusCode,
        body: &serde_json::Value,
    ) -> ApiResult<()> {
        if let Some(key) = &self.key {
            idempotency::finish(txn, &self.scope, key, status.as_u16(), body).await?;
        }
        Ok(())
    }

    /// Frees the key after a failure that changed nothing, so the client may retry with it. A
    /// failure to free it is logged: the claim goes stale and is taken over later.
    pub async fn release(&self, db: &DatabaseConnection) {
        if let Some(key) = &self.key
            && let Err(e) = idempotency::release(db, &self.scope, key).await
        {
            tracing::warn!(scope = %self.scope, "could not release an idempotency key: {e}");
        }
    }
}

/// What an idempotent write answered.
#[derive(Debug)]
pub enum Written<T> {
    /// The key's first answer, to send again.
    Replayed(Response),
    /// Done now: the answer's status and body (stored with the key in the work's transaction)
    /// and what the work returned besides (e.g. the items whose stock changed).
    Done(StatusCode, serde_json::Value, T),
}

impl Written<()> {
    /// The answer to send: the replayed first one, or this one.
    #[must_use]
    pub fn response(self) -> Response {
        match self {
            Written::Replayed(resp) => resp,
            Written::Done(status, body, ()) => (status, Json(body)).into_response(),
        }
    }
}

impl Written<bool> {
    /// The answer to send, for work that tells whether it queued something: when it did (and
    /// only for a fresh answer, not a replay), `queued` runs first (wake the relay).
    #[must_use]
    pub fn response_then(self, queued: impl FnOnce()) -> Response {
        match self {
            Written::Replayed(resp) => resp,
            Written::Done(status, body, fresh) => {
                if fresh {
                    queued();
                }
                (status, Json(body)).into_response()
            }
        }
    }
}

/// Runs `work` once per `Idempotency-Key`: claims the key for `scope` and the raw body, runs the
/// work in one write transaction that also stores its answer, and commits; a retry with the same
/// key and body gets the first answer, another body a 422, a duplicate in flight a 409. A failed
/// work releases the key (nothing was written), so the client may retry it. Without the header
/// the work simply runs. The answer's status is `status`.
///
/// # Errors
/// The claim's refusals, and whatever the work answers.
pub async fn write_once<T, F>(
    db: &DatabaseConnection,
    headers: &HeaderMap,
    scope: &str,
    raw: &serde_json::Value,
    status: StatusCode,
    work: F,
) -> ApiResult<Written<T>>
where
    F: AsyncFnOnce(&sea_orm::DatabaseTransaction) -> ApiResult<(serde_json::Value, T)>,
{
    write_once_with(db, headers, scope, raw, async |txn| {
        let (body, extra) = work(txn).await?;
        Ok((status, body, extra))
    })
    .await
}

/// [`write_once`] for work whose answer's status depends on what it found (201 for a new
/// document, 200 for the standing one); the status is stored and replayed with the body.
///
/// # Errors
/// The claim's refusals, and whatever the work answers.
pub async fn write_once_with<T, F>(
    db: &DatabaseConnection,
    headers: &HeaderMap,
    scope: &str,
    raw: &serde_json::Value,
    work: F,
) -> ApiResult<Written<T>>
where
    F: AsyncFnOnce(&sea_orm::DatabaseTransaction) -> ApiResult<(StatusCode, serde_json::Value, T)>,
{
    let idem = match Idem::claim(db, headers, scope, raw).await? {
        Claimed::Replay(resp) => return Ok(Written::Replayed(resp)),
        Claimed::Fresh(i) => i,
    };
    let result = async {
        let txn = entities::db::begin_write(db).await?;
        let (status, body, extra) = work(&txn).await?;
        idem.finish(&txn, status, &body).await?;
        txn.commit().await?;
        Ok::<_, ApiError>((status, body, extra))
    }
    .await;
    match result {
        Ok((status, body, extra)) => Ok(Written::Done(status, body, extra)),
        Err(e) => {
            idem.release(db).await;
            Err(e)
        }
    }
}
