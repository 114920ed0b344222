//! The four rules of issue 24, applied to what gomodwatch said about one recording.

use super::oracle::{classify, go_errors, Cause, Recording};
use serde_json::Value;

/// What gomodwatch said: its NDJSON events and its stderr.
pub struct Said {
    pub events: Vec<Value>,
    pub stdout: String,
    pub stderr: String,
    pub status: Option<i32>,
}

impl Said {
    pub fn modules(&self) -> Vec<&Value> {
        self.events
            .iter()
            .filter(|e| e["type"] == "module")
            .collect()
    }

    pub fn problems(&self) -> Vec<&Value> {
        self.events
            .iter()
            .filter(|e| e["type"] == "summary")
            .flat_map(|s| s["problems"].as_array().into_iter().flatten())
            .collect()
    }

    /// gomodwatch's module records for `path@version` (a direct module's record may have no
    /// version: it then counts for any version of its path).
    fn records(&self, mv: &str) -> Vec<&Value> {
        let (path, version) = mv.split_once('@').unwrap_or((mv, ""));
        self.modules()
            .into_iter()
            .filter(|m| {
                m["module"].as_str() == Some(path)
                    && (m["version"].is_null() || m["version"].as_str() == Some(version))
            })
            .collect()
    }

    /// gomodwatch's outcome for a module: "ok" when any record says so, else the first.
    pub fn outcome(&self, mv: &str) -> Option<String> {
        let recs = self.records(mv);
        if recs.iter().any(|m| m["outcome"] == "ok") {
            return Some("ok".into());
        }
        recs.first()
            .map(|m| m["outcome"].as_str().unwrap_or("?").to_string())
    }
}

/// One disagreement: recording, rule (1-4), key (the module or `-`), and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Disagreement {
    pub name: String,
    pub rule: u8,
    pub key: String,
    pub reason: String,
}

impl Disagreement {
    pub fn line(&self) -> String {
        format!("{} {} {} {}", self.name, self.rule, self.key, self.reason)
    }
}

/// The cause classes gomodwatch gave something: its `cause` field if present, else its text.
fn causes_of(v: &Value, text_fields: &[&str]) -> Vec<Cause> {
    if let Some(c) = v["cause"].as_str().and_then(Cause::parse) {
        return vec![c];
    }
    let mut out = Vec::new();
    for f in text_fields {
        if let Some(t) = v[*f].as_str() {
            out.extend(text_causes(t));
        }
    }
    out
}

/// Heuristic: the classes a gomodwatch sentence speaks of (until every problem has `cause`).
pub fn text_causes(t: &str) -> Vec<Cause> {
    let l = t.to_ascii_lowercase();
    let has = |s: &str| l.contains(s);
    let mut v = classify(t);
    v.retain(|c| *c != Cause::Other);
    let extra: [(bool, Cause); 11] = [
        (has("refused") || has("rst"), Cause::Refused),
        (
            has("timed out") || has("timeout") || has("gives up after"),
            Cause::Timeout,
        ),
        (
            has("never answered") || has("no response") || has("hang") || has("unanswered"),
            Cause::Hang,
        ),
        (
            has("dns") || has("nxdomain") || has("servfail") || has("resolve"),
            Cause::Dns,
        ),
        (
            has("certificate") || has("untrusted") || has("issuer") || has("tls"),
            Cause::TlsTrust,
        ),
        (
            has("401") || has("credential") || has("authorization") || has("password"),
            Cause::Credentials,
        ),
        (
            has("407")
                || has("proxy authentication")
                || has("https_proxy")
                || has("squid")
                || has("upstream proxy"),
            Cause::Proxy,
        ),
        (
            has(" 5") && (has("500") || has("502") || has("503") || has("5xx")),
            Cause::Http5xx,
        ),
        (
            has("404") || has("410") || has("403") || has("not found") || has("4xx"),
            Cause::Http4xx,
        ),
        (
            has("html") || has("not json") || has("invalid") || has("not a valid"),
            Cause::InvalidResponse,
        ),
        (
            has("checksum") || has("mismatch") || has("h1:"),
            Cause::Checksum,
        ),
    ];
    v.extend(extra.iter().filter(|(b, _)| *b).map(|(_, c)| *c));
    if has("git ") || has("vcs") {
        v.push(Cause::Vcs);
    }
    v
}

fn short(t: &str) -> String {
    let one = t.lines().next().unwrap_or("").trim();
    let mut s: String = one.chars().take(110).collect();
    if s.len() < one.len() {
        s.push('…');
    }
    s
}

/// Applies the four rules; returns every disagreement.
pub fn check(rec: &Recording, said: &Said) -> Vec<Disagreement> {
    let mut out = Vec::new();
    let mut add = |rule: u8, key: &str, reason: String| {
        out.push(Disagreement {
            name: rec.name.clone(),
            rule,
            key: key.to_string(),
            reason,
        })
    };
    if said.status.is_some_and(|s| s != 0) {
        add(
            1,
            "-",
            format!(
                "gomodwatch exited {}: {}",
                said.status.unwrap(),
                short(&said.stderr)
            ),
        );
    }
    // 1. ok exactly when the go command got the module
    for mv in rec.requested() {
        let got = rec.got(&mv);
        let gmw = said.outcome(&mv);
        let gmw_ok = gmw.as_deref() == Some("ok");
        if got != gmw_ok {
            let says = gmw.unwrap_or_else(|| "nothing (no record)".into());
            let go = if got {
                "the go command got it".to_string()
            } else if rec.killed() {
                "the go command was killed waiting (never got it)".to_string()
            } else {
                format!("the go command did not get it (exit {})", rec.exit)
            };
            add(1, &mv, format!("{go}; gomodwatch says {says}"));
        }
    }
    // 2. no ERROR when the go command exited 0
    if rec.exit == 0 {
        for p in said.problems() {
            let sev = p["severity"].as_str().unwrap_or("");
            if sev == "error" || sev == "critical" {
                add(
                    2,
                    "-",
                    format!(
                        "go exited 0 but gomodwatch reports {sev}: {}",
                        short(p["text"].as_str().unwrap_or(""))
                    ),
                );
            }
        }
    }
    // 3. every `go: MODULE@VERSION:` error matched by a problem naming it, same cause class
    let mut seen = std::collections::BTreeSet::new();
    for e in go_errors(&rec.xlog) {
        if !seen.insert((e.module.clone(), e.causes.clone())) {
            continue;
        }
        let path = e.module.split('@').next().unwrap_or(&e.module);
        let mut named: Vec<Cause> = Vec::new();
        let mut any_named = false;
        for m in said.records(&e.module) {
            if m["outcome"] != "ok" {
                any_named = true;
                named.extend(causes_of(m, &["problem", "outcome"]));
            }
        }
        for p in said.problems() {
            let t = p["text"].as_str().unwrap_or("");
            let subj = p["subject"].as_str().unwrap_or("");
            let m = p["module"].as_str().unwrap_or("");
            if t.contains(path) || subj.contains(path) || m.contains(path) {
                any_named = true;
                named.extend(causes_of(p, &["text"]));
            }
        }
        // A module that never appeared on the wire (its first request never left: a refused
        // proxy, an unresolvable name, GOPROXY=off) cannot be named from the traffic: then a
        // problem of the run with the same class is the match (`run` names it from go's stderr).
        if said.records(&e.module).is_empty() {
            for p in said.problems() {
                if p["subject"].is_null() {
                    any_named = true;
                    named.extend(causes_of(p, &["text"]));
                }
            }
        }
        let want = e.causes[0];
        let mut accepted = e.causes.clone();
        if e.text
            .lines()
            .next()
            .is_some_and(|l| l.ends_with("\": Bad Gateway"))
        {
            // Through `run`, "Bad Gateway" is gomodwatch's own answer to the CONNECT; what
            // the corporate proxy behind it said is in squid's log: its 407 is a
            // credentials problem of the proxy, as the go command says when it meets squid
            // directly.
            let host = e
                .text
                .split("://")
                .nth(1)
                .and_then(|r| r.split([':', '/']).next());
            if host.is_some_and(|h| rec.squid_connect_statuses(h).contains(&407)) {
                accepted.push(Cause::Credentials);
            }
        }
        if !named.iter().any(|c| accepted.contains(c)) {
            named.sort();
            named.dedup();
            let got = if !any_named {
                "no problem names the module".to_string()
            } else if named.is_empty() {
                "its problem has no recognisable cause".to_string()
            } else {
                format!(
                    "gomodwatch says {}",
                    named.iter().map(|c| c.name()).collect::<Vec<_>>().join("/")
                )
            };
            add(
                3,
                &e.module,
                format!("go said {want} ({}); {got}", short(&e.text)),
            );
        }
    }
    // 4. no password anywhere
    let all = format!("{}\n{}", said.stdout, said.stderr);
    for pw in rec.passwords() {
        let mut forms = vec![pw.clone()];
        for user in ["mxuser", "corpuser"] {
            forms.push(base64(format!("{user}:{pw}").as_bytes()));
        }
        if forms.iter().any(|f| all.contains(f.as_str())) {
            add(
                4,
                "-",
                format!("the password {pw} (or its Basic form) appears in the output"),
            );
        }
    }
    out
}

fn base64(b: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in b.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                s.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

#[test]
fn base64_is_standard() {
    assert_eq!(base64(b"user:secret"), "dXNlcjpzZWNyZXQ=");
    assert_eq!(base64(b"ab"), "YWI=");
}
