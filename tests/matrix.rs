//! Issue 24's matrix: gomodwatch judged against the go command itself on real recordings
//! (captures/matrix/, made by tests/matrix/record.sh; see tests/matrix/README.md).
//!
//! For every recording, `gomodwatch -r NAME.pcap --json --go-env NAME.env.json` must agree
//! with what the go command did: (1) a module is `ok` exactly when the go command got it,
//! (2) no ERROR when it exited 0, (3) every `go: MODULE@VERSION: ...` error line is matched by
//! a problem naming that module with the same cause class, (4) no password in any output.
//! Known disagreements are listed in tests/matrix/known-disagreements.txt (a ratchet: a new
//! one fails, and so does a listed one that is gone). GMW_MATRIX_STRICT=1 ignores the list,
//! GMW_MATRIX_SHOW=NAME prints one recording in detail, GMW_MATRIX_RATCHET=update rewrites it.

#[path = "matrix/check.rs"]
mod check;
mod common;
#[path = "matrix/oracle.rs"]
mod oracle;
#[path = "matrix/table.rs"]
mod table;

use check::{check, Disagreement, Said};
use oracle::{go_errors, recordings, Recording};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn known_file() -> PathBuf {
    root().join("tests/matrix/known-disagreements.txt")
}

/// Replays one recording with the binary, as a user would with the files the recorder kept.
fn replay(rec: &Recording) -> Said {
    let mut args: Vec<String> = vec![
        "-r".into(),
        rec.path("pcap").to_string_lossy().into(),
        "--json".into(),
        "--go-env".into(),
        rec.path("env.json").to_string_lossy().into(),
    ];
    for a in rec.meta["replay_args"].as_array().into_iter().flatten() {
        let a = a.as_str().unwrap();
        // file arguments are named relative to the recording's directory
        if a.starts_with(&rec.name) {
            args.push(rec.dir.join(a).to_string_lossy().into());
        } else {
            args.push(a.to_string());
        }
    }
    let out = Command::new(env!("CARGO_BIN_EXE_gomodwatch"))
        .args(&args)
        .current_dir(&rec.dir)
        .output()
        .expect("run gomodwatch");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    Said {
        events: stdout
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect(),
        stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status.code(),
    }
}

/// Runs `f` over every item on all cores, keeping the order.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    let n = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..n {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= items.len() {
                    break;
                }
                let r = f(&items[i]);
                results.lock().unwrap()[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(Option::unwrap)
        .collect()
}

fn show(rec: &Recording, said: &Said, dis: &[Disagreement]) {
    println!("\n=== {} ({})", rec.name, rec.meta["description"]);
    println!("go exit {}; requested {:?}", rec.exit, rec.requested());
    for mv in rec.requested() {
        println!(
            "  {mv}: go got it: {}; gomodwatch: {:?}",
            rec.got(&mv),
            said.outcome(&mv)
        );
    }
    for e in go_errors(&rec.xlog) {
        println!("  go error [{:?}] {}: {}", e.causes, e.module, e.text);
    }
    for m in said.modules() {
        println!(
            "  gmw module {}@{} {} cause={} step={} problem={}",
            m["module"], m["version"], m["outcome"], m["cause"], m["step"], m["problem"]
        );
    }
    for p in said.problems() {
        println!(
            "  gmw problem [{}] cause={} {} ({})",
            p["severity"], p["cause"], p["text"], p["subject"]
        );
    }
    if !said.stderr.is_empty() {
        println!("  gmw stderr: {}", said.stderr.trim());
    }
    for d in dis {
        println!("  DISAGREES {}", d.line());
    }
}

/// Compares the disagreements with the ratchet entries of this test (`prefix`: "" for the
/// replays, "live/" for the live runs); with GMW_MATRIX_RATCHET=update rewrites them.
fn ratchet(prefix: &str, all: &[Disagreement], total: usize, consistent: usize) {
    // the two tests of this file share the file: one at a time reads and rewrites it
    static FILE: Mutex<()> = Mutex::new(());
    let _held = FILE.lock().unwrap_or_else(|e| e.into_inner());
    println!("\n{consistent}/{total} recordings consistent");
    for (n, g) in table::grouped(all) {
        println!("  {n:>4} × {g}");
    }
    let text = std::fs::read_to_string(known_file()).unwrap_or_default();
    let mut known = table::read_known(&text);
    let others: Vec<String> = known
        .iter()
        .filter(|(k, _)| k.0.starts_with("live/") != (prefix == "live/"))
        .map(|(_, l)| l.clone())
        .collect();
    known.retain(|k, _| k.0.starts_with("live/") == (prefix == "live/"));
    if std::env::var("GMW_MATRIX_RATCHET").as_deref() == Ok("update") {
        let mut lines: Vec<Disagreement> = all.to_vec();
        lines.sort();
        let mut s = table::render_known(&lines);
        for l in others {
            s.push_str(&l);
            s.push('\n');
        }
        let body: std::collections::BTreeSet<&str> = s
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .collect();
        let mut out = String::from(table::HEADER);
        for l in body {
            out.push_str(l);
            out.push('\n');
        }
        std::fs::write(known_file(), out).unwrap();
        println!("rewrote {}", known_file().display());
        return;
    }
    if std::env::var_os("GMW_MATRIX_STRICT").is_some() {
        known.clear();
    }
    let keys: std::collections::BTreeSet<table::Key> = all.iter().map(table::key).collect();
    let new: Vec<String> = all
        .iter()
        .filter(|d| !known.contains_key(&table::key(d)))
        .map(|d| d.line())
        .collect();
    let mut gone: Vec<&String> = known
        .iter()
        .filter(|(k, _)| !keys.contains(*k))
        .map(|(_, l)| l)
        .collect();
    if prefix == "live/" && !gone.is_empty() {
        // a live run is not a replay: timing differs from run to run, so a listed live
        // disagreement that did not happen this time is said, not failed on
        println!("listed but not seen in this live run:");
        for l in &gone {
            println!("  {l}");
        }
        gone.clear();
    }
    assert!(
        new.is_empty() && gone.is_empty(),
        "the matrix moved:\n{} new disagreement(s) (fix, or list them):\n  {}\n{} listed \
         disagreement(s) no longer seen (remove them: GMW_MATRIX_RATCHET=update):\n  {}",
        new.len(),
        new.join("\n  "),
        gone.len(),
        gone.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

#[test]
fn matrix_replay() {
    let dir = root().join("captures/matrix");
    let names = recordings(&dir);
    assert!(
        names.len() >= 150,
        "captures/matrix has {} recordings, expected at least 150 (tests/matrix/record.sh)",
        names.len()
    );
    let recs: Vec<Recording> = names.iter().map(|n| Recording::load(&dir, n)).collect();
    let results = par_map(&recs, |r| {
        let said = replay(r);
        let dis = check(r, &said);
        (said, dis)
    });
    let show_name = std::env::var("GMW_MATRIX_SHOW").ok();
    let mut all = Vec::new();
    let mut consistent = 0;
    for (rec, (said, dis)) in recs.iter().zip(&results) {
        println!("{}", table::row(rec, said, dis));
        if show_name.as_deref() == Some(rec.name.as_str()) {
            show(rec, said, dis);
        }
        consistent += usize::from(dis.is_empty());
        all.extend(dis.iter().cloned());
    }
    for d in &all {
        println!("DISAGREES {}", d.line());
    }
    if let Ok(f) = std::env::var("GMW_MATRIX_ERRORS") {
        std::fs::write(&f, table::error_classes(&recs)).unwrap();
        println!("wrote the go command's error classes to {f}");
    }
    ratchet("", &all, recs.len(), consistent);
}

/// The fixed sample run live through `gomodwatch run` (GMW_MATRIX_RUN=all: every case).
/// Mostly https (through the MITM): plain-http loopback traffic bypasses the MITM and is
/// judged from gomodwatch's own capture of `lo`, whose verdicts vary from run to run today
/// (http-html-one-sumoff-go127 and http-ok-one-sumrefused-go127 flip between ok and not).
#[cfg(target_os = "linux")]
const LIVE_SAMPLE: &[&str] = &[
    "http-ok-one-sumoff-go127",
    "http-500-comma-sumoff-go127",
    // user:password@ in a GOPROXY list: gomodwatch's "go env" line once showed it (rule 4)
    "http-authurl-comma-sumoff-go127",
    "https-ok-one-sumoff-go127",
    "https-ok-one-sumoff-go119",
    "https-miss404-comma-sumoff-go127",
    "https-500-pipe-sumoff-go127",
    "https-html-one-sumoff-go127",
    "https-auth-one-sumoff-go127",
    "https-authnetrc-one-sumoff-go127",
    "https-untrusted-one-sumoff-go127",
    "https-tampered-one-sumproxy-go127",
    "https-cdn-one-sumoff-go127",
    "squid-allow-https-go127",
    "squid-deny-https-go127",
    "squid-auth-https-go127",
    "line-deadv6-https-go127",
];

#[test]
#[cfg(target_os = "linux")] // tests/common/fixture.rs
fn matrix_run_live() {
    use common::fixture::{can_run, Need, LIVE};
    let mut needs = LIVE.to_vec();
    needs.extend([
        Need::Program("squid"),
        Need::Program("openssl"),
        Need::Program("/usr/share/gocode/src/github.com/mitchellh/go-homedir"),
        Need::Program("/usr/share/gocode/src/github.com/hashicorp/errwrap"),
    ]);
    if !can_run("matrix_run_live", &needs) {
        return;
    }
    let all = std::env::var("GMW_MATRIX_RUN").as_deref() == Ok("all");
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("matrix-live");
    let _ = std::fs::remove_dir_all(&out);
    let mut cmd = Command::new("python3");
    cmd.arg(root().join("tests/matrix/recorder/matrix.py"))
        .arg("--out")
        .arg(&out)
        .arg("--gmw")
        .arg(env!("CARGO_BIN_EXE_gomodwatch"))
        .arg("--via-run")
        .arg("--keep-going");
    if !all {
        cmd.args(LIVE_SAMPLE);
    }
    let status = cmd.status().expect("run the matrix recorder");
    let names = recordings(&out);
    assert!(
        status.success() || all,
        "the recorder failed ({status}); recorded {names:?}"
    );
    let mut dis_all = Vec::new();
    let mut consistent = 0;
    for n in &names {
        let rec = Recording::load(&out, n);
        let stdout = std::fs::read_to_string(rec.path("run.ndjson")).unwrap_or_default();
        // gomodwatch's own stderr lines are interleaved with the go command's
        let stderr: String = rec
            .xlog
            .lines()
            .filter(|l| l.starts_with("gomodwatch"))
            .map(|l| format!("{l}\n"))
            .collect();
        let said = Said {
            events: stdout
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect(),
            stdout,
            stderr,
            status: None,
        };
        let mut dis = check(&rec, &said);
        for d in &mut dis {
            d.name = format!("live/{}", d.name);
        }
        println!("{}", table::row(&rec, &said, &dis));
        if std::env::var("GMW_MATRIX_SHOW").as_deref() == Ok(n.as_str()) {
            show(&rec, &said, &dis);
        }
        consistent += usize::from(dis.is_empty());
        dis_all.extend(dis);
    }
    for d in &dis_all {
        println!("DISAGREES {}", d.line());
    }
    if all {
        println!("\n{consistent}/{} live runs consistent", names.len());
        return; // the full live matrix is a report, not a ratchet
    }
    assert_eq!(names.len(), LIVE_SAMPLE.len(), "live runs missing");
    ratchet("live/", &dis_all, names.len(), consistent);
}
