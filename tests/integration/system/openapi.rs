//! The OpenAPI document is a contract: it is committed as `tests/openapi.json` and compared, so a
//! change of any path, parameter, schema or status fails this test and shows in review as a diff of
//! that file.
//!
//! After a deliberate change, write the new document with
//! `NEXUS_UPDATE_OPENAPI=1 cargo test -p tests --test integration openapi` and commit it.

use std::path::PathBuf;

fn snapshot_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("openapi.json")
}

#[test]
fn the_openapi_document_equals_the_committed_snapshot() {
    let mut current = api::openapi()
        .to_pretty_json()
        .expect("the document serialises");
    current.push('\n');
    let path = snapshot_path();
    if std::env::var_os("NEXUS_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &current).expect("write the snapshot");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    // Compared as JSON values: the order of paths and schemas follows the order routers are
    // merged in, which is layout, not contract; the order inside arrays (parameters, tags) counts.
    let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).ok();
    if parse(&committed) != parse(&current) {
        let first = committed
            .lines()
            .zip(current.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(current.lines().count()));
        panic!(
            "the OpenAPI document differs from tests/openapi.json (first differing line {}: \
             committed {:?}, now {:?}); if the change is meant, run with NEXUS_UPDATE_OPENAPI=1",
            first + 1,
            committed.lines().nth(first),
            current.lines().nth(first),
        );
    }
}

#[test]
fn request_schemas_say_that_unknown_fields_and_control_characters_are_refused() {
    let doc = serde_json::to_value(api::openapi()).expect("the document serialises");
    let s = &doc["components"]["schemas"];
    let payment = &s["AccountPaymentRequest"];
    assert_eq!(payment["additionalProperties"], false);
    assert_eq!(
        payment["properties"]["note"]["pattern"],
        api::contract::NO_CONTROL_CHARACTERS
    );
    // An enum says what it takes; no pattern is added to it.
    assert!(payment["properties"]["method"]["pattern"].is_null());
    // A schema of responses promises nothing more than before.
    let view = &s["CustomerView"];
    assert!(view["additionalProperties"].is_null());
    assert!(view["properties"]["name"]["pattern"].is_null());
}

/// utoipa keys components by the Rust name alone: two request types of one name in different
/// areas would silently describe one body with the other's fields (it happened to three names).
#[test]
fn no_two_schemas_of_the_api_share_a_name() {
    fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                let mut derives = false;
                let mut format_macro = false;
                for line in text.lines() {
                    let t = line.trim();
                    // Schemas written by hand name themselves (`Cow::Borrowed("CashCountRequest")`)
                    // or come from `text_format!(/// doc, Name, …)`.
                    if let Some(rest) = t.split("Cow::Borrowed(\"").nth(1) {
                        let name = rest.split('"').next().unwrap().to_owned();
                        out.push((name, p.display().to_string()));
                    }
                    if t.starts_with("text_format!(") {
                        format_macro = true;
                        continue;
                    }
                    if format_macro && !t.starts_with("///") {
                        out.push((t.trim_end_matches(',').to_owned(), p.display().to_string()));
                        format_macro = false;
                        continue;
                    }
                    if t.starts_with("#[derive(") && t.contains("ToSchema") {
                        derives = true;
                    } else if derives
                        && (t.starts_with("pub struct ") || t.starts_with("pub enum "))
                    {
                        let name = t
                            .split_whitespace()
                            .nth(2)
                            .unwrap()
                            .trim_end_matches(['{', '(', ';'])
                            .split('<')
                            .next()
                            .unwrap()
                            .to_owned();
                        out.push((name, p.display().to_string()));
                        derives = false;
                    } else if !t.starts_with("#[") && !t.starts_with("///") {
                        derives = false;
                    }
                }
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../api/src");
    let mut names = Vec::new();
    walk(&root, &mut names);
    assert!(
        names.len() > 100,
        "the scan found the schemas: {}",
        names.len()
    );
    names.sort();
    let dup: Vec<_> = names.windows(2).filter(|w| w[0].0 == w[1].0).collect();
    assert!(dup.is_empty(), "schemas sharing a name: {dup:?}");
}
