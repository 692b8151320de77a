//! Who is calling: the principal from the bearer token, re-checked against the platform database
//! on every request, and the tenant database handle chosen from that principal only.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use entities::org::staff::{self, OverrideAction};
use entities::{Error as DomainError, Role};
use entities::{org::accounts, org::sessions, org::tables::tenant, org::tenants};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::error::ApiError;
use crate::jwt::Claims;
use crate::state::AppState;

/// An authenticated user acting in one tenant.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user.
    pub user_id: Uuid,
    /// The tenant the token is for.
    pub tenant: tenant::Model,
    /// The session (refresh-token family).
    pub session_id: Uuid,
    /// The role, as stored now (not as it was when the token was issued).
    pub role: Role,
    /// Branches the user is limited to; `None` means all.
    pub branch_scope: Option<Vec<Uuid>>,
    /// A manager's authorisation of this one request (`X-Manager-Override`): `role` is then the
    /// manager's where it is above the user's own.
    pub authorized: Option<staff::Authorized>,
}

impl Principal {
    /// Whether the user may act on this branch.
    #[must_use]
    pub fn can_see_branch(&self, branch_id: Uuid) -> bool {
        self.branch_scope
            .as_ref()
            .is_none_or(|ids| ids.contains(&branch_id))
    }
}

/// The principal together with its tenant's database.
#[derive(Debug, Clone)]
pub struct TenantCtx {
    /// Who is calling.
    pub principal: Principal,
    /// The tenant's database (from the principal, never from the request).
    pub db: DatabaseConnection,
}

impl TenantCtx {
    /// Who the tenant audit log records for this request.
    #[must_use]
    pub fn actor(&self) -> entities::org::branches::Actor {
        entities::org::branches::Actor {
            user_id: Some(self.principal.user_id),
            request_id: crate::request_id::current(),
        }
    }

    /// The user acting at the counter: for selling, refunding and drawers.
    #[must_use]
    pub fn seller(&self) -> entities::org::seller::Seller {
        entities::org::seller::Seller {
            user_id: self.principal.user_id,
            role: self.principal.role,
            branch_scope: self.principal.branch_scope.clone(),
            request_id: crate::request_id::current(),
            authorized_by: self.principal.authorized.map(|a| a.manager_id),
        }
    }
}

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts.headers.get(AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthenticated(
            "missing_token",
            "send `Authorization: Bearer <access token>`",
        )
    })?;
    let value = value.to_str().map_err(|_| {
        ApiError::unauthenticated("invalid_token", "the authorization header is not text")
    })?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(ApiError::unauthenticated(
            "invalid_token",
            "expected `Authorization: Bearer <access token>`",
        )),
    }
}

/// Resolves a user's current standing in a tenant: the user is enabled, the tenant active and the
/// membership present. Used by the extractor and by refresh.
///
/// # Errors
/// 401 when the user or membership is gone or disabled, 403 when the tenant is suspended.
pub async fn load_principal(
    state: &AppState,
    user_id: Uuid,
    tenant_id: Uuid,
    session_id: Uuid,
) -> Result<Principal, ApiError> {
    let db = &state.platform;
    let gone = || {
        ApiError::unauthenticated(
            "invalid_token",
            "the session is no longer valid; sign in again",
        )
    };
    let user = match accounts::find_user(db, user_id).await {
        Ok(u) => u,
        Err(DomainError::NotFound { .. }) => return Err(gone()),
        Err(e) => return Err(e.into()),
    };
    if user.disabled_at.is_some() {
        return Err(ApiError::unauthenticated(
            "account_disabled",
            "this account is disabled",
        ));
    }
    let membership = accounts::membership(db, user_id, tenant_id)
        .await?
        .ok_or_else(gone)?;
    if membership.disabled_at.is_some() {
        return Err(ApiError::unauthenticated(
            "membership_disabled",
            "your access to this business is disabled",
        ));
    }
    let tenant = tenants::find(db, tenant_id).await.map_err(|_| gone())?;
    if tenant.status != tenant::STATUS_ACTIVE {
        return Err(ApiError::forbidden(
            "tenant_suspended",
            "this business's account is suspended",
        ));
    }
    let (role, branch_scope) = accounts::role_and_scope(&membership)?;
    Ok(Principal {
        user_id,
        tenant,
        session_id,
        role,
        branch_scope,
        authorized: None,
    })
}

/// The header a cashier's terminal sends a manager's single-use authorisation in.
pub const OVERRIDE_HEADER: &str = "x-manager-override";

/// The actions a manager's authorisation may be used for on a route.
fn override_actions(method: &axum::http::Method, path: &str) -> &'static [OverrideAction] {
    use OverrideAction as A;
    match (method.as_str(), path) {
        ("POST", "/pos/api/sales" | "/pos/api/quotes" | "/pos/api/quotes/{id}/convert") => {
            &[A::Discount, A::PriceList]
        }
        ("POST", "/pos/api/sales/{id}/cancel") => &[A::Cancel],
        ("POST", "/pos/api/sales/{id}/returns") => &[A::Return],
        _ => &[],
    }
}

/// Applies a manager's authorisation sent with the request: used once, for this user, on a route
/// of its action; the principal then acts with the manager's role.
async fn apply_override(
    parts: &Parts,
    state: &AppState,
    p: &mut Principal,
) -> Result<(), ApiError> {
    let Some(value) = parts.headers.get(OVERRIDE_HEADER) else {
        return Ok(());
    };
    let token = value.to_str().map_err(|_| {
        ApiError::forbidden("override_invalid", "the authorisation header is not text")
    })?;
    let path = parts
        .extensions
        .get::<axum::extract::MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    let actions = override_actions(&parts.method, &path);
    if actions.is_empty() {
        return Err(ApiError::forbidden(
            "override_invalid",
            "a manager's authorisation applies to sales, quotes, cancellations and returns only",
        ));
    }
    let a = staff::use_override(&state.platform, p.tenant.id, p.user_id, token, actions).await?;
    if !p.role.is_manager() {
        p.role = a.role;
    }
    p.authorized = Some(a);
    Ok(())
}

/// The cookie the operator console keeps its access token in.
pub const OPS_COOKIE: &str = "nexus_ops";

/// Checks an access token and that its session has not ended.
async fn verified_claims(state: &AppState, token: &str) -> Result<Claims, ApiError> {
    let claims = state.jwt.verify(token).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        match e.kind() {
            ErrorKind::ExpiredSignature => ApiError::unauthenticated(
                "token_expired",
                "the access token has expired; refresh it",
            ),
            _ => ApiError::unauthenticated("invalid_token", "the access token is not valid"),
        }
    })?;
    if sessions::family_revocation(&state.platform, claims.sid)
        .await?
        .is_some()
    {
        return Err(ApiError::unauthenticated(
            "session_ended",
            "this session has ended; sign in again",
        ));
    }
    Ok(claims)
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(p) = parts.extensions.get::<Principal>() {
            return Ok(p.clone());
        }
        let token = bearer(parts)?;
        let claims = verified_claims(state, token).await?;
        if claims.tid == sessions::OPERATOR_SESSION {
            return Err(ApiError::forbidden(
                "operator_session",
                "an operator session acts on the platform, not in a business; sign in with a \
                 business account",
            ));
        }
        let mut p = load_principal(state, claims.sub, claims.tid, claims.sid).await?;
        apply_override(parts, state, &mut p).await?;
        admitted(parts, &p)?;
        parts.extensions.insert(p.clone());
        Ok(p)
    }
}

/// Whether the route's rule in [`crate::access::RULES`] admits the principal's role. Checked
/// here, before any handler reads the body, so a refused role learns nothing from validation
/// errors. A routed request without a rule fails closed (a test keeps every route in the
/// table).
fn admitted(parts: &Parts, p: &Principal) -> Result<(), ApiError> {
    let Some(path) = parts.extensions.get::<axum::extract::MatchedPath>() else {
        return Err(ApiError::Internal(format!(
            "no matched route for {} {}",
            parts.method, parts.uri
        )));
    };
    match crate::access::rule_of(&parts.method, path.as_str()) {
        Some(r) if r.who.admits(p.role) => Ok(()),
        Some(r) => Err(ApiError::forbidden(
            "forbidden",
            format!("this needs {}; you are {}", r.who.label(), p.role),
        )),
        None => Err(ApiError::Internal(format!(
            "no access rule for {} {}",
            parts.method,
            path.as_str()
        ))),
    }
}

/// A platform operator: may watch and act on every tenant's queued work, and nothing else.
#[derive(Debug, Clone)]
pub struct Operator {
    /// The user.
    pub user_id: Uuid,
    /// The operator session.
    pub session_id: Uuid,
    /// Login e-mail, for audit and pages.
    pub email: String,
}

/// Resolves an operator's current standing: the user is enabled and still holds the grant.
///
/// # Errors
/// 401 when the user is gone or disabled, 403 when the grant was taken away.
pub async fn load_operator(
    state: &AppState,
    user_id: Uuid,
    session_id: Uuid,
) -> Result<Operator, ApiError> {
    let user = match accounts::find_user(&state.platform, user_id).await {
        Ok(u) => u,
        Err(DomainError::NotFound { .. }) => {
            return Err(ApiError::unauthenticated(
                "invalid_token",
                "the session is no longer valid; sign in again",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if user.disabled_at.is_some() {
        return Err(ApiError::unauthenticated(
            "account_disabled",
            "this account is disabled",
        ));
    }
    if !accounts::is_operator(&state.platform, user_id).await? {
        return Err(not_an_operator());
    }
    Ok(Operator {
        user_id,
        session_id,
        email: user.email,
    })
}

fn not_an_operator() -> ApiError {
    ApiError::forbidden(
        "not_an_operator",
        "the queues hold every business's work: only platform operators may see them",
    )
}

/// A cookie's value from the request's `Cookie` headers.
#[must_use]
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    /// A Bearer token (scripts) or the console's cookie (browsers). Tenant sessions, owners
    /// included, are refused with 403.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(o) = parts.extensions.get::<Operator>() {
            return Ok(o.clone());
        }
        let token = match bearer(parts) {
            Ok(t) => t,
            Err(e) => cookie(parts, OPS_COOKIE).ok_or(e)?,
        };
        let claims = verified_claims(state, token).await?;
        if claims.tid != sessions::OPERATOR_SESSION {
            return Err(not_an_operator());
        }
        let o = load_operator(state, claims.sub, claims.sid).await?;
        parts.extensions.insert(o.clone());
        Ok(o)
    }
}

impl FromRequestParts<AppState> for TenantCtx {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, state).await?;
        let db = state.tenants.connection(&principal.tenant).await?;
        Ok(Self { principal, db })
    }
}

/// The client's address: the connection's, or, when the connection comes from a load balancer
/// named in `NEXUS_TRUSTED_PROXIES`, the nearest address in `X-Forwarded-For` that is not one of
/// them (a client can prepend anything to that header; only what our proxies appended counts).
/// Absent in in-process tests without a connection.
#[derive(Debug, Clone, Default)]
pub struct ClientIp(pub Option<String>);

impl ClientIp {
    /// The client address of a request from `peer` with these headers, trusting `proxies`.
    #[must_use]
    pub fn resolve(
        peer: Option<std::net::IpAddr>,
        headers: &axum::http::HeaderMap,
        proxies: &[std::net::IpAddr],
    ) -> Option<std::net::IpAddr> {
        let peer = peer?;
        if !proxies.contains(&peer) {
            return Some(peer);
        }
        let forwarded: Vec<std::net::IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|a| a.trim().parse().ok())
            .collect::<Option<Vec<_>>>()
            // A malformed header is not evidence of anything: the proxy's own address stands.
            .unwrap_or_default();
        Some(
            forwarded
                .into_iter()
                .rev()
                .find(|a| !proxies.contains(a))
                .unwrap_or(peer),
        )
    }
}

impl<S> FromRequestParts<S> for ClientIp
where
    AppState: axum::extract::FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|ci| ci.0.ip());
        Ok(Self(
            Self::resolve(peer, &parts.headers, &state.config.trusted_proxies)
                .map(|ip| ip.to_string()),
        ))
    }
}
