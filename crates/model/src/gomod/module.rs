//! What happened to one module@version: every request for it, in time order, across the
//! proxies of the chain.

use super::classify::Kind;
use gomodwatch_wire::vocab::event::Exchange;
use gomodwatch_wire::vocab::time::Ts;
use serde::Serialize;
use std::sync::Arc;

/// Requests kept per module@version; beyond this only counters grow (a capture that fetches
/// one module a million times must not grow without bound).
const MAX_ATTEMPTS: usize = 512;

/// One request for a module@version (an element of the module event's `attempts`).
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Attempt {
    /// The exchange event, or null for a request that never reached the wire (refused).
    pub(crate) exchange: Option<u64>,
    /// Shared strings: a module fetched many times keeps many attempts, and views copy
    /// them around (cloning an `Arc` is a counter increment, not an allocation).
    pub proxy: Option<Arc<str>>,
    /// What was asked for.
    pub kind: Kind,
    /// The response status; null when no response arrived.
    pub status: Option<u16>,
    /// What went wrong (`refused`, `reset`, `no-response`, ...).
    pub error: Option<Arc<str>>,
    /// Time to first byte.
    pub ttfb_ms: Option<f64>,
    /// Extension: identical requests folded into this one (Go ≥ 1.24 sends every 4xx on
    /// https twice, docs/goproxy-protocol.md §1.3).
    pub count: u32,
    /// Time to last byte.
    pub total_ms: Option<f64>,
    /// The request's URL.
    pub url: Option<Arc<str>>,
    /// Extension: the request was redirected; the status is the final hop's.
    pub(crate) redirected_to: Option<String>,
    /// Extension: for a direct fetch, what this request was (`go-get`, `info/refs`,
    /// `ls-refs`, `fetch`, …; gomod::direct); null for proxy requests.
    pub step: Option<&'static str>,
    /// Extension: response body bytes.
    pub bytes: u64,
    /// When the request was sent.
    #[serde(skip)]
    pub ts: Ts,
    #[serde(skip)]
    pub(crate) connection: Option<u64>,
    /// Connection setup this request paid for (DNS, connect, TLS), for waterfalls.
    #[serde(skip)]
    pub setup: gomodwatch_wire::vocab::event::Setup,
    /// The request was a stream on an HTTP/2 connection an earlier request opened (its
    /// setup phases are 0 because that one paid them), for waterfalls.
    #[serde(skip)]
    pub h2_reused: bool,
    /// The body was an HTML page (a web filter's or captive portal's answer), told apart
    /// in sentences from other bodies the go command cannot use.
    #[serde(skip)]
    pub(crate) html: bool,
    /// The `Authorization` the request carried (scheme and user, never the password).
    #[serde(skip)]
    pub(crate) authorization: Option<Arc<str>>,
    /// Where a 3xx sent the client, when no hop after it was seen.
    #[serde(skip)]
    pub(crate) location: Option<Arc<str>>,
}

impl Attempt {
    pub(crate) fn from_exchange(ex: &Exchange) -> Attempt {
        let mut a = Attempt {
            exchange: Some(ex.id),
            proxy: ex.go.proxy.as_deref().map(Arc::from),
            kind: ex.go.kind,
            status: ex.status,
            error: ex.error.as_deref().map(Arc::from),
            ttfb_ms: ex.timing.ttfb_ms,
            count: 1,
            total_ms: ex.timing.total_ms,
            url: ex.url.as_deref().map(Arc::from),
            redirected_to: None,
            step: None,
            ts: ex.ts,
            bytes: ex.resp_bytes,
            connection: Some(ex.connection),
            setup: ex.setup,
            h2_reused: ex.timing.reused && ex.http_version.as_deref() == Some("HTTP/2"),
            html: false,
            authorization: ex.authorization.as_deref().map(Arc::from),
            location: ex
                .location
                .as_deref()
                .filter(|_| ex.status.is_some_and(|s| (300..400).contains(&s)))
                .map(Arc::from),
        };
        if let Some(html) = super::validate::unusable_body(ex) {
            a.error = Some(Arc::from(super::cause::INVALID_RESPONSE));
            a.html = html;
        }
        a
    }

    /// A connection refused just before a request: the same request, failing at the proxy
    /// before (it never reached the wire, so it has no exchange).
    pub(crate) fn refused(kind: Kind, ts: Ts, proxy: String) -> Attempt {
        Attempt {
            exchange: None,
            proxy: Some(proxy.into()),
            kind,
            status: None,
            error: Some(Arc::from("refused")),
            ttfb_ms: None,
            count: 1,
            total_ms: None,
            url: None,
            redirected_to: None,
            step: None,
            ts,
            bytes: 0,
            connection: None,
            setup: Default::default(),
            h2_reused: false,
            html: false,
            authorization: None,
            location: None,
        }
    }

    pub(crate) fn ok(&self) -> bool {
        self.status == Some(200) && self.error.is_none()
    }

    /// 404 and 410 mean "not here, ask the next proxy" (docs/goproxy-protocol.md §1.3).
    pub(crate) fn not_found(&self) -> bool {
        matches!(self.status, Some(404 | 410))
    }

    /// The answer in words: the status, or what went wrong instead.
    pub fn answer(&self) -> String {
        match (self.status, self.error.as_deref()) {
            (Some(s), None) => s.to_string(),
            (Some(s), Some(e)) => format!("{s} {e}"),
            (None, Some(e)) => e.to_string(),
            (None, None) => "no answer".into(),
        }
    }

    /// The slowest phase the user waited for: first byte, or the whole request when no
    /// byte ever came.
    pub fn wait_ms(&self) -> Option<f64> {
        self.ttfb_ms.or(self.total_ms)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ModuleRecord {
    pub(crate) module: String,
    pub(crate) version: Option<String>,
    pub(crate) attempts: Vec<Attempt>,
    /// Requests beyond `MAX_ATTEMPTS` that were only counted.
    pub(crate) dropped_attempts: u64,
    pub(crate) zip_h1: Option<String>,
    pub(crate) zip_proxy: Option<String>,
    pub(crate) zip_bytes: Option<u64>,
    pub(crate) zip_hash_error: Option<String>,
    pub(crate) mod_h1: Option<String>,
    /// The proxy that served `mod_h1`.
    pub(crate) mod_proxy: Option<String>,
    /// An earlier go.mod for the same version whose hash differs from `mod_h1`, and its
    /// proxy (A served one go.mod, B another): the go command checks each one it reads.
    pub(crate) other_mod_h1: Option<(String, Option<String>)>,
    pub(crate) first: Ts,
    pub(crate) last: Ts,
    /// When the record last changed (the session's module generation): views recompute
    /// only what changed since they last looked.
    pub(crate) gen: u64,
}

impl ModuleRecord {
    pub(crate) fn new(module: String, version: Option<String>, ts: Ts) -> Self {
        ModuleRecord {
            module,
            version,
            attempts: Vec::new(),
            dropped_attempts: 0,
            zip_h1: None,
            zip_proxy: None,
            zip_bytes: None,
            zip_hash_error: None,
            mod_h1: None,
            mod_proxy: None,
            other_mod_h1: None,
            first: ts,
            last: ts,
            gen: 0,
        }
    }

    /// Adds a request, folding the Go ≥ 1.24 GOAUTH retry of a 4xx on https into the
    /// attempt it repeats.
    pub(crate) fn add(&mut self, a: Attempt) {
        self.first = self.first.min(a.ts);
        self.last = self.last.max(a.ts);
        // The retry follows its original within milliseconds: look at the last few only.
        if let Some(prev) = self
            .attempts
            .iter_mut()
            .rev()
            .take(16)
            .find(|p| is_retry_of(p, &a))
        {
            prev.count += 1;
            // The retry is the one that carries GOAUTH's credentials, if any.
            if a.authorization.is_some() {
                prev.authorization = a.authorization.clone();
            }
            prev.total_ms = a.total_ms.map(|t| t + a.ts.ms_since(prev.ts));
            return;
        }
        if self.attempts.len() >= MAX_ATTEMPTS {
            self.dropped_attempts += 1;
            return;
        }
        let at = self.attempts.partition_point(|p| p.ts <= a.ts);
        // Most modules see a few requests: grow one at a time at first (a Vec's first
        // allocation would hold four, and a long run keeps thousands of records).
        if self.attempts.len() < 8 {
            self.attempts.reserve_exact(1);
        }
        self.attempts.insert(at, a);
    }

    /// Artifacts in the order a lookup touches them.
    pub const ARTIFACTS: [Kind; 6] = [
        Kind::List,
        Kind::Latest,
        Kind::Info,
        Kind::Mod,
        Kind::Zip,
        Kind::SumdbLookup,
    ];

    pub(crate) fn attempts_of(&self, kind: Kind) -> impl Iterator<Item = &Attempt> {
        self.attempts.iter().filter(move |a| a.kind == kind)
    }

    /// This artifact's requests split into walks down the proxy list: a walk ends at the
    /// proxy that served it. Repeated downloads (another go command, a fresh cache) make
    /// more walks.
    pub fn walks(&self, kind: Kind) -> Vec<Vec<&Attempt>> {
        walks(self.attempts_of(kind))
    }

    /// The proxy whose 200 for this artifact came last.
    pub(crate) fn served_by(&self, kind: Kind) -> Option<&str> {
        self.attempts_of(kind)
            .filter(|a| a.ok())
            .last()
            .and_then(|a| a.proxy.as_deref())
    }
}

/// Splits attempts (one artifact, in time order) after each success.
pub fn walks<'a>(attempts: impl Iterator<Item = &'a Attempt>) -> Vec<Vec<&'a Attempt>> {
    let mut out: Vec<Vec<&Attempt>> = Vec::new();
    let mut open = false;
    for a in attempts {
        if !open {
            out.push(Vec::new());
            open = true;
        }
        out.last_mut().expect("pushed above").push(a);
        if a.ok() {
            open = false;
        }
    }
    out
}

/// Is `b` the go command's automatic retry of `a`? Same URL on https, `a` answered 4xx,
/// `b` came right after and was answered the same, and `a` was not folded yet.
fn is_retry_of(a: &Attempt, b: &Attempt) -> bool {
    // Git's requests come from separate git processes: a second 401 is another process
    // (each asks without credentials first), not the go command's retry.
    a.count == 1
        && a.kind != Kind::Vcs
        && a.url.is_some()
        && a.url == b.url
        && a.url.as_deref().is_some_and(|u| u.starts_with("https://"))
        && a.status.is_some_and(|s| (400..500).contains(&s))
        && b.status == a.status
        && b.ts.0 - a.ts.0 < 5_000_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(url: &str, status: u16, ts: i64) -> Attempt {
        Attempt {
            exchange: Some(ts as u64),
            proxy: Some("https://p".into()),
            kind: Kind::Info,
            status: Some(status),
            error: None,
            ttfb_ms: Some(1.0),
            count: 1,
            total_ms: Some(1.0),
            url: Some(url.into()),
            redirected_to: None,
            step: None,
            ts: Ts(ts * 1_000_000),
            bytes: 0,
            connection: None,
            setup: Default::default(),
            h2_reused: false,
            html: false,
            authorization: None,
            location: None,
        }
    }

    #[test]
    fn folds_https_4xx_retry_once() {
        let mut r = ModuleRecord::new("m".into(), None, Ts(0));
        r.add(attempt("https://p/m/@v/v1.info", 404, 1));
        r.add(attempt("https://p/m/@v/v1.info", 404, 3));
        r.add(attempt("https://p/m/@v/v1.info", 404, 10));
        assert_eq!(r.attempts.len(), 2);
        assert_eq!(r.attempts[0].count, 2);
        assert_eq!(r.attempts[0].total_ms, Some(3.0));
    }

    #[test]
    fn plain_http_repeats_are_separate_requests() {
        let mut r = ModuleRecord::new("m".into(), None, Ts(0));
        r.add(attempt("http://p/m/@v/v1.info", 404, 1));
        r.add(attempt("http://p/m/@v/v1.info", 404, 2));
        assert_eq!(r.attempts.len(), 2);
    }
}
