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

/// Copies the sources and the layer check to a scratch tree, changes one
/// file there and runs the check: (its exit code, what it printed).
fn check_layers_after(change: &str, line: &str) -> (i32, String) {
    let scratch = tempfile::tempdir().unwrap();
    let copy = std::process::Command::new("cp")
        .args(["-r", "src", "scripts"])
        .arg(scratch.path())
        .current_dir(root())
        .status()
        .unwrap();
    assert!(copy.success());
    let file = scratch.path().join(change);
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str(line);
    std::fs::write(&file, text).unwrap();
    let run = std::process::Command::new("bash")
        .arg(scratch.path().join("scripts/check-layers"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&run.stdout).into_owned();
    (run.status.code().unwrap_or(-1), said)
}

#[test]
fn the_layer_check_passes_and_names_a_domain_module_that_imports_diesel() {
    let (code, said) = check_layers_after("src/lib.rs", "\n");
    assert_eq!(code, 0, "{said}");

    let (code, said) = check_layers_after("src/sla/mod.rs", "\nuse diesel::prelude::*;\n");
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("src/sla/mod.rs"), "{said}");
    assert!(said.contains("use diesel::prelude::*;"), "{said}");

    let (code, said) = check_layers_after("src/http/map.rs", "\nuse diesel::prelude::*;\n");
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("http/ uses diesel"), "{said}");

    let (code, said) = check_layers_after(
        "src/http/health.rs",
        "\nfn _around() {\n    let _ = crate::db::health::suspected();\n}\n",
    );
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("http/ reaches into db/"), "{said}");
    assert!(said.contains("src/http/health.rs"), "{said}");

    let (code, said) = check_layers_after(
        "src/db/seed.rs",
        "\nfn _demo() {\n    let _ = crate::demo::DEMO_PASSWORD;\n}\n",
    );
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("db/ reaches up"), "{said}");
}

#[test]
fn the_layer_check_names_an_import_circle() {
    let (code, said) = check_layers_after(
        "src/db/supervisor.rs",
        "\nfn _one_way() {\n    let _ = super::outbox::ALL;\n}\n",
    );
    // outbox does not import supervisor: no circle yet.
    assert_eq!(code, 0, "{said}");
    let (code, said) = check_layers_after(
        "src/db/catalog.rs",
        "\nfn _circle() {\n    let _ = super::sla::lease_due;\n}\n",
    );
    assert_eq!(code, 1, "{said}");
    assert!(
        said.contains("import circle: db/catalog -> db/sla -> db/catalog"),
        "{said}"
    );
}
