//! The model every view reads: modules with their lookup chains, proxies with their
//! statistics, the checksum database's answers, and the problems worth telling. Built from
//! events only, so captures and the MITM proxy feed it alike.

mod chain;
mod modules;
mod problems;
pub mod stats;

use crate::gomod::classify::Kind;
use crate::gomod::goproxy::GoproxyList;
use crate::gomod::module::{Attempt, ModuleRecord};
use crate::gomod::sumdb::{lookup_lines, SumTable};
use crate::gomod::verdict::{Outcome, Problem, Severity};
use crate::session::stats::{ProxySummary, ProxyTally};
use crate::vocab::event::{ConnError, Connection, Event, Exchange};
use crate::vocab::time::Ts;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;

/// Records kept at most (module@version pairs); a capture touching more is summarised.
const MAX_MODULES: usize = 50_000;
const MAX_CONNECTIONS: usize = 20_000;

#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub goproxy: Option<GoproxyList>,
    /// Time-to-first-byte above which a proxy is called slow.
    pub slo_ms: f64,
    pub gosum: SumTable,
    /// Exchanges kept for the raw log view (0 for batch output).
    pub log_capacity: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            goproxy: None,
            slo_ms: 80.0,
            gosum: SumTable::default(),
            log_capacity: 0,
        }
    }
}

/// A connection as the views need it (the waterfall's DNS, connect and TLS phases).
#[derive(Debug, Clone)]
pub struct ConnBrief {
    pub ts: Ts,
    pub server: SocketAddr,
    pub server_name: Option<String>,
    pub connect_ms: Option<f64>,
    pub tls_ms: Option<f64>,
    pub sni: Option<String>,
    pub error: Option<ConnError>,
    pub dns_ms: Option<f64>,
}

/// One line of the raw exchange log: what `tail -f` of the traffic would show.
#[derive(Debug, Clone)]
pub struct LogRow {
    pub id: u64,
    pub ts: Ts,
    pub method: Option<String>,
    pub url: Option<String>,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub ttfb_ms: Option<f64>,
    pub total_ms: Option<f64>,
    pub resp_bytes: u64,
    pub kind: Kind,
}

impl From<&Exchange> for LogRow {
    fn from(ex: &Exchange) -> Self {
        LogRow {
            id: ex.id,
            ts: ex.ts,
            method: ex.method.clone(),
            url: ex.url.clone(),
            status: ex.status,
            error: ex.error.clone(),
            ttfb_ms: ex.timing.ttfb_ms,
            total_ms: ex.timing.total_ms,
            resp_bytes: ex.resp_bytes,
            kind: ex.go.kind,
        }
    }
}

/// TLS connections to one server name, which a capture sees only from outside.
#[derive(Debug, Clone, Default)]
pub struct TlsServer {
    pub connections: u64,
    pub bytes: u64,
    pub address: Option<SocketAddr>,
    pub dns_name: Option<String>,
    pub versions: BTreeSet<String>,
    /// Negotiated ALPN when visible, else what the client offered.
    pub alpn: Vec<String>,
    pub alpn_selected: bool,
    pub handshake: crate::session::stats::Latencies,
    pub duration: crate::session::stats::Latencies,
}

/// The `module` event.
#[derive(Serialize, Debug, Clone)]
pub struct ModuleView {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub module: String,
    pub version: Option<String>,
    pub outcome: Outcome,
    pub served_by: ServedBy,
    pub attempts: Vec<Attempt>,
    pub zip_bytes: Option<u64>,
    pub h1: Option<String>,
    pub sumdb_h1: Option<String>,
    pub problem: Option<String>,
    /// Extensions.
    pub mod_h1: Option<String>,
    pub sumdb_mod_h1: Option<String>,
    pub gosum_h1: Option<String>,
    pub gosum_mod_h1: Option<String>,
    /// Other paths tried for the same query that 404'd as expected (prefix probes).
    pub probes: Vec<String>,
    pub ts: Ts,
    /// Time spent on this module's requests (the latest walk of each artifact).
    pub duration_ms: f64,
    #[serde(skip)]
    pub severity: Option<Severity>,
}

#[derive(Serialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct ServedBy {
    pub info: Option<String>,
    #[serde(rename = "mod")]
    pub gomod: Option<String>,
    pub zip: Option<String>,
}

/// The last NDJSON line.
#[derive(Serialize, Debug, Clone)]
pub struct Summary {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub packets: u64,
    pub bytes: u64,
    pub connections: u64,
    pub exchanges: u64,
    pub modules: u64,
    pub dropped: u64,
    pub gaps: u64,
    pub proxies: Vec<ProxySummary>,
    /// Extensions: the GOPROXY chain used to judge, and every problem, most serious first.
    pub goproxy: Option<GoproxyList>,
    pub problems: Vec<Problem>,
}

/// Counters that come from the packet source rather than from events.
#[derive(Debug, Default, Clone, Copy)]
pub struct SourceCounts {
    pub packets: u64,
    pub bytes: u64,
    pub dropped: u64,
    pub gaps: u64,
}

#[derive(Default)]
pub struct Session {
    pub config: SessionConfig,
    pub connections: u64,
    pub exchanges: u64,
    pub proxies: BTreeMap<String, ProxyTally>,
    records: BTreeMap<(String, Option<String>), ModuleRecord>,
    /// Records that did not fit (MAX_MODULES).
    pub modules_dropped: u64,
    sumdb: SumTable,
    /// Who answered each lookup.
    sumdb_source: HashMap<(String, String), String>,
    /// Checksum database names seen under each base (`/sumdb/<name>/`).
    log_sumdb_names: BTreeMap<String, String>,
    /// `sumdb/<name>/supported` answers by proxy.
    sumdb_supported: BTreeMap<String, Option<u16>>,
    conns: BTreeMap<u64, ConnBrief>,
    /// Refused connections waiting for the request that fell back after them.
    refused: VecDeque<(Ts, SocketAddr)>,
    /// Refused connections per server address.
    refused_by_server: BTreeMap<SocketAddr, u64>,
    /// TLS connections (that nobody decoded) by server name: (count, bytes).
    pub tls_servers: BTreeMap<String, TlsServer>,
    /// Zip exchanges whose hash has not arrived yet → their module record.
    zip_exchanges: HashMap<u64, (String, Option<String>)>,
    /// DNS lookup times by name, for waterfalls.
    dns_ms: HashMap<String, f64>,
    /// The newest exchanges, for the raw log view (bounded by `log_capacity`).
    pub log: VecDeque<LogRow>,
    /// Packets the capture lost (drops and gaps) so far: an answer that is missing may have
    /// been lost there rather than never sent.
    pub lost: u64,
    /// Exchanges ever logged (the log's first row is number `logged - log.len()`).
    pub logged: u64,
    pub first: Option<Ts>,
    pub last: Ts,
    /// Bumped on every change, so a view redraws only when something happened.
    pub generation: u64,
}

impl Session {
    pub fn new(config: SessionConfig) -> Self {
        Session {
            config,
            ..Default::default()
        }
    }

    pub fn apply(&mut self, ev: &Event) {
        self.generation += 1;
        match ev {
            Event::Connection(c) => self.connection(c),
            Event::Exchange(ex) => self.exchange(ex),
            Event::Hash(h) => self.zip_hash(h),
            Event::Dns(d) => {
                if let Some(ms) = d.duration_ms {
                    if self.dns_ms.len() < 10_000 {
                        self.dns_ms.insert(d.name.clone(), ms);
                    }
                }
            }
        }
    }

    /// A zip's `h1:` arrived from the hashing thread.
    fn zip_hash(&mut self, h: &crate::vocab::event::ZipHash) {
        let Some(key) = self.zip_exchanges.remove(&h.exchange) else {
            return;
        };
        if let Some(rec) = self.records.get_mut(&key) {
            if h.h1.is_some() {
                rec.zip_h1 = h.h1.clone();
            }
            rec.zip_hash_error = h.error.clone();
        }
    }

    fn touch(&mut self, ts: Ts) {
        self.first = Some(self.first.map_or(ts, |f| f.min(ts)));
        self.last = self.last.max(ts);
    }

    fn connection(&mut self, c: &Connection) {
        self.connections += 1;
        self.touch(c.ts);
        self.touch(c.end);
        if c.error == Some(ConnError::Refused) {
            *self.refused_by_server.entry(c.server).or_default() += 1;
            self.refused.push_back((c.ts, c.server));
            if self.refused.len() > 256 {
                self.refused.pop_front();
            }
        }
        // A TLS connection seen from outside (the MITM proxy decodes its own).
        if let (Some(tls), crate::vocab::event::Source::Capture) = (&c.tls, c.source) {
            let name = tls
                .sni
                .clone()
                .or_else(|| c.server_name.clone())
                .unwrap_or_else(|| c.server.to_string());
            let e = self.tls_servers.entry(name).or_default();
            e.connections += 1;
            e.bytes += c.bytes_up + c.bytes_down;
            e.address = Some(c.server);
            if let Some(h) = tls.handshake_ms {
                e.handshake.add(h);
            }
            e.duration.add(c.duration_ms);
            if let Some(v) = &tls.version {
                e.versions.insert(v.clone());
            }
            e.alpn_selected = tls.alpn_selected.is_some();
            e.alpn = tls
                .alpn_selected
                .clone()
                .map(|a| vec![a])
                .unwrap_or(tls.alpn.clone());
            e.dns_name = c.server_name.clone().or(e.dns_name.take());
        }
        if self.conns.len() >= MAX_CONNECTIONS {
            self.conns.pop_first();
        }
        let dns_ms = c
            .server_name
            .as_ref()
            .and_then(|n| self.dns_ms.get(n).copied());
        self.conns.insert(
            c.id,
            ConnBrief {
                ts: c.ts,
                server: c.server,
                server_name: c.server_name.clone(),
                connect_ms: c.connect_ms,
                tls_ms: c.tls.as_ref().and_then(|t| t.handshake_ms),
                sni: c.tls.as_ref().and_then(|t| t.sni.clone()),
                error: c.error,
                dns_ms,
            },
        );
    }

    pub fn conn(&self, id: u64) -> Option<&ConnBrief> {
        self.conns.get(&id)
    }

    fn exchange(&mut self, ex: &Exchange) {
        self.exchanges += 1;
        self.touch(ex.ts);
        if let Some(t) = ex.last_byte_at {
            self.touch(t);
        }
        if self.config.log_capacity > 0 {
            if self.log.len() >= self.config.log_capacity {
                self.log.pop_front();
            }
            self.log.push_back(LogRow::from(ex));
            self.logged += 1;
        }
        let go = &ex.go;
        if let Some(proxy) = go.proxy.as_ref().filter(|_| ex.redirect_of.is_none()) {
            self.proxies.entry(proxy.clone()).or_default().add(
                ex.status,
                ex.error.is_some(),
                ex.resp_bytes,
                ex.timing.ttfb_ms,
            );
        }
        if go.kind.is_sumdb() {
            if let (Some(base), Some(url)) = (&go.proxy, &ex.url) {
                if let Some(name) = url
                    .split("/sumdb/")
                    .nth(1)
                    .and_then(|r| r.split('/').next())
                {
                    self.log_sumdb_names.insert(base.clone(), name.to_string());
                }
            }
        }
        match go.kind {
            Kind::SumdbSupported => {
                if let Some(p) = &go.proxy {
                    self.sumdb_supported.insert(p.clone(), ex.status);
                }
            }
            Kind::SumdbLookup if ex.status == Some(200) => {
                if let Some(text) = &ex.body.text {
                    let lines = lookup_lines(text);
                    self.sumdb.add_lines(lines);
                    let keys = SumTable::parse(lines);
                    if let (Some(m), Some(v)) = (&go.module, &go.version) {
                        if keys.get(m, v).is_some() {
                            let base = go.proxy.clone().unwrap_or_default();
                            self.sumdb_source.insert((m.clone(), v.clone()), base);
                        }
                    }
                }
            }
            _ => {}
        }
        if !(go.kind.is_proxy_artifact() || go.kind == Kind::SumdbLookup) {
            return;
        }
        let Some(module) = go.module.clone() else {
            return;
        };
        let version = match go.kind {
            Kind::List | Kind::Latest => None,
            _ => go.version.clone(),
        };
        // A refused connection just before this request was the same request, failing
        // at the proxy before (GOPROXY's '|' fell back to this one).
        let refused: Vec<(Ts, SocketAddr)> = {
            // Forget refusals too old to belong to any request still to come.
            while self
                .refused
                .front()
                .is_some_and(|(t, _)| ex.ts.0 - t.0 > 2_000_000_000)
            {
                self.refused.pop_front();
            }
            match self.refused.front() {
                Some(&(t, s)) if t <= ex.ts => {
                    self.refused.pop_front();
                    vec![(t, s)]
                }
                _ => Vec::new(),
            }
        };
        let key = (module.clone(), version.clone());
        if !self.records.contains_key(&key) && self.records.len() >= MAX_MODULES {
            self.modules_dropped += 1;
            return;
        }
        let base_for = |s: &SocketAddr| self.base_for_server(s);
        let refused_attempts: Vec<Attempt> = refused
            .iter()
            .map(|(t, s)| Attempt {
                exchange: None,
                proxy: Some(base_for(s).into()),
                kind: go.kind,
                status: None,
                error: Some(Arc::from("refused")),
                ttfb_ms: None,
                count: 1,
                total_ms: None,
                url: None,
                redirected_to: None,
                ts: *t,
                bytes: 0,
                connection: None,
                setup: Default::default(),
            })
            .collect();
        let rec = self
            .records
            .entry(key)
            .or_insert_with(|| ModuleRecord::new(module, version, ex.ts));
        for a in refused_attempts {
            rec.add(a);
        }
        match ex.redirect_of {
            Some(orig) => follow_redirect(rec, orig, ex),
            None => rec.add(Attempt::from_exchange(ex)),
        }
        match go.kind {
            Kind::Zip if ex.status == Some(200) => {
                rec.zip_bytes = Some(ex.resp_bytes);
                rec.zip_proxy = go.proxy.clone();
                let key = (rec.module.clone(), rec.version.clone());
                if self.zip_exchanges.len() < MAX_MODULES {
                    self.zip_exchanges.insert(ex.id, key);
                }
            }
            Kind::Mod if ex.status == Some(200) && ex.body.h1.is_some() => {
                rec.mod_h1 = ex.body.h1.clone();
            }
            _ => {}
        }
    }

    /// The proxy base URL for a server address: from the configured chain, else from a
    /// proxy seen in the traffic at that address, else `http://addr`.
    fn base_for_server(&self, s: &SocketAddr) -> String {
        let hostport = s.to_string();
        let matches = |base: &str| {
            base.split("://")
                .nth(1)
                .map(|rest| rest.split('/').next().unwrap_or("") == hostport)
                .unwrap_or(false)
        };
        if let Some(l) = &self.config.goproxy {
            if let Some(e) = l.entries.iter().find(|e| matches(&e.url)) {
                return e.url.clone();
            }
        }
        if let Some(p) = self.proxies.keys().find(|p| matches(p)) {
            return p.clone();
        }
        format!("http://{hostport}")
    }

    /// The GOPROXY chain used for verdicts: configured, or inferred from the order in
    /// which the traffic asked proxies.
    pub fn chain(&self) -> Option<GoproxyList> {
        self.config.goproxy.clone().or_else(|| self.infer_chain())
    }

    pub fn summary(&self, src: SourceCounts, modules: &[ModuleView]) -> Summary {
        let chain = self.chain();
        Summary {
            kind: "summary",
            packets: src.packets,
            bytes: src.bytes,
            connections: self.connections,
            exchanges: self.exchanges,
            modules: modules.len() as u64 + self.modules_dropped,
            dropped: src.dropped,
            gaps: src.gaps,
            proxies: self.proxies.iter().map(|(p, t)| t.summary(p)).collect(),
            goproxy: chain,
            problems: self.problems(modules),
        }
    }

    pub fn sumdb_supported(&self) -> &BTreeMap<String, Option<u16>> {
        &self.sumdb_supported
    }

    pub fn dns_ms(&self, name: &str) -> Option<f64> {
        self.dns_ms.get(name).copied()
    }
}

/// A redirect hop finishes the attempt that was redirected: its status, bytes and time
/// are what the go command got for that request.
fn follow_redirect(rec: &mut ModuleRecord, orig: u64, hop: &Exchange) {
    let Some(a) = rec.attempts.iter_mut().find(|a| a.exchange == Some(orig)) else {
        rec.add(Attempt::from_exchange(hop));
        return;
    };
    a.status = hop.status;
    a.error = hop.error.as_deref().map(Arc::from);
    a.bytes = hop.resp_bytes;
    a.total_ms = hop.last_byte_at.map(|t| t.ms_since(a.ts));
    a.redirected_to = hop
        .url
        .as_deref()
        .and_then(|u| u.split("://").nth(1))
        .map(|r| r.split('/').next().unwrap_or(r).to_string());
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
