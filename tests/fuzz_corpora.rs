//! The fuzz targets' corpora replayed on stable, through the same entry points the cargo-fuzz
//! targets call (`gomodwatch::fuzzing`): every committed corpus input (`fuzz/corpus/TARGET/`)
//! and every input that once crashed a target (`tests/data/fuzz-regressions/TARGET/`, each
//! fixed since) must run without a panic. `tests/fuzz.sh` fuzzes briefly on top of this.

use gomodwatch::fuzzing::TARGETS;
use std::path::{Path, PathBuf};

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .map(|e| e.expect("read corpus dir").path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

fn replay(root: &Path, at_least: usize) {
    let mut total = 0;
    for (name, run) in TARGETS {
        for input in inputs(&root.join(name)) {
            let data = std::fs::read(&input).expect("read corpus input");
            let caught = std::panic::catch_unwind(|| run(&data));
            assert!(caught.is_ok(), "{name} panicked on {}", input.display());
            total += 1;
        }
    }
    assert!(
        total >= at_least,
        "only {total} inputs under {}",
        root.display()
    );
}

#[test]
fn every_target_has_a_corpus_and_a_cargo_fuzz_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    for (name, _) in TARGETS {
        assert!(
            !inputs(&root.join("corpus").join(name)).is_empty(),
            "fuzz/corpus/{name} is empty"
        );
        let target = root.join("fuzz_targets").join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&target).expect("fuzz target source");
        assert!(
            text.contains(&format!("gomodwatch::fuzzing::{name}(")),
            "{} does not call gomodwatch::fuzzing::{name}",
            target.display()
        );
    }
}

#[test]
fn corpora_replay_without_panics() {
    replay(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus"),
        100,
    );
}

/// Every target has regression inputs (a real crash input once one is found; until then
/// minimized corpus entries, tests/data/fuzz-regressions/README.md), so this replay cannot
/// pass on an empty or misnamed folder.
#[test]
fn fixed_crashes_stay_fixed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz-regressions");
    for (name, _) in TARGETS {
        assert!(
            !inputs(&root.join(name)).is_empty(),
            "tests/data/fuzz-regressions/{name} is empty"
        );
    }
    replay(&root, TARGETS.len());
}
