//! A business's staff, managed by its owners and admins: who belongs with what role and branches,
//! invitations with a one-time set-up link (or a temporary password shown once), role and scope
//! changes, disabling a membership (the person's other businesses are untouched), password
//! resets that end every session, manager PINs, and the single-use manager override a cashier's
//! terminal presents to do one thing beyond the cashier's role.
//!
//! Every change is written with its platform audit entry in one platform transaction.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::org::accounts::{self, NewUser};
use crate::org::audit::Entry;
use crate::org::sessions::{self, hash_token};
use crate::org::tables::{manager_override, membership, refresh_token_family, setup_token, user};
use crate::org::{password, tables::tenant};
use crate::{Error, Page, PageRequest, Result, Role};

/// How long a set-up link works.
pub const SETUP_TTL_HOURS: i64 = 72;

/// How long a manager's authorisation waits for the cashier to use it.
pub const OVERRIDE_TTL_SECONDS: i64 = 120;

/// An owner or admin acting on the staff of their business.
#[derive(Debug, Clone)]
pub struct Admin {
    /// The acting user.
    pub user_id: Uuid,
    /// Their role (owner or admin).
    pub role: Role,
    /// The business.
    pub tenant_id: Uuid,
    /// The request, for the audit trail.
    pub request_id: Option<String>,
}

impl Admin {
    fn entry(&self, action: &str, target: Uuid) -> Entry {
        Entry::new(action)
            .actor(Some(self.user_id))
            .tenant(self.tenant_id)
            .target("user", target)
            .request(None, self.request_id.clone())
    }

    /// Only an owner grants, changes or resets an owner.
    fn may_touch(&self, role: Role) -> Result<()> {
        if role == Role::Owner && self.role != Role::Owner {
            return Err(Error::Forbidden {
                code: "owner_only",
                message: "only an owner grants, changes or resets an owner".into(),
            });
        }
        Ok(())
    }
}

/// A member of the business: the person and their membership.
#[derive(Debug, Clone)]
pub struct Member {
    /// The person.
    pub user: user::Model,
    /// Their role, branches and status here.
    pub membership: membership::Model,
}

impl Member {
    /// The role and branch scope as stored.
    ///
    /// # Errors
    /// [`Error::Internal`] for a corrupt row.
    pub fn role_and_scope(&self) -> Result<(Role, Option<Vec<Uuid>>)> {
        accounts::role_and_scope(&self.membership)
    }
}

/// What a new or reset user signs in with the first time; shown once, never stored.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A one-time token to choose a password with (`POST /pos/api/auth/setup`).
    SetupToken {
        /// The token.
        token: String,
        /// When it stops working.
        expires_at: DateTime<Utc>,
    },
    /// A temporary password to give the person.
    TemporaryPassword(String),
}

/// Someone to add to the business.
#[derive(Debug, Clone)]
pub struct NewStaff {
    /// Login e-mail; an existing person is added with their own password.
    pub email: String,
    /// Name, for a new person.
    pub full_name: Option<String>,
    /// Role here.
    pub role: Role,
    /// Branches they are limited to; all when none.
    pub branch_ids: Option<Vec<Uuid>>,
    /// A temporary password instead of a set-up link.
    pub temporary_password: bool,
}

/// Changes to a member; `None` leaves a field.
#[derive(Debug, Clone, Default)]
pub struct StaffPatch {
    /// New role.
    pub role: Option<Role>,
    /// New branch scope; `Some(None)` is every branch.
    pub branch_ids: Option<Option<Vec<Uuid>>>,
    /// Enable or disable the membership.
    pub active: Option<bool>,
}

/// Filters of the staff list.
#[derive(Debug, Clone, Default)]
pub struct StaffFilter {
    /// One role.
    pub role: Option<Role>,
    /// Enabled (`true`) or disabled members.
    pub active: Option<bool>,
}

/// Checks a branch scope against the business's branches.
fn check_scope(branch_ids: Option<Vec<Uuid>>, known: &[Uuid]) -> Result<Option<Vec<Uuid>>> {
    let Some(mut ids) = branch_ids else {
        return Ok(None);
    };
    if ids.is_empty() {
        return Err(Error::validation(
            "branch_ids",
            "name at least one branch, or send null for every branch",
        ));
    }
    ids.sort_unstable();
    ids.dedup();
    if let Some(bad) = ids.iter().find(|id| !known.contains(id)) {
        return Err(Error::missing(
            "branch_ids",
            "branch_not_found",
            format!("branch {bad} is not a branch of this business"),
        ));
    }
    Ok(Some(ids))
}

/// A member of the business, or [`Error::NotFound`] `user`.
///
/// # Errors
/// [`Error::NotFound`]; database errors.
pub async fn member(db: &impl ConnectionTrait, tenant_id: Uuid, user_id: Uuid) -> Result<Member> {
    let membership = accounts::membership(db, user_id, tenant_id)
        .await?
        .ok_or(Error::NotFound { entity: "user" })?;
    let user = accounts::find_user(db, user_id).await?;
    Ok(Member { user, membership })
}

/// The business's members, oldest first.
///
/// # Errors
/// Database errors.
pub async fn list(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    f: &StaffFilter,
    page: PageRequest,
) -> Result<Page<Member>> {
    let mut q = membership::Entity::find()
        .filter(membership::Column::TenantId.eq(tenant_id))
        .order_by_asc(membership::Column::CreatedAt);
    if let Some(r) = f.role {
        q = q.filter(membership::Column::Role.eq(r.as_str()));
    }
    match f.active {
        Some(true) => q = q.filter(membership::Column::DisabledAt.is_null()),
        Some(false) => q = q.filter(membership::Column::DisabledAt.is_not_null()),
        None => {}
    }
    let p = page.fetch(db, q).await?;
    let ids: Vec<Uuid> = p.items.iter().map(|m| m.user_id).collect();
    let users = user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(db)
        .await?;
    let items = p
        .items
        .into_iter()
        .filter_map(|m| {
            users.iter().find(|u| u.id == m.user_id).map(|u| Member {
                user: u.clone(),
                membership: m,
            })
        })
        .collect();
    Ok(Page {
        items,
        page: p.page,
        per_page: p.per_page,
        total: p.total,
    })
}

async fn new_setup_token(
    txn: &impl ConnectionTrait,
    user_id: Uuid,
    tenant_id: Uuid,
    purpose: &str,
    by: Uuid,
) -> Result<Credential> {
    let token = sessions::new_token("nxs_");
    let now = crate::now();
    let expires_at = now + Duration::hours(SETUP_TTL_HOURS);
    // A new link replaces any earlier one of the person.
    setup_token::Entity::update_many()
        .col_expr(setup_token::Column::UsedAt, Expr::value(now))
        .filter(setup_token::Column::UserId.eq(user_id))
        .filter(setup_token::Column::UsedAt.is_null())
        .exec(txn)
        .await?;
    setup_token::ActiveModel {
        token_hash: Set(hash_token(&token)),
        user_id: Set(user_id),
        tenant_id: Set(tenant_id),
        purpose: Set(purpose.to_owned()),
        created_by: Set(Some(by)),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
    }
    .insert(txn)
    .await?;
    Ok(Credential::SetupToken { token, expires_at })
}

/// Adds someone to the business: an existing person gets a membership and signs in with their own
/// password; a new person is created with a set-up link or a temporary password, answered once.
///
/// # Errors
/// [`Error::Validation`] `email`, `full_name`, `branch_ids`; [`Error::Forbidden`] `owner_only`;
/// [`Error::Conflict`] `already_member`.
pub async fn invite(
    txn: &impl ConnectionTrait,
    admin: &Admin,
    new: NewStaff,
    known_branches: &[Uuid],
) -> Result<(Member, Option<Credential>)> {
    admin.may_touch(new.role)?;
    let email = accounts::normalize_email(&new.email)?;
    let scope = check_scope(new.branch_ids, known_branches)?;
    // A person who exists already keeps their password: a business never sets the password of
    // someone another business may share.
    let (user, created) = match accounts::find_user_by_email(txn, &email).await? {
        Some(u) => (u, None),
        None => {
            // Without a name, the address's local part stands in until someone edits it.
            let full_name = new
                .full_name
                .unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_owned());
            let temporary = new.temporary_password.then(|| password::readable(14));
            // Without a temporary password nobody knows this one: the person chooses theirs
            // through the set-up link.
            let secret = temporary.clone().unwrap_or_else(|| sessions::new_token(""));
            let u = accounts::create_user(
                txn,
                NewUser {
                    email: email.clone(),
                    full_name,
                    password: secret,
                },
            )
            .await?;
            (u, Some(temporary))
        }
    };
    let membership =
        accounts::add_membership(txn, user.id, admin.tenant_id, new.role, scope.clone()).await?;
    let credential = match created {
        Some(Some(p)) => Some(Credential::TemporaryPassword(p)),
        Some(None) => {
            Some(new_setup_token(txn, user.id, admin.tenant_id, "invite", admin.user_id).await?)
        }
        None => None,
    };
    admin
        .entry("staff.invited", user.id)
        .details(json!({
            "email": email,
            "role": new.role.as_str(),
            "branch_ids": scope,
            "credential": match &credential {
                Some(Credential::SetupToken { .. }) => "setup_link",
                Some(Credential::TemporaryPassword(_)) => "temporary_password",
                None => "own_password",
            },
        }))
        .record_platform(txn)
        .await?;
    Ok((Member { user, membership }, credential))
}

/// Ends the person's sessions in this business only.
async fn end_sessions_here(
    txn: &impl ConnectionTrait,
    user_id: Uuid,
    tenant_id: Uuid,
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
        .filter(refresh_token_family::Column::TenantId.eq(tenant_id))
        .filter(refresh_token_family::Column::RevokedAt.is_null())
        .exec(txn)
        .await?;
    Ok(())
}

/// Changes a member's role, branches or status. Nobody changes their own, and only an owner touches
/// an owner, so a business always keeps the owner acting. Disabling ends the member's sessions
/// here.
///
/// # Errors
/// [`Error::NotFound`] `user`; [`Error::Forbidden`] `cannot_change_self`, `owner_only`;
/// [`Error::Validation`] `branch_ids`.
pub async fn update(
    txn: &impl ConnectionTrait,
    admin: &Admin,
    user_id: Uuid,
    patch: StaffPatch,
    known_branches: &[Uuid],
) -> Result<Member> {
    let current = member(txn, admin.tenant_id, user_id).await?;
    if user_id == admin.user_id {
        return Err(Error::Forbidden {
            code: "cannot_change_self",
            message:
                "you cannot change your own role, branches or status; ask another owner or admin"
                    .into(),
        });
    }
    let (role, _) = current.role_and_scope()?;
    admin.may_touch(role)?;
    if let Some(r) = patch.role {
        admin.may_touch(r)?;
    }
    let mut am: membership::ActiveModel = current.membership.clone().into();
    let mut changed = serde_json::Map::new();
    if let Some(r) = patch.role {
        changed.insert("role".into(), json!(r.as_str()));
        am.role = Set(r.as_str().to_owned());
    }
    if let Some(scope) = patch.branch_ids {
        let scope = check_scope(scope, known_branches)?;
        changed.insert("branch_ids".into(), json!(scope));
        am.branch_ids = Set(scope.map(|ids| json!(ids)));
    }
    let now = crate::now();
    if let Some(active) = patch.active {
        changed.insert("active".into(), json!(active));
        am.disabled_at = Set((!active).then_some(now));
        if !active {
            end_sessions_here(txn, user_id, admin.tenant_id, "membership_disabled").await?;
        }
    }
    am.updated_at = Set(now);
    let membership = am.update(txn).await?;
    admin
        .entry("staff.updated", user_id)
        .details(changed.into())
        .record_platform(txn)
        .await?;
    Ok(Member {
        user: current.user,
        membership,
    })
}

/// Resets a member's password: every session of the person ends, the old password stops working,
/// and a set-up link (or a temporary password) is answered once. A person who also belongs to
/// another business resets their own password; a business cannot lock them out of the others.
///
/// # Errors
/// [`Error::NotFound`] `user`; [`Error::Forbidden`] `cannot_change_self`, `owner_only`;
/// [`Error::Conflict`] `member_elsewhere`.
pub async fn reset_password(
    txn: &impl ConnectionTrait,
    admin: &Admin,
    user_id: Uuid,
    temporary: bool,
) -> Result<Credential> {
    let current = member(txn, admin.tenant_id, user_id).await?;
    if user_id == admin.user_id {
        return Err(Error::Forbidden {
            code: "cannot_change_self",
            message: "you cannot reset your own password here: it would end the session you are using; ask another owner or admin".into(),
        });
    }
    let (role, _) = current.role_and_scope()?;
    admin.may_touch(role)?;
    let elsewhere = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::TenantId.ne(admin.tenant_id))
        .one(txn)
        .await?;
    if elsewhere.is_some() {
        return Err(Error::conflict(
            "member_elsewhere",
            "this person belongs to another business too; they reset their own password",
        ));
    }
    let (secret, credential) = if temporary {
        let p = password::readable(14);
        (p.clone(), Some(Credential::TemporaryPassword(p)))
    } else {
        (sessions::new_token(""), None)
    };
    let hash = password::hash(secret).await?;
    let mut am: user::ActiveModel = current.user.into();
    am.password_hash = Set(hash);
    am.updated_at = Set(crate::now());
    am.update(txn).await?;
    sessions::revoke_all_for_user(txn, user_id, "password_reset").await?;
    let credential = match credential {
        Some(c) => c,
        None => new_setup_token(txn, user_id, admin.tenant_id, "reset", admin.user_id).await?,
    };
    admin
        .entry("staff.password_reset", user_id)
        .details(json!({
            "credential": if temporary { "temporary_password" } else { "setup_link" },
        }))
        .record_platform(txn)
        .await?;
    Ok(credential)
}

/// Sets a password from a set-up link: the link works once and before it expires; the person's
/// sessions end.
///
/// # Errors
/// [`Error::Validation`] `token` for an unknown, used or expired link, `password` for the policy.
pub async fn set_up(
    txn: &impl ConnectionTrait,
    token: &str,
    new_password: String,
) -> Result<user::Model> {
    password::check_policy(&new_password)?;
    let now = crate::now();
    let hash = hash_token(token.trim());
    let taken = setup_token::Entity::update_many()
        .col_expr(setup_token::Column::UsedAt, Expr::value(now))
        .filter(setup_token::Column::TokenHash.eq(hash.clone()))
        .filter(setup_token::Column::UsedAt.is_null())
        .filter(setup_token::Column::ExpiresAt.gt(now))
        .exec(txn)
        .await?;
    if taken.rows_affected != 1 {
        return Err(Error::missing(
            "token",
            "setup_link_not_found",
            "this set-up link is unknown, used or expired; ask an admin for a new one",
        ));
    }
    let row = setup_token::Entity::find_by_id(hash)
        .one(txn)
        .await?
        .ok_or(Error::NotFound {
            entity: "setup_token",
        })?;
    let u = accounts::find_user(txn, row.user_id).await?;
    let password_hash = password::hash(new_password).await?;
    let mut am: user::ActiveModel = u.into();
    am.password_hash = Set(password_hash);
    am.updated_at = Set(now);
    let u = am.update(txn).await?;
    sessions::revoke_all_for_user(txn, u.id, "password_set").await?;
    Entry::new("staff.password_set")
        .actor(Some(u.id))
        .tenant(row.tenant_id)
        .target("user", u.id)
        .details(json!({"purpose": row.purpose}))
        .record_platform(txn)
        .await?;
    Ok(u)
}

/// Sets (or clears, with `None`) the PIN a manager authorises cashiers' actions with in this
/// business: 4 to 8 digits.
///
/// # Errors
/// [`Error::Validation`] `pin`; [`Error::NotFound`] `user`.
pub async fn set_pin(
    txn: &impl ConnectionTrait,
    tenant_id: Uuid,
    user_id: Uuid,
    pin: Option<String>,
) -> Result<()> {
    let hash = match pin {
        Some(p) => {
            let p = p.trim().to_owned();
            if !(4..=8).contains(&p.len()) || !p.chars().all(|c| c.is_ascii_digit()) {
                return Err(Error::validation("pin", "a PIN is 4 to 8 digits"));
            }
            Some(password::hash(p).await?)
        }
        None => None,
    };
    let r = membership::Entity::update_many()
        .col_expr(membership::Column::PinHash, Expr::value(hash))
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::TenantId.eq(tenant_id))
        .exec(txn)
        .await?;
    if r.rows_affected != 1 {
        return Err(Error::NotFound { entity: "user" });
    }
    Entry::new("staff.pin_set")
        .actor(Some(user_id))
        .tenant(tenant_id)
        .target("user", user_id)
        .record_platform(txn)
        .await?;
    Ok(())
}

crate::text_enum! {
    /// What a manager may authorise at a cashier's terminal.
    pub enum OverrideAction {
        /// A discount past the cashier's limit, on a sale, a quote or the cart.
        Discount = "discount",
        /// Cancelling a sale.
        Cancel = "cancel",
        /// A return of a sale.
        Return = "return",
        /// Selling at another price list than the customer's.
        PriceList = "price_list",
    }
}

/// A manager's authorisation, as granted.
#[derive(Debug, Clone)]
pub struct Grant {
    /// The token the cashier's terminal sends once, in `X-Manager-Override`.
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// The manager.
    pub manager: user::Model,
    /// Their role.
    pub role: Role,
}

/// An authorisation used by a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authorized {
    /// The manager.
    pub manager_id: Uuid,
    /// Their role when they authorised it.
    pub role: Role,
    /// What for.
    pub action: OverrideAction,
}

/// Checks a manager's PIN or password for one action at a cashier's terminal and grants a
/// single-use authorisation to that cashier. The caller throttles attempts per manager.
///
/// # Errors
/// [`Error::Forbidden`] `override_refused` for wrong credentials, a disabled person or
/// membership, or a role below manager (the three are not told apart).
pub async fn grant_override(
    txn: &impl ConnectionTrait,
    tenant: &tenant::Model,
    cashier_id: Uuid,
    manager_email: &str,
    secret: String,
    action: OverrideAction,
) -> Result<Grant> {
    let refused = || Error::Forbidden {
        code: "override_refused",
        message: "those are not the credentials of a manager of this business".into(),
    };
    let user = accounts::find_user_by_email(txn, manager_email).await?;
    let m = match &user {
        Some(u) => accounts::membership(txn, u.id, tenant.id).await?,
        None => None,
    };
    // A PIN is checked against the PIN, anything else against the password; an unknown manager
    // still costs a hash, so timing does not tell who exists.
    let is_pin = secret.len() <= 8 && secret.chars().all(|c| c.is_ascii_digit());
    let stored = match (&user, &m) {
        (Some(_), Some(m)) if is_pin => m.pin_hash.clone(),
        (Some(u), Some(_)) => Some(u.password_hash.clone()),
        _ => None,
    };
    let ok = password::verify(secret, stored).await?;
    let (Some(user), Some(m)) = (user, m) else {
        return Err(refused());
    };
    let (role, _) = accounts::role_and_scope(&m)?;
    if !ok || !role.is_manager() || user.disabled_at.is_some() || m.disabled_at.is_some() {
        return Err(refused());
    }
    if user.id == cashier_id {
        return Err(Error::Forbidden {
            code: "override_refused",
            message: "a manager does not authorise themselves; act with your own session".into(),
        });
    }
    let token = sessions::new_token("nxo_");
    let now = crate::now();
    let expires_at = now + Duration::seconds(OVERRIDE_TTL_SECONDS);
    manager_override::ActiveModel {
        token_hash: Set(hash_token(&token)),
        tenant_id: Set(tenant.id),
        requested_by: Set(cashier_id),
        authorized_by: Set(user.id),
        authorized_role: Set(role.as_str().to_owned()),
        action: Set(action.as_str().to_owned()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
    }
    .insert(txn)
    .await?;
    Entry::new("staff.override_granted")
        .actor(Some(user.id))
        .tenant(tenant.id)
        .target("user", cashier_id)
        .details(json!({"action": action.as_str()}))
        .record_platform(txn)
        .await?;
    Ok(Grant {
        token,
        expires_at,
        manager: user,
        role,
    })
}

/// Uses a manager's authorisation: it must be this cashier's, in this business, unused, unexpired
/// and for one of `actions`. Once used it never works again, whatever the request's outcome.
///
/// # Errors
/// [`Error::Forbidden`] `override_invalid`.
pub async fn use_override(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    cashier_id: Uuid,
    token: &str,
    actions: &[OverrideAction],
) -> Result<Authorized> {
    let invalid = || {
        Error::Forbidden {
        code: "override_invalid",
        message: "the manager's authorisation is unknown, used, expired, for another user or for another action"
            .into(),
    }
    };
    let hash = hash_token(token.trim());
    let now = crate::now();
    let taken = manager_override::Entity::update_many()
        .col_expr(manager_override::Column::UsedAt, Expr::value(now))
        .filter(manager_override::Column::TokenHash.eq(hash.clone()))
        .filter(manager_override::Column::TenantId.eq(tenant_id))
        .filter(manager_override::Column::RequestedBy.eq(cashier_id))
        .filter(manager_override::Column::UsedAt.is_null())
        .filter(manager_override::Column::ExpiresAt.gt(now))
        .filter(manager_override::Column::Action.is_in(actions.iter().map(|a| a.as_str())))
        .exec(db)
        .await?;
    if taken.rows_affected != 1 {
        return Err(invalid());
    }
    let row = manager_override::Entity::find_by_id(hash)
        .one(db)
        .await?
        .ok_or_else(invalid)?;
    Ok(Authorized {
        manager_id: row.authorized_by,
        role: row.authorized_role.parse()?,
        action: row.action.parse().map_err(|_| invalid())?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temporary_password_has_no_characters_that_read_alike() {
        for _ in 0..50 {
            let p = password::readable(14);
            assert_eq!(p.chars().count(), 14);
            assert!(!p.chars().any(|c| "0O1lI".contains(c)), "{p}");
            assert!(password::check_policy(&p).is_ok());
        }
    }

    #[test]
    fn a_scope_names_only_the_business_branches_once_each() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(
            check_scope(Some(vec![a, a]), &[a, b]).ok(),
            Some(Some(vec![a]))
        );
        assert_eq!(check_scope(None, &[a]).ok(), Some(None));
        assert!(check_scope(Some(vec![]), &[a]).is_err());
        assert!(check_scope(Some(vec![Uuid::now_v7()]), &[a]).is_err());
    }
}
