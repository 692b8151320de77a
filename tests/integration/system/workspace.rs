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

/// The module path of a source file (`entities/src/invoicing/global.rs` → `invoicing::global`).
fn module_of(src: &std::path::Path, file: &std::path::Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The modules of one crate each file names by a `crate::…` or `super::…` path, resolved to the
/// longest module that exists; a file naming its own descendants or ancestors does not count.
fn module_edges(src: &std::path::Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(src, f)).collect();
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut edges = BTreeMap::new();
    for f in &files {
        let me = module_of(src, f);
        // Comments (doc links included) name modules without importing them.
        let text: String = std::fs::read_to_string(f)
            .expect("read source")
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut targets = BTreeSet::new();
        for (start, prefix) in [
            ("crate::", Vec::new()),
            ("super::", {
                // `super` of a file module is its parent; of a `mod.rs`, the grandparent.
                let mut p = me.clone();
                p.pop();
                p
            }),
        ] {
            for (i, _) in text.match_indices(start) {
                if i > 0 && text[..i].chars().next_back().is_some_and(word) {
                    continue;
                }
                let rest = &text[i + start.len()..];
                let segs: Vec<String> = rest
                    .split("::")
                    .map_while(|s| {
                        let w: String = s.chars().take_while(|&c| word(c)).collect();
                        (!w.is_empty() && w.len() == s.len().min(w.len())).then_some(w)
                    })
                    .collect();
                let mut path = prefix.clone();
                let mut best = None;
                for s in segs {
                    path.push(s);
                    if modules.contains(&path) {
                        best = Some(path.clone());
                    }
                }
                if let Some(t) = best
                    && !t.starts_with(&me)
                    && !me.starts_with(&t)
                {
                    targets.insert(t.join("::"));
                }
            }
        }
        edges.insert(me.join("::"), targets);
    }
    edges
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut circles = Vec::new();
    for krate in ["entities", "api", "jobs", "workers", "schedules", "ops"] {
        let edges = module_edges(&root.join(krate).join("src"));
        for (from, tos) in &edges {
            for to in tos {
                // sea-orm's relations name each other's tables: a table pair is not a circle.
                let tables = from.contains("tables") && to.contains("tables");
                if from < to && !tables && edges.get(to).is_some_and(|back| back.contains(from)) {
                    circles.push(format!("{krate}: {from} <-> {to}"));
                }
            }
        }
    }
    assert!(
        circles.is_empty(),
        "modules that import each other: {circles:#?}"
    );
}
