//! `docs/layout.md` says where things are; this keeps it true: every path
//! it names exists, and every module under `src/`, every script and every
//! top-level folder is named in it.
#![allow(clippy::unwrap_used)] // test code: a panic is how it fails

use std::collections::BTreeSet;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The paths the page's block names, as written (folders end in `/`).
fn named() -> BTreeSet<String> {
    let page = std::fs::read_to_string(root().join("docs/layout.md")).unwrap();
    let block = page.split("```").nth(1).expect("a block of paths");
    block
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// The entries of `dir` (relative to the crate), folders with a `/`.
fn entries(dir: &str) -> Vec<String> {
    std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let prefix = if dir.is_empty() {
                String::new()
            } else {
                format!("{dir}/")
            };
            if e.file_type().unwrap().is_dir() {
                format!("{prefix}{name}/")
            } else {
                format!("{prefix}{name}")
            }
        })
        .collect()
}

#[test]
fn every_path_the_layout_names_exists() {
    for path in named() {
        assert!(
            root().join(&path).exists(),
            "docs/layout.md names {path}, which is not there"
        );
    }
}

#[test]
fn every_module_script_and_folder_is_in_the_layout() {
    let named = named();
    let mut missing = Vec::new();
    for entry in entries("src").into_iter().chain(entries("scripts")) {
        if !named.contains(&entry) {
            missing.push(entry);
        }
    }
    let ignored = ["target/", "node_modules/", "data/", ".git/", ".ci/"];
    for entry in entries("") {
        let folder = entry.ends_with('/');
        if folder && !entry.starts_with('.') && !ignored.contains(&entry.as_str()) {
            let listed = named.iter().any(|n| n.starts_with(&entry));
            if !listed {
                missing.push(entry);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/layout.md does not name {missing:?}"
    );
}
