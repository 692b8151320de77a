//! The crate layering of DESIGN.md §2, read from `cargo metadata`.

use std::collections::{BTreeMap, BTreeSet};

const OURS: [&str; 8] = [
    "api",
    "entities",
    "jobs",
    "migration",
    "ops",
    "schedules",
    "tests",
    "workers",
];

fn allowed(from: &str) -> &'static [&'static str] {
    match from {
        "entities" | "migration" => &[],
        "jobs" => &["entities"],
        "workers" | "schedules" | "api" => &["entities", "jobs"],
        "ops" => &[
            "api",
            "workers",
            "schedules",
            "entities",
            "jobs",
            "migration",
        ],
        "tests" => &OURS,
        _ => &[],
    }
}

#[test]
fn no_crate_imports_a_crate_its_layer_forbids() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(&root)
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata json");
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for pkg in meta["packages"].as_array().expect("packages") {
        let name = pkg["name"].as_str().expect("name").to_owned();
        let deps = pkg["dependencies"].as_array().expect("deps");
        let ours: BTreeSet<String> = deps
            .iter()
            .filter(|d| d["path"].is_string())
            .map(|d| d["name"].as_str().expect("dep name").to_owned())
            .collect();
        edges.insert(name, ours);
    }
    let names: BTreeSet<&str> = edges.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        OURS.into_iter().collect(),
        "the workspace's top level is fixed"
    );
    let mut forbidden = Vec::new();
    for (from, tos) in &edges {
        for to in tos {
            if !allowed(from).contains(&to.as_str()) {
                forbidden.push(format!("{from} -> {to}"));
            }
        }
    }
    assert!(forbidden.is_empty(), "forbidden imports: {forbidden:?}");
}
