//! The model every view reads: modules with their lookup chains, proxies with their
//! statistics, the checksum database's answers, and the problems worth telling. Built from
//! events only, so captures and the MITM proxy feed it alike.

use crate::event::{ConnError, Connection, Event, Exchange};
use crate::gomod::classify::Kind;
use crate::gomod::goproxy::{ChainSource, EntryKind, GoproxyList};
use crate::gomod::module::{Attempt, ModuleRecord};
use crate::gomod::sumdb::{lookup_lines, SumTable, Sums};
use crate::gomod::verdict::{judge, JudgeCtx, Outcome, Problem, Severity};
use crate::stats::{ProxySummary, ProxyTally};
use crate::time::Ts;
use serde::Serialize;
use std::borrow::Cow;
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
    pub handshake: crate::stats::Latencies,
    pub duration: crate::stats::Latencies,
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
    fn zip_hash(&mut self, h: &crate::event::ZipHash) {
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
        if let (Some(tls), crate::event::Source::Capture) = (&c.tls, c.source) {
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

    fn infer_chain(&self) -> Option<GoproxyList> {
        // Proxies in the order the walks visit them; an error followed by another proxy
        // means '|'. Everything is compared as &str: no copies of the attempts' strings.
        let mut order: Vec<&str> = Vec::new();
        let mut pipe: BTreeSet<&str> = BTreeSet::new();
        // Few proxies, many attempts: a small list beats hashing every attempt's string.
        let mut first_seen: Vec<(&str, Ts)> = Vec::new();
        for rec in self.records.values() {
            for kind in [Kind::Info, Kind::Mod, Kind::Zip, Kind::List, Kind::Latest] {
                let mut prev: Option<&Attempt> = None;
                for a in rec.attempts_of(kind) {
                    let Some(p) = a.proxy.as_deref() else {
                        continue;
                    };
                    match first_seen.iter_mut().find(|(q, _)| *q == p) {
                        Some((_, t)) => *t = (*t).min(a.ts),
                        None => first_seen.push((p, a.ts)),
                    }
                    if let Some(b) = prev.filter(|b| !b.ok()) {
                        let q = b.proxy.as_deref().unwrap_or("");
                        if q != p {
                            if !b.not_found() {
                                pipe.insert(q);
                            }
                            match (
                                order.iter().position(|x| *x == q),
                                order.iter().position(|x| *x == p),
                            ) {
                                (None, None) => order.extend([q, p]),
                                (Some(_), None) => order.push(p),
                                (None, Some(j)) => order.insert(j, q),
                                _ => {}
                            }
                        }
                    }
                    prev = Some(a);
                }
            }
        }
        let mut by_time: Vec<(Ts, &str)> = first_seen.into_iter().map(|(p, t)| (t, p)).collect();
        by_time.sort();
        for (_, p) in by_time {
            if !order.contains(&p) {
                order.push(p);
            }
        }
        if order.is_empty() {
            return None;
        }
        let text: String = order
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let sep = if i + 1 == order.len() {
                    ""
                } else if pipe.contains(p) {
                    "|"
                } else {
                    ","
                };
                format!("{p}{sep}")
            })
            .collect();
        Some(GoproxyList::parse(&text, ChainSource::Inferred))
    }

    /// Every module@version the traffic touched, with its verdict, oldest first.
    pub fn modules(&self) -> Vec<ModuleView> {
        let chain = self.chain();
        let merged = self.merged_records();
        let ctx_for = |rec: &ModuleRecord| {
            let key = rec
                .version
                .as_ref()
                .map(|v| (rec.module.clone(), v.clone()));
            (
                key.as_ref()
                    .and_then(|(m, v)| self.sumdb.get(m, v).cloned()),
                key.as_ref()
                    .and_then(|(m, v)| self.config.gosum.get(m, v).cloned()),
                key.and_then(|k| self.sumdb_source.get(&k).map(|b| self.describe_sumdb(b))),
            )
        };
        let mut views: Vec<ModuleView> = merged
            .into_iter()
            .map(|(rec, probes)| {
                let (sumdb, gosum, source) = ctx_for(&rec);
                let ctx = JudgeCtx {
                    goproxy: chain.as_ref(),
                    slo_ms: self.config.slo_ms,
                    sumdb: sumdb.as_ref(),
                    sumdb_source: source.as_deref(),
                    gosum: gosum.as_ref(),
                    end: self.last,
                    lost: self.lost,
                };
                let j = judge(&rec, &ctx);
                view(rec, probes, j, sumdb, gosum)
            })
            .collect();
        views.sort_by(|a, b| (a.ts, &a.module).cmp(&(b.ts, &b.module)));
        views
    }

    /// Version-less lookups (`@v/list`, `@latest`) join the version they led to; prefix
    /// probes that 404'd next to a path that resolved are folded into it.
    fn merged_records(&self) -> Vec<(Cow<'_, ModuleRecord>, Vec<String>)> {
        // Borrowed unless a version-less lookup has to be merged in (then copied once).
        let mut versioned: Vec<Cow<'_, ModuleRecord>> = Vec::new();
        let mut loose: Vec<&ModuleRecord> = Vec::new();
        for rec in self.records.values() {
            if rec.version.is_some() {
                versioned.push(Cow::Borrowed(rec));
            } else {
                loose.push(rec);
            }
        }
        let mut leftovers: Vec<ModuleRecord> = Vec::new();
        for rec in loose {
            let mut rest = ModuleRecord::new(rec.module.clone(), None, rec.first);
            for a in &rec.attempts {
                // The version of this module whose requests follow the lookup soonest
                // (attempts are kept in time order: a binary search finds the next one).
                let target = versioned
                    .iter_mut()
                    .filter(|v| v.module == rec.module)
                    .min_by_key(|v| {
                        let next = v.attempts.partition_point(|x| x.ts < a.ts);
                        match v.attempts.get(next) {
                            Some(x) => (0, x.ts.0 - a.ts.0),
                            None => (1, a.ts.0 - v.last.0),
                        }
                    });
                match target {
                    Some(t) => t.to_mut().add(a.clone()),
                    None => rest.add(a.clone()),
                }
            }
            if !rest.attempts.is_empty() {
                leftovers.push(rest);
            }
        }
        let all: Vec<Cow<'_, ModuleRecord>> = versioned
            .into_iter()
            .chain(leftovers.into_iter().map(Cow::Owned))
            .collect();
        let found = |r: &ModuleRecord| r.attempts.iter().any(Attempt::ok);
        let related = |a: &str, b: &str| {
            a != b && (a.starts_with(&format!("{b}/")) || b.starts_with(&format!("{a}/")))
        };
        let mut probes_of: Vec<Vec<String>> = vec![Vec::new(); all.len()];
        let mut is_probe = vec![false; all.len()];
        let label = |r: &ModuleRecord| match &r.version {
            Some(v) => format!("{}@{v}", r.module),
            None => r.module.clone(),
        };
        let same_query = |r: &ModuleRecord, o: &ModuleRecord| {
            related(&r.module, &o.module)
                && (r.version.is_none() || r.version == o.version)
                && (r.first.0 - o.first.0).abs() < 10_000_000_000
        };
        for (i, r) in all.iter().enumerate() {
            if found(r) {
                continue;
            }
            // A path that resolved in the same query owns the probes that did not.
            if let Some(o) = all.iter().position(|o| found(o) && same_query(r, o)) {
                is_probe[i] = true;
                probes_of[o].push(label(r));
            }
        }
        // A query where no path resolved is one failure, told under its longest path (the
        // package the user asked for), not one per prefix.
        let failed = |r: &ModuleRecord| !r.attempts.iter().any(Attempt::ok);
        for i in 0..all.len() {
            if is_probe[i] || !failed(&all[i]) {
                continue;
            }
            let owner = (0..all.len())
                .filter(|&o| {
                    !is_probe[o] && failed(&all[o]) && (o == i || same_query(&all[i], &all[o]))
                })
                .max_by_key(|&o| (all[o].module.len(), std::cmp::Reverse(o)));
            if let Some(o) = owner.filter(|&o| o != i) {
                is_probe[i] = true;
                let mut moved = std::mem::take(&mut probes_of[i]);
                probes_of[o].push(label(&all[i]));
                probes_of[o].append(&mut moved);
            }
        }
        all.into_iter()
            .zip(probes_of)
            .zip(is_probe)
            .filter(|(_, p)| !p)
            .map(|(x, _)| x)
            .collect()
    }

    /// Every problem worth telling, most serious first: module verdicts, then what only
    /// the whole session shows (refused proxies, undecodable TLS, configuration drift).
    pub fn problems(&self, modules: &[ModuleView]) -> Vec<Problem> {
        let mut out: Vec<Problem> = modules
            .iter()
            .filter_map(|m| {
                Some(Problem {
                    severity: m.severity?,
                    text: m.problem.clone()?,
                    subject: Some(match &m.version {
                        Some(v) => format!("{}@{v}", m.module),
                        None => m.module.clone(),
                    }),
                    proxy: None,
                })
            })
            .collect();
        for (server, n) in &self.refused_by_server {
            out.push(Problem {
                severity: Severity::Warning,
                text: format!(
                    "{} refused {n} connection{} (nothing listens there): remove it from GOPROXY \
                     or start the proxy",
                    self.base_for_server(server),
                    if *n == 1 { "" } else { "s" }
                ),
                subject: None,
                proxy: Some(self.base_for_server(server)),
            });
        }
        for (
            name,
            TlsServer {
                connections: n,
                bytes,
                ..
            },
        ) in &self.tls_servers
        {
            out.push(Problem {
                severity: Severity::Info,
                text: format!(
                    "{n} TLS connection{} to {name} ({}) cannot be decoded from a capture: run \
                     gomodwatch --mitm to see which modules they carried",
                    if *n == 1 { "" } else { "s" },
                    human_bytes(*bytes)
                ),
                subject: None,
                proxy: None,
            });
        }
        out.extend(self.config_drift());
        for (proxy, t) in &self.proxies {
            if let Some(p95) = t.ttfb.percentile(95.0) {
                if p95 > self.config.slo_ms && t.requests >= 5 {
                    out.push(Problem {
                        severity: Severity::Info,
                        text: format!(
                            "proxy {proxy} is slow: p95 time to first byte {p95:.0} ms over {} \
                             requests (SLO {:.0} ms)",
                            t.requests, self.config.slo_ms
                        ),
                        subject: None,
                        proxy: Some(proxy.clone()),
                    });
                }
            }
        }
        // Most serious first; a stable order within a severity. The same sentence for
        // several modules is told once, naming them all.
        out.sort_by_key(|p| std::cmp::Reverse(p.severity));
        let mut merged: Vec<Problem> = Vec::new();
        for p in out {
            match merged.iter_mut().find(|m| m.text == p.text) {
                Some(m) => {
                    if let (Some(a), Some(b)) = (&mut m.subject, &p.subject) {
                        a.push_str(", ");
                        a.push_str(b);
                    }
                }
                None => merged.push(p),
            }
        }
        merged
    }

    /// Traffic that contradicts the configured GOPROXY (not an inferred one).
    fn config_drift(&self) -> Vec<Problem> {
        let Some(list) = &self.config.goproxy else {
            return Vec::new();
        };
        let warn = |text: String, proxy: Option<&str>| Problem {
            severity: Severity::Warning,
            text,
            subject: None,
            proxy: proxy.map(str::to_string),
        };
        let mut out = Vec::new();
        let display = list.display();
        for proxy in self.proxies.keys() {
            let is_sumdb_host = self.sumdb_source.values().any(|s| s == proxy)
                && !self.records.values().any(|r| {
                    r.attempts
                        .iter()
                        .any(|a| a.proxy.as_deref() == Some(proxy) && a.kind.is_proxy_artifact())
                });
            if list.position(proxy).is_none() && !is_sumdb_host {
                out.push(warn(
                    format!(
                        "proxy {proxy} was asked but is not in GOPROXY ({display}): another \
                         GOPROXY was in effect"
                    ),
                    Some(proxy),
                ));
            }
        }
        // Each artifact walk must start at the top of the list.
        let mut skipped: BTreeSet<(String, String)> = BTreeSet::new();
        for rec in self.records.values() {
            for kind in [Kind::Info, Kind::Mod, Kind::Zip, Kind::List] {
                // When each proxy of the list was last asked for this artifact.
                let mut last_asked: Vec<Option<Ts>> = vec![None; list.entries.len()];
                for a in rec.attempts_of(kind) {
                    let Some(pos) = a.proxy.as_deref().and_then(|p| list.position(p)) else {
                        continue;
                    };
                    // A query's `.info` goes to the proxy whose `@v/list` answered it, not
                    // to the top of the list (TryProxies wraps list and stat together).
                    let follows_list =
                        kind == Kind::Info && self.listed_just_before(&rec.module, a);
                    if !follows_list {
                        for (earlier, asked) in list.entries[..pos].iter().zip(&last_asked) {
                            let recent = asked.is_some_and(|t| a.ts.0 - t.0 < 60_000_000_000);
                            if earlier.kind == EntryKind::Proxy && !recent {
                                skipped.insert((
                                    earlier.url.clone(),
                                    a.proxy.as_deref().unwrap_or_default().to_string(),
                                ));
                            }
                        }
                    }
                    last_asked[pos] = Some(a.ts);
                }
            }
        }
        for (first, then) in skipped {
            out.push(warn(
                format!(
                    "{then} was asked without asking {first} first, although GOPROXY ({display}) \
                     lists {first} before it: another GOPROXY (or GONOPROXY) was in effect"
                ),
                Some(&then),
            ));
        }
        let serving: Vec<&String> = self
            .sumdb_supported
            .iter()
            .filter(|(_, s)| **s == Some(200))
            .map(|(p, _)| p)
            .collect();
        if let Some(p) = serving.first() {
            let direct: BTreeSet<&String> = self
                .sumdb_source
                .values()
                .filter(|s| !self.sumdb_supported.contains_key(*s))
                .collect();
            for d in direct {
                out.push(warn(
                    format!(
                        "the checksum database was asked directly at {d} although proxy {p} serves \
                         it (sumdb/supported answered 200): GOSUMDB names an explicit URL"
                    ),
                    Some(d),
                ));
            }
        }
        out
    }

    /// How to name the checksum database that answered through `base`: under a proxy
    /// (`<proxy>/sumdb/<name>/lookup/...`) or at its own URL.
    fn describe_sumdb(&self, base: &str) -> String {
        let name = self
            .log_sumdb_names
            .get(base)
            .map(|n| format!(" {n}"))
            .unwrap_or_default();
        if self.sumdb_supported.contains_key(base) {
            format!("the checksum database{name} (via proxy {base})")
        } else {
            format!("the checksum database{name} at {base}")
        }
    }

    /// Did the proxy of `a` answer `@v/list` (or `@latest`) for this module just before?
    fn listed_just_before(&self, module: &str, a: &Attempt) -> bool {
        let Some(rec) = self.records.get(&(module.to_string(), None)) else {
            return false;
        };
        rec.attempts.iter().any(|l| {
            l.ok() && l.proxy == a.proxy && l.ts <= a.ts && a.ts.0 - l.ts.0 < 10_000_000_000
        })
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

fn view(
    rec: Cow<'_, ModuleRecord>,
    probes: Vec<String>,
    j: crate::gomod::verdict::Judgement,
    sumdb: Option<Sums>,
    gosum: Option<Sums>,
) -> ModuleView {
    let served = |k| rec.served_by(k).map(str::to_string);
    // Time spent waiting on the network for this module: every request of the latest walk
    // of each artifact (a module fetched eight times does not take eight times as long).
    let duration_ms: f64 = ModuleRecord::ARTIFACTS
        .into_iter()
        .filter_map(|k| rec.walks(k).pop())
        .flatten()
        .map(|a| a.total_ms.or(a.ttfb_ms).unwrap_or(0.0))
        .sum();
    let mut v = ModuleView {
        kind: "module",
        module: rec.module.clone(),
        version: rec.version.clone(),
        outcome: j.outcome,
        served_by: ServedBy {
            info: served(Kind::Info),
            gomod: served(Kind::Mod),
            zip: served(Kind::Zip),
        },
        attempts: Vec::new(),
        zip_bytes: rec.zip_bytes,
        h1: rec.zip_h1.clone(),
        sumdb_h1: sumdb.as_ref().and_then(|s| s.zip.clone()),
        severity: j.problem.as_ref().map(|p| p.severity),
        problem: j.problem.map(|p| p.text),
        mod_h1: rec.mod_h1.clone(),
        sumdb_mod_h1: sumdb.and_then(|s| s.gomod),
        gosum_h1: gosum.as_ref().and_then(|s| s.zip.clone()),
        gosum_mod_h1: gosum.and_then(|s| s.gomod),
        probes,
        ts: rec.first,
        duration_ms: (duration_ms * 1000.0).round() / 1000.0,
    };
    // A merged copy gives its attempts away; a borrowed record's are copied.
    v.attempts = rec.into_owned().attempts;
    v
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gomod::classify::classify;

    fn exchange(id: u64, url: &str, status: u16, body: Option<&str>) -> Event {
        Event::Exchange(Box::new(Exchange {
            id,
            connection: 1,
            ts: Ts(id as i64 * 1_000_000),
            url: Some(url.into()),
            status: Some(status),
            go: classify(url, &[]),
            body: crate::event::BodyInfo {
                text: body.map(str::to_string),
                ..Default::default()
            },
            ..Default::default()
        }))
    }

    /// The proxy mirrors the checksum database (`supported` 200), yet lookups go to the
    /// database's own host: GOSUMDB names a URL.
    #[test]
    fn checksum_database_asked_directly_though_the_proxy_serves_it() {
        let mut s = Session::new(SessionConfig {
            goproxy: Some(GoproxyList::parse("https://proxy.corp", ChainSource::Flag)),
            ..Default::default()
        });
        let record = "5\nexample.com/a v1.0.0 h1:AAAA\nexample.com/a v1.0.0/go.mod h1:BBBB\n\ngo.sum database tree\n6\nx\n";
        for ev in [
            exchange(
                1,
                "https://proxy.corp/sumdb/sum.golang.org/supported",
                200,
                None,
            ),
            exchange(
                2,
                "https://sum.golang.org/lookup/example.com/a@v1.0.0",
                200,
                Some(record),
            ),
        ] {
            s.apply(&ev);
        }
        let mods = s.modules();
        let problems = s.problems(&mods);
        assert!(
            problems.iter().any(|p| p.text.starts_with(
                "the checksum database was asked directly at https://sum.golang.org although proxy https://proxy.corp serves it"
            )),
            "{problems:#?}"
        );
        // The lookup's hashes are known for the module.
        let m = mods.iter().find(|m| m.module == "example.com/a").unwrap();
        assert_eq!(m.sumdb_h1.as_deref(), Some("h1:AAAA"));
        assert_eq!(m.sumdb_mod_h1.as_deref(), Some("h1:BBBB"));
    }
}
