//! Refresh-token sessions: rotation on every use, and reuse detection that ends the family.

use base64::Engine;
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{Error, Result};
use crate::{org::tables::refresh_token, org::tables::refresh_token_family};

/// Why a refresh was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No such token.
    Unknown,
    /// The token is past its expiry.
    Expired,
    /// The family was revoked (logout, password change, disabled user, earlier reuse).
    Revoked,
    /// The token had been exchanged already: the family is now revoked.
    Reused,
}

/// The tenant id of an operator session: operators act on the platform, in no tenant, and the
/// nil id can never be a tenant's (tenant ids are v7).
pub const OPERATOR_SESSION: Uuid = Uuid::nil();

/// A freshly issued refresh token; `token` is shown to the client once.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The opaque token.
    pub token: String,
    /// Its family.
    pub family_id: Uuid,
    /// When it stops working.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// The outcome of an accepted refresh.
#[derive(Debug, Clone)]
pub struct Rotated {
    /// The session's user.
    pub user_id: Uuid,
    /// The session's tenant.
    pub tenant_id: Uuid,
    /// The next token of the family.
    pub next: Issued,
}

/// Hex SHA-256 of a token, as stored.
#[must_use]
pub fn hash_token(token: &str) -> String {
    let d = Sha256::digest(token.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// 256 random bits as URL-safe text after `prefix` (`nxr_` refresh tokens, `nxs_` set-up links,
/// `nxo_` manager overrides): only its hash is stored.
pub(crate) fn new_token(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

async fn insert_token(
    db: &impl ConnectionTrait,
    family_id: Uuid,
    ttl: chrono::Duration,
) -> Result<Issued> {
    let token = new_token("nxr_");
    let now = crate::now();
    let expires_at = now + ttl;
    refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        family_id: Set(family_id),
        token_hash: Set(hash_token(&token)),
        issued_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(Issued {
        token,
        family_id,
        expires_at,
    })
}

/// Starts a session after a login: a new family and its first token.
///
/// # Errors
/// Database errors.
pub async fn start(
    db: &DatabaseConnection,
    user_id: Uuid,
    tenant_id: Uuid,
    ttl: chrono::Duration,
) -> Result<Issued> {
    let txn = crate::db::begin_write(db).await?;
    let family_id = Uuid::now_v7();
    refresh_token_family::ActiveModel {
        id: Set(family_id),
        user_id: Set(user_id),
        tenant_id: Set(tenant_id),
        created_at: Set(crate::now()),
        revoked_at: Set(None),
        revoked_reason: Set(None),
    }
    .insert(&txn)
    .await?;
    let issued = insert_token(&txn, family_id, ttl).await?;
    txn.commit().await?;
    Ok(issued)
}

/// Exchanges a refresh token for the next one of its family. A token presented a second time
/// revokes the whole family, so a stolen token is worth at most one use to whoever is first.
///
/// # Errors
/// `Ok(Err(Refused))` for a refused token; `Err` for database errors.
pub async fn rotate(
    db: &DatabaseConnection,
    token: &str,
    ttl: chrono::Duration,
) -> Result<std::result::Result<Rotated, Refused>> {
    let txn = crate::db::begin_write(db).await?;
    let Some(row) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash_token(token)))
        .one(&txn)
        .await?
    else {
        return Ok(Err(Refused::Unknown));
    };
    let family = refresh_token_family::Entity::find_by_id(row.family_id)
        .one(&txn)
        .await?
        .ok_or_else(|| Error::Internal("refresh token without family".into()))?;
    if family.revoked_at.is_some() {
        return Ok(Err(Refused::Revoked));
    }
    let now = crate::now();
    if row.used_at.is_some() {
        revoke_family(&txn, family.id, "reuse_detected").await?;
        txn.commit().await?;
        return Ok(Err(Refused::Reused));
    }
    if row.expires_at <= now {
        return Ok(Err(Refused::Expired));
    }
    // Conditional: of two concurrent exchanges of one token only one may win.
    let claimed = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::Id.eq(row.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected == 0 {
        revoke_family(&txn, family.id, "reuse_detected").await?;
        txn.commit().await?;
        return Ok(Err(Refused::Reused));
    }
    let next = insert_token(&txn, family.id, ttl).await?;
    txn.commit().await?;
    Ok(Ok(Rotated {
        user_id: family.user_id,
        tenant_id: family.tenant_id,
        next,
    }))
}

/// Ends a session by its current token (logout). Unknown tokens are ignored: logging out twice
/// is not an error.
///
/// # Errors
/// Database errors.
pub async fn end(db: &impl ConnectionTrait, token: &str) -> Result<Option<Uuid>> {
    let Some(row) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash_token(token)))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    revoke_family(db, row.family_id, "logout").await?;
    Ok(Some(row.family_id))
}

/// Revokes one family; a family already revoked keeps its first reason.
///
/// # Errors
/// Database errors.
pub async fn revoke_family(db: &impl ConnectionTrait, family_id: Uuid, reason: &str) -> Result<()> {
    refresh_token_family::Entity::update_many()
        .col_expr(
            refresh_token_family::Column::RevokedAt,
            Expr::value(crate::now()),
        )
        .col_expr(
            refresh_token_family::Column::RevokedReason,
            Expr::value(reason),
        )
        .filter(refresh_token_family::Column::Id.eq(family_id))
        .filter(refresh_token_family::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Revokes every live family of a user.
///
/// # Errors
/// Database errors.
pub async fn revoke_all_for_user(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    reason: &str,
) -> Result<()> {
    refresh_token_family::Entity::update_many()
        .col_expr(
            refresh_token_family::Column::RevokedAt,
            Expr::value(crate::now()),
        )
        .col_expr(
            refresh_token_family::Column::RevokedReason,
            Expr::value(reason),
        )
        .filter(refresh_token_family::Column::UserId.eq(user_id))
        .filter(refresh_token_family::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// The revocation reason of a family, if revoked.
///
/// # Errors
/// Database errors.
pub async fn family_revocation(
    db: &impl ConnectionTrait,
    family_id: Uuid,
) -> Result<Option<String>> {
    Ok(refresh_token_family::Entity::find_by_id(family_id)
        .one(db)
        .await?
        .and_then(|f| f.revoked_at.map(|_| f.revoked_reason.unwrap_or_default())))
}
