//! The session: every tracker, fed each event in turn ([`Session::apply`]), and what they
//! add up to, derived on demand: the GOPROXY chain, module views, the summary, and folding
//! the least recently active modules past the module limit.

use super::budget::Budget;
use super::checksum_db::ChecksumDb;
use super::config::{SessionConfig, SourceStatus};
use super::connections::Connections;
use super::judging::Judging;
use super::log::ExchangeLog;
use super::module_views;
use super::modules::Modules;
use super::network::Network;
use super::path_timing::PathTiming;
use super::proxies::Proxies;
use super::tls_servers::TlsServers;
use crate::gomod::chain;
use crate::gomod::goproxy::GoproxyList;
use crate::gomod::module::ModuleRecord;
use crate::present::{Budget as BudgetView, ModuleView, Summary};
use gomodwatch_wire::vocab::{url, Event, Ts};
use std::borrow::Borrow;
use std::net::SocketAddr;

/// The model every view reads: each tracker fed every event, in order.
#[derive(Default)]
pub struct Session {
    /// What the session was told (chain, go.sum, environment, limits).
    pub config: SessionConfig,
    /// The packet source's own counters and messages (the pipeline keeps them current).
    pub source: SourceStatus,
    /// Connections counted, and the refused ones.
    pub connections: Connections,
    /// TLS servers seen from outside (captures).
    pub tls: TlsServers,
    /// What the checksum database said.
    pub checksum_db: ChecksumDb,
    /// Per-proxy statistics.
    pub proxies: Proxies,
    /// Every module@version and its requests.
    pub modules: Modules,
    /// The newest exchanges, for the log view.
    pub log: ExchangeLog,
    /// Name lookups, TLS failures, HTTP proxies: the way to the proxies.
    pub network: Network,
    /// The go command's requests as intervals, for the time budget.
    pub budget: Budget,
    /// Loss per server and what each GOPROXY entry served: timing verdicts.
    pub path_timing: PathTiming,
    /// Exchanges seen.
    pub exchanges: u64,
    /// The first event's time.
    pub first: Option<Ts>,
    /// The last event's time.
    pub last: Ts,
    /// Bumped on every change, so a view redraws only when something happened.
    pub generation: u64,
    /// Module views folded out of memory by the last event (past the module limit), for
    /// the views that write every module (NDJSON); empty after the next event.
    pub folded_now: Vec<ModuleView>,
}

impl Session {
    /// A session configured with `config`.
    pub fn new(config: SessionConfig) -> Self {
        let mut s = Session {
            log: ExchangeLog::new(config.log_capacity),
            config,
            ..Default::default()
        };
        s.modules.limit = s.config.max_modules.max(1);
        s
    }

    /// Applies one event to every tracker that wants it.
    pub fn apply(&mut self, ev: &Event) {
        self.generation += 1;
        if !self.folded_now.is_empty() {
            self.folded_now.clear();
        }
        match ev {
            Event::Connection(c) => {
                self.touch(c.ts);
                self.touch(c.end);
                self.connections.apply(c);
                self.tls.apply(c);
                self.network.connection(c);
                self.path_timing.connection(c);
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
                self.budget.apply(ex);
                self.path_timing.exchange(ex);
                let (config, proxies) = (&self.config, &self.proxies);
                let proxy_at =
                    |s: &SocketAddr| (proxy_at(config, proxies, s), config.may_be_goproxy_entry(s));
                self.modules.apply(ex, &mut self.connections, &proxy_at);
                if self.modules.records.len() > self.modules.limit {
                    self.fold();
                }
            }
            Event::Hash(h) => self.modules.zip_hash(h),
            Event::Dns(d) => self.network.dns(d),
        }
    }

    fn touch(&mut self, ts: Ts) {
        self.first = Some(self.first.map_or(ts, |f| f.min(ts)));
        self.last = self.last.max(ts);
    }

    /// The GOPROXY chain used for verdicts: configured, or inferred from the order in
    /// which the traffic asked proxies.
    pub(crate) fn chain(&self) -> Option<GoproxyList> {
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
    pub(crate) fn judging<'a>(&'a self, chain: Option<&'a GoproxyList>) -> Judging<'a> {
        Judging {
            chain,
            slo_ms: self.config.slo_ms,
            gosum: &self.config.gosum,
            checksum_db: &self.checksum_db,
            end: self.last,
            lost: self.source.lost(),
            lost_in_tap: self.source.mitm_client_limit.is_some(),
            env: self.config.go_env.as_ref(),
            sumdb_down: self.sumdb_down(),
            redirects_down: self.redirects_down(),
            unresolved: self
                .network
                .lookups
                .iter()
                .filter(|(_, l)| l.resolved == 0 && !l.failed.is_empty())
                .map(|(n, _)| n.clone())
                // Through the MITM, the names it could not resolve for the go command.
                .chain(
                    self.network
                        .mitm_failures
                        .keys()
                        .filter(|(_, m)| m.starts_with("DNS lookup failed"))
                        .map(|(h, _)| h.clone()),
                )
                .collect(),
            go_run: self.config.go_run.as_deref(),
        }
    }

    /// Every module@version the traffic touched and still held in full, with its verdict,
    /// oldest first (folded ones are in `modules.folded`).
    pub fn modules(&self) -> Vec<ModuleView> {
        let chain = self.chain();
        let mut views = module_views::views(&self.modules, &self.judging(chain.as_ref()));
        if let Some(run) = &self.config.go_run {
            super::go_run::add_unseen(&mut views, run, self.last, |h| self.mitm_cause(h));
            super::go_run::add_asked(&mut views, run, self.last);
        }
        views
    }

    /// Where the run's wall-clock time went (the `budget` event): over the go command's
    /// lifetime under `run`, else over its traffic; `None` when there is neither.
    pub fn budget(&self) -> Option<BudgetView> {
        let lifetime = self.config.go_run.as_ref().and_then(|r| {
            let (start, end) = r.lifetime();
            Some((start?, end.unwrap_or(self.last)))
        });
        self.budget.view(lifetime)
    }

    /// The run's summary, given the module views (the last NDJSON line, the report's end).
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
            skipped_packets: s.skipped_packets,
            snaplen_bytes: s.snaplen_bytes,
            mitm_refused: s.mitm_refused,
            mitm_client_limit: s.mitm_client_limit,
            mitm_relay_waits: s.mitm_relay_waits,
            zips_not_hashed: modules
                .iter()
                .map(Borrow::borrow)
                .filter(|m: &&ModuleView| m.direct.is_none() && m.hash_note.is_some())
                .count() as u64,
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
                let (views, _) = module_views::component_views(&self.modules, root, &j);
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
    pub(crate) fn proxy_at(&self, server: &SocketAddr) -> String {
        proxy_at(&self.config, &self.proxies, server)
    }
}

/// The proxy base URL for a server address: from the configured chain, else from a proxy
/// seen in the traffic at that address, else `http://addr`.
fn proxy_at(config: &SessionConfig, proxies: &Proxies, server: &SocketAddr) -> String {
    let hostport = server.to_string();
    let at_server = |base: &str| {
        url::parse(base)
            .and_then(|u| url::host_port(&u))
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
