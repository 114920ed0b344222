//! The model every view reads, built from events only (captures and the MITM proxy feed
//! it alike). It is a set of small trackers, each applying the events it cares about to
//! its own state: connections and refusals, TLS servers seen from outside, the checksum
//! database, per-proxy statistics, modules, DNS times and the raw log. What they add up
//! to — module verdicts, problems, the summary — is derived on demand.

pub mod checksum_db;
pub mod connections;
pub mod direct;
pub mod dns;
pub mod folded;
pub mod latency;
pub mod log;
pub mod module_views;
pub mod modules;
pub mod network;
mod network_problems;
mod problems;
pub mod proxies;
pub mod sink;
pub mod tls_servers;

use crate::gomod::chain;
use crate::gomod::goproxy::GoproxyList;
use crate::gomod::module::ModuleRecord;
use crate::gomod::sumdb::SumTable;
use crate::present::{LimitCounts, ModuleView, Summary};
use checksum_db::ChecksumDb;
use connections::Connections;
use dns::DnsTimes;
use gomodwatch_wire::vocab::{Event, Ts};
use log::ExchangeLog;
use module_views::Judging;
use modules::Modules;
use proxies::Proxies;
use std::borrow::Borrow;
use std::net::SocketAddr;
use std::time::Instant;
use tls_servers::TlsServers;

pub use connections::ConnBrief;
pub use latency::Latencies;
pub use log::LogRow;
pub use module_views::ViewCache;
pub use network_problems::ProxyEnv;
pub use sink::{Control, Sink};
pub use tls_servers::TlsServer;

#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub goproxy: Option<GoproxyList>,
    /// Time-to-first-byte above which a proxy is called slow.
    pub slo_ms: f64,
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
    pub go_env: Option<crate::gomod::goenv::GoEnv>,
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
            max_modules: modules::DEFAULT_MAX_MODULES,
            go_env: None,
        }
    }
}

/// What the packet source says about itself: counters and messages for the status bar
/// and the summary. The pipeline keeps it current.
#[derive(Debug, Clone, Default)]
pub struct SourceStatus {
    /// What is being read: a file name, interfaces, the MITM address.
    pub name: String,
    pub packets: u64,
    pub bytes: u64,
    /// Packets the capture lost (kernel and ours).
    pub dropped: u64,
    /// Holes in TCP streams (bytes missing from the capture).
    pub gaps: u64,
    /// Bytes of a damaged capture file that were skipped.
    pub skipped_bytes: u64,
    /// What the decoder's own bounds cut.
    pub limits: LimitCounts,
    /// HTTP/1 messages the go command's client would reject.
    pub malformed: u64,
    /// MITM: clients answered 503 (over the cap), and the cap (None for captures).
    pub mitm_refused: Option<u64>,
    pub mitm_client_limit: Option<u64>,
    pub started: Option<Instant>,
    /// The source has ended.
    pub done: bool,
    /// Things to tell the user (an interface went away, a file was damaged), newest last.
    pub notices: Vec<String>,
}

impl SourceStatus {
    /// Packets lost so far: an answer that is missing may have been lost there rather
    /// than never sent.
    pub fn lost(&self) -> u64 {
        self.dropped + self.gaps + self.limits.flows_evicted
    }
}

#[derive(Default)]
pub struct Session {
    pub config: SessionConfig,
    pub source: SourceStatus,
    pub connections: Connections,
    pub tls: TlsServers,
    pub checksum_db: ChecksumDb,
    pub proxies: Proxies,
    pub modules: Modules,
    pub log: ExchangeLog,
    pub dns: DnsTimes,
    pub network: network::Network,
    pub exchanges: u64,
    pub first: Option<Ts>,
    pub last: Ts,
    /// Bumped on every change, so a view redraws only when something happened.
    pub generation: u64,
    /// Module views folded out of memory by the last event (past the module limit), for
    /// the views that write every module (NDJSON); empty after the next event.
    pub folded_now: Vec<ModuleView>,
}

impl Session {
    pub fn new(config: SessionConfig) -> Self {
        let mut s = Session {
            log: ExchangeLog::new(config.log_capacity),
            config,
            ..Default::default()
        };
        s.modules.limit = s.config.max_modules.max(1);
        s
    }

    pub fn apply(&mut self, ev: &Event) {
        self.generation += 1;
        if !self.folded_now.is_empty() {
            self.folded_now.clear();
        }
        match ev {
            Event::Connection(c) => {
                self.touch(c.ts);
                self.touch(c.end);
                let dns_ms = c.server_name.as_deref().and_then(|n| self.dns.ms(n));
                self.connections.apply(c, dns_ms);
                self.tls.apply(c);
                self.network.connection(c);
            }
            Event::Exchange(ex) => {
                self.exchanges += 1;
                self.touch(ex.ts);
                if let Some(t) = ex.last_byte_at {
                    self.touch(t);
                }
                self.log.apply(ex);
                self.proxies.apply(ex);
                self.checksum_db.apply(ex);
                self.network.exchange(ex);
                let (config, proxies) = (&self.config, &self.proxies);
                let proxy_at = |s: &SocketAddr| proxy_at(config, proxies, s);
                self.modules.apply(ex, &mut self.connections, &proxy_at);
                if self.modules.records.len() > self.modules.limit {
                    self.fold();
                }
            }
            Event::Hash(h) => self.modules.zip_hash(h),
            Event::Dns(d) => {
                self.dns.apply(d);
                self.network.dns(d);
            }
        }
    }

    fn touch(&mut self, ts: Ts) {
        self.first = Some(self.first.map_or(ts, |f| f.min(ts)));
        self.last = self.last.max(ts);
    }

    /// The GOPROXY chain used for verdicts: configured, or inferred from the order in
    /// which the traffic asked proxies.
    pub fn chain(&self) -> Option<GoproxyList> {
        self.config.goproxy.clone().or_else(|| {
            // Folded modules leave one record per distinct walk behind as evidence.
            chain::infer(
                self.modules
                    .records
                    .values()
                    .chain(&self.modules.folded.evidence),
            )
        })
    }

    /// What the verdicts consult, with this chain.
    pub fn judging<'a>(&'a self, chain: Option<&'a GoproxyList>) -> Judging<'a> {
        Judging {
            chain,
            slo_ms: self.config.slo_ms,
            gosum: &self.config.gosum,
            checksum_db: &self.checksum_db,
            end: self.last,
            lost: self.source.lost(),
            lost_in_tap: self.source.mitm_client_limit.is_some(),
            env: self.config.go_env.as_ref(),
        }
    }

    /// Every module@version the traffic touched and still held in full, with its verdict,
    /// oldest first (folded ones are in `modules.folded`).
    pub fn modules(&self) -> Vec<ModuleView> {
        let chain = self.chain();
        self.modules.views(&self.judging(chain.as_ref()))
    }

    pub fn summary<M: Borrow<ModuleView>>(&self, modules: &[M]) -> Summary {
        let s = &self.source;
        let mut problems = self.problems(modules);
        self.modules.folded.merge_problems(&mut problems);
        let folded = &self.modules.folded;
        Summary {
            kind: "summary",
            packets: s.packets,
            bytes: s.bytes,
            connections: self.connections.count,
            exchanges: self.exchanges,
            modules: modules.len() as u64 + folded.modules,
            dropped: s.dropped,
            gaps: s.gaps,
            proxies: self.proxies.summaries(),
            goproxy: self.chain(),
            problems,
            modules_folded: folded.modules,
            module_limit: self.modules.limit as u64,
            folded: folded.summary(self.modules.limit),
            limits: s.limits,
            malformed: s.malformed,
            skipped_bytes: s.skipped_bytes,
            mitm_refused: s.mitm_refused,
            mitm_client_limit: s.mitm_client_limit,
        }
    }

    /// Past the module limit: the least recently active components (a module path and
    /// the paths the same queries probed under it) are judged one last time, handed to
    /// the views in `folded_now`, and folded into aggregates, until an eighth of the limit
    /// is free again (so folding happens in batches, not on every new module).
    fn fold(&mut self) {
        let limit = self.modules.limit;
        let keep = limit - limit / 8;
        let mut roots: Vec<(Ts, String)> = self
            .modules
            .roots()
            .into_iter()
            .map(|(r, t)| (t, r.to_string()))
            .collect();
        roots.sort();
        let chain = self.chain();
        let mut folded_views = Vec::new();
        let mut gone = Vec::new();
        let mut all_keys = Vec::new();
        {
            let j = self.judging(chain.as_ref());
            let mut left = self.modules.records.len();
            for (_, root) in &roots {
                if left <= keep {
                    break;
                }
                let (views, _) = self.modules.component_views(root, &j);
                folded_views.extend(views);
                left -= self.modules.component(root).count();
                gone.push(root.as_str());
            }
        }
        for root in gone {
            let new_walks: Vec<(u64, ModuleRecord)> = self
                .modules
                .component(root)
                .filter_map(|r| Some((self.modules.folded.wants_evidence(r)?, r.clone())))
                .collect();
            for (sig, r) in &new_walks {
                self.modules.folded.keep_evidence(*sig, r);
            }
            let keys = self.modules.remove_component(root);
            for (m, v) in &keys {
                self.modules.folded.records += 1;
                if let Some(v) = v {
                    self.checksum_db.forget(m, v);
                }
            }
            all_keys.extend(keys);
        }
        self.modules.forget_pending_hashes(&all_keys);
        for v in &folded_views {
            self.modules.folded.add(v);
        }
        self.folded_now.extend(folded_views);
    }

    /// The proxy base URL for a server address (see [`proxy_at`]).
    pub fn proxy_at(&self, server: &SocketAddr) -> String {
        proxy_at(&self.config, &self.proxies, server)
    }
}

/// The proxy base URL for a server address: from the configured chain, else from a proxy
/// seen in the traffic at that address, else `http://addr`.
fn proxy_at(config: &SessionConfig, proxies: &Proxies, server: &SocketAddr) -> String {
    let hostport = server.to_string();
    let at_server = |base: &str| {
        gomodwatch_wire::vocab::url::parse(base)
            .and_then(|u| gomodwatch_wire::vocab::url::host_port(&u))
            .is_some_and(|hp| hp == hostport)
    };
    if let Some(l) = &config.goproxy {
        if let Some(e) = l.entries.iter().find(|e| at_server(&e.url)) {
            return e.url.clone();
        }
    }
    if let Some(p) = proxies.by_base.keys().find(|p| at_server(p)) {
        return p.clone();
    }
    format!("http://{hostport}")
}
