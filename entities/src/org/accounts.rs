//! Users and their memberships in tenants.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

use crate::error::OnUnique;
use crate::{Error, Result, Role, org::password};
use crate::{
    org::sessions, org::tables::membership, org::tables::operator, org::tables::tenant,
    org::tables::user,
};

/// Normalises and checks an e-mail address (trimmed, lower-cased, one `@`, a dotted domain).
///
/// # Errors
/// [`Error::Validation`] on `email`.
pub fn normalize_email(email: &str) -> Result<String> {
    // Counted in characters as typed, as the API document's `maxLength` counts them.
    let short = email.trim().chars().count() <= 254;
    let e = email.trim().to_lowercase();
    let valid = short
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !e.chars().any(char::is_whitespace)
        });
    if valid {
        Ok(e)
    } else {
        Err(Error::validation("email", "not a valid e-mail address"))
    }
}

/// What is needed to create a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login e-mail.
    pub email: String,
    /// Name shown in the POS.
    pub full_name: String,
    /// Clear-text password; hashed before storing.
    pub password: String,
}

/// Creates a user, hashing the password off the runtime.
///
/// # Errors
/// [`Error::Validation`] for a bad e-mail, name or password; [`Error::Conflict`] `email_taken`.
pub async fn create_user(db: &impl ConnectionTrait, new: NewUser) -> Result<user::Model> {
    let email = normalize_email(&new.email)?;
    let full_name = new.full_name.trim().to_owned();
    if full_name.is_empty() || full_name.chars().count() > 200 {
        return Err(Error::validation(
            "full_name",
            "full_name must be 1 to 200 characters",
        ));
    }
    password::check_policy(&new.password)?;
    let password_hash = password::hash(new.password).await?;
    let now = crate::now();
    user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email),
        full_name: Set(full_name),
        password_hash: Set(password_hash),
        disabled_at: Set(None),
        last_login_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .on_unique("email_taken", "a user with this e-mail already exists")
}

/// Finds a user by e-mail (normalised first).
///
/// # Errors
/// Database errors only; an unknown or malformed e-mail gives `None`.
pub async fn find_user_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<user::Model>> {
    let Ok(email) = normalize_email(email) else {
        return Ok(None);
    };
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await?)
}

/// Finds a user by id.
///
/// # Errors
/// [`Error::NotFound`] when there is none.
pub async fn find_user(db: &impl ConnectionTrait, id: Uuid) -> Result<user::Model> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound { entity: "user" })
}

/// Sets a new password and ends every session of the user.
///
/// # Errors
/// [`Error::NotFound`], or the password policy.
pub async fn set_password(
    db: &DatabaseConnection,
    email: &str,
    new_password: String,
) -> Result<user::Model> {
    password::check_policy(&new_password)?;
    let u = find_user_by_email(db, email)
        .await?
        .ok_or(Error::NotFound { entity: "user" })?;
    let hash = password::hash(new_password).await?;
    let txn = crate::db::begin_write(db).await?;
    let mut am: user::ActiveModel = u.into();
    am.password_hash = Set(hash);
    am.updated_at = Set(crate::now());
    let u = am.update(&txn).await?;
    sessions::revoke_all_for_user(&txn, u.id, "password_changed").await?;
    txn.commit().await?;
    Ok(u)
}

/// Disables or re-enables a user; disabling ends every session at once.
///
/// # Errors
/// [`Error::NotFound`].
pub async fn set_disabled(
    db: &DatabaseConnection,
    email: &str,
    disabled: bool,
) -> Result<user::Model> {
    let u = find_user_by_email(db, email)
        .await?
        .ok_or(Error::NotFound { entity: "user" })?;
    let txn = crate::db::begin_write(db).await?;
    let mut am: user::ActiveModel = u.into();
    let now = crate::now();
    am.disabled_at = Set(disabled.then_some(now));
    am.updated_at = Set(now);
    let u = am.update(&txn).await?;
    if disabled {
        sessions::revoke_all_for_user(&txn, u.id, "user_disabled").await?;
    }
    txn.commit().await?;
    Ok(u)
}

/// Records a successful login.
///
/// # Errors
/// Database errors.
pub async fn touch_login(db: &impl ConnectionTrait, user_id: Uuid) -> Result<()> {
    user::Entity::update_many()
        .col_expr(
            user::Column::LastLoginAt,
            sea_orm::sea_query::Expr::value(crate::now()),
        )
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Gives a user a role in a tenant, optionally limited to some branches.
///
/// # Errors
/// [`Error::Conflict`] `already_member`.
pub async fn add_membership(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    tenant_id: Uuid,
    role: Role,
    branch_ids: Option<Vec<Uuid>>,
) -> Result<membership::Model> {
    let now = crate::now();
    membership::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        tenant_id: Set(tenant_id),
        role: Set(role.as_str().to_owned()),
        branch_ids: Set(branch_ids.map(|ids| serde_json::json!(ids))),
        disabled_at: Set(None),
        pin_hash: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .on_unique("already_member", "the user already belongs to this tenant")
}

/// A user's membership in one tenant, if any.
///
/// # Errors
/// Database errors.
pub async fn membership(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    tenant_id: Uuid,
) -> Result<Option<membership::Model>> {
    Ok(membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?)
}

/// Every tenant a user belongs to, with the membership, ordered by tenant slug.
///
/// # Errors
/// Database errors.
pub async fn memberships_of(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Vec<(membership::Model, tenant::Model)>> {
    let ms = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .all(db)
        .await?;
    let ids: Vec<Uuid> = ms.iter().map(|m| m.tenant_id).collect();
    let tenants = tenant::Entity::find()
        .filter(tenant::Column::Id.is_in(ids))
        .order_by_asc(tenant::Column::Slug)
        .all(db)
        .await?;
    Ok(tenants
        .into_iter()
        .filter_map(|t| {
            ms.iter()
                .find(|m| m.tenant_id == t.id)
                .map(|m| (m.clone(), t))
        })
        .collect())
}

/// Parses a membership's stored role and branch scope.
///
/// # Errors
/// [`Error::Internal`] when the stored row is corrupt.
pub fn role_and_scope(m: &membership::Model) -> Result<(Role, Option<Vec<Uuid>>)> {
    let role: Role = m
        .role
        .parse()
        .map_err(|_| Error::Internal(format!("bad role {}", m.role)))?;
    let scope = match &m.branch_ids {
        None => None,
        Some(v) => Some(
            serde_json::from_value::<Vec<Uuid>>(v.clone())
                .map_err(|e| Error::Internal(format!("bad branch scope: {e}")))?,
        ),
    };
    Ok((role, scope))
}

/// Makes a user a platform operator. Granting twice is not an error.
///
/// # Errors
/// [`Error::NotFound`] when the user does not exist.
pub async fn grant_operator(db: &impl ConnectionTrait, user_id: Uuid) -> Result<()> {
    find_user(db, user_id).await?;
    if is_operator(db, user_id).await? {
        return Ok(());
    }
    operator::ActiveModel {
        user_id: Set(user_id),
        created_at: Set(crate::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Takes the operator grant away (the user's operator sessions fail on their next request).
/// Revoking a grant that does not exist is not an error.
///
/// # Errors
/// Database errors.
pub async fn revoke_operator(db: &impl ConnectionTrait, user_id: Uuid) -> Result<()> {
    operator::Entity::delete_by_id(user_id).exec(db).await?;
    Ok(())
}

/// Whether a user is a platform operator.
///
/// # Errors
/// Database errors.
pub async fn is_operator(db: &impl ConnectionTrait, user_id: Uuid) -> Result<bool> {
    Ok(operator::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .is_some())
}

/// Every operator with their user row, by e-mail.
///
/// # Errors
/// Database errors.
pub async fn operators(db: &impl ConnectionTrait) -> Result<Vec<user::Model>> {
    let ids: Vec<Uuid> = operator::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|o| o.user_id)
        .collect();
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .order_by_asc(user::Column::Email)
        .all(db)
        .await?)
}

/// The e-mail addresses of a business's owners and admins (enabled users), sorted: who is told
/// when a fiscal document needs a decision.
///
/// # Errors
/// Database errors.
pub async fn admin_emails(db: &impl ConnectionTrait, tenant_id: Uuid) -> Result<Vec<String>> {
    let ids: Vec<Uuid> = membership::Entity::find()
        .filter(membership::Column::TenantId.eq(tenant_id))
        .filter(membership::Column::Role.is_in([Role::Owner.as_str(), Role::Admin.as_str()]))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .filter(user::Column::DisabledAt.is_null())
        .order_by_asc(user::Column::Email)
        .all(db)
        .await?
        .into_iter()
        .map(|u| u.email)
        .collect())
}

/// The business's active staff (membership and user not disabled), with their role and
/// branches: who the notifications area may tell of an event.
///
/// # Errors
/// Database errors.
pub async fn active_staff(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
) -> Result<Vec<crate::notifications::dispatch::StaffMember>> {
    let members = membership::Entity::find()
        .filter(membership::Column::TenantId.eq(tenant_id))
        .filter(membership::Column::DisabledAt.is_null())
        .all(db)
        .await?;
    if members.is_empty() {
        return Ok(Vec::new());
    }
    let users: std::collections::HashMap<Uuid, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(members.iter().map(|m| m.user_id)))
        .filter(user::Column::DisabledAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    Ok(members
        .into_iter()
        .filter_map(|m| {
            let u = users.get(&m.user_id)?;
            Some(crate::notifications::dispatch::StaffMember {
                user_id: u.id,
                email: u.email.clone(),
                role: m.role,
                branch_ids: m
                    .branch_ids
                    .and_then(|v| serde_json::from_value::<Vec<Uuid>>(v).ok()),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            normalize_email("  Owner@Acme.MX ").unwrap(),
            "owner@acme.mx"
        );
    }

    #[test]
    fn malformed_emails_are_rejected() {
        for bad in [
            "",
            "owner",
            "owner@",
            "@acme.mx",
            "owner@acme",
            "o wner@acme.mx",
            "a@b@c.mx",
            "a@.mx",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }
}
