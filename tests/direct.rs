//! Direct fetches on the recordings of `captures/direct/`: every module the go command
//! fetched from its code host is checked against what the go command printed (`-x`: the
//! git commands it ran, the tag it fetched, its errors) and what the code host logged
//! (every go-get and git request with its status and duration). Expectations come from
//! those files, so a wrong attachment, a lost request or a wrong rule fails here.

mod common;

use common::{captures, of_type, replay_json};
use gomodwatch::gomod::goenv::VARS;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

struct Recording {
    name: String,
    meta: Value,
    xlog: String,
    /// The code host's log lines (vcsd: `kind` go-get, git or auth).
    host_log: Vec<Value>,
    /// Every server log line (goproxyd's too).
    server_log: Vec<Value>,
}

fn dir() -> PathBuf {
    captures().join("direct")
}

fn load(name: &str) -> Recording {
    let read = |ext: &str| std::fs::read_to_string(dir().join(format!("{name}.{ext}"))).unwrap();
    let server_log: Vec<Value> = read("server.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    Recording {
        name: name.to_string(),
        meta: serde_json::from_str(&read("json")).unwrap(),
        xlog: read("xlog"),
        host_log: server_log
            .iter()
            .filter(|l| l.get("kind").is_some())
            .cloned()
            .collect(),
        server_log,
    }
}

impl Recording {
    fn env(&self, key: &str) -> &str {
        self.meta["env"][key].as_str().unwrap_or("")
    }

    /// The module events of a replay, with the go command's environment or without.
    fn modules(&self, with_env: bool) -> Vec<Value> {
        let pcap = dir().join(format!("{}.pcap", self.name));
        let keylog = dir().join(format!("{}.keylog", self.name));
        let mut args: Vec<String> = Vec::new();
        if keylog.exists() {
            args.extend(["--tls-keylog".into(), keylog.to_str().unwrap().into()]);
        }
        if with_env {
            for k in VARS {
                args.extend(["--go-env".into(), format!("{k}={}", self.env(k))]);
            }
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let events = replay_json(&pcap, &args);
        of_type(&events, "module").into_iter().cloned().collect()
    }

    /// Module paths the go command fetched or tried direct: those with go-get requests
    /// at the code host (the root probe `/` excepted).
    fn direct_modules(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .host_log
            .iter()
            .filter(|l| l["kind"] == "go-get" && l["path"] != "/")
            .map(|l| {
                format!(
                    "{}{}",
                    l["host"].as_str().unwrap(),
                    l["path"].as_str().unwrap()
                )
            })
            .collect();
        out.dedup();
        out.sort();
        out.dedup();
        out
    }

    /// `git … fetch … refs/tags/vX:refs/tags/vX` lines → the tags git fetched, per repo.
    fn fetched_tags(&self) -> Vec<String> {
        self.xlog
            .lines()
            .filter(|l| l.starts_with("cd ") && l.contains(" fetch "))
            .filter_map(|l| {
                let i = l.find("refs/tags/")?;
                let tag = &l[i + "refs/tags/".len()..];
                Some(tag.split(':').next()?.to_string())
            })
            .collect()
    }

    /// Git commands that talk to the network and ended (`0.117s # cd DIR; git ls-remote`).
    fn git_commands(&self, what: &str) -> usize {
        self.xlog
            .lines()
            .filter(|l| l.contains("s # cd ") && l.contains(what))
            .count()
    }

    /// The repository URL git was pointed at (ls-remote or remote add).
    fn repo_of(&self, module: &str) -> Option<String> {
        let host_path = module;
        self.xlog.lines().find_map(|l| {
            l.split_whitespace()
                .find(|w| {
                    w.starts_with("http")
                        && w.ends_with(".git")
                        && w.contains(host_path.split('/').next().unwrap())
                        && w.contains(&format!("/{}.git", host_path.rsplit('/').next().unwrap()))
                })
                .map(str::to_string)
        })
    }

    /// Did the checksum database answer a lookup for this module (goproxyd's log)?
    fn sumdb_looked_up(&self, module: &str) -> bool {
        self.server_log.iter().any(|l| {
            l["status"] == 200
                && l["path"]
                    .as_str()
                    .is_some_and(|p| p.contains("/lookup/") && p.contains(&format!("{module}@")))
        })
    }
}

fn module<'a>(mods: &'a [Value], path: &str) -> &'a Value {
    mods.iter()
        .find(|m| m["module"] == path)
        .unwrap_or_else(|| panic!("no module record for {path} in {mods:#?}"))
}

fn attempts<'a>(m: &'a Value, kind: &str) -> Vec<&'a Value> {
    m["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == kind)
        .collect()
}

/// Every go-get and git request the code host logged is an attempt of the module it
/// served (the root probe `/?go-get=1` is named in `probes`), with its status, a time
/// no shorter than the server spent on it, and the bytes the host sent.
fn check_requests(r: &Recording, mods: &[Value]) {
    let direct = r.direct_modules();
    let mut seen: BTreeMap<(String, u64), u64> = BTreeMap::new();
    for m in mods.iter().filter(|m| !m["direct"].is_null()) {
        for a in m["attempts"].as_array().unwrap() {
            if a["exchange"].is_null() || !(a["kind"] == "go-get" || a["kind"] == "vcs") {
                continue;
            }
            let url = a["url"].as_str().unwrap();
            let uri = &url[url.find("://").unwrap() + 3..];
            let uri = &uri[uri.find('/').unwrap()..];
            let key = (uri.to_string(), a["status"].as_u64().unwrap());
            *seen.entry(key).or_default() += a["count"].as_u64().unwrap();
        }
    }
    let mut logged: BTreeMap<(String, u64), u64> = BTreeMap::new();
    for l in &r.host_log {
        let uri = l["uri"].as_str().unwrap();
        if uri == "/?go-get=1" {
            let host = l["host"].as_str().unwrap();
            assert!(
                mods.iter()
                    .any(|m| m["probes"].as_array().unwrap().iter().any(|p| p == host)),
                "{}: the root probe of {host} is not named",
                r.name
            );
            continue;
        }
        *logged
            .entry((uri.to_string(), l["status"].as_u64().unwrap()))
            .or_default() += 1;
        // Timing: the client waited at least as long as the server worked.
        let served_ms = l["dur_us"].as_f64().unwrap() / 1000.0;
        let waited = mods
            .iter()
            .flat_map(|m| m["attempts"].as_array().unwrap())
            .filter(|a| {
                a["url"].as_str().is_some_and(|u| u.ends_with(uri)) && a["status"] == l["status"]
            })
            .filter_map(|a| a["total_ms"].as_f64())
            .fold(0.0, f64::max);
        assert!(
            waited + 0.05 >= served_ms,
            "{}: {uri} took {served_ms} ms at the server but {waited} ms on the wire",
            r.name
        );
    }
    assert_eq!(seen, logged, "{}: code host requests vs attempts", r.name);
    assert!(!direct.is_empty(), "{}: no direct module", r.name);
}

/// Git's steps: one `ls-refs` per git command that ran (ls-remote and fetch), one
/// `fetch` per `git fetch`, each with bytes (the pack's size for a fetch).
fn check_git_steps(r: &Recording, mods: &[Value]) {
    let steps = |name: &str| -> usize {
        mods.iter()
            .flat_map(|m| m["attempts"].as_array().unwrap())
            .filter(|a| a["step"] == name && a["status"] == 200)
            .count()
    };
    let ls_remote = r.git_commands("git ls-remote");
    let fetch = r.git_commands(" fetch ");
    let listing = r
        .host_log
        .iter()
        .filter(|l| l["method"] == "POST" && l["status"] == 200)
        .count();
    assert_eq!(steps("fetch"), fetch, "{}: fetch steps", r.name);
    assert_eq!(
        steps("ls-refs") + steps("fetch"),
        listing,
        "{}: POSTs",
        r.name
    );
    if r.meta["exit_status"] == 0 {
        assert_eq!(
            steps("ls-refs"),
            ls_remote + fetch,
            "{}: ls-refs steps",
            r.name
        );
        // The pack's bytes are the fetch's: the host's own count.
        let pack: Vec<u64> = r
            .host_log
            .iter()
            .filter(|l| l["method"] == "POST")
            .filter_map(|l| l["bytes"].as_u64())
            .collect();
        for a in mods
            .iter()
            .flat_map(|m| m["attempts"].as_array().unwrap())
            .filter(|a| a["step"] == "fetch")
        {
            assert!(
                pack.contains(&a["bytes"].as_u64().unwrap()),
                "{}: fetch bytes",
                r.name
            );
        }
    }
}

/// A fetched module: served by `direct (git REPO)`, its version the tag git fetched, no
/// `h1` but a note saying why, and the verification told as the environment explains it.
fn check_fetched(r: &Recording, mods: &[Value], with_env: bool) {
    let tags = r.fetched_tags();
    for path in r.direct_modules() {
        let m = module(mods, &path);
        let repo = r.repo_of(&path).expect("repository in the xlog");
        let d = &m["direct"];
        assert_eq!(d["repo"], repo.as_str(), "{}: {path}", r.name);
        assert_eq!(d["vcs"], "git");
        if r.meta["exit_status"] != 0 {
            continue;
        }
        assert_eq!(m["outcome"], "ok", "{}: {path}: {m:#}", r.name);
        let served = format!("direct (git {repo})");
        assert_eq!(m["served_by"]["zip"], served.as_str());
        assert!(
            tags.contains(&m["version"].as_str().unwrap().to_string()),
            "{}: {path} version {} not among the fetched tags {tags:?}",
            r.name,
            m["version"]
        );
        assert_eq!(d["version_from"], "ls-refs");
        assert!(m["h1"].is_null());
        assert!(m["hash_note"]
            .as_str()
            .unwrap()
            .contains("built the zip itself"));
        assert!(attempts(m, "go-get").iter().any(|a| a["status"] == 200));
        assert!(d["duration_ms"].as_f64().unwrap() > 0.0);
        // Verification: a lookup in the server's log, or a warning naming why not.
        let warnings: Vec<&str> = d["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap())
            .collect();
        let unverified = warnings
            .iter()
            .find(|w| w.contains("was not verified by the checksum database"));
        if r.sumdb_looked_up(&path) {
            assert!(unverified.is_none(), "{}: {path} was looked up", r.name);
            assert!(!m["sumdb_h1"].is_null());
        } else {
            let w = unverified.unwrap_or_else(|| panic!("{}: {path}: no warning", r.name));
            if with_env {
                let why = if r.env("GOSUMDB") == "off" {
                    "GOSUMDB=off".to_string()
                } else if !r.env("GONOSUMDB").is_empty() {
                    format!("GONOSUMDB={}", r.env("GONOSUMDB"))
                } else {
                    format!("GOPRIVATE={}", r.env("GOPRIVATE"))
                };
                assert!(w.contains(&why), "{}: {w} does not name {why}", r.name);
            }
        }
    }
}

/// The rule that sent it direct, as the recording's environment has it.
fn check_rule(r: &Recording, mods: &[Value]) {
    for path in r.direct_modules() {
        let d = &module(mods, &path)["direct"];
        let rule = d["rule"].as_str().unwrap_or("");
        let why = d["why"].as_str().unwrap();
        let want = if !r.env("GONOPROXY").is_empty() {
            format!("GONOPROXY={}", r.env("GONOPROXY"))
        } else if !r.env("GOPRIVATE").is_empty() {
            format!("GOPRIVATE={}", r.env("GOPRIVATE"))
        } else {
            format!("GOPROXY={}", r.env("GOPROXY"))
        };
        assert_eq!(rule, want, "{}: {path}: {why}", r.name);
        assert!(why.contains(&want), "{}: {why}", r.name);
        // A proxy in the chain is named as what was skipped.
        if r.env("GOPROXY").starts_with("http")
            && want.starts_with("GO")
            && !want.starts_with("GOPROXY")
        {
            assert!(why.contains(&format!("instead of from {}", r.env("GOPROXY"))));
        }
    }
}

fn run(name: &str) -> (Recording, Vec<Value>, Vec<Value>) {
    let r = load(name);
    let with = r.modules(true);
    let without = r.modules(false);
    check_requests(&r, &with);
    check_requests(&r, &without);
    check_git_steps(&r, &with);
    check_fetched(&r, &with, true);
    check_fetched(&r, &without, false);
    check_rule(&r, &with);
    (r, with, without)
}

#[test]
fn direct_go127() {
    let (_, _, without) = run("direct-go127");
    // Without the environment: no proxy was seen at all, and it says so.
    let d = &module(&without, "git.test/errors")["direct"];
    assert!(d["why"]
        .as_str()
        .unwrap()
        .contains("no proxy request was seen"));
    assert!(d["rule"].is_null());
}

#[test]
fn direct_go119() {
    run("direct-go119");
}

#[test]
fn goprivate_go127() {
    let (r, with, without) = run("goprivate-go127");
    // The proxy served github.com/pkg/errors; the private one was never asked there.
    let proxy = r.env("GOPROXY");
    assert_eq!(
        module(&with, "github.com/pkg/errors")["served_by"]["zip"],
        proxy
    );
    let why = module(&without, "git.test/errors")["direct"]["why"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        why.contains(&format!(
            "no proxy was asked for git.test/errors, though {proxy}"
        )),
        "{why}"
    );
    // Private, not on a public host, unknown to the checksum database: no misconfiguration.
    let w = module(&with, "git.test/errors")["direct"]["warnings"].to_string();
    assert!(!w.contains("misconfiguration"), "{w}");
}

#[test]
fn goprivate_go119() {
    run("goprivate-go119");
}

#[test]
fn gonoproxy_overmatch_go127() {
    let (r, with, without) = run("gonoproxy-overmatch-go127");
    // pub.test/humanize: sent direct by GONOPROXY=*.test, yet the checksum database
    // (which knows only public modules) answered for it: a probable misconfiguration.
    assert!(r.sumdb_looked_up("pub.test/humanize"));
    for mods in [&with, &without] {
        let m = module(mods, "pub.test/humanize");
        assert!(
            m["problem"]
                .as_str()
                .unwrap()
                .starts_with("probable misconfiguration"),
            "{m:#}"
        );
    }
    let p = module(&with, "pub.test/humanize")["problem"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        p.contains(&format!("GONOPROXY={}", r.env("GONOPROXY"))),
        "{p}"
    );
    assert!(p.contains(r.env("GOPROXY")), "{p}");
    // git.test/errors matched the same pattern but is private: no such warning.
    let w = module(&with, "git.test/errors")["direct"]["warnings"].to_string();
    assert!(!w.contains("misconfiguration"), "{w}");
    // The pattern says which element matched.
    let why = module(&with, "pub.test/humanize")["direct"]["why"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        why.contains("pub.test/humanize matched GONOPROXY=*.test"),
        "{why}"
    );
}

#[test]
fn git_401_go127() {
    let (r, with, _) = run("git-401-go127");
    assert!(r.xlog.contains("could not read Username"));
    let m = module(&with, "git.test/secret");
    assert_eq!(m["outcome"], "failed");
    let p = m["problem"].as_str().unwrap();
    assert!(p.starts_with("git needs credentials for git.test"), "{p}");
    assert!(p.contains("GOPRIVATE alone does not provide them"));
    // The 401 the host sent itself is the attempt that failed.
    assert!(r
        .host_log
        .iter()
        .any(|l| l["kind"] == "auth" && l["status"] == 401));
    assert!(attempts(m, "vcs")
        .iter()
        .any(|a| a["status"] == 401 && a["step"] == "info/refs"));
    // git never got far enough to show which tag: said so, not guessed.
    assert!(m["version"].is_null());
}

#[test]
fn git_netrc_go127() {
    let (r, with, _) = run("git-netrc-go127");
    // Each git process was answered 401 once, then 200 with the .netrc credentials:
    // git's normal Basic-auth exchange, not a failure.
    let m = module(&with, "git.test/secret");
    assert_eq!(m["outcome"], "ok", "{m:#}");
    let unauthorized: u64 = attempts(m, "vcs")
        .iter()
        .filter(|a| a["status"] == 401)
        .map(|a| a["count"].as_u64().unwrap())
        .sum();
    let logged = r.host_log.iter().filter(|l| l["status"] == 401).count() as u64;
    assert_eq!(unauthorized, logged);
    assert!(!m["problem"].as_str().unwrap_or("").contains("credentials"));
}

#[test]
fn git_404_go127() {
    let (r, with, _) = run("git-404-go127");
    assert!(r.xlog.contains("not found"));
    let m = module(&with, "git.test/gone");
    assert_eq!(m["outcome"], "failed");
    let repo = r.repo_of("git.test/gone").unwrap();
    let p = m["problem"].as_str().unwrap();
    assert!(
        p.starts_with(&format!("the repository {repo} does not exist")),
        "{p}"
    );
}

#[test]
fn goimport_mismatch_go127() {
    let r = load("goimport-mismatch-go127");
    let mods = r.modules(true);
    // No git ran (the xlog has no git command), and the tag's root is named.
    assert_eq!(r.git_commands("git "), 0);
    let root = r
        .xlog
        .split("meta tag ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap();
    let m = module(&mods, "git.test/mismatch");
    assert_eq!(m["outcome"], "failed");
    let p = m["problem"].as_str().unwrap();
    assert!(p.contains(&format!("names the module root {root}")), "{p}");
    assert!(p.contains("does not match git.test/mismatch"), "{p}");
    assert!(attempts(m, "vcs").is_empty());
    check_requests(&r, &mods);
}

#[test]
fn goinsecure_go127() {
    let (r, with, _) = run("goinsecure-go127");
    // The go command's https discovery was refused (its xlog says so) before plain http.
    let refused = common::parse_xlog(&r.xlog)
        .into_iter()
        .filter(|x| {
            x.url.starts_with("https://")
                && x.error.as_deref().is_some_and(|e| e.contains("refused"))
        })
        .count();
    assert!(refused > 0);
    let m = module(&with, "git.test/errors");
    let first = &m["attempts"][0];
    assert_eq!(first["error"], "refused");
    assert_eq!(first["proxy"], "https://git.test");
    let w = m["direct"]["warnings"].to_string();
    assert!(w.contains("over plain http (GOINSECURE=git.test)"), "{w}");
    // The refused https is the module's attempt, not a missing proxy.
    let events = replay_json(&dir().join("goinsecure-go127.pcap"), &[]);
    let summary = of_type(&events, "summary")[0].to_string();
    assert!(!summary.contains("remove it from GOPROXY"), "{summary}");
}

/// Every recording in captures/direct, found in the folder rather than listed: each one's
/// requests are all attached to its modules (with the go command's environment and
/// without), and each one has a test of its own here (its name in this file), so a new
/// recording cannot go unchecked.
#[test]
fn every_recording_in_the_folder_is_checked() {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .expect("captures/direct")
        .filter_map(|e| {
            let name = e.expect("captures/direct entry").file_name();
            let name = name.to_str()?;
            name.strip_suffix(".pcap").map(str::to_string)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 10, "only {names:?} in captures/direct");
    let this_file = include_str!("direct.rs");
    for name in &names {
        assert!(
            this_file.contains(&format!("(\"{name}\")")),
            "captures/direct/{name}.pcap has no test of its own in tests/direct.rs"
        );
        let r = load(name);
        check_requests(&r, &r.modules(true));
        check_requests(&r, &r.modules(false));
    }
}
