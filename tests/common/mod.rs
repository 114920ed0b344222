//! Helpers shared by the end-to-end tests: run the real binary on a real capture, and read
//! what the go command itself printed (`-x`) for the same run.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_gomodwatch")
}

/// A fresh directory under the test target's temporary directory.
pub fn tempdir(tag: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn captures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("captures")
}

pub fn run(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .output()
        .expect("run gomodwatch")
}

/// Replays a capture with `--json` and returns the events; panics if it fails.
pub fn replay_json(capture: &Path, extra: &[&str]) -> Vec<Value> {
    let path = capture.to_str().unwrap();
    let mut args = vec!["-r", path, "--json"];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert!(
        out.status.success(),
        "gomodwatch -r {path} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_ndjson(&out.stdout)
}

pub fn parse_ndjson(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

pub fn of_type<'a>(events: &'a [Value], ty: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == ty).collect()
}

/// One request as the go command's `-x` output reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct XRequest {
    pub url: String,
    /// `Some(code)` for "# get URL: 200 OK (0.012s)".
    pub status: Option<u16>,
    /// The printed duration in milliseconds.
    pub ms: Option<f64>,
    /// The transport error text for "# get URL: dial tcp ...: connection refused".
    pub error: Option<String>,
    /// No result line at all (the command was killed while waiting).
    pub unanswered: bool,
}

/// Parses `# get` lines; start and result lines are paired per URL, first in first out.
pub fn parse_xlog(text: &str) -> Vec<XRequest> {
    let mut out: Vec<XRequest> = Vec::new();
    let mut open: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("# get ") else {
            continue;
        };
        // A result line is "URL: detail"; URLs contain ':' only in the scheme and port, so
        // split at ": " which never appears inside the URL.
        match rest.split_once(": ") {
            None => {
                open.entry(rest.to_string()).or_default().push(out.len());
                out.push(XRequest {
                    url: rest.to_string(),
                    status: None,
                    ms: None,
                    error: None,
                    unanswered: true,
                });
            }
            Some((url, detail)) => {
                let idx = open
                    .get_mut(url)
                    .filter(|v| !v.is_empty())
                    .map(|v| v.remove(0))
                    .unwrap_or_else(|| panic!("result without start: {line}"));
                let r = &mut out[idx];
                r.unanswered = false;
                let code = detail.get(..3).and_then(|c| c.parse::<u16>().ok());
                match code {
                    Some(c) if detail.as_bytes().get(3) == Some(&b' ') => {
                        r.status = Some(c);
                        r.ms = detail
                            .rsplit_once('(')
                            .and_then(|(_, t)| t.strip_suffix("s)"))
                            .and_then(|s| s.parse::<f64>().ok())
                            .map(|s| s * 1000.0);
                    }
                    _ => r.error = Some(detail.to_string()),
                }
            }
        }
    }
    out
}
// The real things the end-to-end tests drive (go commands in network namespaces, tcpdump,
// squid, ...) are Linux's; on macOS only the tests without them are compiled
// (tests/darwin-check.sh).
#[cfg(target_os = "linux")]
pub mod fixture;
pub mod synth;
