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
pub struct Idem {
    scope: String,
    key: Option<String>,
}

/// What [`Idem::claim`] found.
#[derive(Debug)]
pub enum Claimed {
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
