//! The benchmark scripts can fail: `benches/before_after.sh` (through
//! `benches/same_output.sh`) compares this build with itself over every bundled capture and
//! finds nothing, and finds a difference seeded into one capture's `--report` or `--json`;
//! its timing samples are filed by side, so two builds both named `gomodwatch` are not one
//! sample; every script that states a performance target exits non-zero when it is missed.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("gmw-bench-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// An executable shell script at `path`.
fn script(path: &Path, body: &str) {
    std::fs::write(path, body).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// This build against itself, under two paths that both end in `gomodwatch`: every
/// capture's outputs are identical (exit 0, "0 differ"), and the timing samples of the two
/// sides are two files of RUNS samples each, not one of 2 × RUNS (as when they were filed
/// by the binary's name).
#[test]
fn before_after_compares_a_build_with_itself_and_keeps_two_samples() {
    let dir = Scratch::new("self");
    let copy = dir.0.join("after/gomodwatch");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(common::bin(), &copy).unwrap();
    let samples = dir.0.join("samples");
    let capture = common::captures().join("refused-go127.pcap");
    let out = Command::new(root().join("benches/before_after.sh"))
        .arg(common::bin())
        .arg(&copy)
        .arg(&capture)
        .arg("2")
        .env("BA_SAMPLES", &samples)
        // fuzz/corpus/capture_file (300 damaged files) is most of the run's time; the
        // recordings and the fuzz regressions are all compared.
        .env("SAME_OUTPUT_NO_CORPUS", "1")
        .output()
        .unwrap();
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    // Every bundled capture was compared: the count is the folder's, and none differ.
    let line = said
        .lines()
        .find(|l| l.starts_with("same_output: "))
        .unwrap_or_else(|| panic!("no same_output tally:\n{said}"));
    assert!(line.ends_with(" 0 differ"), "{line}");
    let bundled = std::fs::read_dir(common::captures())
        .unwrap()
        .chain(std::fs::read_dir(common::captures().join("direct")).unwrap())
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_str().unwrap();
            name.ends_with(".pcap") || name.ends_with(".pcapng")
        })
        .count();
    assert!(
        line.starts_with("same_output: ")
            && line["same_output: ".len()..]
                .split(' ')
                .next()
                .and_then(|n| n.parse::<usize>().ok())
                .is_some_and(|n| n >= bundled),
        "fewer captures compared than the {bundled} in captures/ and captures/direct: {line}"
    );
    for side in ["before", "after"] {
        for mode in ["spine", "full"] {
            let f = samples.join(format!("{side}-{mode}"));
            let kept = std::fs::read_to_string(&f)
                .unwrap_or_else(|e| panic!("{}: {e}\n{said}", f.display()));
            assert_eq!(kept.lines().count(), 2, "{}:\n{kept}", f.display());
        }
    }
    for mode in ["spine", "full"] {
        assert!(
            said.lines()
                .any(|l| l.starts_with(mode) && l.contains(" after/before: wall ")),
            "{said}"
        );
    }
}

/// A build that says one thing differently on one capture is caught, in `--report` and
/// in the sorted `--json`, and named with the capture's path (exit 1). The seeded builds
/// are the real binary behind a wrapper that changes one line of one output.
#[test]
fn same_output_finds_a_seeded_difference() {
    let dir = Scratch::new("seeded");
    let real = common::bin();
    let capture = "refused-go127";
    for (kind, filter, differs) in [
        // One word of the report changed.
        (
            "report",
            "sed '0,/refused/s//REFUSED/'",
            format!("DIFFERS captures/{capture}.pcap (report):"),
        ),
        // One NDJSON event left out.
        (
            "json",
            "sed '2d'",
            format!("DIFFERS captures/{capture}.pcap (json):"),
        ),
    ] {
        let seeded = dir.0.join(format!("seeded-{kind}"));
        script(
            &seeded,
            &format!(
                "#!/usr/bin/env bash\n\
                 set -o pipefail\n\
                 case \" $* \" in\n\
                 *\"/captures/{capture}.pcap --{kind} \"*) \"{real}\" \"$@\" | {filter} ;;\n\
                 *) exec \"{real}\" \"$@\" ;;\n\
                 esac\n"
            ),
        );
        let out = Command::new(root().join("benches/same_output.sh"))
            .arg(real)
            .arg(&seeded)
            .env(
                "SAME_OUTPUT_ONLY",
                format!("^captures/{capture}\\.pcap$|usage"),
            )
            .output()
            .unwrap();
        let said = text(&out);
        assert_eq!(out.status.code(), Some(1), "{said}");
        assert!(said.contains(&differs), "{said}");
        // Compared to the end (the tally), and only the seeded output differs.
        assert!(said.contains(" 1 differ\n"), "{said}");
    }
}

/// Whether a line of a script states a performance target: the word and a number on the
/// same line ("target: < 100 ms", "Targets ...: (a) <= 1.03x"), not a path (`target/`).
fn states_a_target(line: &str) -> bool {
    let lower = line.to_lowercase();
    lower.match_indices("target").any(|(i, _)| {
        let after = &lower[i..];
        !after.starts_with("target/")
            && !after.starts_with("target_")
            && !after.starts_with("targets.sh")
            && !after.starts_with("targets_")
            && after.chars().any(|c| c.is_ascii_digit())
    })
}

/// Every benchmark script that states a target sources benches/targets.sh and ends with
/// its verdict, and targets.sh exits 3 on a missed target and 0 when all are met.
#[test]
fn scripts_that_state_a_target_fail_when_it_is_missed() {
    let mut stating = Vec::new();
    for e in std::fs::read_dir(root().join("benches")).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if !name.ends_with(".sh") || name == "targets.sh" {
            continue;
        }
        let body = std::fs::read_to_string(&path).unwrap();
        if body.lines().any(states_a_target) {
            assert!(
                body.contains("targets.sh") && body.contains("targets_exit"),
                "benches/{name} states a target but does not exit non-zero when it is missed \
                 (source benches/targets.sh, call `target` and `targets_exit`)"
            );
            stating.push(name);
        }
    }
    stating.sort();
    for must in ["live_capture.sh", "mitm.sh", "replay.sh", "tui_latency.sh"] {
        assert!(
            stating.iter().any(|s| s == must),
            "{must} not found stating a target: {stating:?}"
        );
    }
    let run = |lines: &str| {
        Command::new("bash")
            .arg("-c")
            .arg(format!("source benches/targets.sh\n{lines}\ntargets_exit"))
            .current_dir(root())
            .output()
            .unwrap()
    };
    let met = run("target ratio 1.02 '<=' 1.03 x\ntarget speed 2684 '>=' 1000 MB/s");
    assert_eq!(met.status.code(), Some(0), "{}", text(&met));
    for missed in [
        "target ratio 1.04 '<=' 1.03 x",
        "target speed 818 '>=' 1000 MB/s",
        "target ratio - '<=' 1.03 x",
        "target_unmeasured rss 'no process'",
    ] {
        let out = run(&format!("target fine 1 '<=' 2\n{missed}"));
        assert_eq!(out.status.code(), Some(3), "{missed}: {}", text(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("MISSED"),
            "{}",
            text(&out)
        );
    }
}
