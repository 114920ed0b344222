//! What a session is told rather than shown by the traffic: its configuration (the
//! GOPROXY chain, go.sum, the go command's environment, limits), the proxy settings and
//! trusted roots of the machine when known, and the packet source's own counters.

use super::modules::DEFAULT_MAX_MODULES;
use crate::gomod::goenv::GoEnv;
use crate::gomod::goproxy::ChainSource;
use crate::gomod::goproxy::GoproxyList;
use crate::gomod::sumdb::SumTable;
use crate::present::LimitCounts;
use gomodwatch_wire::vocab::url;
use std::net::SocketAddr;
use std::time::Instant;

/// What a session is told rather than shown: the chain, go.sum, the go command's
/// environment, limits.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// The GOPROXY chain given (`--goproxy`, `--go-env`, `go env`); inferred from the
    /// traffic when `None`.
    pub goproxy: Option<GoproxyList>,
    /// Time-to-first-byte above which a proxy is called slow.
    pub slo_ms: f64,
    /// go.sum's hashes (`--gosum`, or ./go.sum).
    pub gosum: SumTable,
    /// Exchanges kept for the raw log view (0 for batch output).
    pub log_capacity: usize,
    /// HTTPS_PROXY/HTTP_PROXY as the go command had them, when known.
    pub proxy_env: Option<ProxyEnv>,
    /// The root CAs this machine trusts (to tell a public CA from a TLS-inspecting
    /// proxy's), when they can be read.
    pub trusted_roots: Option<std::sync::Arc<dyn TrustedRoots>>,
    /// Module records kept in full; older ones are folded into aggregates.
    pub max_modules: usize,
    /// The go command's GOPROXY, GOPRIVATE, GONOPROXY, GONOSUMDB, GOINSECURE, GOSUMDB,
    /// GOFLAGS, when known: names the rule that sent a module direct.
    pub go_env: Option<GoEnv>,
    /// In `run`: what the go command child said and how it exited (the oracle the
    /// verdicts defer to).
    pub go_run: Option<std::sync::Arc<crate::gomod::gosaid::GoRun>>,
}

/// Which certificate subjects are root CAs this machine trusts. Reading the system's store
/// costs milliseconds, so an implementation reads it only when first asked (a capture
/// with no TLS failure never asks).
pub trait TrustedRoots: Send + Sync {
    /// `None` when the store could not be read.
    fn contains(&self, subject: &str) -> Option<bool>;
}

impl std::fmt::Debug for dyn TrustedRoots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TrustedRoots")
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            goproxy: None,
            slo_ms: 80.0,
            gosum: SumTable::default(),
            log_capacity: 0,
            proxy_env: None,
            trusted_roots: None,
            max_modules: DEFAULT_MAX_MODULES,
            go_env: None,
            go_run: None,
        }
    }
}

/// What the packet source says about itself: counters and messages for the status bar
/// and the summary. The pipeline keeps it current.
#[derive(Debug, Clone, Default)]
pub struct SourceStatus {
    /// What is being read: a file name, interfaces, the MITM address.
    pub name: String,
    /// Packets read.
    pub packets: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Packets the capture lost (kernel and ours).
    pub dropped: u64,
    /// Holes in TCP streams (bytes missing from the capture).
    pub gaps: u64,
    /// TCP payload bytes the capture's snap length cut off packets.
    pub snaplen_bytes: u64,
    /// Bytes of a damaged capture file that were skipped.
    pub skipped_bytes: u64,
    /// Packets on capture interfaces whose link type is not read (skipped).
    pub skipped_packets: u64,
    /// What the decoder's own bounds cut.
    pub limits: LimitCounts,
    /// HTTP/1 messages the go command's client would reject.
    pub malformed: u64,
    /// MITM: clients answered 503 (over the cap), and the cap (None for captures).
    pub mitm_refused: Option<u64>,
    /// MITM: `--mitm-max-clients` in effect.
    pub mitm_client_limit: Option<u64>,
    /// MITM: times the relay waited for the decoder to make room.
    pub mitm_relay_waits: Option<u64>,
    /// When the source started (the status bar's clock).
    pub started: Option<Instant>,
    /// The source has ended.
    pub done: bool,
    /// Things to tell the user (an interface went away, a file was damaged), newest last.
    pub notices: Vec<String>,
}

impl SourceStatus {
    /// Packets lost so far: an answer that is missing may have been lost there rather
    /// than never sent.
    pub(crate) fn lost(&self) -> u64 {
        self.dropped + self.gaps + self.limits.flows_evicted
    }
}

/// The proxy settings the go command ran with, when known (live capture and MITM: this
/// process's environment, which the go command shares when started from the same shell).
#[derive(Debug, Clone, Default)]
pub struct ProxyEnv {
    /// `HTTPS_PROXY` (or `https_proxy`).
    pub https_proxy: Option<String>,
    /// `HTTP_PROXY` (or `http_proxy`).
    pub http_proxy: Option<String>,
}

impl ProxyEnv {
    /// Which setting points at `addr` (or at `name:port`), as `HTTPS_PROXY=...`.
    pub(super) fn naming(&self, addr: &SocketAddr, name: Option<&str>) -> Option<String> {
        [
            ("HTTPS_PROXY", &self.https_proxy),
            ("HTTP_PROXY", &self.http_proxy),
        ]
        .into_iter()
        .find_map(|(var, value)| {
            let value = value.as_deref()?;
            // A bare `host:port` means http (httpproxy).
            let with_scheme = if value.contains("://") {
                value.to_string()
            } else {
                format!("http://{value}")
            };
            let u = url::parse(&with_scheme)?;
            let hp = url::host_port(&u)?;
            let port = u.port_or_known_default()?;
            let by_name = name.is_some_and(|n| format!("{n}:{port}") == hp);
            (hp == addr.to_string() || by_name)
                .then(|| format!("{var}={}", url::redact_password(value)))
        })
    }
}

impl SessionConfig {
    /// May a refused connection to `addr` be charged to the next module request as the
    /// GOPROXY entry the walk fell back from? Not when it is the checksum database
    /// (GOSUMDB), and, when GOPROXY is known, only when one of its entries could be there.
    pub(crate) fn may_be_goproxy_entry(&self, addr: &std::net::SocketAddr) -> bool {
        let config = self;
        let at = |u: &str| url::parse(u).is_some_and(|u| url::could_be_at(&u, addr, |_| true));
        let exact_sumdb = config
            .go_env
            .as_ref()
            .and_then(|e| e.sumdb_url())
            .and_then(|u| url::parse(&u))
            .is_some_and(|u| {
                !matches!(u.host(), Some(url::Host::Domain(_)) | None)
                    && u.port_or_known_default() == Some(addr.port())
            })
            && config
                .go_env
                .as_ref()
                .and_then(|e| e.sumdb_url())
                .is_some_and(|u| at(&u));
        if exact_sumdb {
            return false;
        }
        match config
            .goproxy
            .as_ref()
            .filter(|l| l.source != ChainSource::Inferred)
        {
            Some(list) => list.entries.iter().any(|e| at(&e.url)),
            None => true,
        }
    }
}
