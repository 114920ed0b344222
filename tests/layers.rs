//! The layers of docs/ARCHITECTURE.md, checked: every `crate::` path in a layer's files
//! names that layer or one below it. A new import that goes up fails here.

use std::collections::BTreeSet;
use std::path::Path;

/// Each layer and what it may import (itself included).
const LAYERS: &[(&str, &[&str])] = &[
    ("vocab", &["vocab"]),
    ("source", &["vocab", "source"]),
    ("decode", &["vocab", "decode"]),
    ("gomod", &["vocab", "decode", "gomod"]),
    ("present", &["vocab", "gomod", "present"]),
    ("session", &["vocab", "gomod", "present", "session"]),
    ("ui", &["session", "present", "ui"]),
    ("export", &["session", "present", "export"]),
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a file names as `crate::NAME`.
fn imported(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        // `gomodwatch::crate::` never occurs; skip `$crate::` in macros.
        if text[..i].ends_with('$') {
            continue;
        }
        let name: String = text[i + 7..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

#[test]
fn imports_only_go_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    let mut checked = 0;
    for (layer, allowed) in LAYERS {
        let mut files = Vec::new();
        rust_files(&src.join(layer), &mut files);
        assert!(!files.is_empty(), "no files under src/{layer}");
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for name in imported(&text) {
                if !allowed.contains(&name.as_str()) {
                    violations.push(format!("{} imports crate::{name}", f.display()));
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} files checked");
    assert!(
        violations.is_empty(),
        "imports that go up:\n{}",
        violations.join("\n")
    );
}
