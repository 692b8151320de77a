//! `/pos/api/auth`: login, tokens, refresh rotation, logout, throttling.

use base64::Engine;
use entities::Role;
use entities::org::accounts;
use http::{Method, StatusCode};
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::{Value, json};
use tests::app::{PASSWORD, SECRET};
use tests::{TestApp, shape_tests};

shape_tests!(
    forty_parallel_wrong_guesses_evaluate_at_most_five_and_oversized_credentials_are_422,
    login_returns_tokens_user_and_tenant,
    a_wrong_password_returns_401,
    an_unknown_user_gets_the_same_401_as_a_wrong_password,
    a_disabled_user_cannot_log_in_and_loses_open_sessions,
    me_answers_with_the_user_the_tenant_and_memberships,
    forged_expired_and_misaddressed_tokens_return_401,
    refresh_rotates_and_reusing_a_refresh_token_revokes_the_family,
    logout_ends_the_session_for_both_tokens,
    a_user_in_two_tenants_must_choose_one,
    a_password_change_ends_every_session,
    login_is_throttled_per_account_with_retry_after,
    login_is_throttled_per_client_address,
    behind_a_trusted_proxy_the_client_address_comes_from_x_forwarded_for,
    logins_are_written_to_the_audit_log,
);

async fn login_returns_tokens_user_and_tenant(app: TestApp) {
    let t = app.tenant("acme").await;
    let r = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": "OWNER@acme.mx ", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let j = &r.json;
    assert_eq!(j["token_type"], "Bearer");
    assert_eq!(j["expires_in"], 900);
    assert!(j["access_token"].as_str().unwrap().split('.').count() == 3);
    assert!(j["refresh_token"].as_str().unwrap().starts_with("nxr_"));
    assert_eq!(j["user"]["email"], "owner@acme.mx");
    assert_eq!(j["user"]["role"], "owner");
    assert_eq!(j["tenant"]["slug"], "acme");
    assert_eq!(j["tenant"]["id"], t.tenant.id.to_string());
}

async fn a_wrong_password_returns_401(app: TestApp) {
    app.tenant("acme").await;
    let r = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": "owner@acme.mx", "password": "not the password"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "invalid_credentials");
    assert!(
        r.json["error"]["request_id"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert!(r.json.get("access_token").is_none());
}

async fn an_unknown_user_gets_the_same_401_as_a_wrong_password(app: TestApp) {
    app.tenant("acme").await;
    let unknown = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": "nobody@acme.mx", "password": PASSWORD}),
        )
        .await;
    let wrong = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": "owner@acme.mx", "password": "wrong password!"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.code(), wrong.code());
    assert_eq!(
        unknown.json["error"]["message"],
        wrong.json["error"]["message"]
    );
}

async fn a_disabled_user_cannot_log_in_and_loses_open_sessions(app: TestApp) {
    let t = app.tenant("acme").await;
    let cashier = app.user(&t, Role::Cashier, None).await;
    let session = app.login(&cashier).await;
    let access = session["access_token"].as_str().unwrap();
    accounts::set_disabled(&app.app.platform, &cashier, true)
        .await
        .unwrap();

    let r = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": cashier, "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "account_disabled");
    let me = app.session(access).get("/pos/api/auth/me").await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED, "{}", me.text());
    let refresh = app
        .post(
            "/pos/api/auth/refresh",
            None,
            json!({"refresh_token": session["refresh_token"]}),
        )
        .await;
    assert_eq!(refresh.status, StatusCode::UNAUTHORIZED);
}

async fn me_answers_with_the_user_the_tenant_and_memberships(app: TestApp) {
    let t = app.tenant("acme").await;
    let token = app.token(&t.owner_email).await;
    let r = app.session(&token).get("/pos/api/auth/me").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json["user"]["email"], "owner@acme.mx");
    assert_eq!(r.json["tenant"]["slug"], "acme");
    assert_eq!(r.json["memberships"].as_array().unwrap().len(), 1);
    let anonymous = app.get("/pos/api/auth/me", None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.code(), "missing_token");
}

fn claims_from(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

fn sign(claims: &Value, secret: &[u8]) -> String {
    encode(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

async fn forged_expired_and_misaddressed_tokens_return_401(app: TestApp) {
    let t = app.tenant("acme").await;
    let good = app.token(&t.owner_email).await;
    assert_eq!(
        app.session(&good).get("/pos/api/auth/me").await.status,
        StatusCode::OK
    );
    let claims = claims_from(&good);
    let now = chrono::Utc::now().timestamp();
    let with = |k: &str, v: Value| {
        let mut c = claims.clone();
        c[k] = v;
        c
    };
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims)
    );
    let mut no_exp = claims.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    let mut no_sub = claims.clone();
    no_sub.as_object_mut().unwrap().remove("sub");
    let hs512 = encode(
        &Header::new(jsonwebtoken::Algorithm::HS512),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let tampered = {
        let parts: Vec<&str> = good.split('.').collect();
        format!(
            "{}.{}.{}",
            parts[0],
            b64(&with("tid", json!(uuid::Uuid::now_v7()))),
            parts[2]
        )
    };
    let cases = [
        (
            "signed with another secret",
            sign(&claims, b"another-secret-another-secret-0123456789"),
        ),
        ("alg none", alg_none),
        (
            "expired",
            sign(&with("exp", json!(now - 3600)), SECRET.as_bytes()),
        ),
        (
            "wrong audience",
            sign(&with("aud", json!("someone-else")), SECRET.as_bytes()),
        ),
        (
            "wrong issuer",
            sign(&with("iss", json!("evil")), SECRET.as_bytes()),
        ),
        ("no exp", sign(&no_exp, SECRET.as_bytes())),
        ("no sub", sign(&no_sub, SECRET.as_bytes())),
        ("another algorithm", hs512),
        ("tampered payload", tampered),
        ("garbage", "not.a.token".to_owned()),
    ];
    for (what, token) in cases {
        let r = app.session(&token).get("/pos/api/auth/me").await;
        assert_eq!(
            r.status,
            StatusCode::UNAUTHORIZED,
            "{what} was accepted: {}",
            r.text()
        );
        assert!(
            r.code() == "invalid_token" || r.code() == "token_expired",
            "{what}: {}",
            r.code()
        );
    }
    let expired = app
        .session(&sign(&with("exp", json!(now - 3600)), SECRET.as_bytes()))
        .get("/pos/api/auth/me")
        .await;
    assert_eq!(expired.code(), "token_expired");
}

async fn refresh_rotates_and_reusing_a_refresh_token_revokes_the_family(app: TestApp) {
    let t = app.tenant("acme").await;
    let first = app.login(&t.owner_email).await;
    let r1 = first["refresh_token"].clone();
    let second = app
        .post("/pos/api/auth/refresh", None, json!({"refresh_token": r1}))
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text());
    let r2 = second.json["refresh_token"].clone();
    assert_ne!(r1, r2);
    assert_eq!(
        app.get("/pos/api/auth/me", second.json["access_token"].as_str())
            .await
            .status,
        StatusCode::OK
    );

    // A thief replays the first token: refused, and the whole family dies.
    let replay = app
        .post("/pos/api/auth/refresh", None, json!({"refresh_token": r1}))
        .await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert_eq!(replay.code(), "refresh_token_reused");
    let legit = app
        .post("/pos/api/auth/refresh", None, json!({"refresh_token": r2}))
        .await;
    assert_eq!(legit.status, StatusCode::UNAUTHORIZED);
    assert_eq!(legit.code(), "refresh_token_revoked");
    let me = app
        .get("/pos/api/auth/me", second.json["access_token"].as_str())
        .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    assert_eq!(me.code(), "session_ended");

    let unknown = app
        .post(
            "/pos/api/auth/refresh",
            None,
            json!({"refresh_token": "nxr_nope"}),
        )
        .await;
    assert_eq!(unknown.code(), "refresh_token_invalid");
}

async fn logout_ends_the_session_for_both_tokens(app: TestApp) {
    let t = app.tenant("acme").await;
    let s = app.login(&t.owner_email).await;
    let other = app.login(&t.owner_email).await;
    let r = app
        .post(
            "/pos/api/auth/logout",
            None,
            json!({"refresh_token": s["refresh_token"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.post(
            "/pos/api/auth/logout",
            None,
            json!({"refresh_token": s["refresh_token"]})
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    let refresh = app
        .post(
            "/pos/api/auth/refresh",
            None,
            json!({"refresh_token": s["refresh_token"]}),
        )
        .await;
    assert_eq!(refresh.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/pos/api/auth/me", s["access_token"].as_str())
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Another device's session is untouched.
    assert_eq!(
        app.get("/pos/api/auth/me", other["access_token"].as_str())
            .await
            .status,
        StatusCode::OK
    );
}

async fn a_user_in_two_tenants_must_choose_one(app: TestApp) {
    let a = app.tenant("acme").await;
    let b = app.tenant("bolt").await;
    let user = accounts::find_user_by_email(&app.app.platform, &a.owner_email)
        .await
        .unwrap()
        .unwrap();
    accounts::add_membership(&app.app.platform, user.id, b.tenant.id, Role::Viewer, None)
        .await
        .unwrap();

    let r = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": a.owner_email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.code(), "tenant_required");
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("bolt")
    );

    let r = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": a.owner_email, "password": PASSWORD, "tenant": "bolt"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json["tenant"]["slug"], "bolt");
    assert_eq!(r.json["user"]["role"], "viewer");

    let r = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": a.owner_email, "password": PASSWORD, "tenant": "zeta"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.code(), "not_a_member");
}

async fn a_password_change_ends_every_session(app: TestApp) {
    let t = app.tenant("acme").await;
    let s = app.login(&t.owner_email).await;
    accounts::set_password(
        &app.app.platform,
        &t.owner_email,
        "a brand new password".into(),
    )
    .await
    .unwrap();
    assert_eq!(
        app.get("/pos/api/auth/me", s["access_token"].as_str())
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let r = app
        .post(
            "/pos/api/auth/refresh",
            None,
            json!({"refresh_token": s["refresh_token"]}),
        )
        .await;
    assert_eq!(r.code(), "refresh_token_revoked");
    let old = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": t.owner_email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = app
        .post(
            "/pos/api/auth/login",
            None,
            json!({"email": t.owner_email, "password": "a brand new password"}),
        )
        .await;
    assert_eq!(new.status, StatusCode::OK);
}

async fn login_is_throttled_per_account_with_retry_after(app: TestApp) {
    let t = app.tenant("acme").await;
    for i in 0..5 {
        let ip = format!("10.1.0.{i}");
        let req = TestApp::request(
            Method::POST,
            "/pos/api/auth/login",
            None,
            Some(&json!({"email": t.owner_email, "password": "wrong password"})),
            Some(&ip),
        );
        assert_eq!(app.send(req).await.status, StatusCode::UNAUTHORIZED);
    }
    // Even the right password, from yet another address, waits now.
    let req = TestApp::request(
        Method::POST,
        "/pos/api/auth/login",
        None,
        Some(&json!({"email": t.owner_email, "password": PASSWORD})),
        Some("10.1.0.99"),
    );
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.code(), "too_many_requests");
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry));
    // Other accounts are not affected.
    let other = app.user(&t, Role::Cashier, None).await;
    app.login(&other).await;
}

async fn login_is_throttled_per_client_address(app: TestApp) {
    let t = app.tenant("acme").await;
    for i in 0..20 {
        let body = json!({"email": format!("guess{i}@acme.mx"), "password": "wrong password"});
        let r = app
            .send(TestApp::request(
                Method::POST,
                "/pos/api/auth/login",
                None,
                Some(&body),
                Some("10.9.9.9"),
            ))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let body = json!({"email": t.owner_email, "password": PASSWORD});
    let r = app
        .send(TestApp::request(
            Method::POST,
            "/pos/api/auth/login",
            None,
            Some(&body),
            Some("10.9.9.9"),
        ))
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let r = app
        .send(TestApp::request(
            Method::POST,
            "/pos/api/auth/login",
            None,
            Some(&body),
            Some("10.9.9.10"),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
}

async fn logins_are_written_to_the_audit_log(app: TestApp) {
    use entities::org::tables::platform_audit_log;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let t = app.tenant("acme").await;
    app.login(&t.owner_email).await;
    app.post(
        "/pos/api/auth/login",
        None,
        json!({"email": t.owner_email, "password": "wrong password"}),
    )
    .await;
    let rows = platform_audit_log::Entity::find()
        .filter(platform_audit_log::Column::Action.is_in(["auth.login", "auth.login_failed"]))
        .all(&app.app.platform)
        .await
        .unwrap();
    assert_eq!(rows.iter().filter(|r| r.action == "auth.login").count(), 1);
    assert_eq!(
        rows.iter()
            .filter(|r| r.action == "auth.login_failed")
            .count(),
        1
    );
    let ok = rows.iter().find(|r| r.action == "auth.login").unwrap();
    assert_eq!(ok.tenant_id, Some(t.tenant.id));
    assert!(ok.request_id.is_some());
    assert!(
        !rows.iter().any(|r| r
            .details
            .as_ref()
            .is_some_and(|d| d.to_string().contains("wrong password"))),
        "a password was audited"
    );
}

/// Forty wrong guesses for one account sent at once, from forty addresses: each attempt is taken
/// before the password is checked, so at most five are evaluated (401) and the rest wait (429).
/// An e-mail past 254 characters or a password past 1 KiB is 422 before any of that.
async fn forty_parallel_wrong_guesses_evaluate_at_most_five_and_oversized_credentials_are_422(
    app: TestApp,
) {
    let t = app.tenant("rafaga").await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (app, email) = (app.clone(), t.owner_email.clone());
        tasks.push(tokio::spawn(async move {
            let req = TestApp::request(
                Method::POST,
                "/pos/api/auth/login",
                None,
                Some(&json!({"email": email, "password": format!("guess number {i}")})),
                Some(&format!("10.2.0.{i}")),
            );
            app.send(req).await.status
        }));
    }
    let mut evaluated = 0;
    for task in tasks {
        match task.await.unwrap() {
            StatusCode::UNAUTHORIZED => evaluated += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("a guess answered {other}"),
        }
    }
    assert!(evaluated <= 5, "{evaluated} guesses were evaluated");
    for body in [
        json!({"email": format!("{}@x.mx", "a".repeat(260)), "password": "whatever password"}),
        json!({"email": "someone@x.mx", "password": "p".repeat(2000)}),
    ] {
        let req = TestApp::request(Method::POST, "/pos/api/auth/login", None, Some(&body), None);
        let r = app.send(req).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    }
}

/// Distributed only: several API processes are the distributed shape's (the embedded shape is
/// one process on one SQLite folder).
#[tokio::test]
async fn guesses_split_across_two_api_processes_share_one_limit() {
    let Some(app) = TestApp::distributed().await else {
        return;
    };
    let t = app.tenant("dos-api").await;
    // A second API process on the same databases and Redis, as behind a load balancer.
    let second = TestApp::build(&app.vars).await.unwrap();
    let mut unauthorized = 0;
    for i in 0..40 {
        let req = TestApp::request(
            Method::POST,
            "/pos/api/auth/login",
            None,
            Some(&json!({"email": t.owner_email, "password": format!("guess {i}")})),
            Some(&format!("10.3.0.{i}")),
        );
        let status = if i % 2 == 0 {
            app.send(req).await.status
        } else {
            use tower::ServiceExt;
            second.router.clone().oneshot(req).await.unwrap().status()
        };
        match status {
            StatusCode::UNAUTHORIZED => unauthorized += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("guess {i}: {other}"),
        }
    }
    // The counters live in Redis: the two processes together evaluated the account's five.
    assert_eq!(unauthorized, 5, "guesses evaluated");
}

async fn behind_a_trusted_proxy_the_client_address_comes_from_x_forwarded_for(mut app: TestApp) {
    app.reconfigure(&[("NEXUS_TRUSTED_PROXIES", "10.0.0.1")])
        .await;
    app.tenant("proxy").await;
    let guess = |from: &str, forwarded: &str, i: usize| {
        let mut req = TestApp::request(
            Method::POST,
            "/pos/api/auth/login",
            None,
            Some(&json!({"email": format!("nobody{i}@proxy.mx"), "password": "wrong password"})),
            Some(from),
        );
        req.headers_mut()
            .insert("x-forwarded-for", forwarded.parse().unwrap());
        req
    };
    // Through the proxy, each client is counted on its own: 20 wrong guesses of one client use
    // up that client's attempts only.
    for i in 0..20 {
        let r = app.send(guess("10.0.0.1", "203.0.113.7", i)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "guess {i}");
    }
    let r = app.send(guess("10.0.0.1", "203.0.113.7", 20)).await;
    assert_eq!(
        r.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the client is out of attempts"
    );
    // A client cannot choose its address by prepending one: the proxy appends the real one.
    let r = app
        .send(guess("10.0.0.1", "198.51.100.1, 203.0.113.7", 21))
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "still 203.0.113.7");
    let r = app.send(guess("10.0.0.1", "203.0.113.8", 22)).await;
    assert_eq!(
        r.status,
        StatusCode::UNAUTHORIZED,
        "another client behind the proxy"
    );
    // From an address that is not a proxy the header is ignored: 198.51.100.9 is counted.
    for i in 0..20 {
        let r = app
            .send(guess("198.51.100.9", &format!("192.0.2.{i}"), 100 + i))
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "spoofed guess {i}");
    }
    let r = app.send(guess("198.51.100.9", "192.0.2.200", 200)).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}
