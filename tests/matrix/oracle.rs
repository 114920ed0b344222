//! The oracle: what the go command itself said and did in a recording — its exit status,
//! its `go: MODULE@VERSION: ...` error lines (classified into cause classes), and which
//! modules it got (its GOMODCACHE after the run, recorded in NAME.meta.json).

use serde_json::Value;
use std::fmt;
use std::path::{Path, PathBuf};

/// Why the go command failed for a module, as gomodwatch must say it too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cause {
    Refused,
    Timeout,
    Dns,
    TlsTrust,
    Http4xx,
    Http5xx,
    InvalidResponse,
    Checksum,
    Credentials,
    Proxy,
    Hang,
    Disabled,
    Vcs,
    Other,
}

impl Cause {
    pub fn name(self) -> &'static str {
        match self {
            Cause::Refused => "refused",
            Cause::Timeout => "timeout",
            Cause::Dns => "dns",
            Cause::TlsTrust => "tls-trust",
            Cause::Http4xx => "http-4xx",
            Cause::Http5xx => "http-5xx",
            Cause::InvalidResponse => "invalid-response",
            Cause::Checksum => "checksum",
            Cause::Credentials => "credentials",
            Cause::Proxy => "proxy",
            Cause::Hang => "hang",
            Cause::Disabled => "disabled",
            Cause::Vcs => "vcs",
            Cause::Other => "other",
        }
    }

    /// A `cause` value of gomodwatch's NDJSON (the lead's names; a few spellings accepted).
    pub fn parse(s: &str) -> Option<Cause> {
        Some(match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "refused" | "connection-refused" => Cause::Refused,
            "timeout" | "no-answer" | "timed-out" => Cause::Timeout,
            "dns" => Cause::Dns,
            "tls-trust" | "tls" | "untrusted" | "certificate" => Cause::TlsTrust,
            "http-4xx" | "not-found" | "4xx" => Cause::Http4xx,
            "http-5xx" | "5xx" => Cause::Http5xx,
            "invalid-response" | "invalid" => Cause::InvalidResponse,
            "checksum" | "checksum-mismatch" => Cause::Checksum,
            "credentials" | "auth" | "unauthorized" => Cause::Credentials,
            "proxy" => Cause::Proxy,
            "hang" | "no-response" => Cause::Hang,
            "disabled" | "off" => Cause::Disabled,
            "vcs" | "git" => Cause::Vcs,
            _ => return None,
        })
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The cause classes a line of the go command's (or git's) error text belongs to: the first is
/// the class, the others are accepted as the same judgement (a 401 is a 4xx and a credentials
/// problem; squid's 407 is the proxy's and a credentials problem).
pub fn classify(text: &str) -> Vec<Cause> {
    let t = text.to_ascii_lowercase();
    let has = |s: &str| t.contains(s);
    if has("checksum mismatch") || has("security error") {
        return vec![Cause::Checksum];
    }
    if has("refusing to pass credentials") || has("terminal prompts disabled") {
        return vec![Cause::Credentials];
    }
    // `Get "URL": Forbidden`: no status code, only its text — the HTTPS proxy's answer to
    // the CONNECT (squid, or gomodwatch's MITM relaying its upstream's failure).
    let first = t.lines().next().unwrap_or("");
    for (status, also) in [
        ("forbidden", Cause::Http4xx),
        ("proxy authentication required", Cause::Credentials),
        ("bad gateway", Cause::Http5xx),
        ("service unavailable", Cause::Http5xx),
        ("gateway timeout", Cause::Timeout),
    ] {
        if first.starts_with("get \"") && first.ends_with(&format!("\": {status}")) {
            return vec![Cause::Proxy, also];
        }
    }
    if has("proxy authentication required") {
        return vec![Cause::Proxy, Cause::Credentials, Cause::Http4xx];
    }
    if has("proxyconnect") {
        return vec![Cause::Proxy, Cause::Refused, Cause::Timeout];
    }
    if has("no such host")
        || has("server misbehaving")
        || has("could not resolve host")
        || has("dial tcp: lookup ")
        || (has("lookup ") && has(":53"))
    {
        return vec![Cause::Dns];
    }
    if has("x509:") || has("certificate") || has("tls: ") {
        return vec![Cause::TlsTrust];
    }
    if has("connection refused") || has("failed to connect") || has("couldn't connect") {
        return vec![Cause::Refused];
    }
    if has("i/o timeout") || has("timed out") || has("deadline exceeded") || has("timeout") {
        return vec![Cause::Timeout, Cause::Hang];
    }
    if has("module declares its path as")
        || has("parsing go.mod")
        || has("invalid character")
        || has("invalid response")
        || has("unexpected end of json")
        || has("not a valid zip")
        || has("zip: not a valid")
        || has("malformed")
        || has("looking for beginning of value")
    {
        return vec![Cause::InvalidResponse];
    }
    if has("401 unauthorized") || has(" 401 ") {
        return vec![Cause::Credentials, Cause::Http4xx];
    }
    if has("module lookup disabled") {
        return vec![Cause::Disabled];
    }
    if let Some(code) = http_status(&t) {
        return match code {
            403 => vec![Cause::Http4xx, Cause::Credentials, Cause::Proxy],
            400..=499 => vec![Cause::Http4xx],
            500..=599 => vec![Cause::Http5xx],
            _ => vec![Cause::Other],
        };
    }
    if has("forbidden") {
        // squid's 403 to a CONNECT: `Get "https://...": Forbidden`
        return vec![Cause::Proxy, Cause::Http4xx];
    }
    if has("not found") || has("gone") {
        return vec![Cause::Http4xx];
    }
    if has("git ") || has("exit status") || has("fatal:") || has("unrecognized import path") {
        return vec![Cause::Vcs];
    }
    vec![Cause::Other]
}

/// `reading URL: 404 Not Found` / `...: 500 Internal Server Error` → the status.
fn http_status(t: &str) -> Option<u16> {
    let reasons = [
        " not found",
        " gone",
        " internal server error",
        " forbidden",
        " bad gateway",
        " service unavailable",
        " gateway timeout",
        " unauthorized",
        " bad request",
        " too many requests",
    ];
    for r in reasons {
        if let Some(i) = t.find(r) {
            let before = t[..i].trim_end();
            let code: String = before
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_digit())
                .collect();
            if code.len() == 3 {
                return code.chars().rev().collect::<String>().parse().ok();
            }
        }
    }
    None
}

/// One `go: MODULE@VERSION: ...` error (with its continuation lines).
#[derive(Debug, Clone)]
pub struct GoError {
    /// `path@version` (or the module path alone for `go: module PATH: ...`).
    pub module: String,
    pub text: String,
    pub causes: Vec<Cause>,
}

/// Parses the go command's stderr (its `-x` log) for error lines about modules.
pub fn go_errors(xlog: &str) -> Vec<GoError> {
    let mut out: Vec<GoError> = Vec::new();
    let mut current: Option<GoError> = None;
    for line in xlog.lines() {
        let cont = line.starts_with('\t') || line.starts_with("        ") || line.is_empty();
        if let Some(rest) = line
            .strip_prefix("go: ")
            .or_else(|| line.strip_prefix("verifying "))
        {
            if let Some(e) = current.take() {
                out.push(e);
            }
            let rest = rest.strip_prefix("module ").unwrap_or(rest);
            let Some((module, text)) = rest.split_once(": ") else {
                continue;
            };
            // `A@v requires B@v: ...`: the error is B's (go 1.27's form for a bad go.mod)
            let module = module.rsplit_once(" requires ").map_or(module, |(_, b)| b);
            let module = module.trim_end_matches("/go.mod");
            if module.contains(' ') || module.starts_with("downloading") || !module.contains('.') {
                continue;
            }
            current = Some(GoError {
                module: module.to_string(),
                text: text.to_string(),
                causes: Vec::new(),
            });
        } else if let Some(e) = current.as_mut() {
            if cont || line.starts_with("fatal:") || line.starts_with("SECURITY ERROR") {
                e.text.push('\n');
                e.text.push_str(line.trim());
            } else {
                out.push(current.take().unwrap());
            }
        }
    }
    out.extend(current);
    for e in &mut out {
        e.causes = classify(&e.text);
    }
    out
}

/// One recording of the matrix (captures/matrix/NAME.*).
pub struct Recording {
    pub name: String,
    pub dir: PathBuf,
    pub meta: Value,
    pub xlog: String,
    pub exit: i32,
}

impl Recording {
    pub fn load(dir: &Path, name: &str) -> Recording {
        let read = |ext: &str| {
            std::fs::read_to_string(dir.join(format!("{name}.{ext}")))
                .unwrap_or_else(|e| panic!("{name}.{ext}: {e}"))
        };
        let meta: Value = serde_json::from_str(&read("meta.json")).unwrap();
        let exit = read("exit").trim().parse().unwrap();
        Recording {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            meta,
            xlog: read("xlog"),
            exit,
        }
    }

    pub fn path(&self, ext: &str) -> PathBuf {
        self.dir.join(format!("{}.{ext}", self.name))
    }

    /// The modules the go command was asked for, `path@version`.
    pub fn requested(&self) -> Vec<String> {
        self.meta["requested"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether the go command got the module: it is extracted in its GOMODCACHE.
    /// The go command got the module: it is in the module cache and no error line of the
    /// go command names it (a go.mod that failed its checksum or declared another path
    /// leaves the zip extracted, yet the command failed on that module).
    pub fn got(&self, mv: &str) -> bool {
        self.meta["got"][mv]["extracted"].as_bool().unwrap_or(false)
            && !go_errors(&self.xlog).iter().any(|e| e.module == mv)
    }

    pub fn passwords(&self) -> Vec<String> {
        self.meta["passwords"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The HTTP statuses squid gave to CONNECTs for `host` (its access.log, when the
    /// recording had squid on the path): the servers' side of the oracle, for a go error
    /// that is only gomodwatch's "Bad Gateway" relaying squid's refusal.
    pub fn squid_connect_statuses(&self, host: &str) -> Vec<u16> {
        let log = std::fs::read_to_string(self.path("squid.log")).unwrap_or_default();
        log.lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let target = f.get(6)?;
                (f.get(5) == Some(&"CONNECT") && target.split(':').next() == Some(host))
                    .then(|| f.get(3)?.rsplit('/').next()?.parse().ok())
                    .flatten()
            })
            .collect()
    }

    /// Killed by the recorder's timeout (a proxy that never answers).
    pub fn killed(&self) -> bool {
        self.exit == 124
    }
}

/// Every recording in `dir` (by its NAME.meta.json), sorted by name.
pub fn recordings(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| {
                let n = e.ok()?.file_name().into_string().ok()?;
                n.strip_suffix(".meta.json").map(String::from)
            })
            .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}
