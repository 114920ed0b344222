//! The records views show: one per module (the `module` event) and the run's summary (the
//! last NDJSON line). Fields serialise exactly as docs/CONTRACT.md names them.

use crate::gomod::cause::Cause;
use crate::gomod::goproxy::GoproxyList;
use crate::gomod::module::Attempt;
use crate::gomod::verdict::{Outcome, Problem, Severity};
use gomodwatch_wire::vocab::Ts;
use serde::Serialize;
use std::collections::BTreeMap;

/// The `module` event.
#[derive(Serialize, Debug, Clone)]
pub struct ModuleView {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    /// The module path.
    pub module: String,
    /// The version; null for a version-less lookup (`@v/list`, `@latest`) that led nowhere.
    pub version: Option<String>,
    /// How it went.
    pub outcome: Outcome,
    /// Which proxy served each artifact.
    pub served_by: ServedBy,
    /// Every request for it, in time order.
    pub attempts: Vec<Attempt>,
    /// The zip's size, when a proxy served it.
    pub zip_bytes: Option<u64>,
    /// The `h1:` of the zip seen on the wire.
    pub h1: Option<String>,
    /// The checksum database's `h1:` for the zip, when a lookup was seen.
    pub sumdb_h1: Option<String>,
    /// One sentence a user can act on, when something went wrong.
    pub problem: Option<String>,
    /// Extensions.
    pub mod_h1: Option<String>,
    /// The checksum database's `h1:` for the go.mod.
    pub sumdb_mod_h1: Option<String>,
    /// go.sum's `h1:` for the zip, when go.sum was read.
    pub gosum_h1: Option<String>,
    /// go.sum's `h1:` for the go.mod.
    pub gosum_mod_h1: Option<String>,
    /// Other paths tried for the same query that 404'd as expected (prefix probes).
    pub probes: Vec<String>,
    /// Extension: for a module fetched from its code host instead of a proxy, the
    /// discovery, repository, the rule that sent it there and warnings (null otherwise).
    pub direct: Option<crate::gomod::direct_verdict::DirectView>,
    /// Extension: why `h1` is null when the wire cannot show it (direct fetches).
    pub hash_note: Option<String>,
    /// Its first request.
    pub ts: Ts,
    /// Time spent on this module's requests (the latest walk of each artifact).
    pub duration_ms: f64,
    /// Requests for this module beyond the attempts kept (docs/LIMITS.md): counted only.
    pub(crate) attempts_not_kept: u64,
    #[serde(skip)]
    pub(crate) severity: Option<Severity>,
    /// Extension: the class of what went wrong (docs/GO-ERRORS.md), with `problem`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
    /// Extension: the step that went wrong (`info`, `mod`, `zip`, `sumdb`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<&'static str>,
    /// Extension, in `run`: the go command's own error line for this module.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub go_said: Option<String>,
    #[serde(skip)]
    pub(crate) host: Option<String>,
    #[serde(skip)]
    pub(crate) inferred: bool,
}

impl ModuleView {
    /// `module@version`, or the module alone for a version-less lookup.
    pub(crate) fn subject(&self) -> String {
        match &self.version {
            Some(v) => format!("{}@{v}", self.module),
            None => self.module.clone(),
        }
    }

    /// A module only the go command's own words tell of (`run`): it failed, and no
    /// request for it was seen.
    pub(crate) fn go_only(
        module: String,
        version: String,
        cause: Option<Cause>,
        problem: String,
        go_said: String,
        ts: Ts,
    ) -> ModuleView {
        ModuleView {
            kind: "module",
            module,
            version: Some(version),
            outcome: Outcome::Failed,
            served_by: ServedBy::default(),
            attempts: Vec::new(),
            zip_bytes: None,
            h1: None,
            sumdb_h1: None,
            problem: Some(problem),
            mod_h1: None,
            sumdb_mod_h1: None,
            gosum_h1: None,
            gosum_mod_h1: None,
            probes: Vec::new(),
            direct: None,
            hash_note: None,
            ts,
            duration_ms: 0.0,
            attempts_not_kept: 0,
            severity: Some(Severity::Error),
            cause,
            step: None,
            go_said: Some(go_said),
            host: None,
            inferred: true,
        }
    }
}

/// The proxy base URL that answered 200 for each artifact (the `served_by` object).
#[derive(Serialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct ServedBy {
    /// The `.info`.
    pub info: Option<String>,
    /// The `.mod` (`mod` in the NDJSON).
    #[serde(rename = "mod")]
    pub gomod: Option<String>,
    /// The `.zip`.
    pub zip: Option<String>,
}

/// One entry of the summary's `proxies` list.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct ProxySummary {
    /// The proxy base URL.
    pub proxy: String,
    /// Requests sent to it.
    pub requests: u64,
    /// Responses by status code (`"200"`, `"404"`, ...).
    pub status: BTreeMap<String, u64>,
    /// Requests that got no response (reset, timeout, truncated).
    pub errors: u64,
    /// Median time to first byte.
    pub p50_ms: Option<f64>,
    /// 95th percentile time to first byte.
    pub p95_ms: Option<f64>,
    /// Slowest time to first byte.
    pub max_ms: Option<f64>,
    /// Response body bytes.
    pub bytes: u64,
    /// Extension: round trip to it (its connections' handshake or MITM connect), median
    /// and 95th percentile over its requests.
    pub rtt_p50_ms: Option<f64>,
    /// See `rtt_p50_ms`.
    pub rtt_p95_ms: Option<f64>,
    /// Extension: the server's own time per request (time to first byte less the round
    /// trip's leg towards the server), median and 95th percentile.
    pub server_p50_ms: Option<f64>,
    /// See `server_p50_ms`.
    pub server_p95_ms: Option<f64>,
}

/// The last NDJSON line.
#[derive(Serialize, Debug, Clone)]
pub struct Summary {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    /// Packets read (or proxied chunks).
    pub packets: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Connections seen.
    pub connections: u64,
    /// Exchanges seen.
    pub exchanges: u64,
    /// Every module the traffic touched: those reported in full and those folded.
    pub modules: u64,
    /// Packets the capture lost (kernel and ours).
    pub dropped: u64,
    /// Holes in TCP streams (bytes missing from the capture).
    pub gaps: u64,
    /// Per proxy: requests, statuses, latency.
    pub proxies: Vec<ProxySummary>,
    /// Extensions: the GOPROXY chain used to judge, and every problem, most serious first.
    pub goproxy: Option<GoproxyList>,
    /// Every problem, most serious first.
    pub problems: Vec<Problem>,
    /// Extension: modules folded out of memory past the module limit (counted in
    /// `modules`; their `module` events were written when they were folded).
    pub modules_folded: u64,
    /// Extension: module records kept in full at most (`--max-modules`).
    pub(crate) module_limit: u64,
    /// Extension: what the folded modules add up to (null when none was folded).
    pub folded: Option<FoldedSummary>,
    /// Extension: what gomodwatch's own bounds cut (docs/LIMITS.md); all 0 on ordinary
    /// traffic.
    pub limits: LimitCounts,
    /// Extension: HTTP/1 messages the go command's client would reject (conflicting
    /// lengths, broken chunking, a head that is not HTTP).
    pub malformed: u64,
    /// Extension: bytes of a damaged capture file skipped to read on.
    pub skipped_bytes: u64,
    /// Extension: packets of a capture file skipped because their interface's link type is
    /// not read (a pcapng's other interfaces are).
    pub skipped_packets: u64,
    /// Extension: TCP payload bytes the capture's snap length cut off packets (`tcpdump
    /// -s 200`): heads are read from what is left, bodies are not complete.
    pub snaplen_bytes: u64,
    /// Extension (MITM; null otherwise): clients answered 503 because more than
    /// `mitm_client_limit` were being served at once, or no descriptor was left.
    pub(crate) mitm_refused: Option<u64>,
    /// Extension (MITM; null otherwise): `--mitm-max-clients` in effect.
    pub(crate) mitm_client_limit: Option<u64>,
    /// Extension (MITM; null otherwise): times the relay waited for gomodwatch's decoding
    /// to make room, slowing a transfer (zip hashing far behind, or a slow machine).
    pub mitm_relay_waits: Option<u64>,
    /// Extension: zips a proxy served that have no `h1:` through no fault of their own
    /// (hashing fell behind, bytes not seen): each module says why in `hash_note`.
    pub zips_not_hashed: u64,
}

/// Traffic gomodwatch did not follow to the end because one of its bounds was reached.
/// Each is also said where it happened (a connection's or exchange's `error`).
#[derive(Serialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimitCounts {
    /// Open connections ended early: too many at once, or too much protocol state.
    pub flows_evicted: u64,
    /// HTTP/1 requests past the bound on requests waiting for an answer on one connection.
    pub requests_dropped: u64,
    /// HTTP/2 streams refused: too many open at once, or a header list too large.
    pub h2_streams_dropped: u64,
    /// HTTP/2 directions that could not be decoded further (after a gap or a protocol
    /// error: HPACK state is lost).
    pub h2_undecodable: u64,
}

impl LimitCounts {
    /// Anything cut at all.
    pub fn any(&self) -> bool {
        *self != LimitCounts::default()
    }

    /// One phrase for a status line: "3 flows evicted, 1 request dropped".
    pub fn phrase(&self) -> String {
        let parts = [
            (self.flows_evicted, "flow evicted", "flows evicted"),
            (self.requests_dropped, "request dropped", "requests dropped"),
            (
                self.h2_streams_dropped,
                "h2 stream dropped",
                "h2 streams dropped",
            ),
            (
                self.h2_undecodable,
                "h2 direction lost",
                "h2 directions lost",
            ),
        ];
        parts
            .iter()
            .filter(|(n, ..)| *n > 0)
            .map(|(n, one, many)| format!("{n} {}", if *n == 1 { one } else { many }))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The summary's `folded` object.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct FoldedSummary {
    /// `--max-modules`: records kept in full at most.
    pub limit: u64,
    /// Module records folded (a module's version-less lookups are records of their own).
    pub(crate) records: u64,
    /// Folded modules by outcome.
    pub outcomes: BTreeMap<String, u64>,
    pub(crate) proxies: Vec<FoldedProxy>,
    /// Problems the folded modules had (told in `problems` with up to three names each).
    pub(crate) problems: u64,
    /// The first and last request of a folded module.
    pub(crate) first: Option<Ts>,
    pub(crate) last: Option<Ts>,
}

/// One proxy's share of the folded modules.
#[derive(Serialize, Debug, Clone, Default, PartialEq)]
pub(crate) struct FoldedProxy {
    pub(crate) proxy: String,
    /// Folded modules whose .info, .mod or .zip it served.
    pub(crate) modules_served: u64,
    pub(crate) requests: u64,
    pub(crate) not_found: u64,
    pub(crate) failed: u64,
}
