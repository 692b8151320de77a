//! `/pos/api/users`: the business's staff, managed by owners and admins without the shell; and
//! the person's own side of it: setting a password from a set-up link, a manager's PIN, and a
//! manager's authorisation of one action at a cashier's terminal (`/pos/api/auth/override`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use entities::org::staff::{
    self, Admin, Credential, Member, NewStaff, OverrideAction, StaffFilter, StaffPatch,
};
use entities::org::{branches, password};
use entities::{PageRequest, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{Principal, TenantCtx};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::state::AppState;

/// The staff routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_user, list_users))
        .routes(routes!(get_user, update_user))
        .routes(routes!(reset_user_password))
        .routes(routes!(set_up_password))
        .routes(routes!(set_pin))
        .routes(routes!(authorize_override))
}

/// A role in the business.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    /// Everything, ownership included.
    Owner,
    /// Users, branches, configuration.
    Admin,
    /// Runs a branch: returns, cancellations, discounts up to 30 %.
    Manager,
    /// Sells at the counter: discounts up to 10 %.
    Cashier,
    /// Works service orders.
    Mechanic,
    /// Reads only.
    Viewer,
}

impl From<RoleName> for Role {
    fn from(r: RoleName) -> Self {
        match r {
            RoleName::Owner => Role::Owner,
            RoleName::Admin => Role::Admin,
            RoleName::Manager => Role::Manager,
            RoleName::Cashier => Role::Cashier,
            RoleName::Mechanic => Role::Mechanic,
            RoleName::Viewer => Role::Viewer,
        }
    }
}

impl From<Role> for RoleName {
    fn from(r: Role) -> Self {
        match r {
            Role::Owner => RoleName::Owner,
            Role::Admin => RoleName::Admin,
            Role::Manager => RoleName::Manager,
            Role::Cashier => RoleName::Cashier,
            Role::Mechanic => RoleName::Mechanic,
            Role::Viewer => RoleName::Viewer,
        }
    }
}

/// A member of the business.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffView {
    /// User id.
    pub id: Uuid,
    /// Login e-mail.
    pub email: String,
    /// Name.
    pub full_name: String,
    /// Role here.
    pub role: RoleName,
    /// Branches they are limited to; `null` is every branch.
    pub branch_ids: Option<Vec<Uuid>>,
    /// Whether they may act in this business.
    pub active: bool,
    /// Whether a manager PIN is set.
    pub has_pin: bool,
    /// Last sign-in, any business.
    pub last_login_at: Option<DateTime<Utc>>,
    /// Member since.
    pub created_at: DateTime<Utc>,
}

fn staff_view(m: &Member) -> ApiResult<StaffView> {
    let (role, scope) = m.role_and_scope()?;
    Ok(StaffView {
        id: m.user.id,
        email: m.user.email.clone(),
        full_name: m.user.full_name.clone(),
        role: role.into(),
        branch_ids: scope,
        active: m.membership.disabled_at.is_none() && m.user.disabled_at.is_none(),
        has_pin: m.membership.pin_hash.is_some(),
        last_login_at: m.user.last_login_at,
        created_at: m.membership.created_at,
    })
}

/// A page of staff.
pub type StaffPage = crate::page::Page<StaffView>;

impl crate::page::Listed for StaffView {
    const PAGE: &'static str = "StaffPage";
    const PAGE_DOC: &'static str = "A page of the business's staff.";
    const ITEMS_DOC: &'static str = "Members, oldest first.";
}

/// Filters and page of the staff list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StaffQuery {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1_000_000)]
    pub page: Option<u64>,
    /// Page size, 1 to 200 (50 by default).
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u64>,
    /// One role.
    #[param(inline)]
    pub role: Option<RoleName>,
    /// Enabled (`true`) or disabled (`false`) members.
    pub active: Option<bool>,
}

/// Someone to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// Login e-mail. A person who already has a Nexus login is added and keeps their password.
    #[schema(
        max_length = 254,
        pattern = "^[^@\\s\\u0000-\\u001F\\u007F-\\u009F]+@[^@.\\s\\u0000-\\u001F\\u007F-\\u009F][^@\\s\\u0000-\\u001F\\u007F-\\u009F]*\\.[^@\\s\\u0000-\\u001F\\u007F-\\u009F]*[^@.\\s\\u0000-\\u001F\\u007F-\\u009F]$",
        example = "cajero@refaccionaria.mx"
    )]
    pub email: String,
    /// Name (1–200 characters), for a new person; the e-mail's local part when absent.
    #[schema(min_length = 1, max_length = 200, example = "Luis Cajero")]
    pub full_name: Option<String>,
    /// Role here; an admin cannot make an owner.
    pub role: RoleName,
    /// Branches they are limited to; absent or `null` is every branch.
    #[schema(min_items = 1)]
    pub branch_ids: Option<Vec<Uuid>>,
    /// Answer a temporary password instead of a set-up link.
    #[serde(default)]
    pub temporary_password: bool,
}

/// The member added, and what a new person signs in with the first time (shown only here).
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUserView {
    /// The member.
    pub user: StaffView,
    /// A one-time token to choose a password with at `POST /pos/api/auth/setup`.
    pub setup_token: Option<String>,
    /// When the set-up token stops working.
    pub setup_expires_at: Option<DateTime<Utc>>,
    /// The temporary password, when asked for.
    pub temporary_password: Option<String>,
}

fn created_view(user: StaffView, c: Option<Credential>) -> CreatedUserView {
    let (setup_token, setup_expires_at, temporary_password) = match c {
        Some(Credential::SetupToken { token, expires_at }) => (Some(token), Some(expires_at), None),
        Some(Credential::TemporaryPassword(p)) => (None, None, Some(p)),
        None => (None, None, None),
    };
    CreatedUserView {
        user,
        setup_token,
        setup_expires_at,
        temporary_password,
    }
}

/// Changes to a member; absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    /// New role.
    pub role: Option<RoleName>,
    /// New branches; `null` is every branch.
    #[serde(default, deserialize_with = "crate::extract::double_option")]
    #[schema(min_items = 1, value_type = Option<Vec<Uuid>>)]
    pub branch_ids: Option<Option<Vec<Uuid>>>,
    /// Enable (`true`) or disable (`false`): a disabled member cannot sign in here and their
    /// sessions here end at once.
    pub active: Option<bool>,
}

/// A password reset.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    /// Answer a temporary password instead of a set-up link.
    #[serde(default)]
    pub temporary_password: bool,
}

/// Choosing a password with a set-up link.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    /// The token from the invitation or reset.
    #[schema(max_length = 200)]
    pub token: String,
    /// The new password.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
}

/// Setting or clearing the manager PIN.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PinRequest {
    /// Your password, to prove it is you at this terminal.
    #[schema(max_length = 1024)]
    pub password: String,
    /// 4 to 8 digits; `null` clears it.
    #[schema(pattern = "^[0-9]{4,8}$", example = "4821")]
    pub pin: Option<String>,
}

/// A manager authorising one action at a cashier's terminal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideRequest {
    /// The manager's login e-mail.
    #[schema(max_length = 254)]
    pub email: String,
    /// The manager's PIN or password.
    #[schema(max_length = 1024)]
    pub secret: String,
    /// What is authorised: `discount` (past the cashier's limit), `price_list`, `cancel` or
    /// `return`.
    pub action: ActionName,
}

/// What a manager may authorise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionName {
    /// A discount past the cashier's limit on a sale or quote.
    Discount,
    /// Another price list than the customer's.
    PriceList,
    /// Cancelling a sale.
    Cancel,
    /// Returning units of a sale.
    Return,
}

impl From<ActionName> for OverrideAction {
    fn from(a: ActionName) -> Self {
        match a {
            ActionName::Discount => Self::Discount,
            ActionName::PriceList => Self::PriceList,
            ActionName::Cancel => Self::Cancel,
            ActionName::Return => Self::Return,
        }
    }
}

/// The authorisation: send `override_token` once in the `X-Manager-Override` header of the
/// action's request, within two minutes.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverrideView {
    /// The single-use token.
    pub override_token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// The manager who authorised it.
    pub authorized_by: Uuid,
    /// Their name, for the terminal to show.
    pub authorized_by_name: String,
    /// Their role.
    pub authorized_role: RoleName,
    /// The action.
    pub action: ActionName,
}

fn admin(ctx: &TenantCtx) -> Admin {
    Admin {
        user_id: ctx.principal.user_id,
        role: ctx.principal.role,
        tenant_id: ctx.principal.tenant.id,
        request_id: crate::request_id::current(),
    }
}

/// Every branch id of the business, to check a scope against.
async fn branch_ids(ctx: &TenantCtx) -> ApiResult<Vec<Uuid>> {
    let all =
        branches::list_branches(&ctx.db, PageRequest::new(Some(1), Some(200))?, None, None).await?;
    Ok(all.items.into_iter().map(|b| b.id).collect())
}

/// The business's staff (owner, admin): role, branches and status of each member.
#[utoipa::path(
    get, path = "/pos/api/users", tag = "users", security(("bearer" = [])),
    params(StaffQuery),
    responses(
        (status = 200, body = StaffPage),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn list_users(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppQuery(q): AppQuery<StaffQuery>,
) -> ApiResult<Json<StaffPage>> {
    let page = PageRequest::new(q.page, q.per_page)?;
    let f = StaffFilter {
        role: q.role.map(Into::into),
        active: q.active,
    };
    let p = staff::list(&state.platform, ctx.principal.tenant.id, &f, page).await?;
    let items = p
        .items
        .iter()
        .map(staff_view)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(StaffPage {
        items,
        page: p.page,
        per_page: p.per_page,
        total: p.total,
    }))
}

/// Adds someone to the business (owner, admin). A new person gets a one-time set-up link (or a
/// temporary password) answered only here; someone who already has a Nexus login keeps their
/// password. Audited.
#[utoipa::path(
    post, path = "/pos/api/users", tag = "users", security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, body = CreatedUserView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`owner_only`: an admin cannot make an owner", body = ErrorBody),
        (status = 409, description = "`already_member`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn create_user(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppJson(req): AppJson<CreateUserRequest>,
) -> ApiResult<(StatusCode, Json<CreatedUserView>)> {
    let known = branch_ids(&ctx).await?;
    let new = NewStaff {
        email: req.email,
        full_name: req.full_name,
        role: req.role.into(),
        branch_ids: req.branch_ids,
        temporary_password: req.temporary_password,
    };
    let txn = entities::db::begin_write(&state.platform).await?;
    let (m, credential) = staff::invite(&txn, &admin(&ctx), new, &known).await?;
    txn.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(created_view(staff_view(&m)?, credential)),
    ))
}

/// One member (owner, admin).
#[utoipa::path(
    get, path = "/pos/api/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    responses(
        (status = 200, body = StaffView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
pub async fn get_user(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Json<StaffView>> {
    let m = staff::member(&state.platform, ctx.principal.tenant.id, id).await?;
    Ok(Json(staff_view(&m)?))
}

/// Changes a member's role, branches or status (owner, admin). Nobody changes their own; an admin
/// does not touch an owner. Disabling ends their sessions here at once; their other businesses
/// are untouched. Audited.
#[utoipa::path(
    patch, path = "/pos/api/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, body = StaffView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`cannot_change_self`, `owner_only`", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn update_user(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<UpdateUserRequest>,
) -> ApiResult<Json<StaffView>> {
    let known = branch_ids(&ctx).await?;
    let patch = StaffPatch {
        role: req.role.map(Into::into),
        branch_ids: req.branch_ids,
        active: req.active,
    };
    let txn = entities::db::begin_write(&state.platform).await?;
    let m = staff::update(&txn, &admin(&ctx), id, patch, &known).await?;
    txn.commit().await?;
    Ok(Json(staff_view(&m)?))
}

/// Resets a member's password (owner, admin): the old one stops working, every session of the
/// person ends, and a set-up link (or temporary password) is answered once. Someone who also
/// belongs to another business resets their own. Audited.
#[utoipa::path(
    post, path = "/pos/api/users/{id}/reset-password", tag = "users", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "User id")),
    request_body = ResetPasswordRequest,
    responses(
        (status = 200, body = CreatedUserView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`cannot_change_self`, `owner_only`", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`member_elsewhere`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn reset_user_password(
    State(state): State<AppState>,
    ctx: TenantCtx,
    AppPath(id): AppPath<Uuid>,
    AppJson(req): AppJson<ResetPasswordRequest>,
) -> ApiResult<Json<CreatedUserView>> {
    let txn = entities::db::begin_write(&state.platform).await?;
    let c = staff::reset_password(&txn, &admin(&ctx), id, req.temporary_password).await?;
    txn.commit().await?;
    let m = staff::member(&state.platform, ctx.principal.tenant.id, id).await?;
    Ok(Json(created_view(staff_view(&m)?, Some(c))))
}

/// Chooses a password with a one-time set-up link (no session needed). The link works once,
/// within 72 hours; the person's sessions end.
#[utoipa::path(
    post, path = "/pos/api/auth/setup", tag = "auth",
    request_body = SetupRequest,
    responses(
        (status = 204, description = "Password set; sign in with it"),
        (status = 422, description = "`token` unknown, used or expired; or `password` too short", body = ErrorBody),
    )
)]
pub async fn set_up_password(
    State(state): State<AppState>,
    AppJson(req): AppJson<SetupRequest>,
) -> ApiResult<StatusCode> {
    if req.token.len() > 200 {
        return Err(entities::Error::missing(
            "token",
            "setup_link_not_found",
            "this set-up link is unknown",
        )
        .into());
    }
    let txn = entities::db::begin_write(&state.platform).await?;
    staff::set_up(&txn, &req.token, req.password).await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets or clears your manager PIN for this business, confirmed with your password. A manager's
/// PIN authorises a cashier's action at the counter (`POST /pos/api/auth/override`).
#[utoipa::path(
    put, path = "/pos/api/auth/pin", tag = "auth", security(("bearer" = [])),
    request_body = PinRequest,
    responses(
        (status = 204, description = "Set"),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Wrong password", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
pub async fn set_pin(
    State(state): State<AppState>,
    principal: Principal,
    AppJson(req): AppJson<PinRequest>,
) -> ApiResult<StatusCode> {
    if req.password.len() > 1024 {
        return Err(ApiError::invalid("password", "at most 1024 bytes"));
    }
    let u = entities::org::accounts::find_user(&state.platform, principal.user_id).await?;
    if !password::verify(req.password, Some(u.password_hash)).await? {
        return Err(ApiError::forbidden(
            "wrong_password",
            "that is not your password",
        ));
    }
    let txn = entities::db::begin_write(&state.platform).await?;
    staff::set_pin(&txn, principal.tenant.id, principal.user_id, req.pin).await?;
    txn.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A manager authorises one action at the cashier's terminal with their PIN or password, without
/// signing the cashier out. The answer's token goes once, within two minutes, in the
/// `X-Manager-Override` header of that action's request (a sale or quote with a discount or list
/// past the cashier's role, a cancellation, a return); the action's audit entry names both. Wrong
/// credentials are throttled per manager.
#[utoipa::path(
    post, path = "/pos/api/auth/override", tag = "auth", security(("bearer" = [])),
    request_body = OverrideRequest,
    responses(
        (status = 201, body = OverrideView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "`override_refused`", body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 429, description = "Too many wrong attempts for this manager", body = ErrorBody),
    )
)]
pub async fn authorize_override(
    State(state): State<AppState>,
    principal: Principal,
    AppJson(req): AppJson<OverrideRequest>,
) -> ApiResult<(StatusCode, Json<OverrideView>)> {
    if req.email.len() > 254 || req.secret.len() > 1024 {
        return Err(ApiError::invalid("secret", "at most 1024 bytes"));
    }
    let key = format!("override:{}", req.email.trim().to_lowercase());
    if let Err(retry_after) = state.account_throttle.reserve(&key).await {
        return Err(ApiError::TooManyRequests { retry_after });
    }
    let txn = entities::db::begin_write(&state.platform).await?;
    let grant = staff::grant_override(
        &txn,
        &principal.tenant,
        principal.user_id,
        &req.email,
        req.secret,
        req.action.into(),
    )
    .await?;
    txn.commit().await?;
    state.account_throttle.clear(&key).await;
    Ok((
        StatusCode::CREATED,
        Json(OverrideView {
            override_token: grant.token,
            expires_at: grant.expires_at,
            authorized_by: grant.manager.id,
            authorized_by_name: grant.manager.full_name,
            authorized_role: grant.role.into(),
            action: req.action,
        }),
    ))
}
