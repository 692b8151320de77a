//! The role × endpoint table (`api::access::RULES`): every endpoint refuses exactly the roles
//! its rule does not admit, every authenticated route has a rule, and `docs/roles.md` is the
//! table.

use std::path::PathBuf;

use api::access::RULES;
use entities::Role;
use http::{Method, StatusCode};
use serde_json::json;
use tests::shop::Shop;
use tests::{TestApp, shape_tests};

shape_tests!(every_endpoint_refuses_exactly_the_roles_its_rule_does_not_admit);

/// A concrete path for a route: ids are the nil UUID, other parameters a plausible value.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').expect("closing brace") + open;
        out.push_str(match &rest[open + 1..close] {
            "vin" => "1HGCM82633A004352",
            "plate" => "ABC1234",
            _ => "00000000-0000-0000-0000-000000000000",
        });
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

async fn every_endpoint_refuses_exactly_the_roles_its_rule_does_not_admit(app: TestApp) {
    let s = Shop::open(&app, "roles").await;
    let mut users = Vec::new();
    for role in Role::ALL {
        users.push((role, s.token(&app, role).await));
    }
    let mut wrong = Vec::new();
    for rule in RULES {
        let method: Method = rule.method.parse().unwrap();
        // An empty body: an admitted role may fail validation, a refused one must not get
        // that far.
        let body = matches!(rule.method, "POST" | "PUT" | "PATCH").then(|| json!({}));
        for (role, token) in &users {
            // A live stream stays open for its `seconds`: one is enough here.
            let path = match concrete(rule.path) {
                p if p.ends_with("/stream") => format!("{p}?seconds=1"),
                p => p,
            };
            let req = TestApp::request(method.clone(), &path, Some(token), body.as_ref(), None);
            let r = app.send(req).await;
            let refused = r.status == StatusCode::FORBIDDEN && r.code() == "forbidden";
            assert_ne!(
                r.status,
                StatusCode::INTERNAL_SERVER_ERROR,
                "{} {} as {role}: {}",
                rule.method,
                rule.path,
                r.text()
            );
            if refused == rule.who.admits(*role) {
                wrong.push(format!(
                    "{} {} as {role}: {} {}",
                    rule.method,
                    rule.path,
                    r.status,
                    r.text()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_route_that_takes_a_bearer_token_has_exactly_one_rule() {
    let doc = serde_json::to_value(api::openapi()).unwrap();
    let mut routes = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            if op.get("security").is_some() {
                routes.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    routes.sort();
    let mut ruled: Vec<String> = RULES
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    ruled.sort();
    let mut unique = ruled.clone();
    unique.dedup();
    assert_eq!(unique, ruled, "a route has two rules");
    assert_eq!(routes, ruled, "the routes and the table differ");
}

#[test]
fn docs_roles_md_is_the_table() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/roles.md");
    let current = api::access::markdown();
    if std::env::var_os("NEXUS_UPDATE_ROLES").is_some() {
        std::fs::write(&path, &current).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == current,
        "docs/roles.md differs from api/src/access.rs: refresh it with \
         NEXUS_UPDATE_ROLES=1 cargo test -p tests --test integration roles"
    );
}

#[test]
fn every_endpoint_that_refuses_a_role_documents_its_403() {
    let doc = serde_json::to_value(api::openapi()).unwrap();
    let undocumented: Vec<String> = RULES
        .iter()
        .filter(|r| !Role::ALL.iter().all(|role| r.who.admits(*role)))
        .filter(|r| {
            doc["paths"][r.path][r.method.to_lowercase()]["responses"]
                .get("403")
                .is_none()
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(undocumented.is_empty(), "{undocumented:?}");
}
