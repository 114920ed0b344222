//! `gomodwatch compare`: the real go command (1.27) run once per candidate GOPROXY, two
//! rounds, against two real goproxyd servers over HTTPS inside a network namespace — one of
//! them answering every request 150 ms late (its `-delay`). The slow one must rank second
//! and be slower by about its delay per request on the go command's path, each run's
//! budget must add up to its wall clock, and the servers' own logs must hold each run's
//! requests (a fresh module cache each time: nothing is served from a cache).

// Linux only: built on tests/common/fixture.rs (real go commands, network namespaces,
// root); tests/darwin-check.sh type-checks the other tests for macOS.
#![cfg(target_os = "linux")]

mod common;

use common::fixture::*;
use common::*;
use serde_json::Value;
use std::process::Command;

const NEEDS: &[Need] = &[Need::Root, Need::Program("ip")];
const TOML: &str = "github.com/BurntSushi/toml@v1.2.0";
const YAML: &str = "github.com/ghodss/yaml@v1.0.0";
const DELAY_MS: f64 = 150.0;

/// Requests in a goproxyd log (one JSON line each), and those for a `.zip`.
fn logged(log: &std::path::Path) -> (usize, usize) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let all = text.lines().filter(|l| !l.trim().is_empty()).count();
    (all, text.lines().filter(|l| l.contains(".zip")).count())
}

/// The requests the candidate's runs saw, all together.
fn requests_seen(c: &Value) -> u64 {
    c["each_run"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["requests"].as_u64().unwrap())
        .sum()
}

#[test]
fn compare_ranks_a_slow_proxy_second_and_its_budgets_add_up() {
    if !can_run(
        "compare_ranks_a_slow_proxy_second_and_its_budgets_add_up",
        NEEDS,
    ) {
        return;
    }
    let ns = LoNetns::create("cmp");
    let dir = tempdir("compare-cmd");
    let (ca, crt, key) = server_certs(&dir, "gomodwatch test upstream CA", &["goproxy.test"]);
    let tls = [
        "-cert",
        crt.to_str().unwrap(),
        "-key",
        key.to_str().unwrap(),
    ];
    let (fast_log, slow_log) = (dir.join("fast.jsonl"), dir.join("slow.jsonl"));
    let mut fast_args = tls.to_vec();
    fast_args.extend(["-log", fast_log.to_str().unwrap()]);
    let mut slow_args = tls.to_vec();
    slow_args.extend(["-delay", "150ms", "-log", slow_log.to_str().unwrap()]);
    let _fast = goproxyd(Some(&ns.name), "127.0.0.1:4491", &fast_args);
    let _slow = goproxyd(Some(&ns.name), "127.0.0.1:4492", &slow_args);
    let (fast, slow) = ("https://goproxy.test:4491", "https://goproxy.test:4492");

    let home = tempdir("compare-go");
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &ns.name, bin(), "compare"])
        .args([
            "--goproxy",
            slow,
            "--goproxy",
            fast,
            "--runs",
            "2",
            "--json",
        ])
        .arg("--upstream-ca")
        .arg(&ca)
        .arg("--ca-dir")
        .arg(dir.join("gca"))
        .arg("--")
        .arg(go127())
        .args(["mod", "download", TOML, YAML]);
    hermetic_go_env(&mut cmd, &home, "off").env("PATH", "/usr/bin:/bin:/usr/sbin:/sbin");
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "compare failed: {stderr}");
    let lines = parse_ndjson(&out.stdout);
    assert_eq!(lines.len(), 2, "one line per candidate: {lines:?}");
    let by = |g: &str| -> &Value { lines.iter().find(|l| l["goproxy"] == g).unwrap() };
    let (f, s) = (by(fast), by(slow));
    for c in [f, s] {
        assert_eq!(c["type"], "compare");
        assert_eq!(c["runs"], 2);
        assert_eq!(c["runs_ok"], 2, "{c}");
        for r in c["each_run"].as_array().unwrap() {
            let wall = r["wall_ms"].as_f64().unwrap();
            let sum: f64 = r["budget_ms"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| v.as_f64().unwrap())
                .sum();
            assert_eq!(r["budget_ms"].as_object().unwrap().len(), 8, "{r}");
            assert!(
                (sum - wall).abs() <= 0.05 * wall,
                "parts {sum} of {wall}: {r}"
            );
        }
        for m in [TOML, YAML] {
            let row = c["modules"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["module"] == m)
                .unwrap_or_else(|| panic!("{m} missing: {c}"));
            assert_eq!(row["outcomes"]["ok"], 2, "{row}");
        }
    }
    assert_eq!(f["rank"], 1, "{f}");
    assert_eq!(s["rank"], 2, "{s}");
    let wall = |c: &Value| c["wall_ms"]["median"].as_f64().unwrap();
    // Each module is .info, .mod, .zip one after the other: at least three delays on the
    // path, whatever runs in parallel.
    assert!(
        wall(s) - wall(f) >= 3.0 * DELAY_MS * 0.85,
        "slow {} vs fast {}",
        wall(s),
        wall(f)
    );
    let waited = |c: &Value| c["budget_median_ms"]["wait"].as_f64().unwrap();
    assert!(waited(s) - waited(f) >= 3.0 * DELAY_MS * 0.85, "{s} {f}");
    // A fresh module cache per run: each server served both zips in each of its runs.
    // and every request the server logged is one the runs saw, no more.
    let (fast_all, fast_zips) = logged(&fast_log);
    let (slow_all, slow_zips) = logged(&slow_log);
    assert_eq!((fast_zips, slow_zips), (4, 4));
    assert_eq!(requests_seen(f), fast_all as u64, "{f}");
    assert_eq!(requests_seen(s), slow_all as u64, "{s}");
    // The user's cache (the hermetic one here) was not touched, and the runs' are gone.
    assert!(!home.join("modcache").exists());
    let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("gomodwatch-compare-")
        })
        .collect();
    assert!(left.is_empty(), "temporary caches left: {left:?}");
    let _ = std::fs::remove_dir_all(&home);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compare_usage_errors_are_one_line_and_exit_2() {
    for args in [
        &["compare", "--goproxy", "https://a", "--", "go", "version"][..],
        &[
            "compare",
            "--goproxy",
            "https://a",
            "--goproxy",
            "https://b",
        ][..],
        &[
            "compare",
            "--goproxy",
            "https://a",
            "--goproxy",
            "",
            "--",
            "go",
        ][..],
        &[
            "compare",
            "--goproxy",
            "a",
            "--goproxy",
            "b",
            "--runs",
            "0",
            "--",
            "go",
        ][..],
    ] {
        let out = run(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    }
}
