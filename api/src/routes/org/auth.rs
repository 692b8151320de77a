//! `/pos/api/auth`: login, refresh, logout, me.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use entities::org::audit::Entry;
use entities::org::sessions::{self, Refused};
use entities::{org::accounts, org::tables::tenant, org::tables::user};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{ClientIp, Principal, TenantCtx, load_operator, load_principal};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::AppJson;
use crate::request_id;
use crate::state::AppState;

/// The auth routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(me))
}

/// Credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login e-mail.
    pub email: String,
    /// Password.
    pub password: String,
    /// Tenant slug; needed only when the user belongs to several tenants.
    pub tenant: Option<String>,
    /// `ops` asks for a platform-operator session (the queue console) instead of a business
    /// one; an operator who belongs to no business gets one without asking.
    #[serde(default)]
    #[schema(pattern = "^ops$")]
    pub scope: Option<String>,
}

/// A refresh token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from login or the last refresh.
    pub refresh_token: String,
}

/// The user as shown to clients.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// User id.
    pub id: Uuid,
    /// Login e-mail.
    pub email: String,
    /// Name.
    pub full_name: String,
    /// Role in the tenant of the session.
    pub role: String,
    /// Branches the user is limited to; absent means all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch_ids: Option<Vec<Uuid>>,
}

/// The tenant as shown to its users.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantView {
    /// Tenant id.
    pub id: Uuid,
    /// Slug used at login.
    pub slug: String,
    /// Name.
    pub name: String,
    /// RFC.
    pub rfc: String,
}

impl From<&tenant::Model> for TenantView {
    fn from(t: &tenant::Model) -> Self {
        Self {
            id: t.id,
            slug: t.slug.clone(),
            name: t.name.clone(),
            rfc: t.rfc.clone(),
        }
    }
}

/// Tokens and who they are for.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Opaque token for `POST /pos/api/auth/refresh`; each one works once.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The user.
    pub user: UserView,
    /// The tenant; absent for an operator session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<TenantView>,
}

/// The signed-in user, the tenant of the session, and the user's other tenants.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    /// The user.
    pub user: UserView,
    /// The tenant of the session.
    pub tenant: TenantView,
    /// Every tenant the user belongs to, with the role there.
    pub memberships: Vec<MembershipView>,
    /// What the role may do here, so a frontend greys out the rest.
    pub limits: LimitsView,
    /// The branches the user works in (every branch when not limited).
    pub branches: Vec<BranchBrief>,
}

/// What a role may do in the business.
#[derive(Debug, Serialize, ToSchema)]
pub struct LimitsView {
    /// The largest line discount, in percent (`"10"`).
    #[schema(example = "10")]
    pub max_discount: String,
    /// Whether the role sells (and takes payments).
    pub sells: bool,
    /// What needs a manager's authorisation at this user's terminal
    /// (`POST /pos/api/auth/override`): `discount` past `max_discount`, `price_list`, `cancel`,
    /// `return`. Empty for managers and up.
    pub needs_manager: Vec<String>,
    /// Every endpoint the role may call, as `METHOD /path`.
    pub endpoints: Vec<String>,
}

/// A branch, briefly.
#[derive(Debug, Serialize, ToSchema)]
pub struct BranchBrief {
    /// Branch id.
    pub id: Uuid,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Whether it takes new work.
    pub is_active: bool,
}

fn limits_of(role: entities::Role) -> LimitsView {
    let sells = crate::access::Who::Sellers.admits(role);
    LimitsView {
        max_discount: rust_decimal::Decimal::new(i64::from(role.max_discount_bp()), 2)
            .normalize()
            .to_string(),
        sells,
        needs_manager: if sells && !role.is_manager() {
            ["discount", "price_list", "cancel", "return"]
                .into_iter()
                .map(str::to_owned)
                .collect()
        } else {
            Vec::new()
        },
        endpoints: crate::access::RULES
            .iter()
            .filter(|r| r.who.admits(role))
            .map(|r| format!("{} {}", r.method, r.path))
            .collect(),
    }
}

/// One tenant a user belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipView {
    /// The tenant.
    pub tenant: TenantView,
    /// The role there.
    pub role: String,
}

fn user_view(u: &user::Model, p: &Principal) -> UserView {
    UserView {
        id: u.id,
        email: u.email.clone(),
        full_name: u.full_name.clone(),
        role: p.role.as_str().to_owned(),
        branch_ids: p.branch_scope.clone(),
    }
}

async fn issue_tokens(
    state: &AppState,
    p: &Principal,
    refresh_token: String,
) -> ApiResult<TokenResponse> {
    let u = accounts::find_user(&state.platform, p.user_id).await?;
    Ok(TokenResponse {
        access_token: sign(state, p.user_id, p.tenant.id, p.session_id, p.role.as_str())?,
        refresh_token,
        token_type: "Bearer",
        expires_in: state.config.access_ttl.as_secs(),
        user: user_view(&u, p),
        tenant: Some(TenantView::from(&p.tenant)),
    })
}

/// Signs an access token valid for the configured lifetime.
fn sign(
    state: &AppState,
    user_id: Uuid,
    tenant_id: Uuid,
    session_id: Uuid,
    role: &str,
) -> ApiResult<String> {
    state
        .jwt
        .issue(
            user_id,
            tenant_id,
            session_id,
            role,
            state.config.access_ttl,
        )
        .map(|(token, _)| token)
        .map_err(|e| ApiError::Internal(format!("signing: {e}")))
}

/// Tokens of an operator session: no tenant, role `operator`.
fn issue_operator_tokens(
    state: &AppState,
    u: &user::Model,
    session_id: Uuid,
    refresh_token: String,
) -> ApiResult<TokenResponse> {
    Ok(TokenResponse {
        access_token: sign(
            state,
            u.id,
            sessions::OPERATOR_SESSION,
            session_id,
            "operator",
        )?,
        refresh_token,
        token_type: "Bearer",
        expires_in: state.config.access_ttl.as_secs(),
        user: UserView {
            id: u.id,
            email: u.email.clone(),
            full_name: u.full_name.clone(),
            role: "operator".into(),
            branch_ids: None,
        },
        tenant: None,
    })
}

/// Records a login refused to a user whose password was right.
async fn refused(state: &AppState, base: Entry, user_id: Uuid, reason: &str) {
    audit(
        state,
        Entry {
            action: "auth.login_refused".into(),
            ..base
        }
        .actor(Some(user_id))
        .details(serde_json::json!({ "reason": reason })),
    )
    .await;
}

fn refresh_ttl(state: &AppState) -> chrono::Duration {
    chrono::Duration::from_std(state.config.refresh_ttl).unwrap_or(chrono::Duration::days(30))
}

async fn audit(state: &AppState, entry: Entry) {
    // The audit trail must not turn a login into a 500; a failure to write it is logged loudly.
    if let Err(e) = entry.record_platform(&state.platform).await {
        tracing::error!("audit write failed: {e}");
    }
}

/// Signs in with e-mail and password.
#[utoipa::path(
    post, path = "/pos/api/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "Wrong e-mail or password", body = ErrorBody),
        (status = 403, description = "Disabled account, suspended tenant, or not a member", body = ErrorBody),
        (status = 422, description = "Malformed request, or several tenants and none chosen", body = ErrorBody),
        (status = 429, description = "Too many failed attempts; see Retry-After", body = ErrorBody),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(req): AppJson<LoginRequest>,
) -> ApiResult<Json<TokenResponse>> {
    sign_in(&state, ip, req).await.map(Json)
}

/// Checks credentials (throttled per account and per address) and starts a session: a business
/// one, or an operator one when asked with `scope: "ops"` (the console's form login uses this).
///
/// # Errors
/// As [`login`] answers.
pub async fn sign_in(
    state: &AppState,
    ip: Option<String>,
    req: LoginRequest,
) -> ApiResult<TokenResponse> {
    let state = state.clone();
    let wants_ops = match req.scope.as_deref().map(str::trim) {
        None | Some("") => false,
        Some("ops") => true,
        Some(other) => {
            return Err(ApiError::Unprocessable {
                code: "invalid_scope",
                message: format!("unknown scope `{other}`; the only scope is `ops`"),
                field: Some("scope".into()),
            });
        }
    };
    // Bounded before anything else: the e-mail becomes a throttle key and an audit row, and the
    // password goes to argon2.
    if req.email.len() > 254 {
        return Err(ApiError::invalid(
            "email",
            "an e-mail address has at most 254 characters",
        ));
    }
    if req.password.len() > 1024 {
        return Err(ApiError::invalid(
            "password",
            "a password has at most 1024 bytes",
        ));
    }
    let email = req.email.trim().to_lowercase();
    let account_key = format!("acct:{email}");
    let ip_key = format!("ip:{}", ip.as_deref().unwrap_or("unknown"));
    // Both attempts are taken before the password is checked (and the first given back if the
    // second is refused): parallel guesses cannot all be evaluated before any is counted.
    if let Err(retry_after) = state.account_throttle.reserve(&account_key).await {
        return Err(ApiError::TooManyRequests { retry_after });
    }
    if let Err(retry_after) = state.ip_throttle.reserve(&ip_key).await {
        state.account_throttle.release(&account_key).await;
        return Err(ApiError::TooManyRequests { retry_after });
    }
    let user = accounts::find_user_by_email(&state.platform, &email).await?;
    let ok = entities::org::password::verify(
        req.password,
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await?;
    let base = Entry::new("auth.login").request(ip.clone(), request_id::current());
    let Some(user) = user.filter(|_| ok) else {
        // The reserved attempts stand as the failures they were.
        audit(
            &state,
            Entry {
                action: "auth.login_failed".into(),
                ..base
            }
            .details(serde_json::json!({"email": email})),
        )
        .await;
        return Err(ApiError::unauthenticated(
            "invalid_credentials",
            "wrong e-mail or password",
        ));
    };
    // Right credentials: the address's attempt is given back (its counter is of failures).
    state.ip_throttle.release(&ip_key).await;
    if user.disabled_at.is_some() {
        refused(&state, base, user.id, "disabled").await;
        return Err(ApiError::forbidden(
            "account_disabled",
            "this account is disabled",
        ));
    }
    // A disabled membership is as if the person did not belong to that business.
    let memberships: Vec<_> = accounts::memberships_of(&state.platform, user.id)
        .await?
        .into_iter()
        .filter(|(m, _)| m.disabled_at.is_none())
        .collect();
    let no_tenant_asked = req.tenant.as_deref().is_none_or(|t| t.trim().is_empty());
    let operator = accounts::is_operator(&state.platform, user.id).await?;
    if wants_ops || (operator && memberships.is_empty() && no_tenant_asked) {
        if !operator {
            refused(&state, base, user.id, "not_an_operator").await;
            return Err(ApiError::forbidden(
                "not_an_operator",
                "this account is not a platform operator",
            ));
        }
        let issued = sessions::start(
            &state.platform,
            user.id,
            sessions::OPERATOR_SESSION,
            refresh_ttl(&state),
        )
        .await?;
        state.account_throttle.clear(&account_key).await;
        accounts::touch_login(&state.platform, user.id).await?;
        audit(
            &state,
            Entry {
                action: "auth.operator_login".into(),
                ..base
            }
            .actor(Some(user.id)),
        )
        .await;
        return issue_operator_tokens(&state, &user, issued.family_id, issued.token);
    }
    let chosen = match req
        .tenant
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        Some(slug) => memberships
            .iter()
            .find(|(_, t)| t.slug == slug.to_lowercase())
            .ok_or_else(|| {
                ApiError::forbidden(
                    "not_a_member",
                    format!("you do not belong to a business named `{slug}`"),
                )
            })?,
        None => match memberships.as_slice() {
            [one] => one,
            [] => {
                return Err(ApiError::forbidden(
                    "no_tenant",
                    "this account belongs to no business",
                ));
            }
            many => {
                let slugs: Vec<&str> = many.iter().map(|(_, t)| t.slug.as_str()).collect();
                return Err(ApiError::Unprocessable {
                    code: "tenant_required",
                    message: format!(
                        "you belong to several businesses; choose one with `tenant`: {}",
                        slugs.join(", ")
                    ),
                    field: Some("tenant".into()),
                });
            }
        },
    };
    let tenant_id = chosen.1.id;
    let issued = sessions::start(&state.platform, user.id, tenant_id, refresh_ttl(&state)).await?;
    let principal = load_principal(&state, user.id, tenant_id, issued.family_id).await?;
    state.account_throttle.clear(&account_key).await;
    accounts::touch_login(&state.platform, user.id).await?;
    audit(&state, base.actor(Some(user.id)).tenant(tenant_id)).await;
    issue_tokens(&state, &principal, issued.token).await
}

/// Exchanges a refresh token for new tokens. Each refresh token works once: presenting a used one
/// again ends the whole session.
#[utoipa::path(
    post, path = "/pos/api/auth/refresh", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokenResponse),
        (status = 401, description = "Unknown, expired, revoked or reused refresh token", body = ErrorBody),
    )
)]
pub async fn refresh(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(req): AppJson<RefreshRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let rotated = match sessions::rotate(&state.platform, &req.refresh_token, refresh_ttl(&state))
        .await?
    {
        Ok(r) => r,
        Err(refused) => {
            let (code, message) = match refused {
                Refused::Unknown => ("refresh_token_invalid", "unknown refresh token"),
                Refused::Expired => (
                    "refresh_token_expired",
                    "the refresh token has expired; sign in again",
                ),
                Refused::Revoked => (
                    "refresh_token_revoked",
                    "this session has ended; sign in again",
                ),
                Refused::Reused => (
                    "refresh_token_reused",
                    "this refresh token was already used; the session has been ended",
                ),
            };
            if refused == Refused::Reused {
                audit(
                    &state,
                    Entry::new("auth.refresh_reuse_detected").request(ip, request_id::current()),
                )
                .await;
            }
            return Err(ApiError::unauthenticated(code, message));
        }
    };
    if rotated.tenant_id == sessions::OPERATOR_SESSION {
        let op = load_operator(&state, rotated.user_id, rotated.next.family_id).await?;
        let u = accounts::find_user(&state.platform, op.user_id).await?;
        return Ok(Json(issue_operator_tokens(
            &state,
            &u,
            rotated.next.family_id,
            rotated.next.token,
        )?));
    }
    let principal = load_principal(
        &state,
        rotated.user_id,
        rotated.tenant_id,
        rotated.next.family_id,
    )
    .await?;
    Ok(Json(
        issue_tokens(&state, &principal, rotated.next.token).await?,
    ))
}

/// Ends the session of a refresh token. Logging out twice is not an error.
#[utoipa::path(
    post, path = "/pos/api/auth/logout", tag = "auth",
    request_body = RefreshRequest,
    responses((status = 204, description = "Session ended"))
)]
pub async fn logout(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(req): AppJson<RefreshRequest>,
) -> ApiResult<StatusCode> {
    if let Some(family) = sessions::end(&state.platform, &req.refresh_token).await? {
        audit(
            &state,
            Entry::new("auth.logout")
                .target("session", family)
                .request(ip, request_id::current()),
        )
        .await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user, the tenant of the session, and every tenant the user belongs to.
#[utoipa::path(
    get, path = "/pos/api/auth/me", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Who you are", body = MeResponse),
        (status = 401, description = "No valid access token", body = ErrorBody),
    )
)]
pub async fn me(State(state): State<AppState>, ctx: TenantCtx) -> ApiResult<Json<MeResponse>> {
    let principal = &ctx.principal;
    let branches = entities::org::branches::list_branches(
        &ctx.db,
        entities::PageRequest::new(Some(1), Some(200))?,
        None,
        principal.branch_scope.as_deref(),
    )
    .await?
    .items
    .into_iter()
    .map(|b| BranchBrief {
        id: b.id,
        code: b.code,
        name: b.name,
        is_active: b.is_active,
    })
    .collect();
    let u = accounts::find_user(&state.platform, principal.user_id).await?;
    let memberships = accounts::memberships_of(&state.platform, u.id)
        .await?
        .iter()
        .map(|(m, t)| MembershipView {
            tenant: TenantView::from(t),
            role: m.role.clone(),
        })
        .collect();
    Ok(Json(MeResponse {
        user: user_view(&u, principal),
        tenant: TenantView::from(&principal.tenant),
        memberships,
        limits: limits_of(principal.role),
        branches,
    }))
}
